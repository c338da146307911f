"""Entry point for ``python -m sop_core``."""

from sop_core.cli import main

raise SystemExit(main())
