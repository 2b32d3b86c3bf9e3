// Key builders of the query indexes (shared by the indexes projection and the
// query planner). Layout: docs/FORMAT.md, "Indexes".
#pragma once

#include <string>
#include <string_view>

#include <planning/model.hpp>

namespace planning::detail {

std::string status_key(Status status);
// 8-byte key of a string-valued index (XXH3-64, big-endian). Collisions are
// resolved by the reader comparing the session's actual field.
std::string string_key(std::string_view value);
// ordered_time(t) big-endian (8 bytes) followed by the session id.
std::string time_id_key(Timestamp t, std::string_view id);
std::string_view id_of_time_id_key(std::string_view key);

}  // namespace planning::detail
