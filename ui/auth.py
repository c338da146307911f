"""Sign-in and roles in the app: local mode (no ``[auth]`` secrets) or the company's OpenID Connect provider.

Local mode (the safe default, served on 127.0.0.1 only): no sign-in, everyone is the local
administrator and the audit log names them by the sidebar's "Your name". Team mode (an
``[auth]`` section in ``.streamlit/secrets.toml``): nothing renders before ``st.login``, the
signed-in email is the user, and its role (``sop_core.meeting.roles``, kept in the store) decides what
they may change. The server-side :func:`check` is what counts; :func:`can` only greys out
widgets.
"""

from __future__ import annotations

import ipaddress

import streamlit as st

from sop_core.errors import PermissionDenied
from sop_core.meeting import roles
from ui.connection import default_store

__all__ = [
    "auth_configured",
    "is_loopback",
    "signed_in_email",
    "current_user",
    "current_role",
    "can",
    "why_not",
    "check",
    "require",
    "gate",
    "sidebar_identity",
]

LOCAL_ROLE = roles.ADMIN
_REFUSAL_LOGGED = "auth_no_role_logged"


def auth_configured() -> bool:
    """Whether sign-in is configured: the secrets have an ``[auth]`` section.

    No secrets file (the local default) means local mode. A secrets file Streamlit cannot read
    also reads as "not configured" here, but then :func:`gate` refuses to serve on a network
    address, so a broken team configuration never opens the plan to everyone.
    """
    try:
        return "auth" in st.secrets
    except Exception:  # noqa: BLE001 - no secrets file, or one that cannot be parsed
        return False


def is_loopback(address: str | None) -> bool:
    """Whether a ``server.address`` keeps the app on this machine ("" or None: every interface)."""
    address = (address or "").strip().strip("[]")
    if address == "localhost":
        return True
    try:
        return ipaddress.ip_address(address).is_loopback
    except ValueError:  # "" (every interface) or a host name
        return False


def _served_on_loopback() -> bool:
    return is_loopback(st.get_option("server.address"))


def _logged_in() -> bool:
    return bool(st.user.get("is_logged_in"))


def signed_in_email() -> str | None:
    """The signed-in person's email (lower case), or None (not signed in, or no verified email)."""
    if not _logged_in():
        return None
    if st.user.get("email_verified") is False:  # the provider says it is not theirs (yet)
        return None
    email = roles.normalize_email(st.user.get("email"))
    return email or None


def current_user() -> str:
    """Who the audit log names: the signed-in email, or in local mode the sidebar's name."""
    if auth_configured():
        return signed_in_email() or "anonymous"
    return (st.session_state.get("user") or "").strip() or "anonymous"


def _store(store=None):
    return store if store is not None else default_store()


def current_role(store=None) -> str | None:
    """The role of the person using the app: admin in local mode, else the stored one (or None)."""
    if not auth_configured():
        return LOCAL_ROLE
    return roles.role_of(_store(store), signed_in_email())


def can(action: str, store=None) -> bool:
    """Whether the current role may do ``action``: for disabling widgets, never as the check."""
    return roles.allowed(current_role(store), action)


def why_not(action: str, store=None) -> str | None:
    """The refusal the current person would get for ``action`` (not logged), or None if allowed."""
    role = current_role(store)
    return None if roles.allowed(role, action) else roles.refusal(current_user(), role, action)


def check(action: str, *, detail: str | None = None, store=None) -> None:
    """The server-side check: raises PermissionDenied (logged) when the current role may not."""
    store = _store(store)
    roles.check(store, current_user(), current_role(store), action, detail=detail)


def require(action: str, *, detail: str | None = None, store=None) -> bool:
    """:func:`check` for a page: shows the refusal and returns False, or returns True."""
    try:
        check(action, detail=detail, store=store)
    except PermissionDenied as exc:
        st.error(str(exc), icon=":material/block:")
        return False
    return True


def _sign_in_screen() -> None:
    st.title("S&OP cockpit")
    st.write("Sign in with your company account to see the plan.")
    if st.button("Sign in", type="primary", icon=":material/login:", key="auth_sign_in"):
        st.login()


def _sign_out_button(where=st) -> None:
    if where.button("Sign out", icon=":material/logout:", key="auth_sign_out"):
        st.logout()


def _no_role_screen(store, email: str | None) -> None:
    st.title("S&OP cockpit")
    if email is None and not st.user.get("email"):
        st.error(
            "Signed in, but your identity provider sent no email address, so the cockpit cannot "
            "tell who you are. Ask IT to include the email claim for this application.",
            icon=":material/block:",
        )
    elif email is None:
        st.error(
            f"Signed in as {st.user.get('email')}, but your identity provider does not vouch for "
            "this email address, so the cockpit cannot tell who you are.",
            icon=":material/block:",
        )
    else:
        st.error(
            f"Signed in as {email}, which has no role in this cockpit. Ask an administrator to "
            "give you one (sales, marketing, operations, finance, executive or viewer).",
            icon=":material/block:",
        )
        if not st.session_state.get(_REFUSAL_LOGGED):
            st.session_state[_REFUSAL_LOGGED] = True
            with store.transaction() as cur:
                store.audit(cur, email, "refused", "sign-in", None, None, "no role", "no role")
    _sign_out_button()


def gate(store) -> None:
    """Stop the run unless this person may see the plan.

    Local mode on a loopback address: everyone may. Local mode on a network address: nobody
    (sign-in must be configured first). Sign-in configured: a sign-in screen until signed in,
    then a refusal (with a sign-out button) for an email that has no role.
    """
    if not auth_configured():
        if _served_on_loopback():
            return
        st.title("S&OP cockpit")
        st.error(
            "This cockpit is served on a network address without sign-in, so it shows nothing. "
            "Serve it on 127.0.0.1 (the default in .streamlit/config.toml), or configure sign-in "
            "in .streamlit/secrets.toml as the README's “Serve for a team” shows.",
            icon=":material/block:",
        )
        st.stop()
    if not _logged_in():
        _only(_sign_in_screen)
    email = signed_in_email()
    if email is None or roles.role_of(store, email) is None:
        _only(lambda: _no_role_screen(store, email))


def _only(screen) -> None:
    """Show one screen as the app's only page (no navigation to the others), then stop."""
    st.navigation(
        [st.Page(screen, title="S&OP cockpit", url_path="signin")], position="hidden"
    ).run()
    st.stop()


def sidebar_identity(store) -> None:
    """Who is signed in, their role, and a sign-out button (inside the sidebar)."""
    email = signed_in_email()
    role = current_role(store)
    st.markdown(f"Signed in as **{email}**")
    st.caption(f"Role: {roles.ROLE_LABELS.get(role, role)}")
    _sign_out_button(st)
