// The pure state transition of a session: how one event changes a Session.
// Every projection, time travel (session_at) and import use this one function,
// so incremental state and replayed state can never differ.
#pragma once

#include <optional>
#include <string>
#include <type_traits>
#include <variant>

#include <planning/events.hpp>
#include <planning/model.hpp>

namespace planning::detail {

// Applies `event` to `state` (nullopt before the session exists; nullopt again
// after session_removed). REQUIRES: check_event(state, event) succeeded — fold
// itself does not validate.
void fold(std::optional<Session>& state, const Event& event);

// fold() for a partial state: a struct with some of Session's members, by the
// same names and types, and optionally `bool has_content` standing for
// `!content.empty()`. Members the struct lacks are skipped, so a projection
// that keeps a few fields (the statistics, the indexes) moves them by the very
// rules fold() applies to a Session, without copying the content or parsing
// the metadata per event. fold() is fold_into<Session>.
template <class State>
void fold_into(std::optional<State>& state, const Event& event);

// Checks that `event` may follow `state`: the session exists (or not, for
// created), the stream version is the next one, the state machine allows the
// status change, and version numbers are the next ones. Returns the error an
// operation would have got (invalid_transition, invalid_state, ...).
Result<void> check_event(const std::optional<Session>& state, const Event& event);

// Whether an event counts as work on the document (moves last_activity_at).
bool is_activity(EventType type) noexcept;

// The version an event made (0 = none).
std::uint32_t version_made_by(const Event& event) noexcept;

// The metadata object an event carries ({} when it is malformed: fold is total).
nlohmann::json parse_metadata_or_empty(const std::string& text);

template <class State>
void fold_into(std::optional<State>& state, const Event& event) {
  if (event.type == EventType::session_removed) {
    state.reset();
    return;
  }
  auto set_content = [](State& s, const std::string& text) {
    if constexpr (requires { s.content; }) s.content = text;
    if constexpr (requires { s.has_content; }) s.has_content = !text.empty();
  };
  if (const auto* c = std::get_if<SessionCreated>(&event.payload)) {
    State s{};
    if constexpr (requires { s.id; }) s.id = event.session_id;
    if constexpr (requires { s.title; }) s.title = c->title;
    if constexpr (requires { s.description; }) s.description = c->description;
    if constexpr (requires { s.repository_path; }) s.repository_path = c->repository_path;
    if constexpr (requires { s.repository_url; }) s.repository_url = c->repository_url;
    if constexpr (requires { s.working_directory; }) s.working_directory = c->working_directory;
    if constexpr (requires { s.metadata; }) s.metadata = parse_metadata_or_empty(c->metadata_json);
    if (c->initial_content) {
      set_content(s, *c->initial_content);
      if constexpr (requires { s.current_version; }) s.current_version = 1;
    }
    if constexpr (requires { s.created_at; }) s.created_at = event.timestamp;
    if constexpr (requires { s.created_by; }) s.created_by = event.actor;
    state = std::move(s);
  }
  if (!state) return;
  State& s = *state;

  std::visit(
      [&](const auto& p) {
        using T = std::decay_t<decltype(p)>;
        if constexpr (std::is_same_v<T, SessionUpdated>) {
          if constexpr (requires { s.title; }) {
            if (p.title) s.title = *p.title;
          }
          if constexpr (requires { s.description; }) {
            if (p.description) s.description = *p.description;
          }
          if constexpr (requires { s.repository_path; }) {
            if (p.repository_path) s.repository_path = *p.repository_path;
          }
          if constexpr (requires { s.repository_url; }) {
            if (p.repository_url) s.repository_url = *p.repository_url;
          }
          if constexpr (requires { s.working_directory; }) {
            if (p.working_directory) s.working_directory = *p.working_directory;
          }
          if constexpr (requires { s.metadata; }) {
            if (p.metadata_json) s.metadata = parse_metadata_or_empty(*p.metadata_json);
          }
          if (p.content) set_content(s, *p.content);
          if constexpr (requires { s.current_version; }) {
            if (p.version_number != 0) s.current_version = p.version_number;
          }
        } else if constexpr (std::is_same_v<T, SessionPaused>) {
          if constexpr (requires { s.status; }) s.status = Status::paused;
          if constexpr (requires { s.pause_reason; }) s.pause_reason = p.reason;
          if constexpr (requires { s.paused_at; }) s.paused_at = event.timestamp;
        } else if constexpr (std::is_same_v<T, SessionResumed>) {
          if constexpr (requires { s.status; }) s.status = Status::active;
          if constexpr (requires { s.pause_reason; }) s.pause_reason.clear();
          if constexpr (requires { s.paused_at; }) s.paused_at.reset();
        } else if constexpr (std::is_same_v<T, SessionConverted>) {
          if constexpr (requires { s.status; }) s.status = Status::converted;
          if constexpr (requires { s.project_id; }) s.project_id = p.project_id;
          if constexpr (requires { s.work_item_ids; }) s.work_item_ids = p.work_item_ids;
          if constexpr (requires { s.converted_by; }) s.converted_by = event.actor;
          if constexpr (requires { s.converted_at; }) s.converted_at = event.timestamp;
        } else if constexpr (std::is_same_v<T, SessionArchived>) {
          if constexpr (requires { s.status; }) s.status = Status::archived;
          if constexpr (requires { s.archived_at; }) s.archived_at = event.timestamp;
        } else if constexpr (std::is_same_v<T, VersionRestored>) {
          set_content(s, p.content);
          if constexpr (requires { s.current_version; }) s.current_version = p.version_number;
        } else if constexpr (std::is_same_v<T, VersionCreated>) {
          if constexpr (requires { s.current_version; }) s.current_version = p.version_number;
        }
      },
      event.payload);

  if constexpr (requires { s.updated_at; }) s.updated_at = event.timestamp;
  if constexpr (requires { s.updated_by; }) s.updated_by = event.actor;
  if constexpr (requires { s.last_activity_at; }) {
    if (is_activity(event.type)) s.last_activity_at = event.timestamp;
  }
  if constexpr (requires { s.stream_version; }) s.stream_version = event.stream_version;
}

}  // namespace planning::detail
