#include "projections/src/session_fold.hpp"

#include <fmt/format.h>

namespace planning::detail {

namespace {

std::unexpected<Error> transition_error(Status from, Status to) {
  return fail(ErrorCode::invalid_transition,
              fmt::format("cannot change status from {} to {}", to_string(from), to_string(to)));
}

std::unexpected<Error> state_error(const Session& s, std::string_view operation) {
  return fail(ErrorCode::invalid_state,
              fmt::format("cannot {} session {}: it is {} (only active sessions allow it)",
                          operation, s.id, to_string(s.status)));
}

}  // namespace

nlohmann::json parse_metadata_or_empty(const std::string& text) {
  // Events are validated before they are written; a malformed value can only come
  // from a damaged store, where an empty object keeps the fold total.
  auto parsed = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  return parsed.is_object() ? parsed : nlohmann::json::object();
}

bool is_activity(EventType type) noexcept {
  switch (type) {
    case EventType::session_created:
    case EventType::session_updated:
    case EventType::session_resumed:
    case EventType::version_restored:
    case EventType::version_created:
      return true;
    default:
      return false;
  }
}

std::uint32_t version_made_by(const Event& event) noexcept {
  if (const auto* c = std::get_if<SessionCreated>(&event.payload)) {
    return c->initial_content ? 1 : 0;
  }
  if (const auto* u = std::get_if<SessionUpdated>(&event.payload)) return u->version_number;
  if (const auto* r = std::get_if<VersionRestored>(&event.payload)) return r->version_number;
  if (const auto* v = std::get_if<VersionCreated>(&event.payload)) return v->version_number;
  return 0;
}

void fold(std::optional<Session>& state, const Event& event) { fold_into(state, event); }

Result<void> check_event(const std::optional<Session>& state, const Event& event) {
  if (event.type == EventType::session_created) {
    if (state) return fail(ErrorCode::conflict, "session " + event.session_id + " already exists");
    if (event.stream_version != 1) {
      return fail(ErrorCode::conflict, "a session's first event must have stream version 1");
    }
    return {};
  }
  if (!state) return fail(ErrorCode::not_found, "session " + event.session_id + " not found");
  const Session& s = *state;
  if (event.stream_version != s.stream_version + 1) {
    return fail(ErrorCode::conflict,
                fmt::format("session {} is at stream version {}, event has {}", s.id,
                            s.stream_version, event.stream_version));
  }
  const std::uint32_t made = version_made_by(event);
  if (made != 0 && made != s.current_version + 1) {
    return fail(ErrorCode::conflict, fmt::format("session {} has {} versions; event makes {}",
                                                 s.id, s.current_version, made));
  }
  switch (event.type) {
    case EventType::session_updated: {
      if (s.status != Status::active) return state_error(s, "update");
      const auto& u = std::get<SessionUpdated>(event.payload);
      if (u.version_number != 0 && !u.content) {
        return fail(ErrorCode::invalid_argument, "an update that makes a version must carry content");
      }
      return {};
    }
    case EventType::version_restored: {
      if (s.status != Status::active) return state_error(s, "restore a version of");
      const auto& r = std::get<VersionRestored>(event.payload);
      if (r.restored_from == 0 || r.restored_from > s.current_version) {
        return fail(ErrorCode::not_found, fmt::format("version {} of session {} not found",
                                                      r.restored_from, s.id));
      }
      return {};
    }
    case EventType::version_created:
      if (s.status != Status::active) return state_error(s, "create a version of");
      return {};
    case EventType::session_converted:
      if (s.status != Status::active) return state_error(s, "convert");
      return {};
    case EventType::session_paused:
      if (!transition_allowed(s.status, Status::paused)) {
        return transition_error(s.status, Status::paused);
      }
      return {};
    case EventType::session_resumed:
      if (!transition_allowed(s.status, Status::active)) {
        return transition_error(s.status, Status::active);
      }
      return {};
    case EventType::session_archived:
      if (!transition_allowed(s.status, Status::archived)) {
        return transition_error(s.status, Status::archived);
      }
      return {};
    case EventType::session_removed:
    case EventType::session_created:
      return {};
  }
  return {};
}

}  // namespace planning::detail
