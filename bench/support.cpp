#include "bench/support.hpp"

#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>

#include <fmt/format.h>

namespace bench {

Config Config::for_scale(const std::string& scale) {
  Config c;
  c.scale = scale;
  if (scale == "full") {
    c.rounds = 3;
    c.single_ops = 2000;
    c.single_seconds = 30.0;
    c.group_ops_per_thread = 500;
    c.batch_count = 100;
    c.log_events = 1000000;
    c.query_sizes = {10000, 100000, 1000000};
    c.query_samples = 10000;
    c.size_updates = 20000;
  } else if (scale != "small") {
    die("unknown scale '" + scale + "' (small or full)");
  }
  return c;
}

void progress(std::string_view message) { std::cerr << "[bench] " << message << std::endl; }

void die(std::string_view message) {
  std::cerr << "planning_bench: " << message << std::endl;
  std::exit(2);
}

void must(const planning::Result<void>& result, std::string_view what) {
  if (!result) {
    die(std::string(what) + ": " + std::string(planning::to_string(result.error().code)) + ": " +
        result.error().message);
  }
}

TempStore::TempStore(const Config& config, std::string_view name) : keep_(config.keep) {
  path_ = config.dir / (std::string(name) + "-" + std::to_string(::getpid()));
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);
  std::filesystem::create_directories(path_.parent_path(), ec);
}

TempStore::~TempStore() {
  if (keep_) return;
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);
}

planning::Options store_options(const std::filesystem::path& path) {
  planning::Options options;
  options.path = path;
  return options;
}

planning::UpdateRequest autosave(std::string content) {
  planning::UpdateRequest update;
  update.content = std::move(content);
  update.change_summary = "autosave";
  update.updated_by = "bench";
  return update;
}

std::unique_ptr<planning::SessionManager> open_store(const std::filesystem::path& path) {
  return must(planning::SessionManager::open(store_options(path)), "open " + path.string());
}

double seconds_since(SteadyClock::time_point start) {
  return std::chrono::duration<double>(SteadyClock::now() - start).count();
}

double time_seconds(const std::function<void()>& body) {
  const auto start = SteadyClock::now();
  body();
  return seconds_since(start);
}

std::uint64_t io_write_bytes() {
  std::ifstream io("/proc/self/io");
  std::string key;
  std::uint64_t value = 0;
  while (io >> key >> value) {
    if (key == "write_bytes:") return value;
  }
  return 0;
}

WriteRate measure_writes(const std::function<std::size_t()>& body) {
  const std::uint64_t before = io_write_bytes();
  const auto start = SteadyClock::now();
  const std::size_t ops = std::max<std::size_t>(body(), 1);
  const double seconds = seconds_since(start);
  const auto written = static_cast<double>(io_write_bytes() - before);
  return {static_cast<double>(ops) / seconds, written / static_cast<double>(ops)};
}

WriteRate best_of(const WriteRate& a, const WriteRate& b) {
  if (a.per_second == 0) return b;
  if (b.per_second == 0) return a;
  return {std::max(a.per_second, b.per_second), std::min(a.bytes_per_op, b.bytes_per_op)};
}

std::string kib_per_op(double bytes, std::string_view unit) {
  return fmt::format("{:.1f} KiB/{}", bytes / 1024.0, unit);
}

double median(std::vector<double> samples) {
  if (samples.empty()) return 0.0;
  const auto mid = samples.begin() + static_cast<std::ptrdiff_t>(samples.size() / 2);
  std::nth_element(samples.begin(), mid, samples.end());
  return *mid;
}

namespace {

constexpr std::string_view kWords[] = {
    "plan",   "session", "checkout", "payment", "service", "schema",  "cache",  "review",
    "deploy", "metric",  "latency",  "retry",   "queue",   "budget",  "owner",  "risk",
    "module", "import",  "rollback", "index",   "storage", "event",   "replay", "stream",
    "api",    "client",  "token",    "audit",   "report",  "feature", "flag",   "test"};

// One line of exactly `width` characters (no newline) drawn from `rng`.
std::string make_line(std::size_t width, std::mt19937_64& rng) {
  std::string line = (rng() % 8 == 0) ? "## " : "- ";
  while (line.size() < width) {
    line += kWords[rng() % std::size(kWords)];
    line += ' ';
  }
  line.resize(width);
  return line;
}

}  // namespace

std::string markdown(std::size_t bytes, std::uint64_t seed) {
  std::mt19937_64 rng(seed * 0x9E3779B97F4A7C15ULL + 1);
  std::string text;
  text.reserve(bytes);
  while (text.size() < bytes) {
    const std::size_t width = std::min<std::size_t>(40 + rng() % 40, bytes - text.size());
    if (width <= 1) {
      text.append(bytes - text.size(), '\n');
      break;
    }
    text += make_line(width - 1, rng);
    text += '\n';
  }
  return text;
}

std::string stamped_value(std::size_t bytes, std::uint64_t stamp) {
  std::string value = markdown(bytes, 7);
  const std::string head = "# rev " + std::to_string(stamp) + " ";
  value.replace(0, std::min(head.size(), value.size()), head.substr(0, value.size()));
  return value;
}

ContentPool::ContentPool(std::size_t bytes, std::size_t count) : bytes_(bytes) {
  values_.reserve(count);
  for (std::size_t i = 0; i < count; ++i) values_.push_back(stamped_value(bytes, i));
}

std::size_t change_lines(std::string& text, double fraction, std::mt19937_64& rng) {
  std::vector<std::pair<std::size_t, std::size_t>> lines;  // (start, length without \n)
  for (std::size_t start = 0; start < text.size();) {
    auto end = text.find('\n', start);
    if (end == std::string::npos) end = text.size();
    if (end > start) lines.emplace_back(start, end - start);
    start = end + 1;
  }
  const auto count = std::max<std::size_t>(1, static_cast<std::size_t>(lines.size() * fraction));
  for (std::size_t i = 0; i < count; ++i) {
    const auto [start, length] = lines[rng() % lines.size()];
    text.replace(start, length, make_line(length, rng));
  }
  return count;
}

namespace {

std::uint64_t status_field_kib(std::string_view field) {
  std::ifstream in("/proc/self/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.starts_with(field) && line.size() > field.size() && line[field.size()] == ':') {
      return std::strtoull(line.c_str() + field.size() + 1, nullptr, 10);
    }
  }
  return 0;
}

}  // namespace

std::uint64_t peak_rss_bytes() { return status_field_kib("VmHWM") * 1024; }
std::uint64_t anon_rss_bytes() { return status_field_kib("RssAnon") * 1024; }

std::uint64_t file_size_or_zero(const std::filesystem::path& path) {
  std::error_code ec;
  const auto size = std::filesystem::file_size(path, ec);
  return ec ? 0 : size;
}

}  // namespace bench
