// SessionManager's private state, shared by the files that implement it:
// manager_impl.cpp (open, helpers), write_path.cpp (group commit; each event
// enters through write_door.cpp), operations.cpp (requests to write ops), session_manager.cpp and
// session_reads.cpp (the public calls), audit.cpp, recovery.cpp and
// export_import.cpp.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <shared_mutex>
#include <string>
#include <thread>
#include <unordered_map>

#include <planning/session_manager.hpp>
#include <planning/version.hpp>

#include "engine/src/uuid.hpp"
#include "engine/src/write_door.hpp"
#include "events/src/event_codec.hpp"
#include "events/src/event_log.hpp"
#include "events/src/lmdb_env.hpp"
#include "events/src/shared_log.hpp"
#include "projections/src/content_base.hpp"
#include "projections/src/databases.hpp"
#include "projections/src/projection_set.hpp"
#include "projections/src/records.hpp"

namespace planning {

// Delivers committed events to the signals in log order, outside every engine
// lock (see the contract in <planning/signals.hpp>).
class SignalQueue {
 public:
  // REQUIRES: called with the write mutex held, in commit order.
  void push(Event event);
  // Emits every queued event. A call from inside a slot of this queue returns at
  // once: the outer delivery loop on this thread picks the event up.
  void deliver(Signals& signals);

 private:
  std::mutex pending_mutex_;
  std::deque<Event> pending_;  // guarded by pending_mutex_
  std::mutex emit_mutex_;      // held by the thread delivering
};

class SessionManager::Impl {
 public:
  static Result<std::unique_ptr<Impl>> open(Options options);
  ~Impl();

  // What an operation decides, given the session's current state: an event
  // payload to append, nothing (a no-op), or an error.
  using Decision = Result<std::optional<EventPayload>>;
  using Decide = std::function<Decision(const std::optional<Session>& current, const detail::Txn&)>;

  struct PendingWrite;  // a queued write and its result (write_path.cpp)

  // One prepared write: which session, who, and how to decide. `decide` owns
  // everything it captures, so a WriteOp can wait in the group-commit queue.
  struct WriteOp {
    std::string session_id;
    std::string actor;
    Decide decide;
  };
  // Validates a batch operation and prepares its write (operations.cpp).
  Result<WriteOp> prepare(WriteBatch::Operation operation);

  // The write path (write_path.cpp). execute() queues the op for group commit:
  // one thread at a time leads, committing every queued op in one transaction
  // (commit_group: each op loads the session, decides, checks the event against
  // the state machine, appends it, applies every projection; a failed op leaves
  // nothing behind). Signals are delivered after the commit. Returns the
  // resulting state (the last state for a removal).
  Result<Session> execute(WriteOp op);
  // Commits `ops` in one transaction, bypassing the queue (apply_batch).
  Result<std::vector<Result<Session>>> execute_batch(std::vector<WriteOp> ops);

  // Runs `body` in a read transaction, translating exceptions to Errors.
  // Reads are monotonic: a snapshot older than one this process has already
  // read is retried (see newest_head_read).
  template <typename T, typename F>
  Result<T> read(F&& body) const {
    try {
      for (;;) {
        std::optional<Result<T>> out;
        env->read([&](detail::Txn& txn) {
          if (snapshot_is_current(txn)) out.emplace(body(txn));
        });
        if (out) return std::move(*out);
        std::this_thread::yield();  // the commit that overtook it is being published
      }
    } catch (...) {
      return std::unexpected(detail::translate_exception(std::current_exception()));
    }
  }

  // --- Helpers used inside transactions.
  std::optional<Session> load(const detail::Txn& txn, std::string_view id) const;
  Result<Session> require(const detail::Txn& txn, std::string_view id) const;
  // Version `number` of `session`, its content resolved from the log.
  Result<Version> version(const detail::Txn& txn, const Session& session,
                          std::uint32_t number) const;
  // Every version of `session`, oldest first, in one scan of its version
  // records through one resolver: each version applies one delta to the
  // content just resolved, not a chain from its keyframe.
  Result<std::vector<Version>> versions(const detail::Txn& txn, const Session& session) const;
  // Log position of the latest event of `session` that carried its content.
  std::uint64_t latest_content_seq(const detail::Txn& txn, const Session& session) const;
  // Folds a session's stream up to and including `limit` (sequence or time).
  Result<Session> replay_session(const detail::Txn& txn, std::string_view id,
                                 const std::function<bool(const detail::FrameHeader&)>& include) const;

  Timestamp now() const;
  // Logs a warning for each projection behind the log head (read-only opens).
  void warn_about_stale_projections() const;

 private:
  // Runs every write in one write transaction and commits once; a failed write
  // leaves nothing behind (see write_path.cpp). REQUIRES: write_mutex held.
  // Queues the events for signals. Returns the commit's error (then every
  // write holds it too).
  Result<void> commit_group(const std::vector<PendingWrite*>& writes);
  // The sessions one write transaction has touched, as its ops left them
  // (nullopt: none, or removed). Each session is decoded once per transaction:
  // later ops of the transaction read it here, never from the sessions
  // database, which the sessions projection writes only at the transaction's
  // end (ProjectionSet::begin_appends, `defer`).
  using TxnStates = std::unordered_map<std::string, std::optional<Session>>;
  // Runs one write in `txn` and stores its outcome; returns whether it
  // succeeded. Unless `isolated` (then `txn` is the write's own nested
  // transaction), a failure after the write began writing throws PartialWrite
  // (the whole transaction is redone, `states` with it).
  bool run_one(const detail::Txn& txn, PendingWrite& write, bool isolated, TxnStates& states);
  // One op inside `txn`; returns the resulting state and the appended event,
  // and folds the event into the op's entry of `states`, which a failed op
  // leaves as it was. Sets `wrote` once the op has written to `txn`.
  Result<std::pair<Session, std::optional<Event>>> apply_one(const detail::Txn& txn,
                                                             const WriteOp& op, bool& wrote,
                                                             TxnStates& states);

 public:
  void log_message(LogLevel level, const std::string& message) const;
  // Upgrades a writable store of format `from` (kOldestUpgradableFormat and
  // up): rebuilds the projections into the slot not in force and stamps
  // kFormatVersion in the commit that switches to it; progress goes to the logger.
  void upgrade_format(std::uint32_t from);

  // --- Shared mode (shared_mode.cpp; docs/SCALING.md). `shared` is null in an
  // embedded store.
  // Thrown out of a write transaction by publish_shared: another node appended
  // first (catch up, decide again), or the shared log failed (`error`).
  struct SharedBehind {};
  struct SharedFailed {
    Error error;
  };
  // Thrown when a write transaction is redone (a map resize) after its events
  // were published: they come back from the shared log, never decided again.
  struct SharedPublished {};
  // Locks the shared head (SharedLog::lock_head) and applies what other nodes
  // appended up to it; on failure nothing stays locked. REQUIRES: write_mutex held.
  Result<void> lock_and_catch_up();
  // `error` of a local commit that failed after its events were published.
  static Error published_not_applied(Error error);
  // Connects, checks that the local log is a prefix of the shared one, applies
  // what the local log lacks and starts the follower (not when read-only).
  Result<void> open_shared();
  // `corruption` naming the first sequence where the local log (head `local`)
  // and the shared log differ, unless they agree up to the local head.
  Result<void> check_shared_prefix(const detail::LogHead& local, std::uint64_t shared_head);
  // Applies the shared log's events after the local head through the write
  // door (recorded), in order, and queues their signals (the caller delivers
  // them after unlocking). Returns how many. REQUIRES: write_mutex held.
  Result<std::uint64_t> pull_shared();
  // Publishes the events `txn` appended after `before` to the shared log, in
  // one PostgreSQL transaction; throws SharedBehind or SharedFailed.
  // REQUIRES: write_mutex held, called last before the LMDB commit.
  void publish_shared(const detail::Txn& txn, const detail::LogHead& before);
  // The follower thread's loop, on its own wake-up connection.
  void follow_shared(detail::SharedLog& listener);
  void stop_shared();  // ends the follower; before the environment closes

  std::unique_ptr<detail::SharedLog> shared;  // the writer's connection; under write_mutex
  std::thread follower;
  std::atomic<bool> follower_stop{false};
  std::mutex follower_mutex;  // with follower_cv: a failing follower's pause, cut short by stop
  std::condition_variable follower_cv;
  // The highest shared head this node has seen (lag = this - local head).
  std::atomic<std::uint64_t> shared_head_seen{0};

  // Constant after open().
  Options options;
  std::unique_ptr<detail::Environment> env;
  std::unique_ptr<detail::EventLog> log;
  std::string registry_key;  // this store in the process-wide open-store registry

  // Writers hold write_mutex. The projection set changes only in
  // register_projection, which holds write_mutex and projections_mutex
  // exclusively; readers of the set outside the write path (info, verify,
  // projection_value) hold projections_mutex shared.
  std::mutex write_mutex;
  mutable std::shared_mutex projections_mutex;
  std::unique_ptr<detail::ProjectionSet> projections;
  // Every event enters through it (write_door.hpp); used with write_mutex held.
  std::unique_ptr<detail::WriteDoor> door;

  // Group commit: guarded by group_mutex.
  std::mutex group_mutex;
  std::condition_variable group_cv;       // a group committed
  std::condition_variable group_fill_cv;  // a write was queued (for a filling leader)
  std::deque<PendingWrite*> group_queue;
  bool group_leader_active = false;
  bool group_leader_filling = false;  // the leader waits for the queue to fill
  std::size_t last_group_size = 0;
  std::chrono::steady_clock::duration group_fill_wait{};  // a quarter of the last commit

  // The highest log head any read transaction of this process has seen.
  // LMDB 0.9 starts a read transaction by reading the current txnid and only
  // then copying that txnid's meta page (mdb_txn_renew0), without checking it
  // again: a reader delayed between the two while two commits land copies the
  // newer commit's meta, and a read begun next — while that commit has written
  // its meta page but not yet published its txnid — gets the older snapshot.
  // Readers compare their snapshot's head with this and retry when behind.
  mutable std::atomic<std::uint64_t> newest_head_read{0};
  // True if `txn` is not older than any snapshot already read (and records its
  // head); false means: begin a new read transaction.
  bool snapshot_is_current(const detail::Txn& txn) const;

  // Thread-safe on their own.
  detail::UuidV7Generator uuids;
  std::unique_ptr<Signals> signals;
  SignalQueue signal_queue;
};

}  // namespace planning
