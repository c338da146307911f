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
import os
import threading
import time

import streamlit as st

from sop_core.errors import PermissionDenied
from sop_core.meeting import roles
from ui.connection import default_store
from ui.text import escape_markdown

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
    "session_hours",
]

LOCAL_ROLE = roles.ADMIN
# How long one sign-in opens the cockpit. Streamlit's cookie lives 30 days and cannot be
# shortened from the app; past this age (from the ID token's iat) a sign-in is asked again.
SESSION_HOURS_ENV = "SOP_SESSION_HOURS"
DEFAULT_SESSION_HOURS = 12.0
# Requests through a proxy carry these; local mode serves nobody but this machine's browser.
FORWARDING_HEADERS = ("X-Forwarded-For", "X-Forwarded-Host", "X-Forwarded-Proto", "X-Real-Ip",
                      "Forwarded")  # fmt: skip
# Refusals already logged, per sign-in (every page load is a new Streamlit session): once each.
_LOGGED: set[tuple] = set()
_LOGGED_LOCK = threading.Lock()


def _first_time(key: tuple) -> bool:
    """True the first time ``key`` is seen in this server process."""
    with _LOGGED_LOCK:
        if key in _LOGGED:
            return False
        _LOGGED.add(key)
        return True


def session_hours() -> float:
    """The longest a sign-in is accepted, in hours (``$SOP_SESSION_HOURS``, default 12)."""
    try:
        hours = float(os.environ.get(SESSION_HOURS_ENV, DEFAULT_SESSION_HOURS))
    except ValueError:
        return DEFAULT_SESSION_HOURS
    return hours if hours > 0 else DEFAULT_SESSION_HOURS


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


def _verified() -> bool:
    """Whether the provider vouches for the email: ``email_verified`` is the JSON true (not "false",
    not 0, not missing), or Entra ID's ``xms_edov`` (email domain owner verified) is."""
    return st.user.get("email_verified") is True or st.user.get("xms_edov") is True


def _sign_in_id() -> tuple[str, str, int | None]:
    """The sign-in's issuer, subject and issue time (the ID token's iss, sub, iat)."""
    iat = st.user.get("iat")
    try:
        issued = int(iat) if iat is not None else None
    except (TypeError, ValueError):
        issued = None
    return str(st.user.get("iss") or ""), str(st.user.get("sub") or ""), issued


def signed_in_email() -> str | None:
    """The signed-in person's email (lower case), or None (not signed in, or not verified)."""
    if not _logged_in() or not _verified():
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


def _sign_in_screen(ended: str | None = None) -> None:
    st.title("S&OP cockpit")
    if ended:
        st.info(ended, icon=":material/schedule:")
    st.write("Sign in with your company account to see the plan.")
    if st.button("Sign in", type="primary", icon=":material/login:", key="auth_sign_in"):
        st.login()


def _sign_out_button(where=st, store=None) -> None:
    if where.button("Sign out", icon=":material/logout:", key="auth_sign_out"):
        issuer, subject, issued = _sign_in_id()
        if issuer and subject and issued is not None:
            # this sign-in is over for good: a copy of its cookie opens nothing afterwards
            roles.sign_out(
                _store(store), issuer, subject, issued, user=signed_in_email() or subject
            )
        st.logout()


def _ended(store) -> str | None:
    """Why this sign-in is no longer accepted (signed out, or too old), or None."""
    issuer, subject, issued = _sign_in_id()
    if issued is None:
        return None
    if issuer and subject and roles.signed_out(store, issuer, subject, issued):
        return "This sign-in was signed out. Sign in again to continue."
    hours = session_hours()
    if time.time() - issued > hours * 3600:
        return f"Your sign-in is more than {hours:g} hours old. Sign in again to continue."
    return None


def _request_headers():
    """The browser's request headers (empty without a request, as in a bare script run)."""
    try:
        return st.context.headers or {}
    except Exception:  # noqa: BLE001 - no request context
        return {}


def _forwarded() -> str | None:
    """Why a request looks like it came through a proxy or from another machine, or None."""
    headers = _request_headers()
    for name in FORWARDING_HEADERS:
        if headers.get(name):
            return f"the request carries the proxy header {name}"
    host = (headers.get("Host") or "").strip()
    if host:
        name = host.rsplit(":", 1)[0] if not host.endswith("]") else host
        if not is_loopback(name):
            return f"it was asked for as {host}"
    return None


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
        # once per sign-in, not once per page load (each load is a new Streamlit session)
        if _first_time(("no role", email, *_sign_in_id())):
            with store.transaction() as cur:
                store.audit(cur, email, "refused", "sign-in", None, None, "no role", "no role")
    _sign_out_button(store=store)


def _refused_screen(store, message: str) -> None:
    st.title("S&OP cockpit")
    st.error(message, icon=":material/block:")
    _sign_out_button(store=store)


def _local_refusal(why: str) -> None:
    st.title("S&OP cockpit")
    st.error(
        f"This cockpit runs without sign-in, which is only for the browser on this machine, but "
        f"{why}. It shows nothing. To serve it through a proxy or to other machines, configure "
        "sign-in in .streamlit/secrets.toml as the README's “Serve for a team” shows.",
        icon=":material/block:",
    )
    st.stop()


def gate(store) -> None:
    """Stop the run unless this person may see the plan.

    Local mode on a loopback address, asked for by this machine's browser: everyone may. Local
    mode on a network address, or reached through a proxy or by another host name: nobody
    (sign-in must be configured first). Sign-in configured: a sign-in screen until signed in
    (again after signing out, or when the sign-in is older than :func:`session_hours`), then a
    refusal (with a sign-out button) for an email that has no role, is not verified, or comes
    from another account than the one its role is bound to.
    """
    if not auth_configured():
        if not _served_on_loopback():
            st.title("S&OP cockpit")
            st.error(
                "This cockpit is served on a network address without sign-in, so it shows "
                "nothing. Serve it on 127.0.0.1 (the default in .streamlit/config.toml), or "
                "configure sign-in in .streamlit/secrets.toml as the README's “Serve for a "
                "team” shows.",
                icon=":material/block:",
            )
            st.stop()
        why = _forwarded()
        if why:
            _local_refusal(why)
        return
    if not _logged_in():
        _only(_sign_in_screen)
    ended = _ended(store)
    if ended:
        _only(lambda: _sign_in_screen(ended))
    email = signed_in_email()
    if email is None or roles.role_of(store, email) is None:
        _only(lambda: _no_role_screen(store, email))
    issuer, subject, issued = _sign_in_id()
    try:
        roles.bind_identity(
            store, email, issuer, subject, log=_first_time(("bind", email, issuer, subject, issued))
        )
    except PermissionDenied as exc:
        message = str(exc)
        _only(lambda: _refused_screen(store, message))


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
    st.markdown(f"Signed in as **{escape_markdown(email or '')}**")
    st.caption(f"Role: {roles.ROLE_LABELS.get(role, role)}")
    _sign_out_button(st, store)
