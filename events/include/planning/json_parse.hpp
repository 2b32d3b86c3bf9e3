// planning/json_parse.hpp — parsing untrusted JSON text with a nesting limit.
//
// Every JSON document the library or planctl accepts (metadata, import lines,
// the metadata_json of events, planctl's --metadata) nests arrays and objects at
// most kMaxJsonDepth deep. Deeper input is rejected while it is parsed, before
// any of it is built, so neither parsing nor serializing, copying, comparing or
// destroying an accepted document can recurse deeply (nlohmann's dump() and
// copies recurse once per level).
#pragma once

#include <cstddef>
#include <string_view>

#include <nlohmann/json.hpp>

#include <planning/result.hpp>

namespace planning {

// The outermost array or object is level 1: `{"a":[1]}` is 2 deep.
inline constexpr std::size_t kMaxJsonDepth = 64;

// One JSON document. invalid_argument when `text` is not JSON ("<what> is not
// valid JSON") or nests deeper than kMaxJsonDepth ("<what> nests deeper than the
// limit of 64 levels"). Never throws.
Result<nlohmann::json> parse_json(std::string_view text, std::string_view what = "JSON");

// Nesting depth of an already built value (a scalar is 0), without recursion.
// Counting stops once the depth exceeds `stop_after`, so the cost is bounded by
// the size of the value, never its depth.
std::size_t json_depth(const nlohmann::json& value, std::size_t stop_after = kMaxJsonDepth);

}  // namespace planning
