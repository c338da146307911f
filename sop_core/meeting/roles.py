"""Who may change what: the roles, the allow-list of write actions, the check, and the role table."""

from __future__ import annotations

import re
from dataclasses import dataclass

import pandas as pd

from sop_core.contract import TABLE_ORDER
from sop_core.errors import PermissionDenied, SopError

__all__ = [
    "ROLES",
    "ROLE_LABELS",
    "ADMIN",
    "VIEWER",
    "EDITORS",
    "ACTIONS",
    "IMPORT_OWNERS",
    "Action",
    "allowed",
    "who_may",
    "refusal",
    "check",
    "normalize_email",
    "role_of",
    "list_roles",
    "set_role",
    "remove_role",
    "bind_identity",
    "sign_out",
    "signed_out",
]

ADMIN = "admin"
VIEWER = "viewer"
ROLES: tuple[str, ...] = (
    "sales",
    "marketing",
    "operations",
    "finance",
    "executive",
    VIEWER,
    ADMIN,
)
ROLE_LABELS: dict[str, str] = {
    "sales": "sales: forecasts and consensus",
    "marketing": "marketing: forecasts and consensus",
    "operations": "operations: capacity, headcount, supplier limits, master data",
    "finance": "finance: budget, settings, cash items, financial actuals, prices and costs",
    "executive": "executive: sign-offs, the lock, promoting scenarios, decisions",
    VIEWER: "viewer: reads every page, changes nothing",
    ADMIN: "admin: everything, and who has which role",
}
# Every role that changes something in the plan; a viewer only reads.
EDITORS: frozenset[str] = frozenset({"sales", "marketing", "operations", "finance", "executive"})

# Who owns each contract table (an import replaces it). Decisions the issue leaves open,
# recorded in docs/SECURITY.md: products hold prices and costs (finance) and cover days
# (operations); actuals are the ERP's shipments that every planning role refreshes;
# inventory, resources and routings are operations' master data.
IMPORT_OWNERS: dict[str, frozenset[str]] = {
    "products": frozenset({"finance", "operations"}),
    "actuals": frozenset({"sales", "marketing", "operations", "finance"}),
    "forecasts": frozenset({"sales", "marketing"}),
    "inventory": frozenset({"operations"}),
    "resources": frozenset({"operations"}),
    "routings": frozenset({"operations"}),
    "capacity": frozenset({"operations"}),
    "headcount": frozenset({"operations"}),
    "supply_limits": frozenset({"operations"}),
    "budget": frozenset({"finance"}),
    "cash_items": frozenset({"finance"}),
    "financial_actuals": frozenset({"finance"}),
    "settings": frozenset({"finance"}),
}
assert set(IMPORT_OWNERS) == set(TABLE_ORDER), "every contract table needs its owners"


@dataclass(frozen=True)
class Action:
    """One write action: what a refusal calls it, and the roles that may do it (admin always may)."""

    what: str
    roles: frozenset[str]


def _actions() -> dict[str, Action]:
    acts = {
        f"import:{table}": Action(f"import {table}", owners)
        for table, owners in IMPORT_OWNERS.items()
    }
    acts.update(
        {
            "consensus:set": Action("set the consensus", frozenset({"sales", "marketing"})),
            "assumption:edit": Action("change the assumption register", EDITORS),
            "decision:record": Action("record or update decisions", frozenset({"executive"})),
            "step:update": Action("change a step's owner or status", EDITORS),
            "step:signoff": Action("sign off a step", frozenset({"executive"})),
            "step:reopen": Action("reopen a signed-off step", frozenset({"executive"})),
            "cycle:lock": Action("lock a cycle", frozenset({"executive"})),
            "cycle:open": Action("open the next cycle", frozenset({"executive"})),
            "scenario:save": Action("save or delete scenarios", EDITORS),
            "scenario:promote": Action("promote a scenario", frozenset({"executive"})),
            "commentary:edit": Action("write the board paper's commentary", EDITORS),
            "roles:manage": Action("manage who has which role", frozenset()),
        }
    )
    return acts


# The allow-list: an action not named here is refused to everyone.
ACTIONS: dict[str, Action] = _actions()

SQL_ROLE_OF = "SELECT role FROM user_roles WHERE email = ?"
SQL_LIST_ROLES = """
SELECT email, role, granted_by, granted_at FROM user_roles ORDER BY role, email
"""
SQL_COUNT_ADMINS = "SELECT count(*) FROM user_roles WHERE role = 'admin'"
SQL_UPSERT_ROLE = """
INSERT INTO user_roles (email, role, granted_by, granted_at) VALUES (?, ?, ?, current_timestamp)
ON CONFLICT (email) DO UPDATE SET role = excluded.role, granted_by = excluded.granted_by,
    granted_at = excluded.granted_at
"""
SQL_DELETE_ROLE = "DELETE FROM user_roles WHERE email = ?"
SQL_BINDING = "SELECT issuer, subject, bound_at FROM user_roles WHERE email = ?"
SQL_BIND = """
UPDATE user_roles SET issuer = ?, subject = ?, bound_at = current_timestamp
WHERE email = ? AND subject IS NULL
"""
SQL_SIGN_OUT = """
INSERT INTO signed_out (issuer, subject, issued_at) VALUES (?, ?, ?) ON CONFLICT DO NOTHING
"""
SQL_SIGNED_OUT = "SELECT 1 FROM signed_out WHERE issuer = ? AND subject = ? AND issued_at = ?"
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+$")


def who_may(action: str) -> tuple[str, ...]:
    """The roles that may do ``action``, in ROLES order, admin last."""
    spec = ACTIONS[action]
    return tuple(r for r in ROLES if r in spec.roles or r == ADMIN)


def allowed(role: str | None, action: str) -> bool:
    """Whether ``role`` may do ``action`` (False for an unknown action or no role)."""
    spec = ACTIONS.get(action)
    if spec is None or role is None:
        return False
    return role == ADMIN or role in spec.roles


def _or_list(names: tuple[str, ...]) -> str:
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " or " + names[-1]


def refusal(user: str, role: str | None, action: str) -> str:
    """What a refusal says: who may do it, and who is asking in which role."""
    spec = ACTIONS.get(action)
    head = (
        f"Only {_or_list(who_may(action))} may {spec.what}; "
        if spec
        else f"{action!r} is not an action anyone may do; "
    )
    return head + f"you are signed in as {user or 'unknown'} ({role or 'no role'})."


def check(store, user: str, role: str | None, action: str, *, detail: str | None = None) -> None:
    """Let the action through, or log the refusal and raise.

    Args:
        store: the plan store, for the audit row of a refusal.
        user: who asks (the signed-in email, or the name given in local mode).
        role: their role, or None when they have none.
        action: a key of :data:`ACTIONS`.
        detail: what exactly was attempted (e.g. the uploaded file), for the audit log.

    Raises:
        PermissionDenied: the role may not do it; the message names the roles that may.
    """
    if allowed(role, action):
        return
    message = refusal(user, role, action)
    with store.transaction() as cur:
        store.audit(cur, user, "refused", action, detail, None, role or "no role", message)
    raise PermissionDenied(message)


# --- the role table (migration 4) -------------------------------------------------------------
def normalize_email(email: str | None) -> str:
    """Emails are matched without case and surrounding spaces."""
    return (email or "").strip().lower()


def role_of(store, email: str | None) -> str | None:
    """The role stored for this email, or None."""
    key = normalize_email(email)
    if not key:
        return None
    return store.scalar(SQL_ROLE_OF, [key])


def list_roles(store) -> pd.DataFrame:
    """Every email with its role, who granted it and when."""
    return store.query(SQL_LIST_ROLES)


def _valid(email: str, role: str) -> str:
    key = normalize_email(email)
    if not _EMAIL.match(key):
        raise SopError(f'"{email}" is not an email address (expected name@company.com).')
    if role not in ROLES:
        raise SopError(f'"{role}" is not a role (expected one of {", ".join(ROLES)}).')
    return key


def set_role(store, email: str, role: str, *, user: str) -> str | None:
    """Give ``email`` the role ``role`` (audited); returns the role it had before.

    Raises:
        SopError: not an email, not a role, or it would take away the last admin.
    """
    key = _valid(email, role)
    with store.transaction() as cur:
        old = cur.execute(SQL_ROLE_OF, [key]).fetchone()
        old_role = old[0] if old else None
        if old_role == ADMIN and role != ADMIN:
            _keep_an_admin(cur, key)
        cur.execute(SQL_UPSERT_ROLE, [key, role, user])
        store.audit(cur, user, "role", "user_roles", key, old_role, role)
    return old_role


def remove_role(store, email: str, *, user: str) -> str:
    """Take ``email``'s role away (audited); returns the role it had.

    Raises:
        SopError: the email has no role, or it is the last admin.
    """
    key = normalize_email(email)
    with store.transaction() as cur:
        old = cur.execute(SQL_ROLE_OF, [key]).fetchone()
        if old is None:
            raise SopError(f"{key or email!r} has no role, so there is nothing to remove.")
        if old[0] == ADMIN:
            _keep_an_admin(cur, key)
        cur.execute(SQL_DELETE_ROLE, [key])
        store.audit(cur, user, "role removed", "user_roles", key, old[0], None)
    return old[0]


def _keep_an_admin(cur, email: str) -> None:
    if cur.execute(SQL_COUNT_ADMINS).fetchone()[0] <= 1:
        raise SopError(
            f"{email} is the last admin: give another person the admin role first, "
            "so someone can still manage roles."
        )


# --- sign-in binding (migration 5) -------------------------------------------------------------
def bind_identity(
    store, email: str, issuer: str | None, subject: str | None, *, log: bool = True
) -> None:
    """Bind ``email``'s role to the provider's account on its first sign-in; refuse another one.

    An email claim is only as good as the provider's account behind it: an account whose email
    claim is someone else's address must not get their role. The first sign-in of an email that
    has a role records the provider's (issuer, subject); a later sign-in for the same email from
    another (issuer, subject) is refused and logged. To move a role to a new account, an admin
    removes the role and sets it again. ``log=False``: a refusal already logged for this
    sign-in is not logged again.

    Raises:
        PermissionDenied: no issuer or subject, or not the account the role is bound to.
    """
    key = normalize_email(email)
    issuer, subject = (issuer or "").strip(), (subject or "").strip()
    if not issuer or not subject:
        _refuse_sign_in(
            store if log else None, key, "no issuer or subject",
            f"Signed in as {key}, but the identity provider sent no account identifier (the "
            "iss and sub claims), so the cockpit cannot tell which account this is.",
        )  # fmt: skip
    with store.transaction() as cur:
        rows = cur.execute(SQL_BINDING, [key]).fetchall()
        if not rows:
            return
        bound_issuer, bound_subject, bound_at = rows[0]
        if bound_subject is None:
            cur.execute(SQL_BIND, [issuer, subject, key])
            store.audit(cur, key, "bind", "user_roles", key, None, f"{issuer} {subject}")
            return
    if (bound_issuer, bound_subject) != (issuer, subject):
        when = f" on {bound_at:%d %b %Y}" if bound_at is not None else ""
        _refuse_sign_in(
            store if log else None, key,
            f"account {issuer} {subject}, bound to {bound_issuer} {bound_subject}",
            f"Signed in as {key}, but from another account at the identity provider than the "
            f"one this role was first used with{when}. The cockpit refuses it: ask an "
            "administrator to remove the role and set it again if your account really changed.",
        )  # fmt: skip


def _refuse_sign_in(store, email: str, detail: str, message: str) -> None:
    if store is not None:
        with store.transaction() as cur:
            store.audit(cur, email or "unknown", "refused", "sign-in", email, None, detail, message)
    raise PermissionDenied(message)


def sign_out(store, issuer: str, subject: str, issued_at: int, *, user: str) -> None:
    """Record that this sign-in (its ID token's issuer, subject and issue time) was signed out:
    a copy of its cookie opens nothing afterwards (audited)."""
    with store.transaction() as cur:
        cur.execute(SQL_SIGN_OUT, [issuer, subject, int(issued_at)])
        store.audit(cur, user, "sign out", "sign-in", user, None, None)


def signed_out(store, issuer: str, subject: str, issued_at: int) -> bool:
    """Whether this sign-in was signed out."""
    return store.scalar(SQL_SIGNED_OUT, [issuer, subject, int(issued_at)]) is not None
