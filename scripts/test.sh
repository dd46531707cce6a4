#!/usr/bin/env bash
# The test command: installs the test tools, lints, and runs the whole suite (services on SQLite and
# PostgreSQL, the API, and the dashboard end to end in Chromium). Extra arguments go to pytest.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
"$ROOT/scripts/bootstrap.sh" --dev
source "$ROOT/scripts/env.sh"
ruff check .
ruff format --check .
if grep -rn "import reflex\|from reflex" chatapp/services; then
  echo "chatapp/services must not import reflex" >&2
  exit 1
fi
exec python -m pytest "$@"
