// Big-endian integer packing for keys and frame headers (docs/FORMAT.md).
// Big-endian keys sort numerically under LMDB's default byte-wise comparator.
// And last_occurrence, a byte search the frame decoder needs.
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

// Where a non-empty `needle` last occurs in `haystack` (std::string_view::rfind's
// answer; npos for an empty needle): candidates for its first byte are found
// with memrchr, then compared. rfind calls memcmp at every position from the
// end, which was most of the cost of locating a frame's content field.
inline std::size_t last_occurrence(std::string_view haystack, std::string_view needle) {
  if (needle.empty() || needle.size() > haystack.size()) return std::string_view::npos;
  std::size_t end = haystack.size() - needle.size() + 1;  // candidates are [0, end)
  while (end > 0) {
    const void* found = ::memrchr(haystack.data(), needle[0], end);
    if (found == nullptr) break;
    const auto at = static_cast<std::size_t>(static_cast<const char*>(found) - haystack.data());
    if (std::memcmp(haystack.data() + at, needle.data(), needle.size()) == 0) return at;
    end = at;
  }
  return std::string_view::npos;
}

}  // namespace planning::detail
