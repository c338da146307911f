"""The plan store: the DuckDB file, its migrations, edits safe for two editors, the audit log, the lock guard."""
