// The projections of one open store and their checkpoints.
//
// Checkpoint record (database "checkpoints", key = projection name):
//   u64 BE last applied sequence, u32 BE schema version.
// Invariant (after open and after every committed write): every projection's
// checkpoint equals the log head — the write path catches up any projection that
// another process left behind before applying new events. Within a write
// transaction the checkpoints are written once, at its end (end_appends), not
// once per event.
#pragma once

#include <functional>
#include <memory>
#include <vector>

#include <planning/projection.hpp>

#include "events/src/content_resolver.hpp"
#include "events/src/decode_ahead.hpp"
#include "events/src/event_log.hpp"
#include "events/src/lmdb_env.hpp"
#include "projections/src/stored_projection.hpp"

namespace planning::detail {

struct Checkpoint {
  std::uint64_t sequence = 0;
  std::uint32_t schema_version = 0;
};

class ProjectionSet {
 public:
  ProjectionSet(Environment& env, const EventLog& log);

  // User projections and their databases (for clone_for).
  struct UserEntry {
    std::shared_ptr<Projection> projection;
    std::string database;
  };
  void add_user(std::shared_ptr<Projection> projection, bool data_lost);
  // The built-in projections (builtin_projections()); one whose database was
  // created by this open (Environment::created_databases: its data was lost)
  // is reset and replayed by catch_up.
  void add_builtins();
  const std::vector<UserEntry>& users() const { return users_; }

  // Adds a projection. `data_lost` forces a reset (its database was missing).
  void add(std::unique_ptr<StoredProjection> projection, bool data_lost);
  bool contains(const std::string& name) const;
  // Forgets a projection (its stored data and checkpoint stay).
  void remove(const std::string& name);

  // Resets projections whose checkpoint is missing, whose schema version
  // changed or whose data was lost, then replays the log into every projection
  // behind the head, in batches of `batch` events per transaction. Content is
  // resolved through a cache of `memory_bytes` (at least the resolver's
  // default): a catch-up keeps no runs or sorted loads, the bulk build's other
  // uses of that budget, and a cache smaller than the sessions' content makes
  // misses decode delta chains from their keyframes.
  void catch_up(std::size_t batch, std::size_t memory_bytes, const ProgressCallback& progress);
  // Replays the whole log into fresh copies of every projection — the slot
  // not in force (lmdb_env.hpp) — and switches to them in one commit, which
  // also runs `at_switch` (when given). Readers see the old projections until
  // that commit; a failure (a damaged log) or a crash leaves them in force.
  // The new slot is built in bulk (bulk_build): its records are kept in
  // memory up to about `memory_bytes` and in sorted temporary files, and the
  // databases whose records are only inserted are appended in key order.
  void rebuild(std::size_t batch, std::size_t memory_bytes, const ProgressCallback& progress,
               const std::function<void(const Txn&)>& at_switch = {});

  // The write path's protocol, once per write transaction: begin_appends brings
  // every projection to the log head `head` (catching up what another process
  // appended); apply_appended applies each new event, in log order, to every
  // projection; end_appends(txn, new head) writes what was deferred and each
  // checkpoint, once. With `defer`, deferrable() projections keep their
  // records in a run until end_appends — only where no nested transaction can
  // roll back part of the transaction, since a run is not rolled back with it.
  // A transaction that appended nothing calls end_appends with the same head
  // (nothing is written). A failed transaction needs nothing: the next
  // begin_appends or replay starts afresh.
  void begin_appends(const Txn& txn, std::uint64_t head, bool defer);
  void apply_appended(const Txn& txn, const Event& event) const;
  void end_appends(const Txn& txn, std::uint64_t head);

  std::vector<ProjectionInfo> info(const Txn& txn) const;

  // Applies `event` to every projection with no checkpoint bookkeeping (used to
  // replay into a scratch store that is compared with this one).
  void apply_without_checkpoint(const Txn& txn, const Event& event) const;
  // Creates the same projections over another environment (same user objects).
  std::unique_ptr<ProjectionSet> clone_for(Environment& env, const EventLog& log) const;
  // Names and database handles of each projection's data, for comparisons.
  const std::vector<std::unique_ptr<StoredProjection>>& members() const { return projections_; }

 private:
  Checkpoint read_checkpoint(const Txn& txn, const StoredProjection& p) const;
  void write_checkpoint(const Txn& txn, const StoredProjection& p, std::uint64_t sequence) const;
  // The lowest checkpoint of the projections (UINT64_MAX when there are none).
  std::uint64_t lowest_checkpoint(const Txn& txn) const;
  // Applies log events (from, to], from the lowest checkpoint on, to the
  // projections whose checkpoints are below each event, up to `max_events`
  // events or kMaxSessionsPerReplay sessions, and advances the checkpoints;
  // *reached is the last event applied. The events are read from the log, or
  // taken from `decoded` (what it has ready) when given.
  void replay_range(const Txn& txn, std::uint64_t to, std::size_t max_events,
                    std::uint64_t* reached, DecodeAhead* decoded = nullptr) const;
  // Decodes the log's events (from, to] in order and hands each to `apply`
  // until it returns false. Returns the last sequence handed over (`from` if
  // none). DecodeError when an event is missing or damaged.
  std::uint64_t replay_events(const Txn& txn, ContentResolver& resolver, std::uint64_t from,
                              std::uint64_t to,
                              const std::function<bool(const Event&)>& apply) const;
  // The sessions one pass of a bulk build decodes (DecodeAhead).
  using SessionFilter = std::function<bool(std::string_view session_id)>;
  // The ranges of session ids a bulk build makes one pass over the log for,
  // so that each pass's sessions fit `memory_bytes` (estimated from the slot
  // in force): pass i takes the ids below bounds[i] and from bounds[i - 1]
  // on; empty for one pass.
  std::vector<std::string> bulk_partitions(std::size_t memory_bytes) const;
  std::vector<std::string> partitions_of_slot_in_force(std::size_t memory_bytes) const;
  // Fills a slot from the whole log, in bulk, up to the head it reads after a
  // first transaction that runs `start` (which points the transaction at the
  // slot and empties it); every later transaction runs `on_slot` first (which
  // points it at the slot, and may throw to stop). Ends with every checkpoint
  // at that head.
  void bulk_build(std::size_t batch, std::size_t memory_bytes, const ProgressCallback& progress,
                  const std::function<void(Txn&)>& on_slot, const std::function<void(Txn&)>& start);

  // Constant after open() (add() is called with the store's write lock held).
  Environment& env_;
  const EventLog& log_;
  DerivedDbi checkpoints_;
  std::vector<std::unique_ptr<StoredProjection>> projections_;
  std::vector<std::string> lost_;            // names to reset on the next catch_up
  std::uint64_t appends_from_ = 0;           // the head at begin_appends
  std::vector<StoredProjection*> deferred_;  // in a run until end_appends
  std::vector<UserEntry> users_;
};

}  // namespace planning::detail
