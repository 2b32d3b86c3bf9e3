#!/usr/bin/env bash
# Sets up a fresh machine, builds, and runs the whole default test suite.
# Usage: scripts/test.sh          default suite (label "unit"; minutes)
#        scripts/test.sh --slow   the long suites too (label "slow")
set -euo pipefail
cd "$(dirname "$0")/.."
# CI treats warnings as errors (-DPLANNING_WERROR=ON).
if [ "${CI:-}" = "true" ]; then
  bash scripts/build.sh -DPLANNING_WERROR=ON
else
  bash scripts/build.sh
fi
# A label that selects nothing fails instead of passing (.ci/check-labels.sh).
if [ "${1:-}" = "--slow" ]; then
  bash .ci/check-labels.sh build unit slow
  ctest --test-dir build -j2 --output-on-failure
else
  bash .ci/check-labels.sh build unit
  ctest --test-dir build -j2 --output-on-failure -LE slow
fi
# The Node.js package (bindings/node): its addon, linked to the engine just built; tsc; node --test.
bash bindings/node/run-tests.sh --engine-build build
