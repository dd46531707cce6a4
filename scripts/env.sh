# Environment shared by the run and test commands (source it; do not execute).
# Reflex would download bun from GitHub, which this kind of machine cannot reach: we install bun
# from npm (package.json) and tell Reflex to use it from PATH.
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export PATH="$ROOT/.venv/bin:$ROOT/node_modules/.bin:$PATH"
export REFLEX_USE_SYSTEM_BUN=1
# Reflex probes a mirror registry unless told which one to use.
export NPM_CONFIG_REGISTRY="${NPM_CONFIG_REGISTRY:-https://registry.npmjs.org}"
export REFLEX_CHECK_LATEST_VERSION=0
export REFLEX_TELEMETRY_ENABLED=false
export REFLEX_HOT_RELOAD_EXCLUDE_PATHS="$ROOT/data:$ROOT/node_modules:$ROOT/tests:$ROOT/bench"
