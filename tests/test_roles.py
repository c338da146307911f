"""Roles: each role's allowed and refused actions (written out by hand), refusals logged, the role table."""

from __future__ import annotations

import pytest

from sop_core.errors import PermissionDenied, SopError
from sop_core.meeting import roles
from sop_core.store.db import Store

S, M, OP, F, E, V, A = "sales", "marketing", "operations", "finance", "executive", "viewer", "admin"

# action -> the roles that may do it, as docs/SECURITY.md states it (admin may do everything).
EXPECTED: dict[str, set[str]] = {
    "import:products": {F, OP, A},
    "import:actuals": {S, M, OP, F, A},
    "import:forecasts": {S, M, A},
    "import:inventory": {OP, A},
    "import:resources": {OP, A},
    "import:routings": {OP, A},
    "import:capacity": {OP, A},
    "import:headcount": {OP, A},
    "import:supply_limits": {OP, A},
    "import:budget": {F, A},
    "import:cash_items": {F, A},
    "import:financial_actuals": {F, A},
    "import:settings": {F, A},
    "consensus:set": {S, M, A},
    "assumption:edit": {S, M, OP, F, E, A},
    "decision:record": {E, A},
    "step:update": {S, M, OP, F, E, A},
    "step:signoff": {E, A},
    "step:reopen": {E, A},
    "cycle:lock": {E, A},
    "cycle:open": {E, A},
    "scenario:save": {S, M, OP, F, E, A},
    "scenario:promote": {E, A},
    "commentary:edit": {S, M, OP, F, E, A},
    "roles:manage": {A},
}
CASES = [(role, action, role in who) for action, who in EXPECTED.items() for role in roles.ROLES]


@pytest.fixture(scope="module")
def shared_db(tmp_path_factory):
    """One store for the whole table (each case reads only the audit row it writes)."""
    with Store(tmp_path_factory.mktemp("roles") / "plan.duckdb") as store:
        yield store


def test_the_allow_list_is_the_documented_one():
    assert set(roles.ACTIONS) == set(EXPECTED)
    assert set(roles.ROLES) == {S, M, OP, F, E, V, A}


@pytest.mark.parametrize(("role", "action", "ok"), CASES)
def test_each_role_and_action(shared_db, role, action, ok):
    fresh_db = shared_db
    user = f"{role}@example.com"
    before = fresh_db.scalar("SELECT count(*) FROM audit_log")
    if ok:
        roles.check(fresh_db, user, role, action)
        assert fresh_db.scalar("SELECT count(*) FROM audit_log") == before
        return
    with pytest.raises(PermissionDenied) as info:
        roles.check(fresh_db, user, role, action, detail="budget.csv")
    text = str(info.value)
    assert text.startswith("Only ")
    assert f"you are signed in as {user} ({role})." in text
    for allowed in EXPECTED[action]:
        assert allowed in text  # the refusal says which role may do it
    row = fresh_db.query(
        "SELECT user_name, action, entity, item_key, new_value, detail FROM audit_log "
        "ORDER BY id DESC LIMIT 1"
    ).iloc[0]
    assert (row["user_name"], row["action"], row["entity"]) == (user, "refused", action)
    assert row["item_key"] == "budget.csv" and row["new_value"] == role
    assert row["detail"] == text


def test_refusal_message_reads_as_a_sentence(fresh_db):
    with pytest.raises(PermissionDenied) as info:
        roles.check(fresh_db, "ops@example.com", "operations", "import:budget")
    assert str(info.value) == (
        "Only finance or admin may import budget; "
        "you are signed in as ops@example.com (operations)."
    )
    with pytest.raises(PermissionDenied) as info:
        roles.check(fresh_db, "ann@example.com", None, "consensus:set")
    assert str(info.value) == (
        "Only sales, marketing or admin may set the consensus; "
        "you are signed in as ann@example.com (no role)."
    )


def test_an_unknown_action_is_refused_to_everyone(fresh_db):
    assert not roles.allowed("admin", "drop:everything")
    with pytest.raises(PermissionDenied, match="not an action anyone may do"):
        roles.check(fresh_db, "root@example.com", "admin", "drop:everything")


def test_role_table_set_change_remove_audited(fresh_db):
    assert roles.role_of(fresh_db, "Boss@Example.com") is None
    assert roles.set_role(fresh_db, " Boss@Example.com ", "admin", user="cli:me") is None
    assert roles.role_of(fresh_db, "boss@example.com") == "admin"
    roles.set_role(fresh_db, "ann@example.com", "sales", user="boss@example.com")
    assert (
        roles.set_role(fresh_db, "ann@example.com", "finance", user="boss@example.com") == "sales"
    )
    listed = roles.list_roles(fresh_db)
    assert listed[["email", "role"]].values.tolist() == [
        ["boss@example.com", "admin"],
        ["ann@example.com", "finance"],
    ]
    assert roles.remove_role(fresh_db, "ann@example.com", user="boss@example.com") == "finance"
    assert roles.role_of(fresh_db, "ann@example.com") is None
    log = fresh_db.query(
        "SELECT user_name, action, item_key, old_value, new_value FROM audit_log "
        "WHERE entity = 'user_roles' ORDER BY id"
    ).fillna("")
    assert log.values.tolist() == [
        ["cli:me", "role", "boss@example.com", "", "admin"],
        ["boss@example.com", "role", "ann@example.com", "", "sales"],
        ["boss@example.com", "role", "ann@example.com", "sales", "finance"],
        ["boss@example.com", "role removed", "ann@example.com", "finance", ""],
    ]


def test_the_last_admin_stays(fresh_db):
    roles.set_role(fresh_db, "boss@example.com", "admin", user="cli")
    with pytest.raises(SopError, match="last admin"):
        roles.remove_role(fresh_db, "boss@example.com", user="boss@example.com")
    with pytest.raises(SopError, match="last admin"):
        roles.set_role(fresh_db, "boss@example.com", "viewer", user="boss@example.com")
    roles.set_role(fresh_db, "deputy@example.com", "admin", user="boss@example.com")
    roles.set_role(fresh_db, "boss@example.com", "viewer", user="deputy@example.com")
    assert roles.role_of(fresh_db, "boss@example.com") == "viewer"


@pytest.mark.parametrize(
    ("email", "role", "match"),
    [
        ("not-an-email", "sales", "is not an email address"),
        ("a b@example.com", "sales", "is not an email address"),
        ("ann@example.com", "superuser", "is not a role"),
    ],
)
def test_bad_role_rows_are_refused(fresh_db, email, role, match):
    with pytest.raises(SopError, match=match):
        roles.set_role(fresh_db, email, role, user="cli")
    assert roles.list_roles(fresh_db).empty


def test_removing_nobody_says_so(fresh_db):
    with pytest.raises(SopError, match="has no role"):
        roles.remove_role(fresh_db, "ghost@example.com", user="cli")
