#!/usr/bin/env bash
# Create .venv and install the pinned requirements with the whole tree pinned by constraints.txt
# (again only when a requirements or constraints file changed).
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
sum=$(cat requirements*.txt constraints.txt | sha256sum | cut -d' ' -f1)
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$sum" ]; then
    echo "Installing $reqs…"
    .venv/bin/python -m pip install --quiet --disable-pip-version-check -r "$reqs" -c constraints.txt
    echo "$sum" > "$stamp"
fi
