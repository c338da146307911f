"""A team on one server: N leaders at once moving levers on the Scenarios page, over Streamlit's websocket.

Run: ``nice -n 5 .venv/bin/python bench/bench_load.py [--db DEMO.duckdb] [--sessions 5,10,20,30]
[--seconds 60] [--think 2]``

Starts ``app.py`` on a copy of the demo store (built when ``--db`` is not given). For each team
size N, N sessions connect at once the way the browser does (``/_stcore/stream``, Streamlit's
protobuf ``BackMsg``/``ForwardMsg``), open the Scenarios page, and for ``--seconds`` each
changes the price lever to a value it has not had (1–5 points away, two decimals, so no
cached plan answers it), waits for the new figures, pauses ``--think`` seconds (± 50 %,
seeded: a person reading the result), and changes it again. A lever change is timed from
sending the new value to the server's "script finished" (every new figure sent); the
browser's drawing is not in it (a few ms, bench/bench_whatif.py). Counted as errors: an
exception element in the page, a change after which the page's "Closing cash" is not sent anew
with a different value, a run that does not finish, a dropped connection. Prints, per
N: changes, p50/p95/max seconds, errors, the server's resident memory at the end and its
peak, and the largest N whose p95 is within 1 s.

No browser is used: 30 headless Chromium tabs on a 2-core machine would measure the browsers.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import random
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.bench_whatif import start  # noqa: E402

LEVER_LABEL = "Price change (%)"
PAGE = "scenarios"


def _proto():
    from streamlit.proto.BackMsg_pb2 import BackMsg
    from streamlit.proto.ForwardMsg_pb2 import ForwardMsg
    from streamlit.proto.WidgetStates_pb2 import WidgetState

    return BackMsg, ForwardMsg, WidgetState


class Session:
    """One leader's browser tab, spoken to as the browser does."""

    def __init__(self, url: str):
        self.ws_url = url.replace("http://", "ws://") + "/_stcore/stream"
        self.origin = url
        self.page_hash = ""
        self.lever_id: str | None = None
        self.lever_fragment = ""  # the lever's fragment: its change reruns only that
        self.errors: list[str] = []
        self.ws = None
        self.closing_cash: str | None = None  # the figure a lever change must change

    async def connect(self) -> None:
        import websockets

        self.ws = await websockets.connect(
            self.ws_url,
            subprotocols=["streamlit"],
            origin=self.origin,
            max_size=None,
            open_timeout=60,
        )

    async def run(self, widget: tuple[str, float] | None, *, page: str = "") -> float:
        """Ask for a rerun (with one widget's new value); seconds until the run finished."""
        BackMsg, ForwardMsg, WidgetState = _proto()
        msg = BackMsg()
        state = msg.rerun_script
        state.query_string = ""
        state.page_script_hash = self.page_hash
        state.page_name = page
        if widget is not None:
            w = WidgetState(id=widget[0], double_value=widget[1])
            state.widget_states.widgets.append(w)
            state.fragment_id = self.lever_fragment
        t0 = time.perf_counter()
        await self.ws.send(msg.SerializeToString())
        while True:
            raw = await asyncio.wait_for(self.ws.recv(), timeout=120)
            fwd = ForwardMsg()
            fwd.ParseFromString(raw)
            kind = fwd.WhichOneof("type")
            if kind == "new_session":
                self.page_hash = fwd.new_session.page_script_hash or self.page_hash
            elif kind == "page_info_changed" or kind == "navigation":
                if kind == "navigation" and fwd.navigation.page_script_hash:
                    self.page_hash = fwd.navigation.page_script_hash
            elif kind == "delta" and fwd.delta.WhichOneof("type") == "new_element":
                el = fwd.delta.new_element
                which = el.WhichOneof("type")
                if which == "exception":
                    self.errors.append(f"exception: {el.exception.message[:200]}")
                elif which == "metric" and el.metric.label.startswith("Closing cash"):
                    self.closing_cash = el.metric.body
                elif which == "number_input" and el.number_input.label == LEVER_LABEL:
                    self.lever_id = el.number_input.id
                    self.lever_fragment = fwd.delta.fragment_id
            elif kind == "script_finished":
                name = ForwardMsg.ScriptFinishedStatus.Name(fwd.script_finished)
                if name in ("FINISHED_SUCCESSFULLY", "FINISHED_FRAGMENT_RUN_SUCCESSFULLY"):
                    return time.perf_counter() - t0
                if name == "FINISHED_WITH_COMPILE_ERROR":
                    self.errors.append(name)
                    return time.perf_counter() - t0
                # FINISHED_EARLY_FOR_RERUN: the app reran itself (the router); wait on

    async def close(self) -> None:
        if self.ws is not None:
            await self.ws.close()


async def leader(url: str, seconds: float, think: float, seed: int, out: dict) -> None:
    rng = random.Random(seed)
    s = Session(url)
    try:
        await s.connect()
        await s.run(None, page=PAGE)
        if s.lever_id is None:
            await s.run(None, page=PAGE)  # the first run went through the router's rerun
        if s.lever_id is None:
            raise RuntimeError("no price lever on the page")
        end = time.perf_counter() + seconds
        value = 0.0
        while time.perf_counter() < end:
            # A new value every time (the app caches plans per set of levers: a value seen
            # before would measure the cache), at least 1 % away so "Closing cash" moves.
            step = rng.choice([-1.0, 1.0]) * rng.uniform(1.0, 5.0)
            value = round(value + step if abs(value + step) <= 20 else value - step, 2)
            before, s.closing_cash = s.closing_cash, None
            out["times"].append(await s.run((s.lever_id, value)))
            if s.closing_cash is None or s.closing_cash == before:
                s.errors.append(f"no new closing cash after price {value:+g} %")
            await asyncio.sleep(think * rng.uniform(0.5, 1.5))
    except Exception as exc:  # noqa: BLE001 - counted and reported
        out["errors"].append(f"{type(exc).__name__}: {exc}"[:200])
    finally:
        out["errors"].extend(s.errors)
        with contextlib.suppress(Exception):  # closing a dropped connection
            await s.close()


def memory_mb(pid: int) -> tuple[float, float]:
    """(resident now, peak resident) of a process, MB."""
    fields = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, value = line.partition(":")
        fields[key] = value
    return int(fields["VmRSS"].split()[0]) / 1024, int(fields["VmHWM"].split()[0]) / 1024


async def team(url: str, n: int, seconds: float, think: float) -> dict:
    out: dict = {"times": [], "errors": []}
    await asyncio.gather(*(leader(url, seconds, think, seed=i, out=out) for i in range(n)))
    return out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--db", help="the demo store to copy (default: build one)")
    ap.add_argument("--sessions", default="5,10,20,30", help="team sizes, one after another")
    ap.add_argument("--seconds", type=float, default=60.0)
    ap.add_argument("--think", type=float, default=2.0, help="mean pause between changes, s")
    args = ap.parse_args(argv)
    work = Path(tempfile.mkdtemp(prefix="bench_load_"))
    db = work / "demo.duckdb"
    try:
        if args.db:
            shutil.copy(args.db, db)
        else:
            from sop_core.bootstrap import init_store

            print("building the demo store…", file=sys.stderr)
            init_store(db, demo=True, user="bench").close()
        proc, url = start("app.py", ROOT, {"SOP_DB": str(db)}, work / "app.log")
        try:
            asyncio.run(team(url, 1, 3.0, args.think))  # warm the caches
            print(
                "| leaders | lever changes | p50 s | p95 s | max s | errors | server memory "
                "MB (peak) |\n|---|---|---|---|---|---|---|"
            )
            best = 0
            for n in (int(x) for x in args.sessions.split(",")):
                out = asyncio.run(team(url, n, args.seconds, args.think))
                times = sorted(out["times"])
                now, peak = memory_mb(proc.pid)
                p50 = statistics.median(times) if times else float("nan")
                p95 = times[int(0.95 * (len(times) - 1))] if times else float("nan")
                print(
                    f"| {n} | {len(times)} | {p50:.2f} | {p95:.2f} | "
                    f"{(max(times) if times else float('nan')):.2f} | {len(out['errors'])} | "
                    f"{now:,.0f} ({peak:,.0f}) |",
                    flush=True,
                )
                for e in out["errors"][:5]:
                    print(f"    error: {e}", flush=True)
                if p95 <= 1.0 and not out["errors"]:
                    best = max(best, n)
            load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
            print(f"\nlargest team within 1 s p95 (of those tried): {best}")
            print(f"machine: {os.cpu_count()} CPUs, load average {load}; think time {args.think} s")
        finally:
            proc.terminate()
            proc.wait(timeout=30)
        log = (work / "app.log").read_text()
        if "Traceback" in log:
            print("server log has tracebacks:\n" + log[-2000:])
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
