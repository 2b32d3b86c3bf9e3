// The workloads of planning_bench. Each runs the engine and, in the same run,
// its baseline, and adds its rows to the report (docs/PERFORMANCE.md explains
// what each one measures and why).
#pragma once

#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "bench/report.hpp"
#include "bench/support.hpp"

namespace bench {

// What workloads hand to one another within a run.
struct RunState {
  Config config;
  Report report;
  // Workload 1's engine figure: workload 2's baseline.
  std::optional<double> single_update_rate;
  // Workload 4's N-event store: workload 7 rebuilds it again in a child process.
  std::unique_ptr<TempStore> log_store;
};

struct Workload {
  const char* name;  // for --only
  const char* number;
  void (*run)(RunState&);
};
// In table order.
const std::vector<Workload>& workloads();

void single_update(RunState& state);     // 1 (workloads_write.cpp)
void group_commit(RunState& state);      // 2
void batch_append(RunState& state);      // 3
void rebuild_and_open(RunState& state);  // 4 (workloads_log.cpp)
void peak_memory(RunState& state);       // 7
void queries(RunState& state);           // 5 (workloads_queries.cpp)
void version_storage(RunState& state);   // 6 (workloads_versions.cpp)
void history_reads(RunState& state);     // 8 (workloads_versions.cpp)
void shared_log(RunState& state);        // 9 (workloads_shared.cpp)
void store_size(RunState& state);        // 10 (workloads_size.cpp)

// The child side of workload 7: opens the store, rebuilds every projection,
// and prints "vmhwm=<bytes> anon_peak=<bytes> open_vmhwm=<bytes>" on stdout.
int rebuild_child(const std::filesystem::path& store);

}  // namespace bench
