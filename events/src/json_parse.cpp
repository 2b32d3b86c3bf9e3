// Depth-limited JSON parsing (see <planning/json_parse.hpp>). nlohmann's parser
// is iterative; its callback sees the depth of each array or object as it
// starts, so a too-deep one is discarded unbuilt and the whole parse fails.
#include <planning/json_parse.hpp>

#include <utility>
#include <vector>

#include <fmt/format.h>

namespace planning {

Result<nlohmann::json> parse_json(std::string_view text, std::string_view what) {
  using nlohmann::json;
  bool too_deep = false;
  // `depth` is the number of enclosing arrays/objects of the value starting.
  const json::parser_callback_t limit = [&too_deep](int depth, json::parse_event_t event, json&) {
    if (too_deep) return false;
    if ((event == json::parse_event_t::object_start || event == json::parse_event_t::array_start) &&
        static_cast<std::size_t>(depth) >= kMaxJsonDepth) {
      too_deep = true;
      return false;
    }
    return true;
  };
  json parsed;
  try {
    parsed = json::parse(text.begin(), text.end(), limit, /*allow_exceptions=*/false);
  } catch (const std::exception& e) {  // allocation failure; the parser reports errors as values
    return fail(ErrorCode::invalid_argument, fmt::format("{}: {}", what, e.what()));
  }
  if (too_deep) {
    return fail(ErrorCode::invalid_argument,
                fmt::format("{} nests deeper than the limit of {} levels", what, kMaxJsonDepth));
  }
  if (parsed.is_discarded()) {
    return fail(ErrorCode::invalid_argument, fmt::format("{} is not valid JSON", what));
  }
  return parsed;
}

std::size_t json_depth(const nlohmann::json& value, std::size_t stop_after) {
  // Depth-first over an explicit stack of (container, its depth).
  std::vector<std::pair<const nlohmann::json*, std::size_t>> stack;
  std::size_t deepest = 0;
  if (value.is_structured()) stack.emplace_back(&value, 1);
  while (!stack.empty()) {
    const auto [node, depth] = stack.back();
    stack.pop_back();
    deepest = std::max(deepest, depth);
    if (deepest > stop_after) return deepest;
    for (const auto& child : *node) {
      if (child.is_structured()) stack.emplace_back(&child, depth + 1);
    }
  }
  return deepest;
}

}  // namespace planning
