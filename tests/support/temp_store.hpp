// Test helpers: a temporary store directory removed on destruction, a manual
// clock, and shortcuts to open a SessionManager over them.
#pragma once

#include <atomic>
#include <chrono>
#include <filesystem>
#include <memory>
#include <string>

#include <planning/planning.hpp>

namespace planning::test {

// A fresh empty directory under the system temp dir; deleted recursively when
// the TempDir goes out of scope.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

// Deterministic clock: starts at 2025-01-01T00:00:00Z and advances by `step`
// on every reading (thread-safe). advance() moves it forward explicitly.
class ManualClock {
 public:
  explicit ManualClock(std::chrono::nanoseconds step = std::chrono::milliseconds(1));
  Timestamp now();
  void advance(std::chrono::nanoseconds by);
  Clock as_clock();  // a planning::Clock reading this object (must outlive it)

 private:
  std::atomic<std::int64_t> ns_;
  std::chrono::nanoseconds step_;
};

// Options over `dir` with a ManualClock, small initial map (exercises growth).
Options test_options(const TempDir& dir, ManualClock* clock = nullptr);

// Opens or fails the test (REQUIRE).
std::unique_ptr<SessionManager> open_store(const Options& options);

// XORs the byte at `offset` of `file` with `mask` (damage injection).
void flip_bits(const std::filesystem::path& file, std::uint64_t offset, unsigned char mask);

}  // namespace planning::test
