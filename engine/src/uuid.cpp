#include "engine/src/uuid.hpp"

#include <array>

namespace planning::detail {

UuidV7Generator::UuidV7Generator() {
  std::random_device rd;
  std::seed_seq seed{rd(), rd(), rd(), rd(), rd(), rd(), rd(), rd()};
  rng_.seed(seed);
}

std::string UuidV7Generator::next(Timestamp now) {
  std::lock_guard lock(mutex_);
  auto ms = static_cast<std::uint64_t>(
      std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count());
  // Monotonic within this generator: a clock step backwards or many ids in one
  // millisecond continue the previous sequence (RFC 9562 §6.2, method 1).
  if (ms <= last_ms_) {
    ms = last_ms_;
    if (++counter_ > 0x0FFF) {
      counter_ = 0;
      ++ms;
    }
  } else {
    counter_ = static_cast<std::uint16_t>(rng_() & 0x07FF);  // leave room to count up
  }
  last_ms_ = ms;

  std::array<std::uint8_t, 16> b{};
  for (int i = 0; i < 6; ++i) b[i] = static_cast<std::uint8_t>(ms >> (40 - 8 * i));
  b[6] = static_cast<std::uint8_t>(0x70 | ((counter_ >> 8) & 0x0F));
  b[7] = static_cast<std::uint8_t>(counter_ & 0xFF);
  const std::uint64_t r = rng_();
  for (int i = 0; i < 8; ++i) b[8 + i] = static_cast<std::uint8_t>(r >> (56 - 8 * i));
  b[8] = static_cast<std::uint8_t>(0x80 | (b[8] & 0x3F));  // variant 10

  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(36);
  for (int i = 0; i < 16; ++i) {
    if (i == 4 || i == 6 || i == 8 || i == 10) out.push_back('-');
    out.push_back(kHex[b[i] >> 4]);
    out.push_back(kHex[b[i] & 0xF]);
  }
  return out;
}

bool is_uuid_text(std::string_view t) noexcept {
  if (t.size() != 36) return false;
  for (std::size_t i = 0; i < t.size(); ++i) {
    const char c = t[i];
    if (i == 8 || i == 13 || i == 18 || i == 23) {
      if (c != '-') return false;
    } else if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) {
      return false;
    }
  }
  return true;
}

}  // namespace planning::detail
