#include "input.hpp"

#include <cerrno>
#include <charconv>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iostream>
#include <iterator>
#include <sstream>

#include <fmt/format.h>

#include "context.hpp"

namespace planctl {

std::uint64_t parse_unsigned(std::string_view what, std::string_view text, std::uint64_t max) {
  std::uint64_t value = 0;
  const auto* end = text.data() + text.size();
  auto [ptr, ec] = std::from_chars(text.data(), end, value, 10);
  const bool digits_only =
      !text.empty() && text.find_first_not_of("0123456789") == std::string_view::npos;
  if (!digits_only || ec != std::errc{} || ptr != end || value > max)
    fail(Exit::usage,
         fmt::format("{}: expected a whole number from 0 to {}, got '{}'", what, max, text));
  return value;
}

std::chrono::nanoseconds parse_duration(std::string_view what, std::string_view text) {
  using namespace std::chrono;
  auto bad = [&] {
    fail(Exit::invalid_argument,
         fmt::format("{}: invalid duration '{}' (use e.g. 90s, 30m, 24h, 7d, 2w or 1d12h)", what,
                     text));
  };
  if (text.empty()) bad();
  nanoseconds total{0};
  std::string_view rest = text;
  while (!rest.empty()) {
    std::uint64_t n = 0;
    auto [ptr, ec] = std::from_chars(rest.data(), rest.data() + rest.size(), n, 10);
    if (ec != std::errc{} || ptr == rest.data()) bad();
    rest.remove_prefix(static_cast<std::size_t>(ptr - rest.data()));
    std::size_t unit_len = 0;
    while (unit_len < rest.size() && rest[unit_len] >= 'a' && rest[unit_len] <= 'z') ++unit_len;
    const auto unit = rest.substr(0, unit_len);
    rest.remove_prefix(unit_len);
    std::int64_t ns_per_unit = 0;
    if (unit == "ms")
      ns_per_unit = 1'000'000;
    else if (unit == "s")
      ns_per_unit = 1'000'000'000;
    else if (unit == "m")
      ns_per_unit = 60'000'000'000;
    else if (unit == "h")
      ns_per_unit = 3'600'000'000'000;
    else if (unit == "d")
      ns_per_unit = 86'400'000'000'000;
    else if (unit == "w")
      ns_per_unit = 604'800'000'000'000;
    else
      bad();
    // 2^63 ns is about 292 years: anything longer is a typo.
    if (n > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max() / ns_per_unit) ||
        total.count() >
            std::numeric_limits<std::int64_t>::max() - static_cast<std::int64_t>(n) * ns_per_unit)
      bad();
    total += nanoseconds{static_cast<std::int64_t>(n) * ns_per_unit};
  }
  return total;
}

planning::Timestamp parse_time(std::string_view what, std::string_view text) {
  return unwrap(planning::parse_timestamp(text), what);
}

planning::Status parse_status(std::string_view what, std::string_view text) {
  return unwrap(planning::parse_status(text), what);
}

planning::EventType parse_event_type(std::string_view what, std::string_view text) {
  return unwrap(planning::parse_event_type(text), what);
}

planning::OrderBy parse_order_by(std::string_view what, std::string_view text) {
  return unwrap(planning::parse_order_by(text), what);
}

nlohmann::json parse_json(std::string_view what, std::string_view text) {
  auto value = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (value.is_discarded()) fail(Exit::invalid_argument, fmt::format("{}: not valid JSON", what));
  return value;
}

std::string read_file_or_stdin(std::string_view what, const std::string& path) {
  if (path == "-") {
    std::ostringstream buffer;
    buffer << std::cin.rdbuf();
    if (std::cin.bad()) fail(Exit::storage, fmt::format("{}: cannot read stdin", what));
    return std::move(buffer).str();
  }
  std::ifstream in(path, std::ios::binary);
  if (!in)
    fail(Exit::invalid_argument,
         fmt::format("{}: cannot open '{}': {}", what, path, std::strerror(errno)));
  std::string content{std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
  if (in.bad()) fail(Exit::storage, fmt::format("{}: cannot read '{}'", what, path));
  return content;
}

}  // namespace planctl
