#!/usr/bin/env bash
# The run command: from a fresh clone to the dashboard on http://localhost:3000.
# Installs what is missing, applies migrations, creates the demo admin (ADMIN_EMAIL/ADMIN_PASSWORD,
# or a generated password printed once), then serves the production build on one port.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
"$ROOT/scripts/bootstrap.sh"
source "$ROOT/scripts/env.sh"
python -m chatapp check-config
python -m chatapp migrate
python -m chatapp create-admin
if [ -n "${REFLEX_REDIS_URL:-}" ] && [ -z "${QDRANT_URL:-}" ] && [ -z "${GRANIAN_WORKERS:-}" ]; then
  # With Redis, Reflex starts several backend workers; the embedded vector store belongs to one
  # process, so without a Qdrant server (QDRANT_URL) keep one worker.
  echo "==> REFLEX_REDIS_URL without QDRANT_URL: one backend worker (the embedded vector store)"
  export GRANIAN_WORKERS=1
fi
if ! node -e 'const [a, b] = process.versions.node.split(".").map(Number); process.exit(a > 22 || (a === 22 && b >= 22) ? 0 : 1)'; then
  # Reflex's own check (reflex/utils/js_runtimes.py): below Node 22.22 it warns, then builds the
  # dashboard on bun's runtime (`bun --bun`), as this project is built and tested.
  echo "==> Node $(node --version): Reflex will call it out of date and build with bun instead (expected; nothing to upgrade)"
fi
PORT="${PORT:-3000}"
echo "==> starting Chatapp on http://localhost:$PORT (the first start installs and builds the frontend)"
exec reflex run --env prod --single-port --frontend-port "$PORT" --backend-port "$PORT" "$@"
