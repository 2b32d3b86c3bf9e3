#!/usr/bin/env bash
# The long suites (CTest label "slow"), in the build scripts/test.sh made:
# the 1,000-kill crash torture (kills in every phase: open, write, batch,
# rebuild, map growth), every single-bit flip of an event, the long property
# and concurrency runs, and the damaged-store sweep. Prints each test's
# closing figures (kill cycles, kills by phase, cases) from the CTest log.
# Budget: about 15 minutes on 2 cores. Called by .ci/run.
set -euo pipefail
cd "$(dirname "$0")/.."
jobs="${PLANNING_JOBS:-2}"
bash .ci/check-labels.sh build slow
rc=0
ctest --test-dir build -j "$jobs" --output-on-failure -L slow || rc=$?
# CTest keeps every test's full output, passed or not, in LastTest.log.
echo "== figures reported by the slow tests"
grep -a -E "^ *(crash torture (figures|kill phases):|lmdb damage sweep:|property seed:|  sessions made)" \
  build/Testing/Temporary/LastTest.log | sed 's/^[[:space:]]*//' | sort -u || true
exit $rc
