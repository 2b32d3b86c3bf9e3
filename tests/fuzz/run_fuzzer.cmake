# Runs one libFuzzer target for CTest (tests/fuzz/CMakeLists.txt):
#   cmake -DFUZZER=<exe> -DCORPUS=<checked-in corpus dir> -DWORK=<scratch dir>
#         -DRUNS=<n> -DMAX_TIME=<s> [-DEXTRA=<more flags>] -P run_fuzzer.cmake
# libFuzzer writes the inputs it finds into its FIRST corpus directory, so that
# is a fresh scratch directory; the checked-in corpus comes second and is only
# read. -seed=1 keeps a run reproducible; crash inputs go to WORK/artifacts.
foreach(var FUZZER CORPUS WORK RUNS MAX_TIME)
  if(NOT DEFINED ${var})
    message(FATAL_ERROR "run_fuzzer.cmake: -D${var}=... is required")
  endif()
endforeach()
file(REMOVE_RECURSE ${WORK})
file(MAKE_DIRECTORY ${WORK}/corpus ${WORK}/artifacts)
separate_arguments(extra_args UNIX_COMMAND "${EXTRA}")
set(command ${FUZZER} -seed=1 -runs=${RUNS} -max_total_time=${MAX_TIME} -timeout=30
            -rss_limit_mb=2048 -print_final_stats=1 -artifact_prefix=${WORK}/artifacts/
            ${extra_args} ${WORK}/corpus ${CORPUS})
string(REPLACE ";" " " shown "${command}")
message(STATUS "running: ${shown}")
execute_process(COMMAND ${command} RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  file(GLOB artifacts ${WORK}/artifacts/*)
  message(FATAL_ERROR "fuzzer failed (exit ${rc}); reproduce with: ${FUZZER} <input>; "
                      "inputs: ${artifacts}")
endif()
