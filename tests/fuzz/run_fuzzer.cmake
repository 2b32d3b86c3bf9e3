# Runs one libFuzzer target for CTest (tests/fuzz/CMakeLists.txt):
#   cmake -DFUZZER=<exe> -DCORPUS=<checked-in corpus dir> -DWORK=<scratch dir>
#         -DMAX_TIME=<s> [-DEXTRA=<more flags>] -P run_fuzzer.cmake
# It explores: a fresh random seed each run ($PLANNING_FUZZ_SEED fixes one to
# reproduce a run), unlimited executions for MAX_TIME seconds. The seed, the
# executions and the time are written to WORK/summary.txt (.ci/fuzz.sh prints
# them). libFuzzer writes the inputs it finds into its FIRST corpus directory,
# so that is a fresh scratch directory; the checked-in corpus comes second and
# is only read. A crash input goes to WORK/artifacts and is printed in full (as
# hex) so that the CI log alone reproduces it.
foreach(var FUZZER CORPUS WORK MAX_TIME)
  if(NOT DEFINED ${var})
    message(FATAL_ERROR "run_fuzzer.cmake: -D${var}=... is required")
  endif()
endforeach()
get_filename_component(target ${FUZZER} NAME)
if(DEFINED ENV{PLANNING_FUZZ_SEED} AND NOT "$ENV{PLANNING_FUZZ_SEED}" STREQUAL "")
  set(seed $ENV{PLANNING_FUZZ_SEED})
else()
  string(RANDOM LENGTH 9 ALPHABET 0123456789 seed)
  string(REGEX REPLACE "^0+" "" seed "${seed}")
  if(seed STREQUAL "")
    set(seed 1)
  endif()
endif()
file(REMOVE_RECURSE ${WORK})
file(MAKE_DIRECTORY ${WORK}/corpus ${WORK}/artifacts)
separate_arguments(extra_args UNIX_COMMAND "${EXTRA}")
set(command ${FUZZER} -seed=${seed} -runs=-1 -max_total_time=${MAX_TIME} -timeout=30
            -rss_limit_mb=2048 -print_final_stats=1 -artifact_prefix=${WORK}/artifacts/
            ${extra_args} ${WORK}/corpus ${CORPUS})
string(REPLACE ";" " " shown "${command}")
message(STATUS "fuzzing ${target} with seed ${seed} for ${MAX_TIME} s (PLANNING_FUZZ_SEED=${seed} "
               "reproduces the run): ${shown}")
execute_process(COMMAND ${command} RESULT_VARIABLE rc ERROR_VARIABLE log OUTPUT_VARIABLE out)
file(WRITE ${WORK}/fuzzer.log "${out}${log}")
string(REGEX MATCH "stat::number_of_executed_units: *([0-9]+)" _ "${log}")
set(executions "${CMAKE_MATCH_1}")
string(REGEX MATCH "stat::average_exec_per_sec: *([0-9]+)" _ "${log}")
set(per_second "${CMAKE_MATCH_1}")
if(executions STREQUAL "")
  set(executions 0)
endif()
file(WRITE ${WORK}/summary.txt
     "${target}: seed ${seed}, ${executions} executions (${per_second}/s) in ${MAX_TIME} s, exit ${rc}\n")
file(READ ${WORK}/summary.txt summary)
message(STATUS "${summary}")
if(NOT rc EQUAL 0)
  string(LENGTH "${log}" length)
  if(length GREATER 6000)
    math(EXPR from "${length} - 6000")
    string(SUBSTRING "${log}" ${from} 6000 log)
  endif()
  message(STATUS "fuzzer output (tail):\n${log}")
  file(GLOB artifacts ${WORK}/artifacts/*)
  foreach(artifact ${artifacts})
    file(SIZE ${artifact} size)
    file(READ ${artifact} bytes LIMIT 65536 HEX)
    message(STATUS "crash input ${artifact} (${size} bytes), hex:\n${bytes}")
  endforeach()
  message(FATAL_ERROR "fuzzer ${target} failed (exit ${rc}, seed ${seed}); reproduce with: "
                      "${FUZZER} <input> (inputs above: ${artifacts})")
endif()
if(executions EQUAL 0)
  message(FATAL_ERROR "fuzzer ${target} executed no input: a fuzz run that runs nothing fails")
endif()
