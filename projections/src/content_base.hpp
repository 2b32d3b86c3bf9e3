// Where a session's current content lives in the log: the latest content event
// of its stream (found through the streams projection), and the base a new
// content event of the session is stored against (a line delta on it).
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

#include <planning/model.hpp>

#include "events/src/content_codec.hpp"
#include "events/src/event_log.hpp"

namespace planning::detail {

// The latest event of the session (at most `stream_version`) that set its
// content, with how that content is stored; nullopt when none did.
struct ContentEvent {
  std::uint64_t sequence = 0;
  StoredContent stored;
};
Result<std::optional<ContentEvent>> latest_content_event(const Txn& txn, const Environment& env,
                                                         const EventLog& log,
                                                         std::string_view session_id,
                                                         std::uint32_t stream_version);

// The base a new content event of `state` is stored against (its current
// content and the event that set it); nullopt when it has none to delta against,
// or when its stream cannot be read (the new event is then a self-contained
// keyframe: a damaged stream never blocks a write). Views state.content.
std::optional<ContentBase> content_base_for(const Txn& txn, const Environment& env,
                                            const EventLog& log, const Session& state);

}  // namespace planning::detail
