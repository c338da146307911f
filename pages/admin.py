"""Users and roles: who may change what (email → role), managed by an admin; every change audited."""

import streamlit as st

from sop_core.errors import SopError
from sop_core.meeting import roles
from ui import auth, flash, state
from ui.text import plain

store = state.get_store()

st.title("Users and roles")
if not auth.require("roles:manage", store=store):
    st.stop()

st.caption(
    "Each person signs in with their company email; their role decides what they may change. "
    "Sales and marketing: forecasts and consensus. Operations: capacity, headcount, supplier "
    "limits and master data. Finance: budget, settings, cash items. Executive: sign-offs, the "
    "lock, promoting scenarios, decisions. Viewers only read. Admins may do everything and "
    "manage this list; the last admin cannot be removed."
)
if not auth.auth_configured():
    st.info(
        "Sign-in is not configured: served locally, you act as the administrator. The roles "
        "below apply once the cockpit is served for a team with sign-in (README, “Serve for a "
        "team”).",
        icon=":material/info:",
    )

flash.show("admin")


def _flash(kind: str, text: str) -> None:
    flash.say("admin", kind, text)


def _set() -> None:
    email = st.session_state.get("admin_email") or ""
    role = st.session_state.get("admin_role")
    try:
        auth.check("roles:manage", detail=email, store=store)
        old = roles.set_role(store, email, role, user=auth.current_user())
    except SopError as exc:
        _flash("error", plain(exc))
        return
    state.after_write()
    key = roles.normalize_email(email)
    _flash("success", f"{plain(key)}: {old} → {role}." if old else f"{plain(key)} is now {role}.")
    st.session_state["admin_email"] = ""


def _remove(email: str) -> None:
    try:
        auth.check("roles:manage", detail=email, store=store)
        old = roles.remove_role(store, email, user=auth.current_user())
    except SopError as exc:
        _flash("error", plain(exc))
        return
    state.after_write()
    _flash(
        "success", f"{plain(email)} no longer has a role (was {old}); they now see only a refusal."
    )


table = roles.list_roles(store)
if table.empty:
    st.info("No one has a role yet. Add the first admin below.")
else:
    st.dataframe(
        table,
        hide_index=True,
        column_config={
            "email": "email",
            "role": "role",
            "granted_by": "granted by",
            "granted_at": st.column_config.DatetimeColumn("since", format="YYYY-MM-DD HH:mm"),
        },
        key="admin_roles_table",
    )

left, right = st.columns(2, gap="large")
with left:
    st.subheader("Give a role")
    st.text_input("Email", key="admin_email", placeholder="jane.smith@company.com")
    st.selectbox(
        "Role",
        roles.ROLES,
        format_func=roles.ROLE_LABELS.get,
        key="admin_role",
        index=roles.ROLES.index(roles.VIEWER),
    )
    st.button("Save role", type="primary", key="admin_save", on_click=_set)
with right:
    st.subheader("Remove a role")
    if table.empty:
        st.caption("Nobody to remove.")
    else:
        who = st.selectbox("Email", table["email"].tolist(), key="admin_remove_email")
        st.button("Remove role", key="admin_remove", on_click=_remove, args=(who,))
