// planning_bench — runs each workload beside its baseline and prints one
// Markdown table and a line describing the machine (docs/PERFORMANCE.md).
//
//   planning_bench --scale full                 # every workload at full size
//   planning_bench --only queries,versions      # some workloads (names or numbers)
//   planning_bench --out results.md --dir /mnt/fast/tmp
#include <unistd.h>

#include <fstream>
#include <iostream>
#include <set>
#include <sstream>

#include <fmt/format.h>
#include <CLI/CLI.hpp>

#include "bench/workloads.hpp"

namespace bench {

const std::vector<Workload>& workloads() {
  static const std::vector<Workload> all = {
      {"single", "1", single_update}, {"group", "2", group_commit},
      {"batch", "3", batch_append},   {"rebuild", "4", rebuild_and_open},
      {"queries", "5", queries},      {"versions", "6", version_storage},
      {"memory", "7", peak_memory},   {"history", "8", history_reads},
      {"shared", "9", shared_log},    {"size", "10", store_size},
  };
  return all;
}

namespace {

std::set<std::string> parse_only(const std::string& only) {
  std::set<std::string> chosen;
  std::stringstream in(only);
  for (std::string item; std::getline(in, item, ',');) {
    bool known = false;
    for (const Workload& w : workloads()) {
      if (item == w.name || item == w.number) {
        chosen.insert(w.name);
        known = true;
      }
    }
    if (!known && !item.empty()) die("unknown workload '" + item + "' (see --help)");
  }
  return chosen;
}

}  // namespace

}  // namespace bench

int main(int argc, char** argv) {
  using namespace bench;
  CLI::App app{"planning_bench: the engine's workloads against raw LMDB and SQLite"};
  std::string scale = "small", only, out, dir, child_store;
  int rounds = 0;
  std::uint64_t log_events = 0;
  bool keep = false;
  app.add_option("--scale", scale, "small (a quick check) or full (the documented sizes)")
      ->check(CLI::IsMember({"small", "full"}));
  app.add_option(
      "--only", only,
      "comma-separated workloads: single,group,batch,rebuild,queries,versions,history,shared,"
      "memory,size (or 1-10)");
  app.add_option("--out", out, "also write the report (Markdown) to this file");
  app.add_option("--dir", dir, "parent directory of the temporary stores (default: a temp dir)");
  app.add_option("--rounds", rounds,
                 "alternating ours/baseline rounds, best of each kept (default 1 small, 3 full)")
      ->check(CLI::PositiveNumber);
  app.add_option("--log-events", log_events,
                 "N of workloads 4 and 7 (default 50,000 small, 1,000,000 full)")
      ->check(CLI::PositiveNumber);
  app.add_flag("--keep", keep, "keep the stores after the run");
  app.add_option("--child-rebuild", child_store)->group("");  // workload 7's child process
  CLI11_PARSE(app, argc, argv);

  if (!child_store.empty()) return rebuild_child(child_store);

  const std::set<std::string> chosen = parse_only(only);
  RunState state;
  state.config = Config::for_scale(scale);
  Config& config = state.config;
  if (rounds > 0) config.rounds = rounds;
  if (log_events > 0) config.log_events = log_events;
  config.keep = keep;
  if (dir.empty()) {
    std::string pattern =
        (std::filesystem::temp_directory_path() / "planning-bench-XXXXXX").string();
    if (::mkdtemp(pattern.data()) == nullptr) die("mkdtemp failed");
    config.dir = pattern;
  } else {
    config.dir = dir;
    std::filesystem::create_directories(config.dir);
  }
  const std::string load_at_start = load_average();

  progress(fmt::format("scale {}, stores under {}", config.scale, config.dir.string()));
  for (const Workload& w : workloads()) {
    if (!chosen.empty() && !chosen.contains(w.name)) continue;
    progress(fmt::format("workload {} ({})", w.number, w.name));
    w.run(state);
  }
  state.log_store.reset();

  const std::string report = state.report.markdown() + "\n" +
                             fmt::format("Scale: {}. ", config.scale) +
                             describe_machine(config.dir, load_at_start) + "\n";
  std::cout << report;
  if (!out.empty()) {
    std::ofstream file(out);
    file << report;
    if (!file) die("cannot write " + out);
  }
  if (dir.empty() && !keep) {
    std::error_code ec;
    std::filesystem::remove_all(config.dir, ec);
  }
  return 0;
}
