#include "input.hpp"

#include <cerrno>
#include <charconv>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iostream>
#include <iterator>
#include <sstream>

#include <fcntl.h>
#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>

#include "context.hpp"
#include "std_fds.hpp"

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
  // Depth-limited (planning::kMaxJsonDepth): a deeply nested document is
  // rejected before it is built.
  auto value = planning::parse_json(text);
  if (!value) fail(Exit::invalid_argument, fmt::format("{}: {}", what, value.error().message));
  return std::move(*value);
}

void require_stdin(std::string_view what) {
  if (stdin_was_closed()) fail(Exit::invalid_argument, fmt::format("{}: stdin is closed", what));
}

std::string read_file_or_stdin(std::string_view what, const std::string& path) {
  // POSIX reads: no iostream exception (a directory makes one) can escape, and
  // every failure names the input and exits 4 (an unreadable input file).
  int fd = STDIN_FILENO;
  const std::string name = path == "-" ? "stdin" : "'" + path + "'";
  if (path == "-") {
    require_stdin(what);
  } else {
    fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0)
      fail(Exit::invalid_argument,
           fmt::format("{}: cannot open {}: {}", what, name, std::strerror(errno)));
  }
  struct stat st {};
  if (::fstat(fd, &st) == 0 && S_ISDIR(st.st_mode)) {
    if (fd != STDIN_FILENO) ::close(fd);
    fail(Exit::invalid_argument, fmt::format("{}: {} is a directory", what, name));
  }
  std::string content;
  char buffer[65536];
  for (;;) {
    const auto n = ::read(fd, buffer, sizeof buffer);
    if (n == 0) break;
    if (n < 0) {
      if (errno == EINTR) continue;
      const int err = errno;
      if (fd != STDIN_FILENO) ::close(fd);
      fail(Exit::invalid_argument,
           fmt::format("{}: cannot read {}: {}", what, name, std::strerror(err)));
    }
    content.append(buffer, static_cast<std::size_t>(n));
  }
  if (fd != STDIN_FILENO) ::close(fd);
  return content;
}

}  // namespace planctl
