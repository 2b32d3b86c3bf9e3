// The one write door: see write_door.hpp.
#include "engine/src/write_door.hpp"

#include <chrono>

#include <fmt/format.h>

#include <planning/requests.hpp>

#include "engine/src/validation.hpp"
#include "events/src/event_codec.hpp"
#include "projections/src/content_base.hpp"
#include "projections/src/databases.hpp"
#include "projections/src/records.hpp"
#include "projections/src/session_fold.hpp"

namespace planning::detail {

void WriteDoor::begin(const Txn& txn, bool defer) {
  recorded_content_.clear();
  appended_content_.clear();
  appended_hashes_.clear();
  projections_.begin_appends(txn, log_.head(txn).sequence, defer);
}

void WriteDoor::end(const Txn& txn) {
  projections_.end_appends(txn, log_.head(txn).sequence);
  recorded_content_.clear();
  appended_content_.clear();
}

const Hash256* WriteDoor::appended_hash(std::uint64_t sequence) const {
  auto it = appended_hashes_.find(sequence);
  return it == appended_hashes_.end() ? nullptr : &it->second;
}

std::optional<ContentBase> WriteDoor::content_base(const Txn& txn, const Session& state) const {
  auto known = appended_content_.find(state.id);
  if (known == appended_content_.end() || state.content.empty()) {
    return content_base_for(txn, env_, log_, state);
  }
  // Still in the log as appended (not rolled back with a nested transaction)?
  const AppendedContent& c = known->second;
  if (auto frame = log_.frame(txn, c.sequence)) {
    auto header = peek_header(c.sequence, *frame);
    if (header && header->session_id == state.id && header->stream_version == c.stream_version) {
      return ContentBase{
          .seq = c.sequence, .depth = c.depth, .checksum = c.checksum, .content = state.content};
    }
  }
  return content_base_for(txn, env_, log_, state);
}

std::int64_t WriteDoor::head_time(const Txn& txn, const LogHead& head) const {
  if (head.sequence == 0) return INT64_MIN;
  auto frame = log_.frame(txn, head.sequence);
  if (!frame) return INT64_MIN;
  auto header = peek_header(head.sequence, *frame);
  return header ? header->timestamp_ns : INT64_MIN;
}

Result<void> WriteDoor::check_recorded(const Txn& txn, const Event& e, const LogHead& head,
                                       std::int64_t head_ns) const {
  if (e.sequence != head.sequence + 1) {
    return fail(ErrorCode::invalid_argument,
                fmt::format("expected sequence {} (events continue the log head)",
                            head.sequence + 1));
  }
  // Every schema this build reads enters in the schema it was recorded in: the
  // checksum and the hash chain cover that schema's canonical form.
  if (e.schema_version != kCurrentSchemaVersion && e.schema_version != kFullContentSchemaVersion) {
    return fail(ErrorCode::invalid_argument,
                fmt::format("schema version {} is not one this build reads ({} to {})",
                            e.schema_version, kFullContentSchemaVersion, kCurrentSchemaVersion));
  }
  if (auto fields = validate_event_fields(e); !fields) return fields;
  if (e.timestamp.time_since_epoch().count() < head_ns) {
    return fail(ErrorCode::invalid_argument, "timestamp goes backwards");
  }
  if (const auto* vc = std::get_if<VersionCreated>(&e.payload); vc && vc->content_seq != 0) {
    bool ok = false;
    if (auto found = recorded_content_.find(vc->content_seq); found != recorded_content_.end()) {
      ok = found->second == e.session_id;
    } else if (vc->content_seq < e.sequence) {
      if (auto frame = log_.frame(txn, vc->content_seq)) {
        auto header = peek_header(vc->content_seq, *frame);
        auto stored = peek_stored_content(vc->content_seq, *frame);
        ok = header && stored && header->session_id == e.session_id && stored->has_value();
      }
    }
    if (!ok) {
      return fail(ErrorCode::invalid_argument,
                  "content_seq does not name a content event of this session");
    }
  }
  return {};
}

Result<void> WriteDoor::enter(const Txn& txn, Event& event, const std::optional<Session>& state,
                              Origin origin, bool& wrote) {
  // The actor of every event, whoever decided it (SessionRecovery included).
  if (auto actor = check_text("actor", event.actor, limits::actor); !actor) return actor;
  const LogHead head = log_.head(txn);
  const std::int64_t head_ns = head_time(txn, head);
  std::uint16_t schema = kCurrentSchemaVersion;
  if (origin == Origin::decided) {
    // Timestamps never go backwards in log order, whatever the clock does.
    event.timestamp = std::max(event.timestamp, Timestamp{std::chrono::nanoseconds{head_ns}});
  } else {
    if (auto recorded = check_recorded(txn, event, head, head_ns); !recorded) return recorded;
    schema = event.schema_version;
  }
  // An id is never used twice, not even after its session was removed.
  if (event.type == EventType::session_created &&
      (state || kv_get(txn, env_.dbi(txn, StreamsDatabases::records), stream_key(event.session_id, 1)))) {
    return fail(origin == Origin::decided ? ErrorCode::conflict : ErrorCode::invalid_argument,
                "session id " + event.session_id + " was used before");
  }
  if (auto rules = check_event(state, event); !rules) return rules;

  std::optional<ContentBase> base;
  if (state && content_of(event) != nullptr) base = content_base(txn, *state);
  const Hash256 recorded_prev = event.prev_hash;
  const std::uint64_t recorded_checksum = event.payload_checksum;
  wrote = true;  // from here on a failure leaves partial writes in `txn`
  const EncodedEvent appended = log_.append(txn, event, base ? &*base : nullptr, schema);
  appended_hashes_[event.sequence] = appended.hash;
  if (origin == Origin::recorded) {
    if (event.prev_hash != recorded_prev) {
      return fail(ErrorCode::invalid_argument, "prev_hash does not continue the hash chain");
    }
    if (event.payload_checksum != recorded_checksum) {
      return fail(ErrorCode::invalid_argument,
                  "payload_checksum does not match the event's content");
    }
    if (content_of(event) != nullptr) recorded_content_[event.sequence] = event.session_id;
  }
  projections_.apply_appended(txn, event);
  if (appended.content) {
    appended_content_[event.session_id] = AppendedContent{
        event.sequence, event.stream_version, appended.content->depth, appended.content->checksum};
  }
  return {};
}

}  // namespace planning::detail
