# The dashboard's image: the web node (gunicorn, one gevent worker, as the Procfile's `web`) by
# default; `dashboard worker` and `dashboard db upgrade` run from the same image
# (docker-compose.yml). Chromium renders the PDF reports.
FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PORT=8050 \
    DASHBOARD_DATA_DIR=/data \
    DASHBOARD_CHROMIUM_PATH=/usr/bin/chromium

RUN apt-get update \
    && apt-get install -y --no-install-recommends chromium fonts-dejavu-core \
    && rm -rf /var/lib/apt/lists/*

WORKDIR /app
COPY pyproject.toml README.md ./
COPY dashboard ./dashboard
COPY ingest ./ingest
COPY layouts ./layouts
COPY callbacks ./callbacks
COPY assets ./assets
RUN pip install . && useradd --system --create-home --home-dir /data dashboard

USER dashboard
VOLUME /data
EXPOSE 8050
HEALTHCHECK --interval=10s --timeout=2s --retries=3 \
    CMD python -c "import urllib.request,os; urllib.request.urlopen(f'http://127.0.0.1:{os.environ[\"PORT\"]}/healthz', timeout=2)"
# the Procfile's `web`
CMD ["sh", "-c", "exec gunicorn --worker-class gevent --workers 1 --bind 0.0.0.0:${PORT:-8050} dashboard.wsgi:app"]
