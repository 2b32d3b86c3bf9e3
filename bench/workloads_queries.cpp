// Workload 5: read latency as the store grows — get, list by status with a
// limit, find_by_repository — on one store grown through each size in turn.
#include <fmt/format.h>

#include "bench/baselines.hpp"
#include "bench/workloads.hpp"

namespace bench {

namespace {

constexpr std::size_t kContentBytes = 1024;
constexpr std::size_t kBuildBatch = 1000;
constexpr std::size_t kPerRepository = 50;
constexpr std::size_t kPausedEvery = 10;
constexpr std::size_t kListLimit = 50;

std::string size_label(std::size_t n) {
  if (n % 1000000 == 0) return fmt::format("{}M", n / 1000000);
  if (n % 1000 == 0) return fmt::format("{}k", n / 1000);
  return with_commas(n);
}

std::string repository(std::size_t session_index) {
  return fmt::format("/repos/q{}", session_index / kPerRepository);
}

// Creates sessions until there are `target`; every tenth new one is paused.
void grow(planning::SessionManager& manager, std::vector<std::string>& ids, std::size_t target,
          const ContentPool& pool) {
  while (ids.size() < target) {
    const std::size_t first = ids.size();
    const std::size_t end = std::min(target, first + kBuildBatch);
    planning::WriteBatch creates;
    for (std::size_t i = first; i < end; ++i) {
      creates.create({.title = fmt::format("Query session {}", i),
                      .description = "benchmark session",
                      .repository_path = repository(i),
                      .repository_url = "https://example.com/" + repository(i),
                      .initial_content = pool.at(i),
                      .created_by = "bench",
                      .metadata = {{"priority", "high"}, {"n", i}}});
    }
    for (auto& r : must(manager.apply_batch(creates), "apply_batch")) {
      ids.push_back(must(std::move(r), "create").id);
    }
    planning::WriteBatch pauses;
    for (std::size_t i = first; i < end; ++i) {
      if (i % kPausedEvery == 0) pauses.pause(ids[i], "waiting");
    }
    for (auto& r : must(manager.apply_batch(pauses), "apply_batch")) must(std::move(r), "pause");
  }
}

// Median wall time (µs) of `samples` calls of `call(i)`.
template <typename F>
double median_micros(std::size_t samples, F&& call) {
  std::vector<double> times;
  times.reserve(samples);
  for (std::size_t i = 0; i < samples; ++i) {
    const auto start = SteadyClock::now();
    call(i);
    times.push_back(seconds_since(start) * 1e6);
  }
  return median(std::move(times));
}

}  // namespace

void queries(RunState& state) {
  const Config& c = state.config;
  TempStore store(c, "queries");
  const ContentPool pool(kContentBytes);
  std::vector<std::string> ids;
  std::mt19937_64 rng(42);
  std::optional<double> first_list;
  std::string first_label;
  for (const std::size_t size : c.query_sizes) {
    const std::string label = size_label(size);
    std::vector<std::string> sample_ids;
    {
      auto manager = open_store(store.path());
      const double seconds = time_seconds([&] { grow(*manager, ids, size, pool); });
      progress(
          fmt::format("5. queries: grew the store to {} sessions in {:.1f} s", label, seconds));
      for (std::size_t i = 0; i < c.query_samples; ++i) sample_ids.push_back(ids[rng() % size]);
      for (std::size_t i = 0; i < 200; ++i)
        must(manager->get(sample_ids[i % sample_ids.size()]), "get");

      const double get_us = median_micros(
          sample_ids.size(), [&](std::size_t i) { must(manager->get(sample_ids[i]), "get"); });
      planning::SessionFilters paused;
      paused.status = {planning::Status::paused};
      paused.limit = kListLimit;
      const std::size_t few = std::max<std::size_t>(50, c.query_samples / 10);
      const double list_us = median_micros(few, [&](std::size_t) {
        if (must(manager->list(paused), "list").size() != kListLimit) die("list: short answer");
      });
      const std::size_t repositories = size / kPerRepository;
      const double repo_us = median_micros(few, [&](std::size_t) {
        const auto found =
            must(manager->find_by_repository(repository(rng() % repositories * kPerRepository)),
                 "find_by_repository");
        if (found.size() != kPerRepository) die("find_by_repository: wrong count");
      });
      manager.reset();  // the raw baseline opens the same environment

      const RawGets raw = raw_lmdb_gets(store.path(), "sessions", sample_ids);
      const double raw_us = median(raw.micros);
      progress(
          fmt::format("5. queries at {}: get {:.2f} µs (raw {:.2f}), list {:.1f} µs, "
                      "find_by_repository {:.1f} µs",
                      label, get_us, raw_us, list_us, repo_us));

      state.report.add(
          {.workload = fmt::format("5. get, {} sessions (median)", label),
           .ours = micros(get_us),
           .baseline = fmt::format("raw mdb_get, {} B record: {}", raw.value_bytes, micros(raw_us)),
           .ratio = times(get_us / raw_us),
           .goal = "< 10 µs",
           .met = get_us < 10.0});
      Row list_row{.workload = fmt::format("5. list(status=paused, limit=50), {} sessions", label),
                   .ours = micros(list_us),
                   .goal = "< 1 ms, flat (≤ 2× smallest store)",
                   .met = list_us < 1000.0};
      if (first_list) {
        list_row.baseline = fmt::format("at {}: {}", first_label, micros(*first_list));
        list_row.ratio = times(list_us / *first_list);
        list_row.met = list_us < 1000.0 && list_us <= 2.0 * *first_list;
      } else {
        first_list = list_us;
        first_label = label;
      }
      state.report.add(std::move(list_row));
      state.report.add(
          {.workload = fmt::format("5. find_by_repository (50 sessions), {} sessions", label),
           .ours = micros(repo_us),
           .goal = "< 1 ms",
           .met = repo_us < 1000.0});
    }
  }
}

}  // namespace bench
