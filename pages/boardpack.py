"""Board pack: one click to a PDF, PowerPoint and Excel pack of the cycle's plan, with progress."""

import tempfile
from pathlib import Path

import streamlit as st

from sop_core.boardpack.build import render_pack
from sop_core.boardpack.content import pack_content
from sop_core.errors import SopError
from sop_core.meeting.commentary import MAX_CHARS, PAPER_SECTIONS, get_commentary, save_commentary
from sop_core.meeting.scenarios import promoted_scenario, scenario_names
from sop_core.store.lock import cycle_info
from ui import auth, editing, flash, state
from ui.text import plain

FORMATS = {
    ".pdf": ("PDF · A4, for print", "application/pdf"),
    ".pptx": (
        "PowerPoint · 16:9",
        "application/vnd.openxmlformats-officedocument.presentationml.presentation",
    ),
    ".xlsx": (
        "Excel · the numbers",
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    ),
}
CYCLE_PLAN = "The cycle's plan"

store = state.get_store()
cycle = state.selected_cycle(store)

st.title("Board pack")
try:
    data = state.plan_data(store, cycle)
    company = data.settings.company_name or "Your company"
    promoted = promoted_scenario(store, cycle)
    info = cycle_info(store, cycle) if cycle else None
    names = scenario_names(store, cycle)
except SopError as exc:
    st.error(plain(exc))
    st.stop()

status = (
    f"locked by {plain(info.locked_by)}"
    if info is not None and info.locked
    else "draft (cycle open)"
)
st.caption(
    f"{plain(company)} · S&OP cycle {cycle or '(none)'} · plan status: {status} · "
    + (
        f"promoted scenario “{plain(promoted.name)}”"
        if promoted
        else "no scenario promoted: base plan"
    )
)
st.write(
    "A board paper, not a data dump: a 10–15 page pre-read — the plan in brief on one page (the "
    "plan, what changed since the last locked plan, the three biggest risks with their range, "
    "the decisions asked of the board), then last month against plan, what changed, the risks, "
    "the three stories and their root causes, cash, scenarios, decisions and assumptions. Every "
    "sentence is built from the engine's figures; your commentary prints beneath it. The PDF "
    "adds an appendix of detail tables; the PowerPoint is the pre-read with native charts; the "
    "Excel workbook keeps every table."
)

# --- commentary: per section and cycle, beneath the generated text ------------------------------
locked = info is not None and info.locked
with st.expander("Commentary beneath each section", expanded=False, icon=":material/edit_note:"):
    if not cycle:
        st.info("Open an S&OP cycle (Data page) to write the board paper's commentary.")
    else:
        section = st.selectbox(
            "Section",
            list(PAPER_SECTIONS),
            format_func=lambda k: PAPER_SECTIONS[k],
            key="boardpack_commentary_section",
        )
        try:
            stored = get_commentary(store, cycle, section)
        except SopError as exc:
            st.error(plain(exc))
            stored = None
        # what this person loaded: a save made by someone else since is refused, not overwritten
        loaded_key = f"boardpack_commentary_loaded_{cycle}_{section}"
        if loaded_key not in st.session_state:
            st.session_state[loaded_key] = (
                (stored.version, stored.body) if stored is not None else (0, None)
            )
        version, loaded = st.session_state[loaded_key]
        if stored is not None:
            st.caption(f"Written by {plain(stored.byline)}")
        may_edit = auth.can("commentary:edit", store)  # greys out; auth.require is what counts
        why = (
            "The cycle is locked: its commentary is frozen with its plan."
            if locked
            else None
            if may_edit
            else auth.why_not("commentary:edit", store)
        )
        text = st.text_area(
            "Commentary (plain text; printed as written, beneath the generated sentences)",
            value=stored.body if stored is not None else "",
            max_chars=MAX_CHARS,
            height=140,
            disabled=locked,
            key=f"boardpack_commentary_text_{section}",
        )
        if why:
            st.caption(plain(why))

        def _save_commentary(section=section, version=version, loaded=loaded) -> None:
            # a callback: it runs before the page, so the role check sees the click even when
            # the page would grey the button out on this run
            text = st.session_state.get(f"boardpack_commentary_text_{section}", "")
            result = {}

            def do() -> None:
                result["saved"] = save_commentary(
                    store,
                    cycle,
                    section,
                    text,
                    expected_version=version,
                    user=state.user_name(),
                    loaded=loaded,
                )

            def after() -> None:
                saved_note = result.get("saved")
                if saved_note is not None:
                    st.session_state[loaded_key] = (saved_note.version, saved_note.body)

            editing.write(
                "boardpack",
                "commentary:edit",
                f"{cycle}/{section}",
                do,
                "Commentary saved.",
                store=store,
                after=after,
            )

        st.button(
            "Save commentary",
            disabled=bool(why),
            key="boardpack_commentary_save",
            icon=":material/save:",
            on_click=_save_commentary,
        )
        flash.show("boardpack")

left, right = st.columns([2, 3])
choice = left.selectbox(
    "Plan to show",
    [CYCLE_PLAN, *names],
    key="boardpack_scenario",
    help="The cycle's plan is its promoted scenario, else the base plan. "
    "Pick a saved scenario to show it instead (the cover says which).",
)
formats = right.multiselect(
    "Formats",
    list(FORMATS),
    default=list(FORMATS),
    format_func=lambda s: FORMATS[s][0],
    key="boardpack_formats",
    help="PDF: A4 landscape, page numbers, for print and reading. PowerPoint: 16:9, one topic "
    "a slide, real tables. Excel: a sheet per section, every figure a number, for finance.",
)
scenario = None if choice == CYCLE_PLAN else choice
key = (str(store.path), state.data_version(store), cycle, scenario)

if st.button(
    "Build the board pack",
    type="primary",
    icon=":material/picture_as_pdf:",
    disabled=not formats,
    key="boardpack_build",
):
    bar = st.progress(0.0, text="Starting…")
    built: dict[str, tuple[str, bytes]] = {}
    try:
        share = 0.3  # the content; the rest is split between the formats

        def content_progress(text: str, fraction: float) -> None:
            bar.progress(min(fraction, 1.0) * share, text=text)

        pack = pack_content(store, cycle, scenario, progress=content_progress)
        base = f"board-pack-{pack.cycle or 'plan'}"
        with tempfile.TemporaryDirectory() as folder:
            for i, suffix in enumerate(formats):
                lo = share + (1 - share) * i / len(formats)
                width = (1 - share) / len(formats)

                def file_progress(text: str, fraction: float, lo=lo, width=width) -> None:
                    bar.progress(min(lo + width * min(fraction, 1.0), 1.0), text=text)

                out = Path(folder) / f"{base}{suffix}"
                render_pack(pack, out, progress=file_progress)
                built[suffix] = (out.name, out.read_bytes())
        bar.progress(1.0, text="Board pack ready")
        st.session_state["boardpack_built"] = (key, built)
    except SopError as exc:
        bar.empty()
        st.error(plain(exc))

saved = st.session_state.get("boardpack_built")
if saved is not None:
    saved_key, built = saved
    if saved_key != key:
        st.info("The data, cycle or plan changed since the pack was built: build it again.")
    else:
        st.success(f"Board pack of cycle {cycle} built: download each file below.")
        columns = st.columns(len(built))
        for column, (suffix, (name, payload)) in zip(columns, built.items(), strict=True):
            column.download_button(
                f"Download {suffix[1:].upper()}",
                payload,
                file_name=name,
                mime=FORMATS[suffix][1],
                key=f"boardpack_download_{suffix[1:]}",
                on_click="ignore",
                icon=":material/download:",
            )
