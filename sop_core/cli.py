"""Command line: the same engine the app uses. Errors print one line and exit non-zero."""

from __future__ import annotations

import argparse
import getpass
import os
import sys
from pathlib import Path

from sop_core.bootstrap import init_store
from sop_core.errors import SopError
from sop_core.forecasting import cluster
from sop_core.forecasting.baseline import run_forecast
from sop_core.intake.importer import REFIT_TABLES, import_paths
from sop_core.meeting import roles
from sop_core.meeting.cycles import cycle_command
from sop_core.meeting.kept import is_kept
from sop_core.meeting.record import model_of_record, plan_for_store
from sop_core.months import parse_month
from sop_core.plan.goalseek import goal_seek, parse_target
from sop_core.plan.levers import parse_lever_key
from sop_core.plan.ranges import DEFAULT_SAMPLES, DEFAULT_SEED, MAX_SAMPLES, plan_ranges
from sop_core.plan.sensitivity import sensitivity
from sop_core.safetext import write_csv
from sop_core.store.db import Store, resolve_db_path
from sop_core.store.plandata import current_cycle
from sop_core.views.review import review

__all__ = ["main", "build_parser"]

PLAN_LEVELS = ("company", "family", "resource")
BOARDPACK_FORMATS = (".pdf", ".pptx", ".xlsx")
FORECAST_OUT_COLUMNS = ("sku", "month", "units", "p10", "p90")  # p10, p90: the 80 % band


def _cycle(text: str) -> str:
    """``--cycle``: a month YYYY-MM, checked before anything is opened."""
    try:
        return parse_month(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f'"{text}" {exc}') from None


def _whole(text: str) -> int:
    try:
        value = float(text)
    except ValueError:
        value = float("nan")
    if not value == value or value != int(value):  # NaN, or not whole
        raise argparse.ArgumentTypeError(f'"{text}" is not a whole number')
    return int(value)


def _samples(text: str) -> int:
    """``--samples``: a whole number from 1 to MAX_SAMPLES."""
    value = _whole(text)
    if not 1 <= value <= MAX_SAMPLES:
        raise argparse.ArgumentTypeError(f'"{text}" is not from 1 to {MAX_SAMPLES:,}')
    return value


def _seed(text: str) -> int:
    """``--seed``: a whole number ≥ 0."""
    value = _whole(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f'"{text}" is below 0')
    return value


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # one line, no usage dump
        self.exit(2, f"error: {message} (see '{self.prog} --help')\n")


def _user() -> str:
    return os.environ.get("SOP_USER") or f"cli:{getpass.getuser()}"


def build_parser() -> argparse.ArgumentParser:
    # `sop` when installed (the console script), `python -m sop_core` from the source tree
    prog = "sop" if Path(sys.argv[0]).name == "sop" else "python -m sop_core"
    p = _Parser(prog=prog, description="S&OP cockpit engine: store, import, forecast, plan.")
    sub = p.add_subparsers(dest="command", required=True, parser_class=_Parser)

    def db(sp):
        sp.add_argument("--db", help="plan store (DuckDB file); default $SOP_DB or data/sop.duckdb")

    sp = sub.add_parser("init", help="create (or upgrade) a plan store")
    db(sp)
    sp.add_argument("--demo", action="store_true", help="load the bundled demo company")

    sp = sub.add_parser("import", help="import contract CSV files, folders or .xlsx workbooks")
    db(sp)
    sp.add_argument("paths", nargs="+", metavar="FILE_OR_FOLDER")

    sp = sub.add_parser("forecast", help="compute and store the statistical baseline")
    db(sp)
    sp.add_argument("--cycle", type=_cycle, help="cycle (YYYY-MM); default the current cycle")
    sp.add_argument("--out", help="write sku, month, units and the 80 %% band p10, p90 to this CSV")
    sp.add_argument("--no-progress", action="store_true", help="no progress bar")
    sp.add_argument(
        "--scheduler",
        default=cluster.LOCAL,
        metavar="ADDRESS",
        help="fit on this Dask scheduler (tcp://host:8786); default: a local cluster, one "
        "worker per core ('local'); 'pool' for the plain process pool",
    )
    sp.add_argument("--workers", type=int, help="workers of the local cluster (default: cores)")

    for name in ("plan", "disagreements"):
        sp = sub.add_parser(name, help=f"compute the {name} and write it as CSV")
        db(sp)
        _which_plan(sp)
        if name == "plan":
            sp.add_argument("--level", required=True, choices=PLAN_LEVELS)
        sp.add_argument("--out", required=True, help="CSV file to write")

    sp = sub.add_parser(
        "goalseek",
        help="the value of one lever, nearest to no change, that meets a target",
        description="Prints KEY[:QUALIFIER][@WINDOW]=VALUE: the lever value nearest to no change "
        "that meets the target (to the lever's display precision), or exits non-zero with the "
        "reason when no value within the lever's bounds meets it.",
    )
    db(sp)
    _which_plan(sp, "a saved scenario's name (its levers are held)")
    sp.add_argument(
        "--lever",
        required=True,
        metavar="KEY[:QUALIFIER][@WINDOW]",
        help="the lever to find, e.g. price_change_pct:Panel Radiators@2027-03",
    )
    sp.add_argument(
        "--target",
        required=True,
        metavar="MEASURE>=VALUE",
        help="MEASURE (lowest_cash, closing_cash, revenue, gross_margin, gross_margin_pct, "
        "operating_profit, unmet_units) >= or <= VALUE (a number, minimum_cash or budget)",
    )

    sp = sub.add_parser(
        "sensitivity", help="every lever one step down and up: lowest cash, closing cash, margin"
    )
    db(sp)
    _which_plan(sp, "a saved scenario's name (the steps are taken from it)")
    sp.add_argument("--out", required=True, help="CSV file to write")

    sp = sub.add_parser(
        "ranges",
        help="P10/P50/P90 of revenue, margin, cash and unmet units over sampled demand",
        description="Samples demand paths from the baseline's band and each source's track "
        "record, plans each with the same engine, and writes month, measure, p10, p50, p90 "
        "(month 'horizon': revenue, gross_margin, lowest_cash, cash_below_minimum_probability).",
    )
    db(sp)
    _which_plan(sp)
    sp.add_argument(
        "--samples",
        type=_samples,
        default=DEFAULT_SAMPLES,
        metavar="N",
        help=f"demand paths, 1 to {MAX_SAMPLES:,} (default {DEFAULT_SAMPLES:,})",
    )
    sp.add_argument(
        "--seed",
        type=_seed,
        default=DEFAULT_SEED,
        metavar="S",
        help=f"random seed, a whole number ≥ 0 (default {DEFAULT_SEED}): the same seed gives "
        "the same figures",
    )
    sp.add_argument("--out", required=True, help="CSV file to write")

    sp = sub.add_parser("boardpack", help="build the board pack")
    db(sp)
    sp.add_argument("--cycle", type=_cycle, help="cycle (YYYY-MM); default the current cycle")
    sp.add_argument("--scenario", help="a saved scenario's name (default: the cycle's plan)")
    sp.add_argument("--out", required=True, help="FILE.pdf, FILE.pptx or FILE.xlsx")

    sp = sub.add_parser("review", help="a locked cycle's plan against what happened, as CSV")
    db(sp)
    sp.add_argument("--cycle", required=True, help="a locked cycle (YYYY-MM)")
    sp.add_argument("--out", required=True, help="CSV file to write")

    sp = sub.add_parser("cycle", help="open, lock or show the monthly S&OP cycle")
    db(sp)
    sp.add_argument("action", choices=("open", "lock", "status"))
    sp.add_argument(
        "--override",
        metavar="REASON",
        help="lock although steps are not signed off: why (kept in the lock record)",
    )

    # Roles for sign-in (sop_core.meeting.roles). The command line acts as a local administrator:
    # whoever can run it can open the store file anyway.
    sp = sub.add_parser("roles", help="list, set or remove who has which role (for sign-in)")
    rsub = sp.add_subparsers(dest="roles_action", required=True, parser_class=_Parser)
    rp = rsub.add_parser("list", help="every email with its role")
    db(rp)
    rp = rsub.add_parser("set", help="give an email a role (e.g. the first admin)")
    db(rp)
    rp.add_argument("email")
    rp.add_argument(
        "role", help="sales, marketing, operations, finance, executive, viewer or admin"
    )
    rp = rsub.add_parser("remove", help="take an email's role away")
    db(rp)
    rp.add_argument("email")
    return p


def _which_plan(
    sp,
    scenario_help: str = "a saved scenario's name (its levers apply); default: the cycle's plan "
    "of record",
) -> None:
    """The plan a command works on: ``--cycle``, ``--scenario`` and ``--set`` levers."""
    sp.add_argument("--cycle", type=_cycle, help="cycle (YYYY-MM); default the current cycle")
    sp.add_argument("--scenario", help=scenario_help)
    sp.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="KEY[:QUALIFIER][@FROM[..TO]]=VALUE",
        help="a lever (repeat for more), e.g. headcount_change_fte:Press & Weld@2027-09=3",
    )


def _parse_cycle(text: str) -> str:
    """A ``--cycle`` argument as ``YYYY-MM``, or a one-line refusal."""
    try:
        return parse_month(text)
    except ValueError as exc:
        raise SopError(f'--cycle "{text}" {exc}') from None


def _open_store(args, *, create: bool = False):
    return Store(resolve_db_path(args.db), create=create)


def _write_csv(frame, out: str) -> None:
    path = Path(out)
    if path.parent and not path.parent.exists():
        raise SopError(f"Folder {path.parent} does not exist; cannot write {path}.")
    write_csv(frame, path)  # text that starts like a formula is quoted (docs/SECURITY.md)


def _cmd_init(args) -> str:
    path = resolve_db_path(args.db)
    with init_store(path, demo=args.demo, user=_user()) as store:
        counts = store.row_counts()
    loaded = ", ".join(f"{t} {n}" for t, n in counts.items() if n)
    return f"Plan store ready at {path}" + (f" ({loaded} rows)" if loaded else " (empty)")


def _cmd_import(args) -> str:
    with _open_store(args) as store:
        # the plan was kept for the data before, and nothing imported can leave its baseline
        # stale or incomplete: kept again for the data after, as a forecast would
        was_kept = is_kept(store, current_cycle(store))
        report = import_paths(store, [Path(p) for p in args.paths], user=_user())
        kept = was_kept and not REFIT_TABLES & set(report) and _keep_plan(store, None)
    return (
        "Imported: "
        + ", ".join(f"{t} {old} -> {new} rows" for t, (old, new) in report.items())
        + ("; the plan prepared on it is kept beside the store" if kept else "")
    )


def _cmd_forecast(args) -> str:
    scheduler = None if args.scheduler == "pool" else args.scheduler
    with _open_store(args) as store, cluster.using(scheduler):
        frame = run_forecast(
            store,
            cycle=args.cycle,
            progress=not args.no_progress,
            workers=args.workers,
            user=_user(),
        )
        kept = _keep_plan(store, args.cycle)
    if args.out:
        _write_csv(frame[list(FORECAST_OUT_COLUMNS)], args.out)
    return (
        f"Baseline for {frame['sku'].nunique()} skus x {frame['month'].nunique()} months stored"
        + (f", written to {args.out}" if args.out else "")
        + ("; the plan prepared on it is kept beside the store" if kept else "")
    )


def _keep_plan(store, cycle: str | None) -> bool:
    """After a forecast of the current cycle (``cycle`` None or it), or an import that left its
    baseline whole: its plan prepared and kept beside the store (``meeting.kept``), so that the
    next server or command starts from it. True when it is kept."""
    current = current_cycle(store)
    if cycle not in (None, current):
        return False
    model_of_record(store, current)
    return is_kept(store, current)


def _plan_result(args, store):
    return plan_for_store(store, cycle=args.cycle, scenario=args.scenario, lever_args=args.set)


def _cmd_plan(args) -> str:
    with _open_store(args) as store:
        result = _plan_result(args, store)
    frame = result.level(args.level)
    _write_csv(frame, args.out)
    return f"Wrote {len(frame)} rows ({args.level} level) to {args.out}"


def _cmd_disagreements(args) -> str:
    with _open_store(args) as store:
        result = _plan_result(args, store)
    _write_csv(result.disagreements, args.out)
    return f"Wrote {len(result.disagreements)} disagreements to {args.out}"


def _cmd_goalseek(args) -> str:
    key = parse_lever_key(args.lever)  # a typing error fails before any slow step
    with _open_store(args) as store:
        result = _plan_result(args, store)
    target = parse_target(args.target, result.model)
    return goal_seek(result.model, target, key, result.levers).line


def _cmd_sensitivity(args) -> str:
    with _open_store(args) as store:
        result = _plan_result(args, store)
    frame = sensitivity(result.model, result.levers)
    _write_csv(frame, args.out)
    levers = frame["lever"].nunique() if len(frame) else 0
    return f"Wrote {len(frame)} rows ({levers} levers x {len(frame) // max(levers, 1)} measures) to {args.out}"


def _cmd_ranges(args) -> str:
    with _open_store(args) as store:
        result = _plan_result(args, store)
    ranges = plan_ranges(result.model, result.levers, samples=args.samples, seed=args.seed)
    frame = ranges.frame()
    _write_csv(frame, args.out)
    return (
        f"Wrote {len(frame)} rows ({ranges.samples:,} demand paths, seed {ranges.seed}) to "
        f"{args.out}; cash below the minimum in some month in "
        f"{ranges.probability * 100:.1f} % of paths"
    )


def _cmd_boardpack(args) -> str:
    # Only this command loads the board pack's renderers (Altair, fpdf2, python-pptx, openpyxl):
    # at module level they would add about a second to every command, --help included.
    from sop_core.boardpack.build import build_boardpack

    out = Path(args.out)
    if out.suffix.lower() not in BOARDPACK_FORMATS:
        raise SopError(f"--out {args.out}: expected a file ending in .pdf, .pptx or .xlsx")
    with _open_store(args) as store:
        build_boardpack(store, out, cycle=args.cycle, scenario=args.scenario)
    return f"Board pack written to {out}"


def _cmd_review(args) -> str:
    with _open_store(args) as store:
        frame = review(store, _parse_cycle(args.cycle))
    _write_csv(frame, args.out)
    months = frame["month"].nunique()
    return f"Wrote {len(frame)} rows ({months} month(s) with actuals) of cycle {args.cycle} to {args.out}"


def _cmd_cycle(args) -> str:
    with _open_store(args) as store:
        return cycle_command(store, args.action, user=_user(), override=args.override)


def _cmd_roles(args) -> str:
    with _open_store(args) as store:
        if args.roles_action == "set":
            old = roles.set_role(store, args.email, args.role, user=_user())
            key = roles.normalize_email(args.email)
            return f"{key}: {old} -> {args.role}" if old else f"{key} is now {args.role}"
        if args.roles_action == "remove":
            old = roles.remove_role(store, args.email, user=_user())
            return f"{roles.normalize_email(args.email)} no longer has a role (was {old})"
        table = roles.list_roles(store)
    if table.empty:
        return "No one has a role yet: python -m sop_core roles set --db PATH EMAIL admin"
    return "\n".join(f"{r.email}\t{r.role}" for r in table.itertuples())


COMMANDS = {
    "init": _cmd_init,
    "import": _cmd_import,
    "forecast": _cmd_forecast,
    "plan": _cmd_plan,
    "disagreements": _cmd_disagreements,
    "goalseek": _cmd_goalseek,
    "sensitivity": _cmd_sensitivity,
    "ranges": _cmd_ranges,
    "boardpack": _cmd_boardpack,
    "review": _cmd_review,
    "cycle": _cmd_cycle,
    "roles": _cmd_roles,
}


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        message = COMMANDS[args.command](args)
    except SopError as exc:
        text = str(exc)
        lines = text.splitlines() or [exc.__class__.__name__]
        print(f"error: {lines[0]}", file=sys.stderr)
        for line in lines[1:]:  # details (e.g. each rejected row) after the one-line reason
            print(f"  {line}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("error: interrupted", file=sys.stderr)
        return 130
    except Exception as exc:  # noqa: BLE001 - a person never sees a traceback
        first = (str(exc).splitlines() or [""])[0]
        print(f"error: unexpected {exc.__class__.__name__}: {first}", file=sys.stderr)
        return 1
    if message:
        print(message)
    return 0
