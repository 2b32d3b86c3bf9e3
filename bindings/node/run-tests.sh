#!/usr/bin/env bash
# The Node.js package's checks: builds the addon (build/Release/planning_node.node),
# type-checks the examples and tests (tsc --noEmit), runs the node --test suite,
# and fails if it ran no test. scripts/test.sh runs this after the engine build.
# Usage: bash bindings/node/run-tests.sh [--engine-build DIR]
#   --engine-build DIR  link the engine already built in DIR (a build directory
#                       relative to the repository root, installed into
#                       bindings/node/.engine) instead of compiling it again
set -euo pipefail
cd "$(dirname "$0")"
export npm_config_nodedir="${npm_config_nodedir:-/usr}"  # the machine's Node headers; nothing is downloaded
[ -d node_modules ] || npm ci --no-audit --no-fund --ignore-scripts

build_args=()
if [ "${1:-}" = "--engine-build" ]; then
  # Installed into .engine/ (kept: the addon's build links the library there).
  rm -rf .engine
  case "$2" in /*) engine_build="$2" ;; *) engine_build="../../$2" ;; esac
  cmake --install "$engine_build" --prefix .engine >/dev/null
  build_args+=(--engine-prefix .engine)
fi
node build.mjs "${build_args[@]}"

npx --no-install tsc --noEmit -p tsconfig.json
echo "tsc --noEmit: examples and tests type-check"

log="$(mktemp)"
node --test --test-concurrency=1 --test-reporter=tap tests/ | tee "$log"
tests=$(sed -n 's/^# tests \([0-9]*\)$/\1/p' "$log" | tail -1)
rm -f "$log"
if [ -z "$tests" ] || [ "$tests" -eq 0 ]; then
  echo "node --test ran no test" >&2
  exit 1
fi
