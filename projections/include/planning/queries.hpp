// planning/queries.hpp — query filters, statistics and diff results.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include <planning/model.hpp>

namespace planning {

enum class OrderBy : std::uint8_t { created_at, updated_at, last_activity_at, title };

std::string_view to_string(OrderBy order) noexcept;
Result<OrderBy> parse_order_by(std::string_view text);

// Filters for SessionManager::list. Every set field must match (AND); an empty
// `status` set means any status. Date bounds are exclusive ("after" / "before").
// Cost: reads the narrowest index the filters allow; grows with the answer, not
// with the number of sessions.
struct SessionFilters {
  std::set<Status> status;
  std::optional<std::string> repository_path;
  std::optional<std::string> repository_url;
  std::optional<std::string> project_id;
  std::optional<std::string> created_by;
  std::optional<Timestamp> created_after;
  std::optional<Timestamp> created_before;
  std::optional<Timestamp> updated_after;
  std::optional<Timestamp> updated_before;
  std::optional<bool> has_content;             // content non-empty
  std::optional<std::string> title_contains;   // case-insensitive (ASCII) substring
  OrderBy order_by = OrderBy::created_at;
  bool descending = false;
  std::optional<std::size_t> limit;            // none = all
  std::size_t offset = 0;
};

struct Statistics {
  std::uint64_t total_sessions = 0;  // excludes removed sessions
  std::uint64_t active_sessions = 0;
  std::uint64_t paused_sessions = 0;
  std::uint64_t converted_sessions = 0;
  std::uint64_t archived_sessions = 0;
  std::uint64_t removed_sessions = 0;
  std::uint64_t sessions_with_content = 0;
  std::uint64_t total_versions = 0;  // over sessions not removed
  double average_versions_per_session = 0.0;
  std::uint64_t total_events = 0;  // log head sequence

  bool operator==(const Statistics&) const = default;
};

struct VersionDiff {
  std::uint32_t from_version = 0;
  std::uint32_t to_version = 0;
  std::uint64_t lines_added = 0;
  std::uint64_t lines_removed = 0;
  std::uint64_t lines_unchanged = 0;
  std::string unified;  // unified diff, "--- version A" / "+++ version B" headers
};

}  // namespace planning
