#!/usr/bin/env bash
# Fuzz CI (docs/FUZZING.md). Called by .ci/run.
# Builds the libFuzzer targets with clang in build-fuzz (ASan + UBSan, asserts
# on) and runs `ctest -L fuzz`: each target explores from its checked-in corpus
# for PLANNING_FUZZ_MAX_TIME seconds (default 60 here, to keep .ci/run under
# its 60-minute budget on 2 cores; 120 in a developer's CMake build) with a fresh random seed
# (PLANNING_FUZZ_SEED=<n> reproduces a run), and every regression input is
# replayed. Prints each target's seed and execution count; a crash input is
# printed in full (tests/fuzz/run_fuzzer.cmake) and kept in build-fuzz/artifacts.
# Budget: < 15 min on 2 cores. Jobs: $PLANNING_JOBS (default 2).
#
# Compiler: clang >= 16. libstdc++ 12's std::expected / std::variant need
# conditionally trivial special members (P0848), which clang 14 (Debian's
# default `clang`) lacks: the library does not compile with it (docs/FUZZING.md).
# clang-16 and libclang-rt-16-dev are Debian bookworm packages; they are
# installed here when missing, like .ci/setup.sh installs the rest.
set -euo pipefail
cd "$(dirname "$0")/.."
jobs="${PLANNING_JOBS:-2}"

find_clang() {
  for v in 19 18 17 16; do
    if command -v "clang++-$v" >/dev/null 2>&1; then echo "$v"; return 0; fi
  done
  return 1
}

can_link_fuzzer() {  # $1 = clang++ binary
  local out
  out="$(mktemp -d)"
  printf 'extern "C" int LLVMFuzzerTestOneInput(const unsigned char*, unsigned long) { return 0; }\n' \
    > "$out/t.cpp"
  "$1" -fsanitize=fuzzer,address,undefined "$out/t.cpp" -o "$out/t" >/dev/null 2>&1
  local rc=$?
  rm -rf "$out"
  return $rc
}

if ! version="$(find_clang)" || ! can_link_fuzzer "clang++-$version"; then
  version="${version:-16}"
  echo "== installing clang-$version and libclang-rt-$version-dev (libFuzzer runtime)"
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends "clang-$version" "libclang-rt-$version-dev"
fi
CXX="clang++-$version"
echo "== compiler: $($CXX --version | head -1)"

# clang < 19 reports __cpp_concepts 201907L, which hides libstdc++'s <expected>;
# the features it needs (P0848) exist from clang 16, so announce them.
flags="-fsanitize=fuzzer-no-link -D_GLIBCXX_ASSERTIONS"
concepts="$(echo | $CXX -std=c++2b -dM -E -x c++ - | awk '/__cpp_concepts /{print $3}' | tr -d L)"
if [ "${concepts:-0}" -lt 202002 ]; then
  flags="$flags -Wno-builtin-macro-redefined -U__cpp_concepts -D__cpp_concepts=202002L"
fi

echo "== configure and build the fuzz targets (build-fuzz)"
cmake -S . -B build-fuzz -G Ninja \
  -DCMAKE_CXX_COMPILER="$CXX" \
  -DCMAKE_BUILD_TYPE=Debug "-DCMAKE_CXX_FLAGS_DEBUG=-O1 -g1 -gz" "-DCMAKE_CXX_FLAGS=$flags" \
  -DPLANNING_BUILD_FUZZERS=ON -DPLANNING_SANITIZE=address,undefined \
  -DPLANNING_BUILD_TOOLS=OFF -DPLANNING_BUILD_EXAMPLES=OFF -DPLANNING_INSTALL=OFF \
  -DPLANNING_FUZZ_MAX_TIME="${PLANNING_FUZZ_MAX_TIME:-60}" >/dev/null
cmake --build build-fuzz -j "$jobs" --target fuzz_event_decode fuzz_import fuzz_metadata fuzz_record_reader

symbolizer="$(command -v "llvm-symbolizer-$version" || command -v llvm-symbolizer || true)"
[ -n "$symbolizer" ] && export ASAN_SYMBOLIZER_PATH="$symbolizer"
export ASAN_OPTIONS="halt_on_error=1:detect_leaks=1"
export UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1"

bash .ci/check-labels.sh build-fuzz fuzz
echo "== ctest -L fuzz"
rc=0
ctest --test-dir build-fuzz -j "$jobs" --output-on-failure -L fuzz || rc=$?
echo "== fuzz runs (seed, executions)"
summaries=(build-fuzz/tests/fuzz/work/*/summary.txt)
if [ ! -e "${summaries[0]}" ]; then
  echo "no fuzz run left a summary: the fuzzers ran nothing"
  exit 1
fi
cat "${summaries[@]}"
mkdir -p build-fuzz/artifacts
find build-fuzz/tests/fuzz/work -path '*/artifacts/*' -type f -exec cp {} build-fuzz/artifacts/ \;
if [ -n "$(ls -A build-fuzz/artifacts)" ]; then
  echo "crash inputs kept in $(pwd)/build-fuzz/artifacts:"
  ls -l build-fuzz/artifacts
fi
exit $rc
