// The one write door. Every event that enters a store passes through
// WriteDoor::enter, inside the caller's write transaction:
//   * events decided here by an operation (single writes and their group
//     commits, apply_batch, SessionRecovery::apply);
//   * recorded events, decided elsewhere and carried here with their sequence,
//     hash-chain link and checksum (import_events; a node of a shared log).
// enter() checks the event (its actor, and for a recorded event every field,
// its place in the log and its link), checks it against the session's state
// (the state machine), appends it to the log (content stored as a line delta
// against the session's current content) and applies it to every projection.
// Replay (catch-up, rebuild) is the door's second half alone: its events are
// in the log already, and ProjectionSet applies them.
//
// Per transaction: begin(), then enter() for each event in log order, then
// end() before the commit. A failed enter() has written nothing unless it set
// `wrote`; the caller then rolls the transaction (or its nested transaction)
// back.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <unordered_map>

#include <planning/events.hpp>
#include <planning/model.hpp>
#include <planning/result.hpp>

#include "events/src/event_log.hpp"
#include "events/src/lmdb_env.hpp"
#include "projections/src/projection_set.hpp"

namespace planning::detail {

class WriteDoor {
 public:
  WriteDoor(const Environment& env, const EventLog& log, ProjectionSet& projections)
      : env_(env), log_(log), projections_(projections) {}

  // How an event arrives.
  enum class Origin {
    // Decided here: enter() assigns its sequence, chain link and timestamp
    // (never earlier than the log head's) and encodes it in the current schema.
    decided,
    // Recorded elsewhere: it keeps its sequence, prev_hash, payload checksum,
    // timestamp and schema version, and enter() refuses it unless it
    // continues this log exactly (sequence head + 1, chained to the head,
    // timestamp not before the head's, checksum of its own content).
    recorded,
  };

  // Opens the door for one write transaction: every projection is brought to
  // the log head; with `defer`, deferrable projections keep their records in
  // memory until end() (only where no nested transaction can roll back part of
  // the transaction).
  void begin(const Txn& txn, bool defer);
  // Checks, appends and projects `event`. `state` is the session before the
  // event (nullopt: none), as this transaction's earlier events left it.
  // Sets `wrote` once the transaction holds a partial write of this event.
  Result<void> enter(const Txn& txn, Event& event, const std::optional<Session>& state,
                     Origin origin, bool& wrote);
  // Writes what the projections deferred and their checkpoints, once.
  void end(const Txn& txn);
  // The chain hash of the event this transaction appended at `sequence` (the
  // latest, where a nested transaction rolled an earlier one back), or nullptr.
  const Hash256* appended_hash(std::uint64_t sequence) const;

 private:
  Result<void> check_recorded(const Txn& txn, const Event& event, const LogHead& head,
                              std::int64_t head_time) const;
  // The timestamp of the event at the log head (INT64_MIN for an empty log).
  std::int64_t head_time(const Txn& txn, const LogHead& head) const;
  // The base a new content event of `state` is stored against: from the
  // content events this transaction appended, else content_base_for.
  std::optional<ContentBase> content_base(const Txn& txn, const Session& state) const;

  // A content event this transaction appended (the latest of its session).
  struct AppendedContent {
    std::uint64_t sequence = 0;
    std::uint32_t stream_version = 0;
    std::uint32_t depth = 0;
    std::uint64_t checksum = 0;
  };

  const Environment& env_;
  const EventLog& log_;
  ProjectionSet& projections_;
  // Content events this transaction recorded: sequence -> session (a recorded
  // VersionCreated may name one of them before it is readable).
  std::unordered_map<std::uint64_t, std::string> recorded_content_;
  // Session id -> its latest content event appended in this transaction, so a
  // transaction that writes a session again finds its delta base without
  // reading the streams projection and decoding that event. An entry whose
  // event a nested transaction rolled back no longer matches the log and is
  // not used.
  std::unordered_map<std::string, AppendedContent> appended_content_;
  // Sequence -> chain hash of each event this transaction appended (what a
  // node publishes to its shared log).
  std::unordered_map<std::uint64_t, Hash256> appended_hashes_;
};

}  // namespace planning::detail
