// Shared helpers of planning_bench: configuration, temporary stores, timing,
// statistics, generated content and process memory figures.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include <planning/planning.hpp>

namespace bench {

// Sizes of every workload. `small` checks that the program works in a minute or
// two; `full` is the scale the goals in docs/PERFORMANCE.md are stated for.
struct Config {
  std::string scale = "small";
  std::filesystem::path dir;  // parent of every temporary store
  bool keep = false;          // keep the stores after the run
  int rounds = 1;             // alternating ours/baseline rounds; best of each is kept

  std::size_t single_ops = 200;   // workload 1, per round
  double single_seconds = 5.0;    // workload 1: a round stops early after this
  std::size_t group_threads = 8;  // workload 2
  std::size_t group_ops_per_thread = 50;
  std::size_t batch_size = 1000;  // workload 3
  std::size_t batch_count = 20;
  std::uint64_t log_events = 50000;                          // workloads 4 and 7 (N)
  std::vector<std::size_t> query_sizes{1000, 10000, 50000};  // workload 5
  std::size_t query_samples = 2000;  // get samples per size; list/find use a tenth
  std::size_t autosaves = 1000;      // workload 6
  std::size_t document_bytes = 100 * 1024;
  std::size_t big_document_bytes = 1024 * 1024;
  std::size_t size_updates = 5000;  // workload 10

  static Config for_scale(const std::string& scale);
};

// Writes one progress line to stderr (stdout carries only the report).
void progress(std::string_view message);

// Exits the program with a message when `result` holds an error: a benchmark
// that cannot do what it measures has nothing to report.
template <typename T>
T must(planning::Result<T> result, std::string_view what);
void must(const planning::Result<void>& result, std::string_view what);
[[noreturn]] void die(std::string_view message);

// A fresh directory under Config::dir, removed on destruction unless kept.
class TempStore {
 public:
  TempStore(const Config& config, std::string_view name);
  ~TempStore();
  TempStore(const TempStore&) = delete;
  TempStore& operator=(const TempStore&) = delete;
  const std::filesystem::path& path() const noexcept { return path_; }

 private:
  std::filesystem::path path_;
  bool keep_;
};

// Options for a bench store at `path`: defaults (Durability::full, auto_version).
planning::Options store_options(const std::filesystem::path& path);
// An update setting `content`, as an editor's autosave would (summary
// "autosave", by "bench").
planning::UpdateRequest autosave(std::string content);
std::unique_ptr<planning::SessionManager> open_store(const std::filesystem::path& path);

using SteadyClock = std::chrono::steady_clock;
double seconds_since(SteadyClock::time_point start);
// Runs `body` once and returns its wall time in seconds.
double time_seconds(const std::function<void()>& body);

double median(std::vector<double> samples);

// write_bytes of /proc/self/io: bytes this process caused to be written to
// storage (the page cache's write-back included), for write amplification.
std::uint64_t io_write_bytes();

// A write workload: ops per second, and bytes written to storage per op.
struct WriteRate {
  double per_second = 0;
  double bytes_per_op = 0;
};
// Runs `body`, which returns how many ops it did, and measures both.
WriteRate measure_writes(const std::function<std::size_t()>& body);
// Over rounds: the highest rate, and the fewest bytes per op.
WriteRate best_of(const WriteRate& a, const WriteRate& b);
// "1.2 KiB/event"-style figure of `bytes` per op.
std::string kib_per_op(double bytes, std::string_view unit);

// Deterministic pseudo-random markdown text of exactly `bytes` bytes (lines of
// about 60 characters), different for every `seed`.
std::string markdown(std::size_t bytes, std::uint64_t seed);
// `bytes` bytes whose first characters encode `stamp`, so each value differs.
std::string stamped_value(std::size_t bytes, std::uint64_t stamp);
// Rewrites about `fraction` of the lines of `text` in place (same line lengths,
// so the size stays put); returns how many lines changed.
std::size_t change_lines(std::string& text, double fraction, std::mt19937_64& rng);

// A ring of distinct values of one size, generated up front so that making
// content stays out of the timed loops. The count is prime, so values cycled
// over k sessions differ between consecutive updates of a session unless k is a
// multiple of it.
class ContentPool {
 public:
  explicit ContentPool(std::size_t bytes, std::size_t count = 1021);
  const std::string& next() { return at(next_++); }
  const std::string& at(std::size_t i) const { return values_[i % values_.size()]; }
  std::size_t bytes() const noexcept { return bytes_; }

 private:
  std::size_t bytes_;
  std::vector<std::string> values_;
  std::size_t next_ = 0;
};

// Peak resident set (VmHWM) and current anonymous memory (RssAnon) of this
// process, in bytes, from /proc/self/status.
std::uint64_t peak_rss_bytes();
std::uint64_t anon_rss_bytes();
std::uint64_t file_size_or_zero(const std::filesystem::path& path);

// --- inline definitions ---------------------------------------------------------

template <typename T>
T must(planning::Result<T> result, std::string_view what) {
  if (!result) {
    die(std::string(what) + ": " + std::string(planning::to_string(result.error().code)) + ": " +
        result.error().message);
  }
  return std::move(*result);
}

}  // namespace bench
