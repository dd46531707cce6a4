# Chatapp: the dashboard, the API and the widget on port 3000.
#
# Stage 1 installs the Python and npm packages (bun and esbuild come from npm, as in
# scripts/bootstrap.sh), builds the widget and pre-builds the Reflex frontend, so the first start
# only recompiles. Stage 2 is a slim runtime: no compilers, no apt node/npm, a non-root user;
# bun stays (a single binary from npm) because `reflex run --env prod` rebuilds the frontend
# bundle at start. Start: check the config, apply migrations, create the first admin if there is
# none, serve (scripts/serve.sh). Data lives in /app/data (a volume).

# ---- build ---------------------------------------------------------------------------------
FROM python:3.11-slim AS build

ENV PYTHONDONTWRITEBYTECODE=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    REFLEX_USE_SYSTEM_BUN=1 \
    REFLEX_CHECK_LATEST_VERSION=0 \
    REFLEX_TELEMETRY_ENABLED=false

RUN apt-get update \
 && apt-get install -y --no-install-recommends nodejs npm \
 && rm -rf /var/lib/apt/lists/*

WORKDIR /app
COPY requirements.txt package.json package-lock.json ./
RUN python -m venv .venv \
 && .venv/bin/pip install --no-cache-dir -r requirements.txt \
 && npm ci --no-audit --no-fund --loglevel=error
ENV PATH="/app/.venv/bin:/app/node_modules/.bin:${PATH}"

COPY . .
# The widget (assets/widget.js, widget-panel.js), then the frontend into .web. DATA_DIR points
# at a throwaway directory: no secret or database from the build ends up in the image.
RUN node widget/build.mjs \
 && DATA_DIR=/tmp/build-data reflex export --frontend-only --no-zip --env prod \
 && rm -rf /tmp/build-data

# ---- runtime -------------------------------------------------------------------------------
FROM python:3.11-slim AS runtime

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    REFLEX_USE_SYSTEM_BUN=1 \
    REFLEX_CHECK_LATEST_VERSION=0 \
    REFLEX_TELEMETRY_ENABLED=false \
    CHATAPP_ENV=production \
    DATA_DIR=/app/data \
    PORT=3000 \
    PATH="/app/.venv/bin:/app/node_modules/.bin:${PATH}"

RUN useradd --create-home --uid 10001 --shell /usr/sbin/nologin chatapp
WORKDIR /app
COPY --from=build --chown=chatapp:chatapp /app /app
RUN mkdir -p /app/data && chown chatapp:chatapp /app/data
USER chatapp

VOLUME ["/app/data"]
EXPOSE 3000
HEALTHCHECK --interval=30s --timeout=5s --start-period=120s --retries=3 \
  CMD python -c "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:' + os.environ.get('PORT', '3000') + '/api/health', timeout=4)" || exit 1
CMD ["./scripts/serve.sh"]
