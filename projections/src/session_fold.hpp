// The pure state transition of a session: how one event changes a Session.
// Every projection, time travel (session_at) and import use this one function,
// so incremental state and replayed state can never differ.
#pragma once

#include <optional>

#include <planning/events.hpp>
#include <planning/model.hpp>

namespace planning::detail {

// Applies `event` to `state` (nullopt before the session exists; nullopt again
// after session_removed). REQUIRES: check_event(state, event) succeeded — fold
// itself does not validate.
void fold(std::optional<Session>& state, const Event& event);

// Checks that `event` may follow `state`: the session exists (or not, for
// created), the stream version is the next one, the state machine allows the
// status change, and version numbers are the next ones. Returns the error an
// operation would have got (invalid_transition, invalid_state, ...).
Result<void> check_event(const std::optional<Session>& state, const Event& event);

// Whether an event counts as work on the document (moves last_activity_at).
bool is_activity(EventType type) noexcept;

// The version an event made (0 = none).
std::uint32_t version_made_by(const Event& event) noexcept;

}  // namespace planning::detail
