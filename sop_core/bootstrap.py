"""Create a plan store, and fill it with the bundled demo company when asked."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from sop_core.store import REPO_ROOT, Store

__all__ = ["DEMO_DIR", "init_store", "load_demo", "ensure_store"]

DEMO_DIR = REPO_ROOT / "data" / "demo"


def load_demo(
    store: Store, *, user: str = "demo", progress: Callable[[str, float], None] | None = None
) -> None:
    """Import ``data/demo/`` and compute the statistical baselines (current and past cycles)."""
    from sop_core.forecast import run_forecast
    from sop_core.importer import import_paths

    if progress:
        progress("Importing the demo company", 0.05)
    import_paths(store, [DEMO_DIR], user=user)
    if progress:
        progress("Fitting the statistical baseline", 0.3)
    run_forecast(store, progress=False, history=True)
    if progress:
        progress("Ready", 1.0)


def init_store(path: str | Path, *, demo: bool = False, user: str = "cli") -> Store:
    """Create or upgrade the store at ``path``; with ``demo`` load the demo company into it."""
    store = Store(path, create=True)
    if demo:
        try:
            load_demo(store, user=user)
        except BaseException:
            store.close()
            raise
    return store


def ensure_store(
    path: str | Path, *, progress: Callable[[str, float], None] | None = None
) -> Store:
    """Open the store; a store that does not exist yet is built from the demo company."""
    path = Path(path)
    fresh = not path.exists()
    store = Store(path, create=True)
    if fresh:
        try:
            load_demo(store, user="demo", progress=progress)
        except BaseException:
            store.close()
            path.unlink(missing_ok=True)
            Path(str(path) + ".wal").unlink(missing_ok=True)
            raise
    return store
