// planctl: turning command-line text into library values. Malformed numbers are
// usage errors (exit 2); well-formed values the library rejects, bad dates,
// durations, JSON and unreadable input files are invalid arguments (exit 4).
#pragma once

#include <chrono>
#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <string_view>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include <planning/planning.hpp>

namespace planctl {

// Decimal digits only (no sign, no octal or hex), at most `max`.
std::uint64_t parse_unsigned(std::string_view what, std::string_view text,
                             std::uint64_t max = std::numeric_limits<std::uint64_t>::max());
inline std::uint32_t parse_u32(std::string_view what, std::string_view text) {
  return static_cast<std::uint32_t>(
      parse_unsigned(what, text, std::numeric_limits<std::uint32_t>::max()));
}

// "90s", "30m", "24h", "7d", "2w", "500ms", or sums like "1d12h".
std::chrono::nanoseconds parse_duration(std::string_view what, std::string_view text);
// ISO-8601 as accepted by planning::parse_timestamp.
planning::Timestamp parse_time(std::string_view what, std::string_view text);
planning::Status parse_status(std::string_view what, std::string_view text);
planning::EventType parse_event_type(std::string_view what, std::string_view text);
planning::OrderBy parse_order_by(std::string_view what, std::string_view text);
// A JSON document (metadata), at most planning::kMaxJsonDepth deep; its shape
// is checked by the library.
nlohmann::json parse_json(std::string_view what, std::string_view text);

// Whole contents of `path`, or of stdin when `path` is "-". A missing, unreadable
// or directory path, or a closed stdin, is invalid_argument (exit 4).
std::string read_file_or_stdin(std::string_view what, const std::string& path);
// Fails (exit 4) when stdin is closed (`<&-`), so "-" never reads it as empty.
void require_stdin(std::string_view what);

// The option's value when it was given on the command line (even if empty).
template <typename T>
std::optional<T> given(const CLI::Option* option, const T& value) {
  if (option->count() == 0) return std::nullopt;
  return value;
}

}  // namespace planctl
