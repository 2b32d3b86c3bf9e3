#!/usr/bin/env bash
# The browser tests of planctl serve: Debian's Chromium, headless, driven by
# playwright-core (installed from package-lock.json; it never downloads a
# browser). Without Chromium this exits 77, which CTest reports as skipped —
# except in CI (CI=true), where a missing browser fails.
# Usage: PLANCTL=/path/to/planctl [SERVE_ARTIFACTS=DIR] bash tests/serve/browser/run.sh
set -euo pipefail
cd "$(dirname "$0")"
export CHROMIUM="${CHROMIUM:-/usr/bin/chromium}"
if [ ! -x "$CHROMIUM" ]; then
  if [ "${CI:-}" = "true" ]; then
    echo "browser tests: $CHROMIUM not found, and CI must run them (.ci/setup.sh installs chromium)" >&2
    exit 1
  fi
  echo "browser tests SKIPPED: $CHROMIUM not found (apt-get install chromium)"
  exit 77
fi
export PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1
if ! cmp -s package-lock.json node_modules/.installed-lock.json 2>/dev/null; then
  npm ci --no-audit --no-fund
  cp package-lock.json node_modules/.installed-lock.json
fi
exec bash ../run-node-tests.sh browser.test.mjs
