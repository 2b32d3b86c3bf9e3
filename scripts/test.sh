#!/usr/bin/env bash
# Sets up a fresh machine, builds, and runs the whole default test suite.
# Usage: scripts/test.sh          default suite (label "unit"; minutes)
#        scripts/test.sh --slow   the long suites too (label "slow")
set -euo pipefail
cd "$(dirname "$0")/.."
# CI treats warnings as errors (STYLE.md §11).
if [ "${CI:-}" = "true" ]; then
  bash scripts/build.sh -DPLANNING_WERROR=ON
else
  bash scripts/build.sh
fi
if [ "${1:-}" = "--slow" ]; then
  ctest --test-dir build -j2 --output-on-failure
else
  ctest --test-dir build -j2 --output-on-failure -LE slow
fi
