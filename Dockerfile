FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1 \
    APP_DATA_DIR=/data APP_DATABASE_URL=sqlite+aiosqlite:////data/saleor-ops.db

WORKDIR /srv/saleor-ops
COPY pyproject.toml README.md manifest.json alembic.ini ./
COPY app ./app
# Editable install: the manifest is read from the project root beside the package.
RUN pip install -e . && useradd --system --uid 10001 --home /srv/saleor-ops ops \
    && mkdir -p /data && chown ops /data
USER ops
VOLUME /data
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=3s CMD python -c "import urllib.request,sys; sys.exit(urllib.request.urlopen('http://127.0.0.1:8000/health').status != 200)"
CMD ["saleor-ops", "serve", "--host", "0.0.0.0", "--port", "8000"]
