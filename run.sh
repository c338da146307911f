#!/usr/bin/env bash
# Set up on first use and start the cockpit; a missing store is built from the demo company.
# Any Streamlit option may follow, e.g. `bash run.sh --server.port 8600`.
set -euo pipefail
cd "$(dirname "$0")"
bash scripts/setup.sh requirements.txt
# the port Streamlit will use: an option given here, else its environment variable, else 8501
port="${STREAMLIT_SERVER_PORT:-8501}"
args=("$@")
for ((i = 0; i < ${#args[@]}; i++)); do
    case "${args[i]}" in
        --server.port=*) port="${args[i]#*=}" ;;
        --server.port) port="${args[i + 1]:-$port}" ;;
    esac
done
echo "Starting the S&OP cockpit on http://localhost:${port} (Ctrl+C to stop)…"
exec .venv/bin/python -m streamlit run app.py "$@"
