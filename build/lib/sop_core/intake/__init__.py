"""Getting data in: reading CSV and Excel files, checking every cell, importing all-or-nothing, templates."""
