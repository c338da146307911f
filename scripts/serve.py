"""Serve the cockpit for a team (the container's command): sign-in configured, then Streamlit.

Sign-in (OpenID Connect, README "Serve for a team") comes from, in this order:

1. the environment: ``SOP_AUTH_REDIRECT_URI``, ``SOP_AUTH_COOKIE_SECRET``, ``SOP_AUTH_CLIENT_ID``,
   ``SOP_AUTH_CLIENT_SECRET``, ``SOP_AUTH_SERVER_METADATA_URL`` (all five, or none): written to a
   secrets file only this user can read, outside the image's code;
2. a mounted secrets file, ``$SOP_SECRETS_FILE`` (default ``/run/secrets/sop_secrets.toml``), as
   ``.streamlit/secrets.toml.example`` shows.

With neither, the cockpit still starts but, served on a network address, shows nothing except
how to configure sign-in (``ui/auth.py``). The store is ``$SOP_DB`` (``/data/sop.duckdb`` in the
image, on a volume); a missing store is built from the demo company on the first start.

Run: ``python scripts/serve.py [extra streamlit options]``.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Mapping
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
ENV_KEYS = {
    "redirect_uri": "SOP_AUTH_REDIRECT_URI",
    "cookie_secret": "SOP_AUTH_COOKIE_SECRET",
    "client_id": "SOP_AUTH_CLIENT_ID",
    "client_secret": "SOP_AUTH_CLIENT_SECRET",
    "server_metadata_url": "SOP_AUTH_SERVER_METADATA_URL",
}
MOUNTED_DEFAULT = "/run/secrets/sop_secrets.toml"
PORT = 8501


class ConfigError(SystemExit):
    """A sign-in configuration that cannot be served: one line, exit code 2."""

    def __init__(self, message: str):
        super().__init__(2)
        self.message = message


def auth_from_env(env: Mapping[str, str]) -> dict[str, str] | None:
    """The ``[auth]`` section from the environment; None if no variable is set.

    Raises:
        ConfigError: some but not all are set (a half-configured sign-in must not start).
    """
    values = {key: env.get(name, "").strip() for key, name in ENV_KEYS.items()}
    given = [ENV_KEYS[k] for k, v in values.items() if v]
    if not given:
        return None
    missing = [ENV_KEYS[k] for k, v in values.items() if not v]
    if missing:
        raise ConfigError(
            f"Sign-in is half configured: set {', '.join(missing)} as well "
            f"(or none of {', '.join(ENV_KEYS.values())} and mount a secrets file)."
        )
    return values


def secrets_toml(auth: Mapping[str, str]) -> str:
    """A secrets file with one ``[auth]`` section (JSON string escapes are valid TOML)."""
    lines = ["[auth]"] + [f"{key} = {json.dumps(value)}" for key, value in auth.items()]
    return "\n".join(lines) + "\n"


def secrets_file(env: Mapping[str, str], home: Path) -> Path | None:
    """The secrets file Streamlit should read, written from the environment if given there."""
    auth = auth_from_env(env)
    if auth is not None:
        folder = home / ".streamlit"
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / "sop_secrets.toml"
        path.touch(mode=0o600, exist_ok=True)
        path.chmod(0o600)
        path.write_text(secrets_toml(auth))
        return path
    mounted = Path(env.get("SOP_SECRETS_FILE") or MOUNTED_DEFAULT)
    return mounted if mounted.is_file() else None


def command(secrets: Path | None, extra: list[str]) -> list[str]:
    """The Streamlit command the container runs: every interface, no error details shown."""
    cmd = [
        sys.executable, "-m", "streamlit", "run", str(ROOT / "app.py"),
        "--server.address=0.0.0.0", f"--server.port={PORT}", "--server.headless=true",
        "--client.showErrorDetails=none",
    ]  # fmt: skip
    if secrets is not None:
        cmd.append(f"--secrets.files={secrets}")
    return cmd + extra


def main(argv: list[str] | None = None) -> None:
    extra = list(sys.argv[1:] if argv is None else argv)
    try:
        secrets = secrets_file(os.environ, Path.home())
    except ConfigError as exc:
        print(f"error: {exc.message}", file=sys.stderr)
        raise
    if secrets is None:
        print(
            "warning: no sign-in configured (SOP_AUTH_* variables or a secrets file at "
            f"{os.environ.get('SOP_SECRETS_FILE') or MOUNTED_DEFAULT}): the cockpit will show "
            "only how to configure it.",
            file=sys.stderr,
        )
    cmd = command(secrets, extra)
    os.chdir(ROOT)
    os.execv(cmd[0], cmd)


if __name__ == "__main__":
    main()
