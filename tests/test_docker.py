"""The team server's image and compose file agree with the repository; the container's command works.

``docker build`` cannot run on the development machine (no Docker engine), so these tests check
what can be checked without it: every file the Dockerfile copies exists, the command it runs
is the documented one and starts the app, compose publishes on loopback and keeps the store on
a volume, and sign-in is configured from the environment or a mounted file.
"""

from __future__ import annotations

import os
import re
import shlex
import socket
import subprocess
import sys
import time
import tomllib
import urllib.request
from pathlib import Path

import pytest

from scripts import serve
from tests._browser import free_port

ROOT = Path(__file__).resolve().parent.parent
DOCKERFILE = (ROOT / "Dockerfile").read_text()
COMPOSE = (ROOT / "compose.yaml").read_text()
AUTH = {
    "SOP_AUTH_REDIRECT_URI": "https://sop.example.com/oauth2callback",
    "SOP_AUTH_COOKIE_SECRET": 'a"b\\c',  # characters TOML must escape
    "SOP_AUTH_CLIENT_ID": "cockpit",
    "SOP_AUTH_CLIENT_SECRET": "s3cret",
    "SOP_AUTH_SERVER_METADATA_URL": "https://login.example.com/.well-known/openid-configuration",
}


def _instructions(name: str) -> list[str]:
    return [
        line.split(None, 1)[1]
        for line in DOCKERFILE.splitlines()
        if line.strip() and line.split()[0] == name
    ]


def test_the_image_is_python_311_slim_installed_with_the_constraints():
    assert _instructions("FROM") == ["python:3.11-slim"]
    assert any("-r requirements.txt -c constraints.txt" in run for run in _instructions("RUN"))
    assert "chromium" not in DOCKERFILE.lower()


def test_every_file_the_dockerfile_copies_exists():
    copied = []
    for args in _instructions("COPY"):
        *sources, _target = shlex.split(args)
        copied += sources
    assert "sop_core/" in copied and "app.py" in copied and "scripts/serve.py" in copied
    for source in copied:
        assert (ROOT / source).exists(), source
    # everything the app imports at run time is copied
    for needed in ("app.py", "pages/", "ui/", "sop_core/", ".streamlit/config.toml"):
        assert needed in copied, needed


def test_the_container_runs_the_documented_command_with_the_store_on_the_volume():
    assert _instructions("CMD")[-1] == '["python", "scripts/serve.py"]'
    assert "SOP_DB=/data/sop.duckdb" in DOCKERFILE
    assert _instructions("VOLUME") == ['["/data"]']
    assert _instructions("USER") == ["sop"]
    assert _instructions("EXPOSE") == [str(serve.PORT)]
    readme = (ROOT / "README.md").read_text()
    assert "docker compose up -d" in readme
    assert "docker compose exec cockpit python -m sop_core roles set" in readme


def test_compose_publishes_on_loopback_keeps_the_store_on_a_volume_and_passes_sign_in():
    assert f'"127.0.0.1:{serve.PORT}:{serve.PORT}"' in COMPOSE
    assert "sop-data:/data" in COMPOSE
    for name in serve.ENV_KEYS.values():
        assert re.search(rf"^\s+{name}: \$\{{{name}:-\}}$", COMPOSE, re.MULTILINE), name
    assert "/run/secrets/sop_secrets.toml" in COMPOSE and serve.MOUNTED_DEFAULT.endswith(
        "sop_secrets.toml"
    )
    caddy = (ROOT / "deploy" / "Caddyfile").read_text()
    assert "./deploy/Caddyfile:/etc/caddy/Caddyfile" in COMPOSE
    assert f"reverse_proxy cockpit:{serve.PORT}" in caddy
    ignored = (ROOT / ".dockerignore").read_text().split()
    assert ".streamlit/secrets.toml" in ignored and "data" in ignored and ".venv" in ignored


def test_sign_in_from_the_environment_is_written_as_an_auth_section(tmp_path):
    path = serve.secrets_file(AUTH, tmp_path)
    assert path == tmp_path / ".streamlit" / "sop_secrets.toml"
    assert oct(path.stat().st_mode & 0o777) == "0o600"
    parsed = tomllib.loads(path.read_text())
    assert parsed == {
        "auth": {
            "redirect_uri": "https://sop.example.com/oauth2callback",
            "cookie_secret": 'a"b\\c',
            "client_id": "cockpit",
            "client_secret": "s3cret",
            "server_metadata_url": "https://login.example.com/.well-known/openid-configuration",
        }
    }


def test_a_half_configured_sign_in_is_refused(tmp_path):
    partial = {k: v for k, v in AUTH.items() if k != "SOP_AUTH_CLIENT_SECRET"}
    with pytest.raises(serve.ConfigError) as info:
        serve.secrets_file(partial, tmp_path)
    assert info.value.code == 2
    assert "set SOP_AUTH_CLIENT_SECRET as well" in info.value.message
    assert not (tmp_path / ".streamlit").exists()


def test_a_mounted_secrets_file_is_used_when_the_environment_has_none(tmp_path):
    mounted = tmp_path / "mounted.toml"
    assert serve.secrets_file({"SOP_SECRETS_FILE": str(mounted)}, tmp_path) is None
    mounted.write_text('[auth]\nclient_id = "x"\n')
    assert serve.secrets_file({"SOP_SECRETS_FILE": str(mounted)}, tmp_path) == mounted


def test_the_command_serves_every_interface_without_error_details():
    cmd = serve.command(Path("/run/secrets/sop_secrets.toml"), [])
    assert cmd[1:4] == ["-m", "streamlit", "run"] and cmd[4].endswith("app.py")
    assert "--server.address=0.0.0.0" in cmd
    assert "--client.showErrorDetails=none" in cmd
    assert cmd[-1] == "--secrets.files=/run/secrets/sop_secrets.toml"


def test_serve_starts_the_app_with_sign_in(tmp_path, demo_store_file):
    """The container's command, run here: the app answers, with sign-in required."""
    import shutil

    db = tmp_path / "sop.duckdb"
    shutil.copy(demo_store_file, db)
    port = free_port()
    env = dict(os.environ, **AUTH, SOP_DB=str(db), HOME=str(tmp_path))
    env["STREAMLIT_BROWSER_GATHER_USAGE_STATS"] = "false"
    log = tmp_path / "serve.log"
    with log.open("w") as out:
        proc = subprocess.Popen(
            [sys.executable, "scripts/serve.py", f"--server.port={port}"],
            cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT,
        )  # fmt: skip
    try:
        deadline, ok = time.time() + 90, False
        while time.time() < deadline and not ok:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health") as r:
                    ok = r.status == 200
            except OSError:
                time.sleep(0.5)
        assert ok, log.read_text()[-2000:]
        # served on every interface, not only loopback
        with socket.create_connection((socket.gethostname(), port), timeout=5):
            pass
        assert (tmp_path / ".streamlit" / "sop_secrets.toml").exists()
        assert "no sign-in configured" not in log.read_text()
    finally:
        proc.terminate()
        proc.wait(timeout=30)
