// Event type names and payload-to-type mapping.
#include <planning/events.hpp>

#include <type_traits>

namespace planning {

namespace {
constexpr std::array<std::pair<EventType, std::string_view>, 9> kNames{{
    {EventType::session_created, "session_created"},
    {EventType::session_updated, "session_updated"},
    {EventType::session_paused, "session_paused"},
    {EventType::session_resumed, "session_resumed"},
    {EventType::session_converted, "session_converted"},
    {EventType::session_archived, "session_archived"},
    {EventType::version_restored, "version_restored"},
    {EventType::version_created, "version_created"},
    {EventType::session_removed, "session_removed"},
}};
}  // namespace

std::string_view to_string(EventType type) noexcept {
  for (const auto& [t, name] : kNames) {
    if (t == type) return name;
  }
  return "unknown";
}

Result<EventType> parse_event_type(std::string_view text) {
  for (const auto& [t, name] : kNames) {
    if (name == text) return t;
    if (name.starts_with("session_") && name.substr(8) == text) return t;
  }
  return fail(ErrorCode::invalid_argument, "unknown event type '" + std::string(text) + "'");
}

EventType event_type_of(const EventPayload& payload) noexcept {
  return std::visit(
      [](const auto& p) {
        using T = std::decay_t<decltype(p)>;
        if constexpr (std::is_same_v<T, SessionCreated>) return EventType::session_created;
        if constexpr (std::is_same_v<T, SessionUpdated>) return EventType::session_updated;
        if constexpr (std::is_same_v<T, SessionPaused>) return EventType::session_paused;
        if constexpr (std::is_same_v<T, SessionResumed>) return EventType::session_resumed;
        if constexpr (std::is_same_v<T, SessionConverted>) return EventType::session_converted;
        if constexpr (std::is_same_v<T, SessionArchived>) return EventType::session_archived;
        if constexpr (std::is_same_v<T, VersionRestored>) return EventType::version_restored;
        if constexpr (std::is_same_v<T, VersionCreated>) return EventType::version_created;
        if constexpr (std::is_same_v<T, SessionRemoved>) return EventType::session_removed;
      },
      payload);
}

std::string to_hex(const Hash256& hash) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  out.reserve(hash.size() * 2);
  for (std::uint8_t b : hash) {
    out.push_back(kDigits[b >> 4]);
    out.push_back(kDigits[b & 0xF]);
  }
  return out;
}

}  // namespace planning
