#!/usr/bin/env bash
# Create .venv and install the pinned requirements (again only when the requirements file changed).
# Usage: scripts/setup.sh [requirements file]   (default requirements.txt)
set -euo pipefail
cd "$(dirname "$0")/.."
reqs="${1:-requirements.txt}"
py="${PYTHON:-python3}"
if [ ! -x .venv/bin/python ]; then
    echo "Creating .venv with $($py --version)…"
    "$py" -m venv .venv
fi
stamp=".venv/.installed-$(basename "$reqs")"
sum=$(cat requirements*.txt | sha256sum | cut -d' ' -f1)
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$sum" ]; then
    echo "Installing $reqs…"
    .venv/bin/python -m pip install --quiet --disable-pip-version-check -r "$reqs"
    echo "$sum" > "$stamp"
fi
