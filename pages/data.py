"""Data: import CSV files or one Excel workbook, download templates, see what is loaded."""

from pathlib import Path

import duckdb
import pandas as pd
import streamlit as st

from sop_core import fmt
from sop_core.contract import TABLE_ORDER, TABLES
from sop_core.errors import ImportRejected, SopError, StoreError
from sop_core.forecasting.baseline import FitProgress
from sop_core.intake.importer import import_uploads, refit_after_import
from sop_core.intake.templates import table_help, template_csv, template_xlsx
from ui import auth, state
from ui.text import plain

REFIT_RUNNING = "data_refit_running"


def _first_line(exc: BaseException) -> str:
    return (str(exc).splitlines() or [exc.__class__.__name__])[0]


try:
    store = state.get_store()
except (StoreError, OSError) as exc:
    st.title("Data")
    st.error(
        f"The plan store cannot be opened: {plain(_first_line(exc))}. If another program holds "
        "it (a "
        "second app, a command line import), close that program and reload this page.",
        icon=":material/error:",
    )
    st.stop()
LIMIT_MB = int(st.get_option("server.maxUploadSize"))  # enforced by the server on upload
importable = [t for t in TABLE_ORDER if auth.can(f"import:{t}", store)]


def _refit(changes: dict[str, tuple[int, int]]) -> None:
    """Refit the baselines the import left stale, with progress, an estimate and a Cancel button.

    Cancel reruns the page: Streamlit stops this run at its next progress update, which stops
    the fitting processes at once (``sop_core.forecasting.baseline._fit_many``).
    """
    bar = st.progress(0.0, text="Checking which statistical baselines the import changed…")
    cancel = st.empty()
    cancel.button("Cancel the refit", key="data_refit_cancel", icon=":material/cancel:")

    def show(p: FitProgress) -> None:
        left = f", {fmt.duration(p.remaining)} left" if p.remaining is not None else ""
        bar.progress(
            p.done / max(p.total, 1),
            text=f"Refitting the statistical baseline: {p.done:,} of {p.total:,} series{left}",
        )

    st.session_state[REFIT_RUNNING] = True
    try:
        cycles = refit_after_import(store, changes, user=state.user_name(), on_progress=show)
    except SopError as exc:
        st.warning(
            f"The data are imported, but the statistical baseline could not be refitted: {plain(exc)}"
        )
        cycles = []
    st.session_state.pop(REFIT_RUNNING, None)
    bar.empty()
    cancel.empty()
    if cycles:
        state.after_write()
        st.caption(
            f"Statistical baseline refitted for {len(cycles)} cycle(s): "
            + (", ".join(cycles) if len(cycles) <= 6 else f"{cycles[0]} … {cycles[-1]}")
            + "."
        )


st.title("Data")
st.caption(
    "Import your company's plan data as CSV files (one per table, named like products.csv) or one "
    "Excel workbook with one sheet per table. Each table you import replaces that table's rows; "
    "the others stay as they are. Any invalid row rejects the whole import and nothing changes. "
    f"Up to {LIMIT_MB} MB per file; files are read as data only: workbook formulas and macros "
    "are never run (saved values are used; .xlsm is refused)."
)

left, right = st.columns([3, 2], gap="large")

with left:
    st.subheader("Import")
    if auth.auth_configured():
        st.caption(
            f"Your role ({auth.current_role(store)}) may import: "
            + (", ".join(importable) or "no table (it only reads)")
            + "."
        )
    files = st.file_uploader(
        "CSV files or an .xlsx workbook",
        type=["csv", "xlsx"],
        accept_multiple_files=True,
        key="data_upload",
        help="UTF-8 (with or without BOM), comma or semicolon separated; months as YYYY-MM. "
        f"Up to {LIMIT_MB} MB per file.",
        disabled=not importable,
    )
    if st.session_state.pop(REFIT_RUNNING, False):
        # the last run stopped inside the refit: Cancel was clicked (or the page left)
        st.info(
            "The refit of the statistical baseline was stopped. The import itself is kept; "
            "the baselines still missing are fitted when a page needs them, or import again "
            "to refit them now.",
            icon=":material/cancel:",
        )
    if st.button("Import", type="primary", key="data_import", disabled=not files):
        uploads = [(f.name, f.getvalue()) for f in files]
        names = ", ".join(name for name, _ in uploads)

        def _authorize(tables: list[str]) -> None:
            for table in tables:  # the server-side check: each table this import replaces
                auth.check(f"import:{table}", detail=names, store=store)

        too_big = [n for n, data in uploads if len(data) > LIMIT_MB * 1024 * 1024]
        changes = None
        try:
            if not importable:
                # a role that may import nothing is refused before any file is opened (the
                # table named is a CSV's, when one is; a workbook's sheets are not read)
                stems = {Path(name).stem.strip().lower() for name, _ in uploads}
                _authorize([next((t for t in TABLE_ORDER if t in stems), TABLE_ORDER[0])])
            if too_big:
                raise SopError(f"Above the limit of {LIMIT_MB} MB per file: {', '.join(too_big)}.")
            with st.spinner("Validating and importing…"):
                changes = import_uploads(
                    store, uploads, user=state.user_name(), authorize=_authorize
                )
        except ImportRejected as exc:
            st.error(f"Import rejected: {len(exc.problems)} problem(s). Nothing was changed.")
            shown = exc.problems[:200]
            st.code(
                "\n".join(shown)
                + (
                    f"\n… and {len(exc.problems) - len(shown)} more"
                    if len(exc.problems) > 200
                    else ""
                ),
                language=None,
            )
        except SopError as exc:
            st.error(plain(exc))
        except (OSError, duckdb.Error) as exc:
            # a full disk, or a store another program holds: nothing was imported
            st.error(
                f"The import could not be written to the plan store ({plain(_first_line(exc))}). "
                "Nothing was changed. Free disk space where the store is kept, or close the "
                "other program using it (a second app, a command line import), then import again.",
                icon=":material/error:",
            )
        if changes is not None:
            state.after_write()
            st.success(
                "Imported: "
                + ", ".join(f"{t} ({old:,} → {new:,} rows)" for t, (old, new) in changes.items())
            )
            _refit(changes)

with right:
    st.subheader("Templates")
    st.download_button(
        "Excel workbook (all tables)",
        template_xlsx(),
        file_name="sop_template.xlsx",
        mime="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        key="data_template_xlsx",
        icon=":material/download:",
    )
    table = st.selectbox("CSV template for one table", TABLE_ORDER, key="data_template_table")
    st.download_button(
        f"{table}.csv",
        template_csv(table),
        file_name=f"{table}.csv",
        mime="text/csv",
        key="data_template_csv",
        icon=":material/download:",
    )

st.subheader("What is loaded")
counts = store.row_counts()
audit = store.query(
    "SELECT entity, max(logged_at) AS last_import FROM audit_log WHERE action = 'import' GROUP BY entity"
)
last = dict(zip(audit["entity"], audit["last_import"], strict=True))
loaded = pd.DataFrame(
    {
        "table": TABLE_ORDER,
        "rows": [counts[t] for t in TABLE_ORDER],
        "what it holds": [TABLES[t].description for t in TABLE_ORDER],
        "last import": [last.get(t) for t in TABLE_ORDER],
    }
)
st.dataframe(
    loaded,
    hide_index=True,
    column_config={
        "rows": st.column_config.NumberColumn("rows", format="localized"),
        "last import": st.column_config.DatetimeColumn("last import", format="YYYY-MM-DD HH:mm"),
    },
    key="data_loaded",
)
if counts["products"] == 0:
    st.info(
        "No products are loaded yet: download the template, fill in at least the products sheet, and import it."
    )

with st.expander("Column reference"):
    st.dataframe(table_help(), hide_index=True, key="data_help")

with st.expander("Recent changes (audit log)"):
    st.dataframe(store.audit_log(limit=50), hide_index=True, key="data_audit")
