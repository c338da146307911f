#!/usr/bin/env bash
# Set up on first use and start the cockpit; a missing store is built from the demo company.
set -euo pipefail
cd "$(dirname "$0")"
bash scripts/setup.sh requirements.txt
echo "Starting the S&OP cockpit on http://127.0.0.1:8501 (Ctrl+C to stop)…"
exec .venv/bin/python -m streamlit run app.py "$@"
