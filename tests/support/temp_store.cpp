#include "support/temp_store.hpp"

#include <fstream>
#include <random>

#include <catch2/catch.hpp>

namespace planning::test {

TempDir::TempDir() {
  std::random_device rd;
  auto base = std::filesystem::temp_directory_path();
  for (;;) {
    auto candidate = base / ("planning-test-" + std::to_string(rd()) + std::to_string(rd()));
    if (std::filesystem::create_directory(candidate)) {
      path_ = candidate;
      break;
    }
  }
}

TempDir::~TempDir() {
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);
}

ManualClock::ManualClock(std::chrono::nanoseconds step)
    : ns_(std::chrono::duration_cast<std::chrono::nanoseconds>(
              std::chrono::sys_days{std::chrono::year{2025} / 1 / 1}.time_since_epoch())
              .count()),
      step_(step) {}

Timestamp ManualClock::now() {
  return Timestamp{std::chrono::nanoseconds{ns_.fetch_add(step_.count())}};
}

void ManualClock::advance(std::chrono::nanoseconds by) { ns_.fetch_add(by.count()); }

Clock ManualClock::as_clock() {
  return [this] { return now(); };
}

Options test_options(const TempDir& dir, ManualClock* clock) {
  Options options;
  options.path = dir.path() / "store";
  options.initial_map_size = std::size_t{1} << 20;  // 1 MiB: growth is exercised
  if (clock != nullptr) options.clock = clock->as_clock();
  return options;
}

std::unique_ptr<SessionManager> open_store(const Options& options) {
  auto manager = SessionManager::open(options);
  if (!manager) FAIL("open failed: " << manager.error().message);
  return std::move(*manager);
}

void flip_bits(const std::filesystem::path& file, std::uint64_t offset, unsigned char mask) {
  std::fstream f(file, std::ios::in | std::ios::out | std::ios::binary);
  f.seekg(static_cast<std::streamoff>(offset));
  char c = 0;
  f.read(&c, 1);
  c = static_cast<char>(c ^ mask);
  f.seekp(static_cast<std::streamoff>(offset));
  f.write(&c, 1);
}

}  // namespace planning::test
