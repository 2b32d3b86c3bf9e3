// UUIDv7 ids (RFC 9562): 48-bit Unix milliseconds, then random bits, so ids sort
// by creation time. Thread-safe.
#pragma once

#include <cstdint>
#include <mutex>
#include <random>
#include <string>

#include <planning/model.hpp>

namespace planning::detail {

class UuidV7Generator {
 public:
  UuidV7Generator();
  std::string next(Timestamp now);

 private:
  std::mutex mutex_;  // guards everything below
  std::mt19937_64 rng_;
  std::uint64_t last_ms_ = 0;
  std::uint16_t counter_ = 0;  // 12-bit sequence within one millisecond
};

// True for the 8-4-4-4-12 lower-case hex form.
bool is_uuid_text(std::string_view text) noexcept;

}  // namespace planning::detail
