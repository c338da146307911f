"""Hardening: no secret in the repository, uploads read as data only, user-chosen names never reach SQL."""

from __future__ import annotations

import re
import shutil
import subprocess
import tomllib
from pathlib import Path

import pytest

from sop_core.errors import ImportRejected
from sop_core.intake.importer import import_uploads

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.skipif(
    shutil.which("git") is None or not (ROOT / ".git").exists(), reason="needs a git checkout"
)
def test_no_secrets_file_is_tracked_and_the_real_one_is_ignored():
    tracked = subprocess.run(
        ["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout.splitlines()
    assert not [p for p in tracked if p.endswith("secrets.toml")]
    ignored = subprocess.run(
        ["git", "check-ignore", "-q", ".streamlit/secrets.toml"], cwd=ROOT, check=False
    )
    assert ignored.returncode == 0


def test_the_example_secrets_hold_placeholders_only():
    auth = tomllib.loads((ROOT / ".streamlit" / "secrets.toml.example").read_text())["auth"]
    assert set(auth) == {
        "redirect_uri",
        "cookie_secret",
        "client_id",
        "client_secret",
        "server_metadata_url",
    }
    for key in ("cookie_secret", "client_id", "client_secret"):
        assert auth[key].startswith("REPLACE-WITH-"), key
    assert auth["redirect_uri"].endswith("/oauth2callback")


def test_the_local_default_serves_on_loopback_with_an_upload_limit():
    config = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text())
    assert config["server"]["address"] == "127.0.0.1"
    assert config["server"]["maxUploadSize"] == 50


@pytest.mark.parametrize("name", ["plan.xlsm", "plan.xlsb", "plan.xls"])
def test_workbooks_with_macros_are_refused_unread(fresh_db, name):
    with pytest.raises(ImportRejected, match=r"cannot read \.xls[mb]? files; save it as \.xlsx"):
        import_uploads(fresh_db, [(name, b"PK\x03\x04 anything")], user="t")


# A table or column name built into SQL text from a variable (f-string or format) in the UI layer:
# the UI passes values as parameters and names only through sop_core's allow-lists.
_SQL_FSTRING = re.compile(r"""f["']\s*(?:SELECT|INSERT|UPDATE|DELETE|CREATE|DROP|ALTER)\s""")


def test_pages_and_ui_build_no_sql_from_names():
    offenders = [
        f"{path.relative_to(ROOT)}:{n}"
        for folder in ("pages", "ui")
        for path in sorted((ROOT / folder).glob("*.py"))
        for n, line in enumerate(path.read_text().splitlines(), start=1)
        if _SQL_FSTRING.search(line) or (".format(" in line and "SELECT " in line)
    ]
    assert offenders == []
