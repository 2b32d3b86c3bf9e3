// Big-endian integer packing for keys and frame headers (docs/FORMAT.md).
// Big-endian keys sort numerically under LMDB's default byte-wise comparator.
#pragma once

#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

namespace planning::detail {

// Writes `value` big-endian into out[0, sizeof(T)).
template <typename T>
inline void store_be(char* out, T value) {
  for (std::size_t i = 0; i < sizeof(T); ++i) {
    out[sizeof(T) - 1 - i] = static_cast<char>(static_cast<std::uint64_t>(value) >> (8 * i));
  }
}

template <typename T>
inline void put_be(std::string& out, T value) {
  char buf[sizeof(T)];
  store_be(buf, value);
  out.append(buf, sizeof(T));
}

template <typename T>
inline T get_be(std::string_view in, std::size_t offset) {
  std::uint64_t v = 0;
  for (std::size_t i = 0; i < sizeof(T); ++i) {
    v = (v << 8) | static_cast<unsigned char>(in[offset + i]);
  }
  return static_cast<T>(v);
}

inline std::string be64(std::uint64_t value) {
  std::string s;
  put_be(s, value);
  return s;
}

// Order-preserving encoding of a signed nanosecond timestamp.
inline std::uint64_t ordered_time(std::int64_t ns) {
  return static_cast<std::uint64_t>(ns) ^ (std::uint64_t{1} << 63);
}

}  // namespace planning::detail
