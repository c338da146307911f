"""Data: import CSV files or one Excel workbook, download templates, see what is loaded."""

import pandas as pd
import streamlit as st

from sop_core.contract import TABLE_ORDER, TABLES
from sop_core.errors import ImportRejected, SopError
from sop_core.forecasting.baseline import run_forecast
from sop_core.intake.importer import import_uploads
from sop_core.intake.templates import table_help, template_csv, template_xlsx
from ui import auth, state

store = state.get_store()
LIMIT_MB = int(st.get_option("server.maxUploadSize"))  # enforced by the server on upload
importable = [t for t in TABLE_ORDER if auth.can(f"import:{t}", store)]

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
    if st.button("Import", type="primary", key="data_import", disabled=not files):
        uploads = [(f.name, f.getvalue()) for f in files]
        names = ", ".join(name for name, _ in uploads)

        def _authorize(tables: list[str]) -> None:
            for table in tables:  # the server-side check: each table this import replaces
                auth.check(f"import:{table}", detail=names, store=store)

        too_big = [n for n, data in uploads if len(data) > LIMIT_MB * 1024 * 1024]
        try:
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
            st.error(str(exc))
        else:
            st.success(
                "Imported: "
                + ", ".join(f"{t} ({old:,} → {new:,} rows)" for t, (old, new) in changes.items())
            )
            if {"actuals", "forecasts", "products", "settings"} & set(changes):
                # New history, cycles, skus or horizon: refit the statistical baseline now (with
                # progress), not on the next page someone opens; past cycles too, for the track record.
                try:
                    with st.spinner(
                        "Refitting the statistical baseline on the new data (about 10–30 s)…"
                    ):
                        run_forecast(store, progress=False, history=True, user=state.user_name())
                except SopError as exc:
                    st.warning(
                        f"The data are imported, but the statistical baseline could not be refitted: {exc}"
                    )
            state.after_write()

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
