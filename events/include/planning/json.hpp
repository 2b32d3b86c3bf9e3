// planning/json.hpp — JSON forms of the data model (stable field names, the same
// as the C++ members). Used by planctl --json and export; available to embedders.
//
// Timestamps are written twice: "<field>" as ISO-8601 UTC text and, for exact
// round trips, events carry "timestamp_ns" (int64 nanoseconds since the epoch).
#pragma once

#include <nlohmann/json.hpp>

#include <planning/events.hpp>
#include <planning/model.hpp>

namespace planning {

nlohmann::json to_json(const Session& session);
nlohmann::json to_json(const Version& version);
// to_json(const Event&) and event_from_json are declared in <planning/events.hpp>.

}  // namespace planning
