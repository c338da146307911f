#!/usr/bin/env bash
# Set up on first use and run every check: lint and format, the import contracts, and the test
# suite on every core (including the browser tests, which need Debian's chromium at /usr/bin/chromium).
set -euo pipefail
cd "$(dirname "$0")"
bash scripts/setup.sh requirements-dev.txt
if [ ! -x /usr/bin/chromium ]; then
    if [ "$(id -u)" = "0" ]; then
        echo "Installing Debian's chromium for the browser tests…"
        apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-dejavu-core >/dev/null
    else
        echo "Browser tests need Debian's chromium: run 'sudo apt-get install -y chromium' first." >&2
        exit 1
    fi
fi
.venv/bin/ruff check .
.venv/bin/ruff format --check .
.venv/bin/lint-imports
# one worker per core; a test file stays on one worker, so its module fixtures are built once
exec .venv/bin/python -m pytest -n auto --dist loadfile "$@"
