"""Short-lived access to the store's DuckDB file, shared by a process's threads, yielded to other programs.

DuckDB lets one process write a database file, or several processes read it, never both at
once (https://duckdb.org/docs/current/connect/concurrency). A process that kept the file open
would lock out every other program: the command line beside the running app, a nightly import.
So the file is open only while the process reads or writes it:

- Each process keeps one in-memory DuckDB instance per store file (the *host*, opened once: a
  new DuckDB instance costs ~20 ms, ``ATTACH`` + ``DETACH`` of the file ~3 ms) and attaches the
  file when an operation starts: read-only for reads (other programs may read at the same time),
  read-write for a transaction.
- Threads of the process share the attachment; it is detached when the last operation ends and
  nothing else started for ``linger`` seconds (so the dozen queries of one page run attach once),
  or at once when another program is waiting.
- A program that finds the file locked retries with a growing pause, and leaves a note beside
  the file (``<store>.waiting``) so that the holder lets go at its next idle moment and pauses
  briefly before taking the file again. After ``wait`` seconds it gives up with
  :class:`~sop_core.errors.StoreBusy`.
"""

from __future__ import annotations

import contextlib
import os
import re
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import duckdb

from sop_core.errors import StoreBusy, StoreError

__all__ = [
    "FileAccess",
    "HeldCursor",
    "access_for",
    "give_back",
    "WAIT_ENV",
    "DEFAULT_WAIT",
    "DEFAULT_LINGER",
]

WAIT_ENV = "SOP_STORE_WAIT"
DEFAULT_WAIT = 30.0  # seconds: longer than a large import holds the file
DEFAULT_LINGER = 0.25  # seconds: one page run's queries share one attachment
# How long a waiting note from another program is honoured, and how long its holder holds back.
NOTE_FRESH = 2.0
HOLD_BACK = 0.3
ALIAS = "plan"

_LOCKED = re.compile(r"(?:Could not set lock|Conflicting lock)", re.IGNORECASE)
_HOLDER = re.compile(r"Conflicting lock is held in (.+?) \(PID (\d+)\)")


def _wait_from_env() -> float:
    text = os.environ.get(WAIT_ENV, "")
    try:
        value = float(text)
    except ValueError:
        return DEFAULT_WAIT
    return value if value >= 0 else DEFAULT_WAIT


class FileAccess:
    """Leases on one DuckDB file for the threads of this process (see the module docstring)."""

    def __init__(self, path: Path, *, wait: float | None = None, linger: float = DEFAULT_LINGER):
        self.path = path
        self.wait = _wait_from_env() if wait is None else wait
        self.linger = linger
        self.note = Path(f"{path}.waiting")
        self._host = duckdb.connect(":memory:")
        # Text leaves DuckDB as Arrow large_string, the layout pandas' str columns hold: no copy
        # of every string on the way (a 100,000-sku store's forecasts: 1.3 s -> 0.3 s).
        self._host.execute("SET GLOBAL arrow_large_buffer_size = true")
        self._cond = threading.Condition()
        self._local = threading.local()
        self._mode: str | None = None  # None, "ro" or "rw"
        self._users = 0
        self._writers_waiting = 0
        self._idle_since = 0.0
        self._closed = False
        self._janitor: threading.Thread | None = None
        self.attaches = 0  # how many times the file was attached (for tests and benches)

    # --- leases ---------------------------------------------------------------------------
    @contextmanager
    def cursor(self, *, write: bool) -> Iterator[duckdb.DuckDBPyConnection]:
        """A cursor on the attached file, the file held for as long as the block runs."""
        self.acquire(write=write)
        try:
            cur = self._host.cursor()
            try:
                cur.execute(f"USE {ALIAS}")
                yield cur
            finally:
                cur.close()
        finally:
            self.release()

    def acquire(self, *, write: bool) -> None:
        """Hold the file (read-write if ``write``) until :meth:`release`; re-entrant per thread."""
        depth = getattr(self._local, "depth", 0)
        with self._cond:
            if self._closed:
                raise StoreError(f"The plan store {self.path} is closed.")
            if depth:
                if write and self._mode != "rw":
                    raise RuntimeError("a write cannot start inside a read of the same thread")
                self._users += 1
                self._local.depth = depth + 1
                return
            deadline = time.monotonic() + self.wait
            pause = 0.005
            if write:
                self._writers_waiting += 1
            try:
                while True:
                    mode = self._mode
                    if mode == "rw" or (mode == "ro" and not write and not self._writers_waiting):
                        break
                    if write and mode == "ro" and self._users == 0:
                        self._detach()  # read-only, and a writer needs read-write
                        continue
                    if mode is None and (write or not self._writers_waiting):
                        busy = self._try_attach("rw" if write else "ro")
                        if busy is None:
                            continue
                        if time.monotonic() + pause > deadline:
                            raise StoreBusy(self._busy_message(busy)) from None
                        self._cond.wait(pause)
                        pause = min(pause * 2, 0.05)
                        continue
                    remaining = deadline - time.monotonic()
                    if remaining <= 0:
                        raise StoreBusy(
                            f"The plan store {self.path} is busy with a long operation in this "
                            f"program; waited {self.wait:g} s. Try again in a moment."
                        )
                    self._cond.wait(min(remaining, 0.05))
            finally:
                if write:
                    self._writers_waiting -= 1
            self._users += 1
            self._local.depth = 1

    def release(self) -> None:
        with self._cond:
            self._users -= 1
            self._local.depth = getattr(self._local, "depth", 1) - 1
            if self._users == 0:
                self._idle_since = time.monotonic()
                if self.linger <= 0 or self._waited_for():
                    self._detach()
                else:
                    self._start_janitor()
            self._cond.notify_all()

    def close(self) -> None:
        """Detach and close the host; later leases raise :class:`StoreError`."""
        with self._cond:
            self._closed = True
            if self._mode is not None:
                self._detach()
            self._cond.notify_all()
        self._host.close()

    @property
    def attached(self) -> str | None:
        """``"ro"``, ``"rw"`` or None: how this process holds the file right now."""
        return self._mode

    # --- the file -------------------------------------------------------------------------
    def _try_attach(self, mode: str) -> str | None:
        """Attach the file; None on success, or DuckDB's lock message when another program holds it."""
        if self._note_by_other() and time.monotonic() - self._note_seen < HOLD_BACK:
            return "another program is waiting for the store"  # its turn first
        quoted = str(self.path).replace("'", "''")
        options = " (READ_ONLY)" if mode == "ro" else ""
        try:
            self._host.execute(f"ATTACH '{quoted}' AS {ALIAS}{options}")
        except duckdb.IOException as exc:
            text = str(exc)
            if _LOCKED.search(text):
                self._leave_note()
                return text
            if mode == "ro" and not self.path.exists():
                raise StoreError(f"No plan store at {self.path}.") from None
            raise StoreError(
                f"Cannot open the plan store {self.path}: {text.splitlines()[0]}"
            ) from None
        except duckdb.Error as exc:
            raise StoreError(
                f"{self.path} is not a plan store DuckDB can open: {str(exc).splitlines()[0]}"
            ) from None
        self._mode = mode
        self.attaches += 1
        self._take_note_back()
        return None

    def _detach(self) -> None:
        self._host.execute("USE memory")
        self._host.execute(f"DETACH {ALIAS}")
        self._mode = None

    def _busy_message(self, duck_text: str) -> str:
        found = _HOLDER.search(duck_text)
        who = f" (PID {found.group(2)}, {Path(found.group(1)).name})" if found else ""
        return (
            f"The plan store {self.path} is busy with another program's write{who}; "
            f"waited {self.wait:g} s. Try again in a moment."
        )

    # --- being polite to other programs ----------------------------------------------------
    _note_seen = 0.0

    def _leave_note(self) -> None:
        # A read-only folder: no note, the retries still work.
        with contextlib.suppress(OSError):
            self.note.write_text(str(os.getpid()))

    def _take_note_back(self) -> None:
        try:
            if self.note.read_text() == str(os.getpid()):
                self.note.unlink()
        except OSError:
            pass

    def _note_by_other(self) -> bool:
        """Another program has been waiting for the file within the last ``NOTE_FRESH`` seconds."""
        try:
            stat = self.note.stat()
            if time.time() - stat.st_mtime > NOTE_FRESH:
                return False
            if self.note.read_text() == str(os.getpid()):
                return False
        except (OSError, ValueError):
            return False
        if time.monotonic() - self._note_seen > HOLD_BACK * 2:
            self._note_seen = time.monotonic()
        return True

    def _waited_for(self) -> bool:
        return self._note_by_other()

    def _start_janitor(self) -> None:
        if self._janitor is None or not self._janitor.is_alive():
            self._janitor = threading.Thread(
                target=self._detach_when_idle, name=f"sop-store-{self.path.name}", daemon=True
            )
            self._janitor.start()

    def _detach_when_idle(self) -> None:
        with self._cond:
            while not self._closed and self._mode is not None:
                if self._users:
                    self._cond.wait()
                    continue
                idle = time.monotonic() - self._idle_since
                if idle >= self.linger or self._waited_for():
                    self._detach()
                    self._cond.notify_all()
                    return
                self._cond.wait(min(self.linger - idle, 0.05))


class HeldCursor:
    """A read-write cursor that holds the file until it is closed (``Store.cursor()``).

    For callers written when the store kept one connection open; new code uses
    ``Store.query`` or ``Store.transaction``, which let go of the file as soon as they end.
    Close it in the thread that opened it.
    """

    def __init__(self, access: FileAccess):
        access.acquire(write=True)
        self._access = access
        self._open = True
        try:
            self._cur = access._host.cursor()
            self._cur.execute(f"USE {ALIAS}")
        except BaseException:
            self._open = False
            access.release()
            raise

    def __getattr__(self, name: str):
        return getattr(self._cur, name)

    def close(self) -> None:
        if self._open:
            self._open = False
            try:
                self._cur.close()
            finally:
                self._access.release()

    def __enter__(self) -> HeldCursor:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def __del__(self) -> None:
        with contextlib.suppress(Exception):
            self.close()


_REGISTRY: dict[Path, tuple[FileAccess, int]] = {}
_REGISTRY_LOCK = threading.Lock()


def access_for(path: Path) -> FileAccess:
    """The process's access to ``path`` (one per file, so two Stores on one file share it)."""
    key = path.resolve()
    with _REGISTRY_LOCK:
        found = _REGISTRY.get(key)
        if found is not None and not found[0]._closed:
            _REGISTRY[key] = (found[0], found[1] + 1)
            return found[0]
        access = FileAccess(path)
        _REGISTRY[key] = (access, 1)
        return access


def give_back(access: FileAccess) -> None:
    """One Store on the file is closed; the last one closes the access."""
    key = access.path.resolve()
    with _REGISTRY_LOCK:
        found = _REGISTRY.get(key)
        if found is None or found[0] is not access:
            access.close()
            return
        if found[1] <= 1:
            del _REGISTRY[key]
            access.close()
        else:
            _REGISTRY[key] = (access, found[1] - 1)
