// ISO-8601 formatting and parsing of Timestamps (Howard Hinnant's date library).
#include <planning/model.hpp>

#include <cstdio>
#include <sstream>
#include <string>

#include <date/date.h>

namespace planning {

namespace {
constexpr int kFirstYear = kFirstTimestampYear;
constexpr int kLastYear = kLastTimestampYear;

// The "+hh:mm" / "-hh:mm" / "+hhmm" offset at the end of `text`, if any, must
// be at most 23:59 (date::parse takes any two-digit hours and minutes).
bool offset_in_range(const std::string& text) {
  const auto t = text.find('T') != std::string::npos ? text.find('T') : text.find(' ');
  if (t == std::string::npos) return true;
  const auto sign = text.find_first_of("+-", t);
  if (sign == std::string::npos) return true;
  std::string digits;
  for (char c : text.substr(sign + 1)) {
    if (c >= '0' && c <= '9') digits += c;
  }
  if (digits.size() < 2) return true;  // malformed; the parse rejects it
  const int hours = (digits[0] - '0') * 10 + (digits[1] - '0');
  const int minutes = digits.size() >= 4 ? (digits[2] - '0') * 10 + (digits[3] - '0') : 0;
  return hours <= 23 && minutes <= 59;
}
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
    if (!in.fail() && in.peek() == std::char_traits<char>::eof()) {
      if (!offset_in_range(input)) {
        return fail(ErrorCode::invalid_argument,
                    "date/time '" + input + "' has a UTC offset beyond 23:59");
      }
      return tp;
    }
  }
  return bad();
}

}  // namespace planning
