// Workload 6: version storage — the bytes 1,000 autosaves of a 100 KiB document
// cost, reading random versions back, and diffing two 1 MiB versions.
#include <fmt/format.h>

#include "bench/workloads.hpp"

namespace bench {

namespace {

constexpr double kChangedLines = 0.01;
constexpr std::size_t kVersionSamples = 200;
constexpr int kCompareSamples = 5;

planning::UpdateRequest autosave(std::string content) {
  planning::UpdateRequest update;
  update.content = std::move(content);
  update.change_summary = "autosave";
  update.updated_by = "bench";
  return update;
}

std::uint64_t map_used(const planning::SessionManager& manager) {
  return must(manager.info(), "info").map_used;
}

}  // namespace

void version_storage(RunState& state) {
  const Config& c = state.config;
  TempStore store(c, "versions");
  auto manager = open_store(store.path());
  std::mt19937_64 rng(6);

  // --- Storage: autosaves of a document, each changing ~1% of its lines.
  std::string document = markdown(c.document_bytes, 6);
  const std::string id =
      must(manager->create(
               {.title = "Autosaved plan", .initial_content = document, .created_by = "bench"}),
           "create")
          .id;
  const std::uint64_t before = map_used(*manager);
  std::uint64_t snapshot_bytes = 0;
  const double seconds = time_seconds([&] {
    for (std::size_t i = 0; i < c.autosaves; ++i) {
      change_lines(document, kChangedLines, rng);
      snapshot_bytes += document.size();
      must(manager->update(id, autosave(document)), "update");
    }
  });
  const std::uint64_t used = map_used(*manager) - before;
  progress(fmt::format("6. versions: {} autosaves in {:.1f} s, {} bytes used vs {} in snapshots",
                       c.autosaves, seconds, used, snapshot_bytes));
  const double share = static_cast<double>(used) / static_cast<double>(snapshot_bytes);
  state.report.add(
      {.workload = fmt::format("6. storage of {} autosaves of a {} KiB doc, ~1% lines changed",
                               with_commas(c.autosaves), c.document_bytes / 1024),
       .ours = fmt::format("{:.1f} MiB (map_used growth)", static_cast<double>(used) / 1048576.0),
       .baseline = fmt::format("{} full snapshots: {:.1f} MiB", with_commas(c.autosaves),
                               static_cast<double>(snapshot_bytes) / 1048576.0),
       .ratio = percent(share),
       .goal = "≤ 5 % of snapshots",
       .met = share <= 0.05});

  // --- get_version of random versions.
  const auto versions = static_cast<std::uint32_t>(c.autosaves + 1);
  std::vector<double> micros_taken;
  for (std::size_t i = 0; i < kVersionSamples; ++i) {
    const auto number = static_cast<std::uint32_t>(1 + rng() % versions);
    const auto start = SteadyClock::now();
    const auto version = must(manager->get_version(id, number), "get_version");
    micros_taken.push_back(seconds_since(start) * 1e6);
    if (version.content.size() != c.document_bytes) die("get_version: wrong content size");
  }
  const double get_us = median(std::move(micros_taken));
  state.report.add(
      {.workload = fmt::format("6. get_version, random of {} versions of {} KiB (median)",
                               with_commas(versions), c.document_bytes / 1024),
       .ours = micros(get_us),
       .goal = "< 1 ms",
       .met = get_us < 1000.0});

  // --- compare_versions of two 1 MiB versions.
  std::string big = markdown(c.big_document_bytes, 60);
  const std::string big_id =
      must(manager->create({.title = "Large plan", .initial_content = big, .created_by = "bench"}),
           "create")
          .id;
  const std::size_t changed = change_lines(big, kChangedLines, rng);
  must(manager->update(big_id, autosave(big)), "update");
  std::vector<double> millis_taken;
  std::uint64_t added = 0;
  for (int i = 0; i < kCompareSamples; ++i) {
    const auto start = SteadyClock::now();
    const auto diff = must(manager->compare_versions(big_id, 1, 2), "compare_versions");
    millis_taken.push_back(seconds_since(start) * 1e3);
    added = diff.lines_added;
  }
  const double compare_ms = median(std::move(millis_taken));
  progress(
      fmt::format("6. versions: get_version {:.1f} µs, compare {:.1f} ms ({} lines "
                  "rewritten, {} added)",
                  get_us, compare_ms, changed, added));
  state.report.add(
      {.workload = fmt::format("6. compare_versions, two {} MiB versions, ~1% lines changed",
                               c.big_document_bytes >> 20),
       .ours = millis(compare_ms),
       .goal = "< 50 ms",
       .met = compare_ms < 50.0});
}

}  // namespace bench
