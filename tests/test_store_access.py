"""The store shared by programs: the file is held only while a read or write runs."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import duckdb
import pytest

from sop_core.errors import StoreBusy
from sop_core.store.access import DEFAULT_LINGER
from sop_core.store.db import Store

ROOT = Path(__file__).resolve().parent.parent


def _child(code: str) -> subprocess.Popen:
    """Another program (a Python process) running ``code``; it prints READY when it holds the file."""
    return subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(code)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _ready(proc: subprocess.Popen) -> None:
    line = proc.stdout.readline()
    assert line.strip() == "READY", proc.stderr.read()


def _cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "sop_core", *args], cwd=ROOT, capture_output=True, text=True
    )


def test_an_idle_store_leaves_the_file_to_other_programs(loaded_db, tmp_path):
    loaded_db.query("SELECT count(*) FROM products")
    time.sleep(DEFAULT_LINGER + 0.3)
    assert loaded_db._access.attached is None
    # another program opens the file read-write, as the command line or a plain DuckDB does
    con = duckdb.connect(str(loaded_db.path))
    con.execute("UPDATE products SET unit_price = 99 WHERE sku = 'A'")
    con.close()
    assert loaded_db.scalar("SELECT unit_price FROM products WHERE sku = 'A'") == 99


def test_one_page_run_of_queries_attaches_the_file_once(loaded_db):
    time.sleep(DEFAULT_LINGER + 0.3)
    before = loaded_db._access.attaches
    for _ in range(20):
        loaded_db.scalar("SELECT count(*) FROM actuals")
    assert loaded_db._access.attaches == before + 1
    assert loaded_db._access.attached == "ro"
    time.sleep(DEFAULT_LINGER + 0.3)
    assert loaded_db._access.attached is None


def test_two_stores_on_one_file_share_the_access(loaded_db):
    with Store(loaded_db.path) as other:
        assert other._access is loaded_db._access
        other.query("SELECT 1")
    # closing the second store keeps the first one working
    assert loaded_db.scalar("SELECT count(*) FROM products") == 3


def test_a_read_waits_for_another_programs_write_then_sees_it(loaded_db):
    child = _child(
        f"""
        import time
        from sop_core.store.db import Store
        with Store({str(loaded_db.path)!r}) as store, store.transaction() as cur:
            cur.execute("UPDATE products SET unit_price = 42 WHERE sku = 'B'")
            print("READY", flush=True)
            time.sleep(1.0)
        """
    )
    _ready(child)
    time.sleep(DEFAULT_LINGER + 0.1)
    start = time.monotonic()
    price = loaded_db.scalar("SELECT unit_price FROM products WHERE sku = 'B'")
    waited = time.monotonic() - start
    assert child.wait(timeout=30) == 0
    assert price == 42  # read after the other program's commit, not before
    assert 0.3 < waited < 10


def test_a_store_held_too_long_gives_a_busy_error_that_says_what_to_do(loaded_db, monkeypatch):
    time.sleep(DEFAULT_LINGER + 0.3)  # the fixture's import has let go
    child = _child(
        f"""
        import duckdb, time
        con = duckdb.connect({str(loaded_db.path)!r})  # a program that never lets go
        print("READY", flush=True)
        time.sleep(30)
        """
    )
    try:
        _ready(child)
        monkeypatch.setattr(loaded_db._access, "wait", 0.5)
        start = time.monotonic()
        with pytest.raises(StoreBusy) as info:
            loaded_db.query("SELECT * FROM products")
        assert 0.4 < time.monotonic() - start < 5
        text = str(info.value)
        assert f"The plan store {loaded_db.path} is busy with another program's write" in text
        assert f"(PID {child.pid}," in text
        assert text.endswith("waited 0.5 s. Try again in a moment.")
        assert "\n" not in text
    finally:
        child.kill()
        child.wait()


def test_readers_in_two_programs_do_not_wait_for_each_other(loaded_db):
    time.sleep(DEFAULT_LINGER + 0.3)
    child = _child(
        f"""
        import time
        from sop_core.store.db import Store
        store = Store({str(loaded_db.path)!r})
        with store.reading() as cur:
            cur.execute("SELECT count(*) FROM products").fetchone()
            print("READY", flush=True)
            time.sleep(2.0)
        """
    )
    _ready(child)
    start = time.monotonic()
    assert loaded_db.scalar("SELECT count(*) FROM products") == 3
    assert time.monotonic() - start < 1.0  # did not wait for the other reader's 2 s
    assert child.wait(timeout=30) == 0


def test_a_busy_app_lets_a_command_line_import_through(loaded_db, write_csvs):
    """Back-to-back reads in this process (a busy app) never leave a gap of ``linger``; the
    import's waiting note makes them let go."""
    stop = threading.Event()
    reads = []

    def app():
        while not stop.is_set():
            reads.append(loaded_db.scalar("SELECT count(*) FROM actuals"))

    thread = threading.Thread(target=app)
    thread.start()
    try:
        folder = write_csvs(["actuals"], actuals="month,sku,units\n2025-12,A,7\n")
        start = time.monotonic()
        done = _cli("import", "--db", str(loaded_db.path), str(folder))
        took = time.monotonic() - start
    finally:
        stop.set()
        thread.join()
    assert done.returncode == 0, done.stderr
    assert "actuals 4 -> 1 rows" in done.stdout
    assert took < 20
    assert reads[0] == 4 and reads[-1] == 1  # the app saw the import on its next read
    assert not Path(f"{loaded_db.path}.waiting").exists()  # the importer took its note back


def test_threads_read_while_another_thread_writes(loaded_db):
    errors: list[BaseException] = []

    def writer():
        try:
            for i in range(20):
                with loaded_db.transaction() as cur:
                    cur.execute("UPDATE products SET unit_price = ? WHERE sku = 'C'", [i])
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    def reader():
        try:
            for _ in range(50):
                assert loaded_db.scalar("SELECT count(*) FROM products") == 3
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=writer)] + [
        threading.Thread(target=reader) for _ in range(4)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert loaded_db.scalar("SELECT unit_price FROM products WHERE sku = 'C'") == 19


def test_a_read_that_comes_while_a_writer_waits_lets_the_writer_go_first(loaded_db):
    """A read arriving when the file is attached read-only, no one holds it and a writer waits:
    the read waits for the writer (it once detached and attached read-only again in a loop,
    never letting go of the lock, so the writer and every later read of the server waited
    forever)."""
    access = loaded_db._access
    deadline = time.monotonic() + 30
    while access.attached is not None and time.monotonic() < deadline:
        time.sleep(0.05)  # until the fixture's import has let go of the file
    holding, go_on, written = threading.Event(), threading.Event(), threading.Event()
    seen: list[str | None] = []

    def readers():
        access.acquire(write=False)  # a reader holds the file read-only
        seen.append(access.attached)
        holding.set()
        go_on.wait(10)
        # it lets go and another read asks, with no moment for the writer in between
        with access._cond:
            access.release()
            access.acquire(write=False)
        seen.append(access.attached)  # the writer went first; its attachment serves reads
        access.release()

    def writer():
        with loaded_db.transaction() as cur:
            cur.execute("UPDATE products SET unit_price = 7 WHERE sku = 'A'")
        written.set()

    r = threading.Thread(target=readers, daemon=True)
    r.start()
    assert holding.wait(10)
    w = threading.Thread(target=writer, daemon=True)
    w.start()
    deadline = time.monotonic() + 10
    while access._writers_waiting == 0 and time.monotonic() < deadline:
        time.sleep(0.01)
    assert access._writers_waiting == 1  # the writer waits for the reader
    go_on.set()
    r.join(timeout=10)
    w.join(timeout=10)
    assert not r.is_alive() and not w.is_alive() and written.is_set()
    assert seen == ["ro", "rw"]
    assert loaded_db.scalar("SELECT unit_price FROM products WHERE sku = 'A'") == 7


def test_a_closed_store_lets_go_of_the_file_at_once(tmp_path):
    path = tmp_path / "plan.duckdb"
    store = Store(path)
    store.query("SELECT 1")
    store.close()
    con = duckdb.connect(str(path))  # would raise a lock error if the file were still held
    assert con.execute("SELECT count(*) FROM schema_migrations").fetchone()[0] > 0
    con.close()


def test_an_older_callers_cursor_holds_the_file_until_closed(loaded_db):
    cur = loaded_db.cursor()
    cur.execute("UPDATE products SET unit_price = 7 WHERE sku = 'A'")
    assert loaded_db._access.attached == "rw"
    assert cur.execute("SELECT unit_price FROM products WHERE sku = 'A'").fetchone() == (7.0,)
    cur.close()
    cur.close()  # closing twice is harmless
    time.sleep(DEFAULT_LINGER + 0.3)
    assert loaded_db._access.attached is None
    assert loaded_db.scalar("SELECT unit_price FROM products WHERE sku = 'A'") == 7


def test_an_import_checked_while_another_program_wrote_is_refused(
    loaded_db, write_csvs, monkeypatch
):
    """The check runs without holding the store; a write in between makes the check stale."""
    from sop_core.errors import ImportRejected
    from sop_core.intake import importer

    checked = importer.validate_sources

    def check_while_someone_writes(store, sources, problems):
        frames = checked(store, sources, problems)
        with Store(loaded_db.path) as other, other.transaction() as cur:  # e.g. the app
            cur.execute("UPDATE products SET unit_price = 11 WHERE sku = 'A'")
            other.audit(cur, "dee", "edit", "products", "A", 10, 11)
        return frames

    monkeypatch.setattr(importer, "validate_sources", check_while_someone_writes)
    before = loaded_db.read_table("actuals")
    folder = write_csvs(["actuals"], actuals="month,sku,units\n2025-12,A,7\n")
    with pytest.raises(ImportRejected) as info:
        importer.import_paths(loaded_db, [folder], user="nightly")
    assert info.value.problems == [
        "the store changed while this import was being checked (edit of products by dee); "
        "nothing was imported: run the import again"
    ]
    assert loaded_db.read_table("actuals").equals(before)
    monkeypatch.setattr(importer, "validate_sources", checked)
    assert importer.import_paths(loaded_db, [folder], user="nightly") == {"actuals": (4, 1)}


def test_the_app_shows_a_busy_store_as_a_notice_not_a_traceback(demo_db, monkeypatch):
    from streamlit.testing.v1 import AppTest

    from sop_core.errors import StoreBusy

    message = f"The plan store {demo_db} is busy with another program's write; waited 30 s. Try again in a moment."

    def busy(self, sql, params=None):
        raise StoreBusy(message)

    monkeypatch.setattr(Store, "scalar", busy)
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
    at.run()
    assert not at.exception
    assert [e.value for e in at.error] == [message]
