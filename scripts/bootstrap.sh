#!/usr/bin/env bash
# Install what the app needs from the package registries: a virtualenv with the Python packages
# (with --dev: the test tools too), the npm packages (bun, esbuild...) and the widget. Safe to run
# again: it only fills gaps (and rebuilds the widget, well under a second).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
PYTHON="${PYTHON:-python3.11}"
command -v "$PYTHON" >/dev/null || PYTHON=python3

REQUIREMENTS=requirements.txt
[[ "${1:-}" == "--dev" ]] && REQUIREMENTS=requirements-dev.txt

if [[ ! -x .venv/bin/python ]]; then
  echo "==> creating .venv with $("$PYTHON" --version)"
  "$PYTHON" -m venv .venv
fi
STAMP=".venv/.installed-$(sha256sum "$REQUIREMENTS" requirements.txt | sha256sum | cut -c1-16)"
if [[ ! -f "$STAMP" ]]; then
  echo "==> installing Python packages ($REQUIREMENTS)"
  # (grep drops the noise of machines whose pip.conf lists package mirrors that are absent)
  .venv/bin/python -m pip install --quiet --upgrade pip 2>&1 | { grep -v "^WARNING: Location" || true; }
  .venv/bin/python -m pip install --quiet -r "$REQUIREMENTS" 2>&1 | { grep -v "^WARNING: Location" || true; }
  touch "$STAMP"
fi
if [[ ! -x node_modules/.bin/bun ]] || [[ ! -d node_modules/swagger-ui-dist ]] \
  || [[ ! -x node_modules/.bin/esbuild ]] || [[ ! -f node_modules/axe-core/axe.min.js ]] \
  || ! node_modules/.bin/bun --version >/dev/null 2>&1; then
  command -v npm >/dev/null || { echo "npm is required (Node.js 20+): apt-get install -y nodejs npm" >&2; exit 1; }
  echo "==> installing bun, swagger-ui-dist, esbuild and axe-core from npm"
  npm ci --no-audit --no-fund --loglevel=error
fi
# The widget: widget/src -> assets/widget.js + assets/widget-panel.js (built, not committed).
echo "==> building the widget"
node widget/build.mjs
