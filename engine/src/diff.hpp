// Line diff of two version contents (dtl, Wu's O(NP) algorithm).
#pragma once

#include <cstdint>
#include <string_view>

#include <planning/queries.hpp>

namespace planning::detail {

// Counts added / removed / unchanged lines from `before` to `after` and renders
// a unified diff with 3 lines of context and "--- version A" / "+++ version B"
// headers (empty when the contents are equal).
VersionDiff diff_versions(std::uint32_t from_version, std::string_view before,
                          std::uint32_t to_version, std::string_view after);

}  // namespace planning::detail
