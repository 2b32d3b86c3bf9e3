#!/usr/bin/env bash
# A label CI selects is never empty: for each LABEL, `ctest -N -L LABEL` in
# BUILD_DIR must list at least one test, else this fails (a check that runs
# nothing must fail). Run at the start of every CI step that selects by label.
# Usage: .ci/check-labels.sh BUILD_DIR LABEL...
set -euo pipefail
dir="$1"
shift
for label in "$@"; do
  count="$(ctest --test-dir "$dir" -N -L "^${label}\$" | sed -n 's/^Total Tests: *//p')"
  if [ -z "$count" ] || [ "$count" -lt 1 ]; then
    echo "check-labels: label '$label' selects no test in $dir: refusing to run an empty check"
    exit 1
  fi
  echo "check-labels: label '$label' selects $count tests in $dir"
done
