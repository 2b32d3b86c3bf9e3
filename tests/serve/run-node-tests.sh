#!/usr/bin/env bash
# Runs one node --test file of the serve tests and fails if it ran no test.
# Usage: PLANCTL=/path/to/planctl bash tests/serve/run-node-tests.sh FILE.mjs
set -euo pipefail
log="$(mktemp)"
trap 'rm -f "$log"' EXIT
status=0
node --test --test-concurrency=1 --test-reporter=tap "$1" | tee "$log" || status=$?
tests=$(sed -n 's/^# tests \([0-9]*\)$/\1/p' "$log" | tail -1)
if [ -z "$tests" ] || [ "$tests" -eq 0 ]; then
  echo "node --test ran no test in $1" >&2
  exit 1
fi
exit "$status"
