// ISO-8601 formatting and parsing of Timestamps (Howard Hinnant's date library).
#include <planning/model.hpp>

#include <cstdio>
#include <sstream>
#include <string>

#include <date/date.h>

namespace planning {

namespace {
// Whole years inside the range of int64 nanoseconds since 1970
// (1677-09-21 .. 2262-04-11).
constexpr int kFirstYear = 1678;
constexpr int kLastYear = 2261;
}  // namespace

std::string format_timestamp(Timestamp t) {
  // Split into whole seconds and a fraction first: formatting a nanosecond
  // time_point converts days back to nanoseconds, which overflows near the ends
  // of the int64 range (UBSan found it with an imported timestamp).
  const std::int64_t ns = t.time_since_epoch().count();
  std::int64_t secs = ns / 1'000'000'000;
  std::int64_t frac = ns % 1'000'000'000;
  if (frac < 0) {
    frac += 1'000'000'000;
    secs -= 1;
  }
  const date::sys_seconds whole{std::chrono::seconds{secs}};
  std::string text = date::format("%FT%T", whole);
  // Microseconds unless the value needs nanoseconds, so text round-trips exactly.
  char buf[16];
  if (frac % 1000 == 0) {
    std::snprintf(buf, sizeof buf, ".%06lldZ", static_cast<long long>(frac / 1000));
  } else {
    std::snprintf(buf, sizeof buf, ".%09lldZ", static_cast<long long>(frac));
  }
  return text + buf;
}

Result<Timestamp> parse_timestamp(std::string_view text) {
  const std::string input(text);
  auto bad = [&] {
    return fail(ErrorCode::invalid_argument,
                "invalid date/time '" + input +
                    "' (expected ISO-8601, e.g. 2025-01-31 or 2025-01-31T12:00:00Z)");
  };
  if (input.empty() || input.size() > 64) return bad();
  // A Timestamp is int64 nanoseconds since 1970: years 1678..2261 fit. Check the
  // year first, because parsing a date outside that range into nanoseconds
  // overflows (undefined behaviour) instead of failing.
  if (input.size() < 5 || input[4] != '-') return bad();
  int year = 0;
  for (int i = 0; i < 4; ++i) {
    if (input[i] < '0' || input[i] > '9') return bad();
    year = year * 10 + (input[i] - '0');
  }
  if (year < kFirstYear || year > kLastYear) {
    return fail(ErrorCode::invalid_argument,
                "date/time '" + input + "' is outside the supported years " +
                    std::to_string(kFirstYear) + " to " + std::to_string(kLastYear));
  }

  // Date only: midnight UTC.
  if (input.size() == 10) {
    std::istringstream in(input);
    date::sys_days day;
    in >> date::parse("%F", day);
    if (in.fail() || in.peek() != std::char_traits<char>::eof()) return bad();
    return Timestamp{day};
  }
  // Date and time, with optional seconds/fraction and a Z or +hh:mm offset.
  for (const char* fmt : {"%FT%T%Ez", "%FT%TZ", "%FT%T", "%FT%R%Ez", "%FT%RZ", "%FT%R",
                          "%F %T%Ez", "%F %TZ", "%F %T"}) {
    std::istringstream in(input);
    date::sys_time<std::chrono::nanoseconds> tp;
    in >> date::parse(fmt, tp);
    if (!in.fail() && in.peek() == std::char_traits<char>::eof()) return tp;
  }
  return bad();
}

}  // namespace planning
