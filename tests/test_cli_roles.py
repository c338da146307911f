"""python -m sop_core roles: the first admin and the role table from the command line (a local administrator)."""

from __future__ import annotations

from sop_core.cli import main
from sop_core.meeting import roles
from sop_core.store.db import Store


def test_roles_set_list_remove(tmp_path, capsys, monkeypatch):
    db = str(tmp_path / "plan.duckdb")
    monkeypatch.setenv("SOP_USER", "cli:it")
    assert main(["init", "--db", db]) == 0
    assert main(["roles", "list", "--db", db]) == 0
    assert "No one has a role yet" in capsys.readouterr().out
    assert main(["roles", "set", "--db", db, "Boss@Example.com", "admin"]) == 0
    assert main(["roles", "set", "--db", db, "ann@example.com", "sales"]) == 0
    assert main(["roles", "set", "--db", db, "ann@example.com", "finance"]) == 0
    out = capsys.readouterr().out
    assert "boss@example.com is now admin" in out and "ann@example.com: sales -> finance" in out
    assert main(["roles", "list", "--db", db]) == 0
    assert capsys.readouterr().out.splitlines() == [
        "boss@example.com\tadmin",
        "ann@example.com\tfinance",
    ]
    assert main(["roles", "remove", "--db", db, "ann@example.com"]) == 0
    with Store(db) as store:
        assert roles.role_of(store, "ann@example.com") is None
        who = store.query("SELECT DISTINCT user_name FROM audit_log WHERE entity = 'user_roles'")
    assert who["user_name"].tolist() == ["cli:it"]


def test_roles_refusals_are_one_line(tmp_path, capsys):
    db = str(tmp_path / "plan.duckdb")
    assert main(["init", "--db", db]) == 0
    assert main(["roles", "set", "--db", db, "boss@example.com", "admin"]) == 0
    assert main(["roles", "set", "--db", db, "ann@example.com", "boss"]) == 2
    assert main(["roles", "remove", "--db", db, "boss@example.com"]) == 2
    err = capsys.readouterr().err.splitlines()
    assert err == [
        'error: "boss" is not a role (expected one of sales, marketing, operations, finance, '
        "executive, viewer, admin).",
        "error: boss@example.com is the last admin: give another person the admin role first, "
        "so someone can still manage roles.",
    ]
