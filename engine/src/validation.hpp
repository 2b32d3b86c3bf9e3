// Input validation at the API boundary: limits, UTF-8, titles, metadata.
// Every check returns invalid_argument naming the field; nothing is written.
#pragma once

#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include <planning/events.hpp>
#include <planning/requests.hpp>

namespace planning::detail {

bool is_valid_utf8(std::string_view text) noexcept;
std::string trim(std::string_view text);
// Empty, or only Unicode white space and zero-width characters. REQUIRES: valid UTF-8.
bool is_blank(std::string_view text) noexcept;

// A string field: valid UTF-8 and at most `limit` bytes.
Result<void> check_text(std::string_view field, std::string_view value, std::size_t limit);
// Title: as check_text, and non-empty after trimming.
Result<void> check_title(std::string_view value);
// Metadata: a JSON object whose serialization fits limits::metadata. Returns the
// serialized form stored in events.
Result<std::string> check_metadata(const nlohmann::json& metadata);
// Metadata at most limits::json_depth deep, measured without recursion: checked
// before a request is copied (a copy recurses once per level).
Result<void> check_metadata_depth(const nlohmann::json& metadata);

Result<void> validate(const CreateRequest& request);
Result<void> validate(const UpdateRequest& request);
Result<void> validate(const ConvertRequest& request);
// An id passed to a lookup: a well-formed session id in either case, or not_found.
Result<void> check_session_id(std::string_view id);
// The stored (lower-case) form of a session id: every entry point taking an id
// looks it up in this form, so upper-case ids name the same session.
std::string canonical_session_id(std::string_view id);
Result<void> check_version_number(std::uint32_t number);
// The limits and encodings of an event's fields (import).
Result<void> validate_event_fields(const Event& event);
// User projection names: [a-z0-9_-]{1,64}.
bool is_projection_name(std::string_view name) noexcept;

}  // namespace planning::detail
