// The benchmark workload of bench/bench.mjs through the engine's C++ API, so
// that the Node package and Emmett are compared with the engine itself on the
// same disk in the same run. Prints one JSON object (operations per second).
//
// Usage: planning_cxx_bench STORE_DIR SESSIONS SINGLE_UPDATES BATCH_ROUNDS READS HISTORY_READS DEPTH
// (DEPTH: versions of each of the 20 sessions whose histories are read)
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <string>
#include <vector>

#include <planning/planning.hpp>

namespace {

using Clock = std::chrono::steady_clock;

std::string content_kib(std::size_t n) {
  // 1 KiB of markdown: 16 lines of 64 bytes; n makes every document distinct.
  std::string text;
  for (int line = 0; line < 16; ++line) {
    std::string l = "- item " + std::to_string(n) + "." + std::to_string(line) + " ";
    l.resize(63, 'x');
    text += l + "\n";
  }
  return text;
}

double rate(std::size_t ops, Clock::time_point start) {
  return static_cast<double>(ops) / std::chrono::duration<double>(Clock::now() - start).count();
}

[[noreturn]] void die(const planning::Error& e) {
  std::fprintf(stderr, "error: %s\n", e.message.c_str());
  std::exit(1);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 8) {
    std::fprintf(stderr, "usage: %s STORE SESSIONS SINGLE_UPDATES BATCH_ROUNDS READS HISTORY_READS DEPTH\n", argv[0]);
    return 2;
  }
  const std::size_t sessions = std::strtoull(argv[2], nullptr, 10);
  const std::size_t single_updates = std::strtoull(argv[3], nullptr, 10);
  const std::size_t batch_rounds = std::strtoull(argv[4], nullptr, 10);
  const std::size_t reads = std::strtoull(argv[5], nullptr, 10);
  const std::size_t history_reads = std::strtoull(argv[6], nullptr, 10);
  const std::size_t depth = std::strtoull(argv[7], nullptr, 10);

  planning::Options options;
  options.path = argv[1];
  auto opened = planning::SessionManager::open(options);
  if (!opened) die(opened.error());
  auto& manager = **opened;
  std::size_t counter = 0;

  // Setup: sessions created in one batch (not timed).
  std::vector<std::string> ids;
  {
    planning::WriteBatch batch;
    for (std::size_t i = 0; i < sessions; ++i)
      batch.create({.title = "Session " + std::to_string(i), .repository_path = "/projects/bench",
                    .initial_content = content_kib(counter++)});
    auto results = manager.apply_batch(batch);
    if (!results) die(results.error());
    for (auto& r : *results) {
      if (!r) die(r.error());
      ids.push_back(r->id);
    }
  }

  // Setup: 20 sessions with DEPTH versions each, for the history reads (not timed).
  std::vector<std::string> deep;
  {
    planning::WriteBatch batch;
    for (std::size_t i = 0; i < 20; ++i)
      batch.create({.title = "History " + std::to_string(i), .initial_content = content_kib(counter++)});
    auto results = manager.apply_batch(batch);
    if (!results) die(results.error());
    for (auto& r : *results) {
      if (!r) die(r.error());
      deep.push_back(r->id);
    }
    planning::WriteBatch updates;
    for (std::size_t v = 1; v < depth; ++v)
      for (const auto& id : deep) {
        planning::UpdateRequest u;
        u.content = content_kib(counter++);
        u.change_summary = "autosave";
        updates.update(id, std::move(u));
      }
    auto applied = manager.apply_batch(updates);
    if (!applied) die(applied.error());
  }

  // 1. Durable single updates, one at a time.
  auto start = Clock::now();
  for (std::size_t i = 0; i < single_updates; ++i) {
    planning::UpdateRequest u;
    u.content = content_kib(counter++);
    u.change_summary = "autosave";
    auto r = manager.update(ids[i % ids.size()], u);
    if (!r) die(r.error());
  }
  const double single_rate = rate(single_updates, start);

  // 2. Batches of 1,000 updates (one commit each).
  start = Clock::now();
  for (std::size_t round = 0; round < batch_rounds; ++round) {
    planning::WriteBatch batch;
    for (std::size_t i = 0; i < 1000; ++i) {
      planning::UpdateRequest u;
      u.content = content_kib(counter++);
      u.change_summary = "autosave";
      batch.update(ids[i % ids.size()], std::move(u));
    }
    auto results = manager.apply_batch(batch);
    if (!results) die(results.error());
  }
  const double batch_rate = rate(batch_rounds * 1000, start);

  // 3. Session reads (random sessions).
  std::mt19937 rng(42);
  start = Clock::now();
  for (std::size_t i = 0; i < reads; ++i) {
    auto s = manager.get(ids[rng() % ids.size()]);
    if (!s) die(s.error());
  }
  const double read_rate = rate(reads, start);

  // 4. Full version histories.
  start = Clock::now();
  std::size_t versions = 0;
  for (std::size_t i = 0; i < history_reads; ++i) {
    auto v = manager.get_versions(deep[rng() % deep.size()]);
    if (!v) die(v.error());
    versions += v->size();
  }
  const double history_rate = rate(history_reads, start);

  std::printf(
      "{\"single_updates_per_s\":%.1f,\"batch_updates_per_s\":%.1f,\"reads_per_s\":%.1f,"
      "\"histories_per_s\":%.1f,\"versions_read\":%zu}\n",
      single_rate, batch_rate, read_rate, history_rate, versions);
  return 0;
}
