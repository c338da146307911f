"""The statistical baseline's fits on a Dask cluster: a local one, or a scheduler's address.

Why Dask (distributed) rather than Ray: it is a pure-Python wheel of a few MB on PyPI, a local
cluster is two lines and listens on loopback only (no dashboard, no other service), workers are
plain Python processes that import ``sop_core`` like the app does, and its futures map onto the
baseline's chunks of series one to one. Ray brings a large binary wheel, an object store and a
control service per node: more than fitting a few thousand exponential-smoothing models needs.

Which cluster (first that applies):

1. ``using(address)`` around the call (the command line's ``forecast --scheduler ADDRESS``):
   ``"local"`` starts a local cluster for the call; anything else is a scheduler's address
   (``tcp://host:8786``) whose workers have ``sop-cockpit`` installed (the same image);
2. ``$SOP_SCHEDULER`` (the app's setting; compose.yaml passes it through);
3. none: ``baseline._fit_many`` uses its own process pool, as before.

The fits are the same functions on the same chunks, so the numbers are the same either way
(``tests/test_cluster.py``). No network is used beyond the scheduler given.
"""

from __future__ import annotations

import importlib.machinery
import logging
import os
import sys
import threading
import types
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from sop_core.errors import SopError

__all__ = [
    "LOCAL",
    "SCHEDULER_ENV",
    "using",
    "active_scheduler",
    "map_chunks",
    "workers_never_run_main",
]

LOCAL = "local"
SCHEDULER_ENV = "SOP_SCHEDULER"
CONNECT_TIMEOUT = "20s"

_chosen = threading.local()
_MAIN_SWAP = threading.Lock()


@contextmanager
def workers_never_run_main() -> Iterator[None]:
    """Start worker processes without re-running the caller's ``__main__`` script in them.

    Workers start with "spawn", which re-runs the parent's main script when it was started from
    a file; under Streamlit (and AppTest) that script is the app itself. While the workers start,
    ``__main__`` is a stub named like a package's ``__main__``, which spawn skips; a main
    started with ``python -m`` is already skipped. The baseline's process pool and the local
    Dask cluster both start their workers inside it (one lock: one swap at a time).
    """
    main = sys.modules.get("__main__")
    if getattr(getattr(main, "__spec__", None), "name", None):
        yield
        return
    stub = types.ModuleType("__main__")
    stub.__spec__ = importlib.machinery.ModuleSpec("sop_core.__main__", None)
    with _MAIN_SWAP:
        sys.modules["__main__"] = stub
        try:
            yield
        finally:
            sys.modules["__main__"] = main


@contextmanager
def using(scheduler: str | None) -> Iterator[None]:
    """Fit on ``scheduler`` (``"local"`` or an address) inside the block; None changes nothing."""
    before = getattr(_chosen, "value", None)
    _chosen.value = scheduler or before
    try:
        yield
    finally:
        _chosen.value = before


def active_scheduler() -> str | None:
    """The scheduler the next fit goes to: ``using(...)``, else ``$SOP_SCHEDULER``, else None."""
    chosen = getattr(_chosen, "value", None)
    if chosen:
        return chosen
    return os.environ.get(SCHEDULER_ENV, "").strip() or None


def map_chunks(
    fn: Callable[[list], list],
    chunks: list[list],
    *,
    scheduler: str,
    workers: int | None = None,
    on_done: Callable[[int], None] | None = None,
) -> list[list]:
    """``[fn(chunk) for chunk in chunks]``, each call a task on the cluster, results in order.

    Args:
        scheduler: ``"local"`` (a local cluster of ``workers`` processes, one thread each,
            loopback only, started and stopped for this call) or a scheduler's address.
        on_done: called with each finished chunk's length (a progress bar).

    Raises:
        SopError: the scheduler cannot be reached, or a task failed on a worker.
    """
    # Imported here: dask takes a second to import, and only a configured cluster needs it.
    from dask.distributed import Client, LocalCluster, as_completed

    cluster = None
    try:
        if scheduler == LOCAL:
            with workers_never_run_main():
                cluster = LocalCluster(
                    n_workers=max(1, int(workers or os.cpu_count() or 1)),
                    threads_per_worker=1,
                    processes=True,
                    host="127.0.0.1",
                    # The scheduler's HTTP endpoints (health; no dashboard: bokeh is not installed)
                    # would listen on every interface at 8787 by default: loopback, any free port.
                    dashboard_address="127.0.0.1:0",
                    scheduler_port=0,
                )
            client = Client(cluster)
        else:
            client = Client(scheduler, timeout=CONNECT_TIMEOUT)
    except (OSError, TimeoutError) as exc:
        if cluster is not None:
            cluster.close()
        raise SopError(
            f"Cannot reach the Dask scheduler at {scheduler}: {str(exc).splitlines()[0]}"
        ) from None
    try:
        futures = client.map(fn, chunks, pure=False)
        at = {future.key: i for i, future in enumerate(futures)}
        results: list = [None] * len(chunks)
        for future in as_completed(futures):
            try:
                done = future.result()
            except Exception as exc:  # noqa: BLE001 - a worker's failure, re-raised as one line
                raise SopError(
                    f"A forecasting task failed on the Dask cluster {scheduler}: "
                    f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"
                ) from None
            results[at[future.key]] = done
            if on_done is not None:
                on_done(len(done))
        return results
    finally:
        client.close()
        if cluster is not None:
            # A worker slow to exit on a busy machine is killed with a warning on stderr: the
            # fits are done by then, and the command line's output stays one line.
            nanny = logging.getLogger("distributed.nanny")
            level = nanny.level
            nanny.setLevel(logging.ERROR)
            try:
                cluster.close()
            finally:
                nanny.setLevel(level)
