#!/usr/bin/env bash
# Sanitizer CI (docs/FUZZING.md, "Sanitizer runs"). Called by .ci/run.
#   1. ASan + UBSan: the whole default test suite (ctest -LE slow) in build-asan.
#   2. TSan: the default concurrency cases (ctest -L concurrency -LE slow) in
#      build-tsan — threads on one SessionManager, and the fork-based two-process
#      case, which works under TSan because the test forks while single-threaded
#      (each child runs its own race detector; a report there fails the child and
#      so the test). The [slow] variants are left out for time. Then the default
#      cases of the other suites that start threads (tsan_suites below).
# Any sanitizer report fails the run (halt_on_error, -fno-sanitize-recover=all);
# the script exits non-zero if either stage fails, after running both.
# Budget: < 30 min on 2 cores. Jobs: $PLANNING_JOBS (default 2).
set -uo pipefail
cd "$(dirname "$0")/.."
jobs="${PLANNING_JOBS:-2}"
# Debug (asserts on) at -O1: sanitizers want some optimisation for speed, and
# -D_GLIBCXX_ASSERTIONS adds bounds checks to the standard containers. -g1 -gz:
# line tables only, compressed — reports still name file:line for every frame,
# and each of the ~40 statically linked test programs takes a fraction of the
# disk full -g debug information does (CI machines can be short of disk).
common=(-G Ninja -DCMAKE_BUILD_TYPE=Debug "-DCMAKE_CXX_FLAGS_DEBUG=-O1 -g1 -gz"
        "-DCMAKE_CXX_FLAGS=-D_GLIBCXX_ASSERTIONS"
        -DPLANNING_BUILD_TESTS=ON -DPLANNING_BUILD_EXAMPLES=OFF -DPLANNING_INSTALL=OFF)
failed=()

stage() { echo; echo "== $*"; }

stage "ASan+UBSan: configure and build the test suite (build-asan)"
if cmake -S . -B build-asan "${common[@]}" -DPLANNING_SANITIZE=address,undefined \
         -DPLANNING_BUILD_TOOLS=ON >/dev/null &&
   cmake --build build-asan -j "$jobs"; then
  bash .ci/check-labels.sh build-asan unit
  stage "ASan+UBSan: ctest -LE slow"
  if ! ASAN_OPTIONS=halt_on_error=1:detect_leaks=1:strict_string_checks=1:detect_stack_use_after_return=1 \
       UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
       ctest --test-dir build-asan -j "$jobs" --output-on-failure -LE slow; then
    failed+=("asan+ubsan tests")
  fi
else
  failed+=("asan+ubsan build")
fi
# No later stage needs it (PLANNING_KEEP_BUILDS=1 keeps it, as in .ci/run).
[ -n "${PLANNING_KEEP_BUILDS:-}" ] || rm -rf build-asan

# Suites outside tests/concurrency/ whose cases start threads on one manager
# (group commit, write batches, racing transitions and updates, signals) or decode
# the log on a thread of their own (decode_ahead_test; user_projection_test catches
# projections up on open, decoding ahead; shared_log_test appends from four
# threads, a connection each; node_test runs nodes whose follower thread applies
# other nodes' events while writers write).
tsan_suites=(write_batch_test state_machine_test versioning_test signals_test decode_ahead_test read_ahead_test
             user_projection_test shared_log_test node_test)
stage "TSan: configure and build the concurrency suite and ${tsan_suites[*]} (build-tsan)"
if cmake -S . -B build-tsan "${common[@]}" -DPLANNING_SANITIZE=thread \
         -DPLANNING_BUILD_TOOLS=OFF >/dev/null &&
   cmake --build build-tsan -j "$jobs" --target concurrency_test "${tsan_suites[@]}"; then
  bash .ci/check-labels.sh build-tsan concurrency
  stage "TSan: ctest -L concurrency -LE slow"
  # second_deadlock_stack: both stacks in lock-order reports.
  export TSAN_OPTIONS=halt_on_error=1:second_deadlock_stack=1
  if ! ctest --test-dir build-tsan -j "$jobs" --output-on-failure -L concurrency -LE slow; then
    failed+=("tsan concurrency tests")
  fi
  stage "TSan: the other suites with threaded cases (${tsan_suites[*]})"
  for suite in "${tsan_suites[@]}"; do
    # As under CTest: a case without assertions, or a run of no case, fails.
    bin="$(find build-tsan/tests -name "$suite" -type f -perm -u+x | head -n 1)"
    if [ -z "$bin" ]; then
      echo "tsan: no program $suite in build-tsan/tests"
      failed+=("tsan $suite")
      continue
    fi
    if ! "$bin" '~[slow]~[.]' -w NoAssertions \
         >"build-tsan/$suite.log" 2>&1; then
      tail -n 60 "build-tsan/$suite.log"
      failed+=("tsan $suite")
    elif grep -q "PLANNING-SKIPPED:" "build-tsan/$suite.log"; then
      # Outside CTest a skip would read as a pass; here every case can run.
      grep "PLANNING-SKIPPED:" "build-tsan/$suite.log"
      failed+=("tsan $suite skipped cases")
    fi
  done
  unset TSAN_OPTIONS
else
  failed+=("tsan build")
fi
[ -n "${PLANNING_KEEP_BUILDS:-}" ] || rm -rf build-tsan

echo
if [ ${#failed[@]} -gt 0 ]; then
  echo "sanitizers: FAILED: ${failed[*]}"
  exit 1
fi
echo "sanitizers: OK"
