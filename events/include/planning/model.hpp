// planning/model.hpp — the data model: Session, Version, Status, Timestamp.
//
// Plain value types. They are what projections store and what the API returns;
// copying one never touches the database.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include <planning/result.hpp>

namespace planning {

// Wall-clock instant with nanosecond resolution (stored as int64 ns since the
// Unix epoch).
using Timestamp = std::chrono::sys_time<std::chrono::nanoseconds>;

// Session status. The numeric values are persisted: DO NOT CHANGE.
enum class Status : std::uint8_t {
  active = 1,
  paused = 2,
  converted = 3,
  archived = 4,
};

std::string_view to_string(Status status) noexcept;
// Parses "active" / "paused" / "converted" / "archived".
Result<Status> parse_status(std::string_view text);
// True when the state machine (docs/BEHAVIOUR.md) allows `from -> to`.
bool transition_allowed(Status from, Status to) noexcept;

// Current state of one planning session (the `sessions` projection).
struct Session {
  std::string id;  // UUIDv7 text, time-ordered
  std::string title;
  std::string description;

  std::string repository_url;
  std::string repository_path;
  std::string working_directory;

  Status status = Status::active;

  std::string content;               // current markdown
  std::uint32_t current_version = 0; // 0 = no version yet

  std::string pause_reason;
  std::optional<Timestamp> paused_at;
  std::optional<Timestamp> archived_at;

  std::string project_id;
  std::vector<std::string> work_item_ids;
  std::string converted_by;
  std::optional<Timestamp> converted_at;

  nlohmann::json metadata = nlohmann::json::object();  // always a JSON object

  Timestamp created_at{};
  Timestamp updated_at{};
  Timestamp last_activity_at{};
  std::string created_by;
  std::string updated_by;

  std::uint32_t stream_version = 0;  // events in this session's stream

  bool operator==(const Session&) const = default;
};

// One entry of a session's version history. `content` is the full snapshot.
struct Version {
  std::string session_id;
  std::uint32_t version_number = 0;  // 1, 2, 3, ...
  std::string content;
  std::string change_summary;
  std::vector<std::string> changed_fields;
  Timestamp created_at{};
  std::string created_by;
  std::uint64_t event_seq = 0;  // log position of the event that made it

  bool operator==(const Version&) const = default;
};

// ISO-8601 / RFC 3339 in UTC: microseconds ("2025-01-01T12:00:00.000000Z"), or
// nanoseconds when the value has them, so the text round-trips exactly.
std::string format_timestamp(Timestamp t);
// Accepts "YYYY-MM-DD", "YYYY-MM-DDTHH:MM[:SS[.fff]]" with "Z" or "+HH:MM" offset
// (an offset is at most 23:59). Years outside kFirstTimestampYear..kLastTimestampYear
// are invalid_argument.
Result<Timestamp> parse_timestamp(std::string_view text);

// Whole years inside the range of int64 nanoseconds since 1970 (1677-09-21 ..
// 2262-04-11): the years a parsed or imported time may have.
inline constexpr int kFirstTimestampYear = 1678;
inline constexpr int kLastTimestampYear = 2261;

}  // namespace planning
