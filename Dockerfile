# Chatapp in one container: the dashboard, the API and the widget on port 3000.
# Data (SQLite, vectors, uploads, generated secret) lives in the /app/data volume.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    REFLEX_USE_SYSTEM_BUN=1 \
    REFLEX_CHECK_LATEST_VERSION=0 \
    REFLEX_TELEMETRY_ENABLED=false \
    DATA_DIR=/app/data

RUN apt-get update \
 && apt-get install -y --no-install-recommends nodejs npm curl unzip \
 && rm -rf /var/lib/apt/lists/*

WORKDIR /app
COPY requirements.txt package.json package-lock.json ./
RUN python -m venv .venv \
 && .venv/bin/pip install --no-cache-dir -r requirements.txt \
 && npm ci --no-audit --no-fund --loglevel=error
ENV PATH="/app/.venv/bin:/app/node_modules/.bin:${PATH}"

COPY . .
RUN node widget/build.mjs
VOLUME ["/app/data"]
EXPOSE 3000
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s \
  CMD curl -fsS http://localhost:3000/api/health || exit 1
CMD ["./scripts/run.sh"]
