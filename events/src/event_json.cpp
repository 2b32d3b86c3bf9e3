// JSON forms of events, sessions and versions (see <planning/json.hpp> and
// <planning/events.hpp>). Field names are the C++ member names, so the JSON a
// tool prints, the JSON Lines of export/import and the C++ data model agree.
//
// event_from_json is the parser behind import: it trusts nothing. Every field is
// checked for presence, type and range; unknown fields are rejected (a field we
// would drop silently could not be re-hashed); errors are values
// (ErrorCode::invalid_argument naming the field), and no exception escapes.
#include <charconv>
#include <chrono>
#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include <fmt/format.h>

#include <planning/events.hpp>
#include <planning/json.hpp>
#include <planning/model.hpp>

namespace planning {
namespace {

using nlohmann::json;

// --- Writing ---------------------------------------------------------------

json optional_time(const std::optional<Timestamp>& t) {
  return t ? json(format_timestamp(*t)) : json(nullptr);
}

std::int64_t nanoseconds_since_epoch(Timestamp t) { return t.time_since_epoch().count(); }

std::string checksum_hex(std::uint64_t checksum) { return fmt::format("{:016x}", checksum); }

// Optional payload fields are omitted when absent (not written as null).
void put_optional(json& out, const char* key, const std::optional<std::string>& value) {
  if (value) out[key] = *value;
}

json payload_json(const SessionCreated& p) {
  json out = {{"title", p.title},
              {"description", p.description},
              {"repository_path", p.repository_path},
              {"repository_url", p.repository_url},
              {"working_directory", p.working_directory},
              {"metadata_json", p.metadata_json}};
  put_optional(out, "initial_content", p.initial_content);
  return out;
}

json payload_json(const SessionUpdated& p) {
  json out = {{"change_summary", p.change_summary},
              {"changed_fields", p.changed_fields},
              {"version_number", p.version_number}};
  put_optional(out, "title", p.title);
  put_optional(out, "description", p.description);
  put_optional(out, "repository_path", p.repository_path);
  put_optional(out, "repository_url", p.repository_url);
  put_optional(out, "working_directory", p.working_directory);
  put_optional(out, "metadata_json", p.metadata_json);
  put_optional(out, "content", p.content);
  return out;
}

json payload_json(const SessionPaused& p) { return {{"reason", p.reason}}; }
json payload_json(const SessionResumed&) { return json::object(); }
json payload_json(const SessionConverted& p) {
  return {{"project_id", p.project_id}, {"work_item_ids", p.work_item_ids}};
}
json payload_json(const SessionArchived&) { return json::object(); }
json payload_json(const VersionRestored& p) {
  return {{"restored_from", p.restored_from},
          {"version_number", p.version_number},
          {"content", p.content}};
}
json payload_json(const VersionCreated& p) {
  return {{"version_number", p.version_number},
          {"change_summary", p.change_summary},
          {"content_seq", p.content_seq}};
}
json payload_json(const SessionRemoved&) { return json::object(); }

// --- Reading ---------------------------------------------------------------

std::unexpected<Error> bad_field(std::string_view field, std::string_view what) {
  return fail(ErrorCode::invalid_argument,
              fmt::format("invalid event JSON: field '{}' {}", field, what));
}

std::string_view json_type_name(const json& value) {
  return value.is_number_float() ? "a floating-point number" : value.type_name();
}

// Typed, validating access to the members of one JSON object. `path` prefixes
// field names in messages ("payload." for payload fields).
class FieldReader {
 public:
  FieldReader(const json& object, std::string path) : object_(object), path_(std::move(path)) {}

  std::string name(std::string_view key) const { return path_ + std::string(key); }

  // Rejects members not in `known`.
  Result<void> only(std::initializer_list<std::string_view> known) const {
    for (const auto& item : object_.items()) {
      bool found = false;
      for (auto k : known) found = found || item.key() == k;
      if (!found) return bad_field(name(item.key()), "is not a known field");
    }
    return {};
  }

  Result<const json*> member(std::string_view key) const {
    auto it = object_.find(key);
    if (it == object_.end()) return bad_field(name(key), "is missing");
    return &*it;
  }

  Result<std::string> string(std::string_view key) const {
    auto value = member(key);
    if (!value) return std::unexpected(value.error());
    if (!(*value)->is_string())
      return bad_field(name(key), fmt::format("must be a string, not {}", json_type_name(**value)));
    return (*value)->get<std::string>();
  }

  // Absent => nullopt; present => must be a string (null is not accepted: the
  // writer omits absent fields, so a null is a malformed document).
  Result<std::optional<std::string>> optional_string(std::string_view key) const {
    if (!object_.contains(key)) return std::optional<std::string>{};
    auto value = string(key);
    if (!value) return std::unexpected(value.error());
    return std::optional<std::string>(std::move(*value));
  }

  template <typename T>
  Result<T> unsigned_integer(std::string_view key, T min = 0,
                             T max = std::numeric_limits<T>::max()) const {
    static_assert(std::is_unsigned_v<T>);
    auto value = member(key);
    if (!value) return std::unexpected(value.error());
    const json& v = **value;
    if (!v.is_number_integer())
      return bad_field(name(key),
                       fmt::format("must be an unsigned integer, not {}", json_type_name(v)));
    if (!v.is_number_unsigned() && v.get<std::int64_t>() < 0)
      return bad_field(name(key),
                       fmt::format("must be in [{}, {}], not {}", min, max, v.get<std::int64_t>()));
    const auto raw = v.get<std::uint64_t>();
    if (raw < min || raw > max)
      return bad_field(name(key), fmt::format("must be in [{}, {}], not {}", min, max, raw));
    return static_cast<T>(raw);
  }

  Result<std::int64_t> signed_integer(std::string_view key) const {
    auto value = member(key);
    if (!value) return std::unexpected(value.error());
    const json& v = **value;
    if (!v.is_number_integer())
      return bad_field(name(key), fmt::format("must be an integer, not {}", json_type_name(v)));
    if (v.is_number_unsigned() &&
        v.get<std::uint64_t>() >
            static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max()))
      return bad_field(name(key), "is out of the int64 range");
    return v.get<std::int64_t>();
  }

  Result<std::vector<std::string>> string_array(std::string_view key) const {
    auto value = member(key);
    if (!value) return std::unexpected(value.error());
    const json& v = **value;
    if (!v.is_array())
      return bad_field(name(key), fmt::format("must be an array, not {}", json_type_name(v)));
    std::vector<std::string> out;
    out.reserve(v.size());
    for (std::size_t i = 0; i < v.size(); ++i) {
      if (!v[i].is_string())
        return bad_field(fmt::format("{}[{}]", name(key), i),
                         fmt::format("must be a string, not {}", json_type_name(v[i])));
      out.push_back(v[i].get<std::string>());
    }
    return out;
  }

  // Fixed-length lower- or upper-case hex text.
  Result<std::vector<std::uint8_t>> hex(std::string_view key, std::size_t bytes) const {
    auto text = string(key);
    if (!text) return std::unexpected(text.error());
    if (text->size() != bytes * 2)
      return bad_field(name(key),
                       fmt::format("must be {} hex characters, not {}", bytes * 2, text->size()));
    std::vector<std::uint8_t> out(bytes);
    for (std::size_t i = 0; i < bytes; ++i) {
      const char* first = text->data() + 2 * i;
      auto [ptr, ec] = std::from_chars(first, first + 2, out[i], 16);
      if (ec != std::errc{} || ptr != first + 2)
        return bad_field(name(key), "must contain only hex digits");
    }
    return out;
  }

 private:
  const json& object_;
  std::string path_;
};

// Unwraps a Result into `target`, or returns its error from the enclosing function.
#define PLANNING_JSON_TRY(target, expr)                                      \
  do {                                                                       \
    auto planning_json_r_ = (expr);                                          \
    if (!planning_json_r_) return std::unexpected(planning_json_r_.error()); \
    target = std::move(*planning_json_r_);                                   \
  } while (false)

// Returns the error of a Result<void> from the enclosing function.
#define PLANNING_JSON_CHECK(expr)                          \
  do {                                                     \
    if (auto planning_json_r_ = (expr); !planning_json_r_) \
      return std::unexpected(planning_json_r_.error());    \
  } while (false)

Result<EventPayload> parse_payload(EventType type, const json& object) {
  if (!object.is_object())
    return bad_field("payload", fmt::format("must be an object, not {}", json_type_name(object)));
  const FieldReader r(object, "payload.");
  constexpr auto u32_max = std::numeric_limits<std::uint32_t>::max();
  switch (type) {
    case EventType::session_created: {
      PLANNING_JSON_CHECK(r.only({"title", "description", "repository_path", "repository_url",
                                  "working_directory", "initial_content", "metadata_json"}));
      SessionCreated p;
      PLANNING_JSON_TRY(p.title, r.string("title"));
      PLANNING_JSON_TRY(p.description, r.string("description"));
      PLANNING_JSON_TRY(p.repository_path, r.string("repository_path"));
      PLANNING_JSON_TRY(p.repository_url, r.string("repository_url"));
      PLANNING_JSON_TRY(p.working_directory, r.string("working_directory"));
      PLANNING_JSON_TRY(p.initial_content, r.optional_string("initial_content"));
      PLANNING_JSON_TRY(p.metadata_json, r.string("metadata_json"));
      return p;
    }
    case EventType::session_updated: {
      PLANNING_JSON_CHECK(r.only({"title", "description", "repository_path", "repository_url",
                                  "working_directory", "metadata_json", "content", "change_summary",
                                  "changed_fields", "version_number"}));
      SessionUpdated p;
      PLANNING_JSON_TRY(p.title, r.optional_string("title"));
      PLANNING_JSON_TRY(p.description, r.optional_string("description"));
      PLANNING_JSON_TRY(p.repository_path, r.optional_string("repository_path"));
      PLANNING_JSON_TRY(p.repository_url, r.optional_string("repository_url"));
      PLANNING_JSON_TRY(p.working_directory, r.optional_string("working_directory"));
      PLANNING_JSON_TRY(p.metadata_json, r.optional_string("metadata_json"));
      PLANNING_JSON_TRY(p.content, r.optional_string("content"));
      PLANNING_JSON_TRY(p.change_summary, r.string("change_summary"));
      PLANNING_JSON_TRY(p.changed_fields, r.string_array("changed_fields"));
      PLANNING_JSON_TRY(p.version_number, r.unsigned_integer<std::uint32_t>("version_number"));
      return p;
    }
    case EventType::session_paused: {
      PLANNING_JSON_CHECK(r.only({"reason"}));
      SessionPaused p;
      PLANNING_JSON_TRY(p.reason, r.string("reason"));
      return p;
    }
    case EventType::session_resumed: {
      PLANNING_JSON_CHECK(r.only({}));
      return SessionResumed{};
    }
    case EventType::session_converted: {
      PLANNING_JSON_CHECK(r.only({"project_id", "work_item_ids"}));
      SessionConverted p;
      PLANNING_JSON_TRY(p.project_id, r.string("project_id"));
      PLANNING_JSON_TRY(p.work_item_ids, r.string_array("work_item_ids"));
      return p;
    }
    case EventType::session_archived: {
      PLANNING_JSON_CHECK(r.only({}));
      return SessionArchived{};
    }
    case EventType::version_restored: {
      PLANNING_JSON_CHECK(r.only({"restored_from", "version_number", "content"}));
      VersionRestored p;
      PLANNING_JSON_TRY(p.restored_from,
                        r.unsigned_integer<std::uint32_t>("restored_from", 1, u32_max));
      PLANNING_JSON_TRY(p.version_number,
                        r.unsigned_integer<std::uint32_t>("version_number", 1, u32_max));
      PLANNING_JSON_TRY(p.content, r.string("content"));
      return p;
    }
    case EventType::version_created: {
      PLANNING_JSON_CHECK(r.only({"version_number", "change_summary", "content_seq"}));
      VersionCreated p;
      PLANNING_JSON_TRY(p.version_number,
                        r.unsigned_integer<std::uint32_t>("version_number", 1, u32_max));
      PLANNING_JSON_TRY(p.change_summary, r.string("change_summary"));
      PLANNING_JSON_TRY(p.content_seq, r.unsigned_integer<std::uint64_t>("content_seq"));
      return p;
    }
    case EventType::session_removed: {
      PLANNING_JSON_CHECK(r.only({}));
      return SessionRemoved{};
    }
  }
  return bad_field("type", "is not a known event type");
}

Result<Event> parse_event(const json& object) {
  if (!object.is_object())
    return fail(
        ErrorCode::invalid_argument,
        fmt::format("invalid event JSON: expected an object, not {}", json_type_name(object)));
  const FieldReader r(object, "");
  PLANNING_JSON_CHECK(
      r.only({"sequence", "session_id", "stream_version", "type", "schema_version", "timestamp",
              "timestamp_ns", "actor", "payload_checksum", "prev_hash", "payload"}));

  Event event;
  PLANNING_JSON_TRY(event.sequence, r.unsigned_integer<std::uint64_t>("sequence", 1));
  PLANNING_JSON_TRY(event.session_id, r.string("session_id"));
  if (event.session_id.empty()) return bad_field("session_id", "must not be empty");
  PLANNING_JSON_TRY(event.stream_version, r.unsigned_integer<std::uint32_t>("stream_version", 1));

  std::string type_name;
  PLANNING_JSON_TRY(type_name, r.string("type"));
  auto type = parse_event_type(type_name);
  if (!type) return bad_field("type", fmt::format("names no event type: \"{}\"", type_name));
  event.type = *type;

  PLANNING_JSON_TRY(event.schema_version, r.unsigned_integer<std::uint16_t>("schema_version", 1));

  std::int64_t ns = 0;
  PLANNING_JSON_TRY(ns, r.signed_integer("timestamp_ns"));
  event.timestamp = Timestamp{std::chrono::nanoseconds{ns}};
  // The text form is for readers; timestamp_ns is exact. Both must agree, so an
  // edit to one of them alone is caught rather than silently ignored.
  std::string text;
  PLANNING_JSON_TRY(text, r.string("timestamp"));
  if (text != format_timestamp(event.timestamp))
    return bad_field("timestamp", fmt::format("\"{}\" does not match timestamp_ns {} ({})", text,
                                              ns, format_timestamp(event.timestamp)));

  PLANNING_JSON_TRY(event.actor, r.string("actor"));

  std::vector<std::uint8_t> bytes;
  PLANNING_JSON_TRY(bytes, r.hex("payload_checksum", sizeof(std::uint64_t)));
  event.payload_checksum = 0;
  for (auto b : bytes) event.payload_checksum = (event.payload_checksum << 8) | b;

  PLANNING_JSON_TRY(bytes, r.hex("prev_hash", event.prev_hash.size()));
  std::copy(bytes.begin(), bytes.end(), event.prev_hash.begin());

  const json* payload = nullptr;
  PLANNING_JSON_TRY(payload, r.member("payload"));
  PLANNING_JSON_TRY(event.payload, parse_payload(event.type, *payload));
  return event;
}

#undef PLANNING_JSON_TRY
#undef PLANNING_JSON_CHECK

}  // namespace

nlohmann::json to_json(const Event& event) {
  return {{"sequence", event.sequence},
          {"session_id", event.session_id},
          {"stream_version", event.stream_version},
          {"type", std::string(to_string(event.type))},
          {"schema_version", event.schema_version},
          {"timestamp", format_timestamp(event.timestamp)},
          {"timestamp_ns", nanoseconds_since_epoch(event.timestamp)},
          {"actor", event.actor},
          {"payload_checksum", checksum_hex(event.payload_checksum)},
          {"prev_hash", to_hex(event.prev_hash)},
          {"payload", std::visit([](const auto& p) { return payload_json(p); }, event.payload)}};
}

Result<Event> event_from_json(const nlohmann::json& json) {
  try {
    return parse_event(json);
  } catch (const std::exception& e) {
    // nlohmann accessors are only called after their type checks, so this is a
    // defensive net (and bad_alloc); the contract is that nothing escapes.
    return fail(ErrorCode::invalid_argument, fmt::format("invalid event JSON: {}", e.what()));
  }
}

nlohmann::json to_json(const Session& session) {
  return {{"id", session.id},
          {"title", session.title},
          {"description", session.description},
          {"repository_url", session.repository_url},
          {"repository_path", session.repository_path},
          {"working_directory", session.working_directory},
          {"status", std::string(to_string(session.status))},
          {"content", session.content},
          {"current_version", session.current_version},
          {"pause_reason", session.pause_reason},
          {"paused_at", optional_time(session.paused_at)},
          {"archived_at", optional_time(session.archived_at)},
          {"project_id", session.project_id},
          {"work_item_ids", session.work_item_ids},
          {"converted_by", session.converted_by},
          {"converted_at", optional_time(session.converted_at)},
          {"metadata", session.metadata.is_object() ? session.metadata : json::object()},
          {"created_at", format_timestamp(session.created_at)},
          {"updated_at", format_timestamp(session.updated_at)},
          {"last_activity_at", format_timestamp(session.last_activity_at)},
          {"created_by", session.created_by},
          {"updated_by", session.updated_by},
          {"stream_version", session.stream_version}};
}

nlohmann::json to_json(const Version& version) {
  return {{"session_id", version.session_id},
          {"version_number", version.version_number},
          {"content", version.content},
          {"change_summary", version.change_summary},
          {"changed_fields", version.changed_fields},
          {"created_at", format_timestamp(version.created_at)},
          {"created_by", version.created_by},
          {"event_seq", version.event_seq}};
}

}  // namespace planning
