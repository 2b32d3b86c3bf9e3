// Workload 6: version storage — the bytes 1,000 autosaves of a 100 KiB document
// cost, reading random versions back, and diffing two 1 MiB versions.
// Workload 8: a whole history with content, against the same-work SQLite peer.
#include <fmt/format.h>

#include "bench/sqlite_peer.hpp"
#include "bench/workloads.hpp"

namespace bench {

namespace {

constexpr double kChangedLines = 0.01;
constexpr std::size_t kVersionSamples = 200;
constexpr int kCompareSamples = 5;

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

namespace bench {

namespace {
constexpr std::size_t kHistoryVersions = 26;
constexpr std::size_t kHistorySessions = 20;
constexpr std::size_t kHistoryReads = 400;
}  // namespace

// Workload 8: a session's whole history with content — get_versions of a
// session with 26 versions of 1 KiB, against the same-work SQLite peer that
// stores every version as a full copy (SELECT ... ORDER BY version_number).
void history_reads(RunState& state) {
  const Config& c = state.config;
  TempStore store(c, "history");
  const ContentPool pool(1024);
  auto manager = open_store(store.path() / "engine");
  SqlitePeer peer(store.path() / "peer" / "peer.sqlite");
  std::vector<std::string> ours_ids, peer_ids;
  for (std::size_t s = 0; s < kHistorySessions; ++s) {
    const std::string first = pool.at(s * kHistoryVersions);
    ours_ids.push_back(
        must(manager->create({.title = "history", .initial_content = first, .created_by = "bench"}),
             "create")
            .id);
    peer_ids.push_back(peer.create("history", "", first));
    for (std::size_t v = 1; v < kHistoryVersions; ++v) {
      const std::string& text = pool.at(s * kHistoryVersions + v);
      must(manager->update(ours_ids.back(), autosave(text)), "update");
      peer.update(peer_ids.back(), text);
    }
  }
  std::vector<double> ours, theirs, theirs_content;
  for (std::size_t i = 0; i < kHistoryReads; ++i) {
    const std::size_t s = i % kHistorySessions;
    std::size_t n = 0;
    ours.push_back(time_seconds([&] { n = must(manager->get_versions(ours_ids[s]), "get_versions").size(); }) * 1e6);
    if (n != kHistoryVersions) die("get_versions returned the wrong number of versions");
    theirs.push_back(time_seconds([&] { n = peer.versions(peer_ids[s]).size(); }) * 1e6);
    if (n != kHistoryVersions) die("the peer's versions are the wrong number");
    theirs_content.push_back(time_seconds([&] { n = peer.history(peer_ids[s]).size(); }) * 1e6);
    if (n != kHistoryVersions) die("the peer's history has the wrong number of versions");
  }
  const double ours_us = median(ours), peer_us = median(theirs),
               peer_content_us = median(theirs_content);
  progress(fmt::format(
      "8. history: get_versions {:.1f} µs, same-work SQLite {:.1f} µs (content only {:.1f} µs)",
      ours_us, peer_us, peer_content_us));
  const std::string workload =
      fmt::format("8. get_versions, {} versions of 1 KiB (median)", kHistoryVersions);
  state.report.add({.workload = workload,
                    .ours = micros(ours_us),
                    .baseline = "same-work SQLite, full copies (session read, then each "
                                "version's number, content, summary, time, event in one "
                                "read transaction): " +
                                micros(peer_us),
                    .ratio = times(peer_us / ours_us),
                    .goal = "≥ 1× same-work SQLite (ratio = its time ÷ ours)",
                    .met = ours_us <= peer_us});
  state.report.add({.workload = workload,
                    .ours = micros(ours_us),
                    .baseline = "SQLite, full copies, one SELECT of the contents only: " +
                                micros(peer_content_us),
                    .ratio = times(peer_content_us / ours_us),
                    .goal = "informational (less than get_versions returns)",
                    .met = std::nullopt});
}

}  // namespace bench
