"""Entry point for ``python -m sop_core``."""

from sop_core.cli import main

# Guarded: worker processes started with "spawn" import this module again and must not run the CLI.
if __name__ == "__main__":
    raise SystemExit(main())
