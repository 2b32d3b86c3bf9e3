// planning/events.hpp — the immutable events of the log.
//
// Every operation appends exactly one event. An Event is the decoded envelope
// plus a typed payload. The on-disk layout is specified in docs/FORMAT.md; the
// encoder and decoder (events/src/event_codec.*) follow that document.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include <planning/model.hpp>

namespace planning {

// Event type ids are persisted in every frame: DO NOT CHANGE OR REUSE a value.
enum class EventType : std::uint16_t {
  session_created = 1,
  session_updated = 2,
  session_paused = 3,
  session_resumed = 4,
  session_converted = 5,
  session_archived = 6,
  version_restored = 7,
  version_created = 8,
  session_removed = 9,
};

std::string_view to_string(EventType type) noexcept;
// Parses the names above ("session_created", ...); also accepts the short form
// without the "session_" prefix ("created", "paused", ...).
Result<EventType> parse_event_type(std::string_view text);

// --- Payloads, as the API sees them: content is always full text. On disk
// each payload type is at schema version 2 (content stored raw, as a zstd
// keyframe or as a line delta) and schema 1 (content raw) stays readable
// (docs/FORMAT.md §2.1, §7). Fields only ever get added; a new field gets a
// schema-version bump and a default for older events (upcasting).

struct SessionCreated {
  std::string title;
  std::string description;
  std::string repository_path;
  std::string repository_url;
  std::string working_directory;
  std::optional<std::string> initial_content;  // present => version 1 was made
  std::string metadata_json;                   // a JSON object, serialized
  bool operator==(const SessionCreated&) const = default;
};

// An `update`: only the fields that changed are present. `version_number` is the
// version this update made (0 = none: content unchanged, or auto_version off).
struct SessionUpdated {
  std::optional<std::string> title;
  std::optional<std::string> description;
  std::optional<std::string> repository_path;
  std::optional<std::string> repository_url;
  std::optional<std::string> working_directory;
  std::optional<std::string> metadata_json;
  std::optional<std::string> content;
  std::string change_summary;
  std::vector<std::string> changed_fields;
  std::uint32_t version_number = 0;
  bool operator==(const SessionUpdated&) const = default;
};

struct SessionPaused {
  std::string reason;
  bool operator==(const SessionPaused&) const = default;
};

struct SessionResumed {
  bool operator==(const SessionResumed&) const = default;
};

struct SessionConverted {
  std::string project_id;
  std::vector<std::string> work_item_ids;
  bool operator==(const SessionConverted&) const = default;
};

struct SessionArchived {
  bool operator==(const SessionArchived&) const = default;
};

// restore_version: a NEW version whose content equals version `restored_from`.
// The content is carried in the event so that every event folds on its own.
struct VersionRestored {
  std::uint32_t restored_from = 0;
  std::uint32_t version_number = 0;
  std::string content;
  bool operator==(const VersionRestored&) const = default;
};

// create_version: an explicit snapshot of the current content. The content is
// not copied: `content_seq` is the log position of the event that set it (0 when
// the session never had content: the version is the empty document).
struct VersionCreated {
  std::uint32_t version_number = 0;
  std::string change_summary;
  std::uint64_t content_seq = 0;
  bool operator==(const VersionCreated&) const = default;
};

struct SessionRemoved {
  bool operator==(const SessionRemoved&) const = default;
};

using EventPayload =
    std::variant<SessionCreated, SessionUpdated, SessionPaused, SessionResumed, SessionConverted,
                 SessionArchived, VersionRestored, VersionCreated, SessionRemoved>;

// The type id of a payload alternative.
EventType event_type_of(const EventPayload& payload) noexcept;

using Hash256 = std::array<std::uint8_t, 32>;

// A decoded log record: the envelope (docs/FORMAT.md §2) plus its payload.
struct Event {
  std::uint64_t sequence = 0;        // dense, from 1; the LMDB key
  std::string session_id;
  std::uint32_t stream_version = 0;  // 1 for a session's first event
  EventType type = EventType::session_created;
  // Cereal class version of the payload as stored: the log sets it when it
  // appends (2 for every new event); an imported event keeps its own (1 or 2).
  std::uint16_t schema_version = 1;
  Timestamp timestamp{};
  std::string actor;
  std::uint64_t payload_checksum = 0;  // XXH3-64 of the canonical payload (FORMAT.md §2.2)
  Hash256 prev_hash{};  // SHA-256 of the previous canonical frame; zeros at seq 1
  EventPayload payload;

  bool operator==(const Event&) const = default;
};

// Hex text of a hash (64 lower-case characters).
std::string to_hex(const Hash256& hash);

// JSON form of an event (stable field names, used by planctl and export).
nlohmann::json to_json(const Event& event);
// Inverse of to_json; validates every field (used by import).
Result<Event> event_from_json(const nlohmann::json& json);

}  // namespace planning
