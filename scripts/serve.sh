#!/usr/bin/env bash
# The container's start command (Dockerfile): everything is installed and built already.
# Checks the settings, applies migrations (back up first when upgrading: docs/DEPLOYMENT.md),
# creates the first admin if there is none (ADMIN_EMAIL/ADMIN_PASSWORD), then serves on $PORT.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
python -m chatapp check-config
python -m chatapp migrate
python -m chatapp create-admin
PORT="${PORT:-3000}"
exec reflex run --env prod --single-port --frontend-port "$PORT" --backend-port "$PORT"
