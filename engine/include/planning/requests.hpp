// planning/requests.hpp — the inputs of the mutating operations, and the field
// limits every entry point enforces (docs/BEHAVIOUR.md).
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include <planning/json_parse.hpp>

namespace planning {

// Field limits (bytes, UTF-8). Larger input is ErrorCode::invalid_argument.
namespace limits {
inline constexpr std::size_t title = 1024;
inline constexpr std::size_t description = 64 * 1024;
inline constexpr std::size_t repository_field = 4096;  // path, url, working directory
inline constexpr std::size_t content = 16 * 1024 * 1024;
inline constexpr std::size_t change_summary = 4096;
inline constexpr std::size_t actor = 256;
inline constexpr std::size_t pause_reason = 4096;
inline constexpr std::size_t project_id = 256;
inline constexpr std::size_t work_item_id = 256;
inline constexpr std::size_t work_item_count = 10000;
inline constexpr std::size_t metadata = 256 * 1024;  // serialized JSON
// Nesting of arrays and objects in metadata (the object itself is level 1), and
// in every JSON document the library parses: <planning/json_parse.hpp>.
inline constexpr std::size_t json_depth = kMaxJsonDepth;
// import_events rejects an event dated more than this ahead of the manager's
// clock (later events could never be dated earlier than it).
inline constexpr std::chrono::hours import_skew{24};
}  // namespace limits

struct CreateRequest {
  std::string title{};  // REQUIRES: non-empty after trimming
  std::string description{};
  std::string repository_path{};
  std::string repository_url{};
  std::string working_directory{};
  std::optional<std::string> initial_content{};  // present => version 1
  std::string created_by{};
  nlohmann::json metadata = nlohmann::json::object();  // must be a JSON object
};

// Only the fields that are set are changed.
struct UpdateRequest {
  std::optional<std::string> title{};
  std::optional<std::string> description{};
  std::optional<std::string> content{};
  std::optional<std::string> repository_path{};
  std::optional<std::string> repository_url{};
  std::optional<std::string> working_directory{};
  std::optional<nlohmann::json> metadata{};  // replaces the whole object
  std::string change_summary{};
  std::string updated_by{};
  // When set, the update applies only if the session's stream_version equals it;
  // otherwise ErrorCode::conflict and nothing is appended.
  std::optional<std::uint32_t> expected_stream_version{};
};

struct ConvertRequest {
  std::string project_id{};  // REQUIRES: non-empty
  std::vector<std::string> work_item_ids{};
  std::string converted_by{};
};

}  // namespace planning
