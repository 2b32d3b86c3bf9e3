// The shared log: the authoritative copy of the event log in PostgreSQL, for
// stores whose nodes run on several machines (docs/FORMAT.md §9). Three tables:
//   planning_log_events  sequence -> frame, with session id, stream version,
//                        type and SHA-256 hash beside it; unique (session,
//                        stream version)
//   planning_log_head    one row: the head sequence and hash; every append
//                        locks it, so sequences are gapless and commit order is
//                        sequence order (a follower reading "sequence > N"
//                        never skips a row that commits later)
//   planning_log_meta    the schema version
// The schema is created on first use (under an advisory lock, so two nodes
// starting together create it once) and refused when its version is not ours.
//
// A SharedLog is one libpq connection: use it from one thread at a time. Every
// call returns an Error instead of throwing: `storage` when PostgreSQL cannot be
// reached or refuses (the next call reconnects), `corruption` when what is
// stored breaks the log's rules (a gap, a head that disagrees with the rows, a
// foreign schema version), `invalid_argument` for a malformed connection string.
// Frames are stored as they are: decoding and checking the hash chain is the
// caller's (a node applies them through its own log, which checks both).
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <planning/result.hpp>

#include "events/src/event_log.hpp"

namespace planning::detail {

// The version of the tables above; a database holding another is refused.
inline constexpr std::uint32_t kSharedLogSchemaVersion = 1;

// One event of the shared log.
struct SharedEvent {
  std::uint64_t sequence = 0;
  std::string session_id;
  std::uint32_t stream_version = 0;
  std::string type;  // the event type's name (events/src/event_names.cpp)
  Hash256 hash{};    // SHA-256 of the canonical frame (event_log.hpp)
  std::string frame;
};

class SharedLog {
 public:
  // Connects (a libpq connection string: "host=/run/pg dbname=plans" or a
  // postgresql:// URI) and creates or checks the schema.
  static Result<std::unique_ptr<SharedLog>> open(std::string_view conninfo);
  ~SharedLog();
  SharedLog(const SharedLog&) = delete;
  SharedLog& operator=(const SharedLog&) = delete;

  // The connection string without its password, for messages.
  const std::string& name() const { return name_; }

  Result<LogHead> head();

  // What append() did: `appended`, or not because the shared head is not
  // `expected` (another node appended first; `head` is the shared head now).
  struct AppendOutcome {
    bool appended = false;
    LogHead head;
  };
  // Opens a transaction holding the head row: no other connection appends
  // until append() commits or unlock_head() rolls back (nodes queue here in
  // turn). Returns the head, which cannot move meanwhile; read() still works.
  // A node locks, catches up to this head, decides, then appends: it is never
  // refused, so it cannot starve. Idempotent while locked.
  Result<LogHead> lock_head();
  void unlock_head();  // rolls back; nothing appended

  // Appends `events` in one PostgreSQL transaction if and only if the shared
  // head is still `expected` (under the lock of lock_head() when held, else
  // taking it). REQUIRES: events are non-empty, dense from
  // expected.sequence + 1, and the last one's hash is the new head's. Wakes
  // every listener (NOTIFY) when it commits. A (session, stream version) that
  // is already stored fails the whole append with `conflict`.
  Result<AppendOutcome> append(const LogHead& expected, std::span<const SharedEvent> events);

  // Up to `limit` events with sequence > `after`, in order; fewer at the head.
  // A gap in what is read is `corruption` naming the missing sequence.
  Result<std::vector<SharedEvent>> read(std::uint64_t after, std::size_t limit);

  // Subscribes this connection to append wake-ups, then waits up to `timeout`
  // for one. True when woken (or when wake-ups may have been lost: a
  // reconnect), false on timeout. A wake-up says "read again", never what.
  Result<bool> wait_for_append(std::chrono::milliseconds timeout);

 private:
  struct Connection;
  SharedLog(std::unique_ptr<Connection> connection, std::string name);

  std::unique_ptr<Connection> connection_;
  std::string name_;
};

}  // namespace planning::detail
