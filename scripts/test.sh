#!/usr/bin/env bash
# The test command: installs the test tools, lints, and runs the whole suite (services on SQLite and
# PostgreSQL, the API, and the dashboard end to end in Chromium), in parallel. Extra arguments go
# to pytest.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
"$ROOT/scripts/bootstrap.sh" --dev
source "$ROOT/scripts/env.sh"
ruff check .
ruff format --check .
# Types of services, core and workers ([tool.mypy] in pyproject.toml; ~16 s cold, ~2 s cached).
mypy
if grep -rn "import reflex\|from reflex" chatapp/services chatapp/core chatapp/workers; then
  echo "chatapp/services, core and workers must not import reflex" >&2
  exit 1
fi
# Tests run in parallel (pytest-xdist): a module's tests, the shared browser app's tests and the
# tests on the shared Redis each stay on one worker (tests/utils/parallel.py); TEST_WORKERS=0 runs
# everything in this process.
exec python -m pytest -n "${TEST_WORKERS:-4}" "$@"
