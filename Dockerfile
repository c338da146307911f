# The S&OP cockpit for a team, in one image: `docker compose up -d` (compose.yaml), README
# "Serve for a team". Sign-in from environment variables or a mounted secrets file
# (scripts/serve.py), the store on the /data volume.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    STREAMLIT_BROWSER_GATHER_USAGE_STATS=false \
    SOP_DB=/data/sop.duckdb

WORKDIR /app

# Dependencies first (a layer that changes only with the pins), the whole tree pinned.
COPY requirements.txt constraints.txt ./
RUN pip install -r requirements.txt -c constraints.txt

COPY app.py pyproject.toml LICENSE README.md ./
COPY .streamlit/config.toml .streamlit/config.toml
COPY pages/ pages/
COPY ui/ ui/
COPY sop_core/ sop_core/
COPY scripts/serve.py scripts/serve.py

# Not root; the store lives on the volume, owned by that user.
RUN useradd --create-home --uid 10001 sop && mkdir -p /data && chown sop:sop /data
USER sop
VOLUME ["/data"]
EXPOSE 8501

HEALTHCHECK --interval=30s --timeout=5s --start-period=120s \
    CMD python -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8501/_stcore/health', timeout=4)"

CMD ["python", "scripts/serve.py"]
