// The write path: group commit, nested per-operation transactions, the event
// append and the projections, then signal delivery.
//
// Durability cost is one fsync per commit, so concurrent writers share one:
// each execute() queues its op; the first thread to find no leader becomes the
// leader, takes every queued op and commits them in one LMDB write transaction;
// the others wait for their results. A rejected op fails alone and leaves
// nothing behind: validation (decide, check_event) runs before an op writes, so
// ops run straight in the group's transaction. Only a failure after an op began
// writing needs a rollback of that op alone: with user projections registered
// (which may throw) each op runs in a nested transaction; without them such a
// failure (a damaged record) aborts the transaction and the group is redone with
// nested transactions. Nested transactions copy every page they touch, which is
// why they are not the default. Every caller returns only after the commit
// holding its event is durable.
#include "engine/src/manager_impl.hpp"

#include <algorithm>
#include <chrono>

#include <fmt/format.h>

#include "engine/src/validation.hpp"
#include "events/src/event_codec.hpp"
#include "projections/src/session_fold.hpp"

namespace planning {

using detail::Txn;

namespace {
// Upper bound on ops per group (bounds the transaction's dirty pages).
constexpr std::size_t kMaxGroup = 512;
// Upper bound on how long a leader waits for the last group's writers.
constexpr std::chrono::steady_clock::duration kMaxFillWait = std::chrono::milliseconds(1);

// Thrown out of a group run without nested transactions when an op fails after
// it began writing: the transaction is aborted and the group redone isolated.
struct PartialWrite {};
// Shared mode: how many times a group is decided again because another node
// appended first (only when the head lock was lost with its connection),
// before the write fails with `storage`.
constexpr int kMaxSharedRetries = 50;
}  // namespace

struct SessionManager::Impl::PendingWrite {
  const WriteOp* op = nullptr;
  Result<Session> result = fail(ErrorCode::storage, "operation not run");
  std::optional<Event> event;
  bool done = false;  // guarded by group_mutex
};

Result<Session> SessionManager::Impl::execute(WriteOp op) {
  PendingWrite pending;
  pending.op = &op;
  std::unique_lock lock(group_mutex);
  group_queue.push_back(&pending);
  if (group_leader_filling) group_fill_cv.notify_one();
  while (!pending.done) {
    if (group_leader_active) {
      group_cv.wait(lock);
      continue;
    }
    // Lead: commit everything queued so far (our own op included).
    group_leader_active = true;
    // The writers of the last group come back right after its commit; the first
    // one back waits for the others a bounded moment (a fraction of a commit),
    // or it would commit alone while they queue behind its fsync. A lone writer
    // (last group of one) never waits.
    if (group_queue.size() < last_group_size) {
      group_leader_filling = true;
      group_fill_cv.wait_for(lock, group_fill_wait,
                             [&] { return group_queue.size() >= last_group_size; });
      group_leader_filling = false;
    }
    std::vector<PendingWrite*> group;
    while (!group_queue.empty() && group.size() < kMaxGroup) {
      group.push_back(group_queue.front());
      group_queue.pop_front();
    }
    last_group_size = group.size();
    lock.unlock();
    const auto started = std::chrono::steady_clock::now();
    {
      std::lock_guard write(write_mutex);
      commit_group(group);
    }
    const auto took = std::chrono::steady_clock::now() - started;
    lock.lock();
    group_fill_wait = std::min<std::chrono::steady_clock::duration>(took / 4, kMaxFillWait);
    for (PendingWrite* w : group) w->done = true;
    group_leader_active = false;
    group_cv.notify_all();
  }
  lock.unlock();
  // In shared mode, events of other nodes applied while catching up queue too.
  if (pending.event || shared) signal_queue.deliver(*signals);
  return std::move(pending.result);
}

Result<std::vector<Result<Session>>> SessionManager::Impl::execute_batch(
    std::vector<WriteOp> ops) {
  std::vector<PendingWrite> pending(ops.size());
  std::vector<PendingWrite*> group;
  for (std::size_t i = 0; i < ops.size(); ++i) {
    pending[i].op = &ops[i];
    group.push_back(&pending[i]);
  }
  Result<void> committed;
  {
    std::lock_guard write(write_mutex);
    committed = commit_group(group);
  }
  if (!committed) return std::unexpected(committed.error());  // nothing was applied
  signal_queue.deliver(*signals);
  std::vector<Result<Session>> results;
  results.reserve(pending.size());
  for (auto& p : pending) results.push_back(std::move(p.result));
  return results;
}

Result<void> SessionManager::Impl::commit_group(const std::vector<PendingWrite*>& writes) {
  // User projections may throw mid-write: isolate each op from the start.
  bool isolated = !projections->users().empty();
  // Shared mode: set once this group's events are in the shared log. A local
  // commit redone after that (a map resize) must not decide them again: the
  // events come back from the shared log as recorded ones instead.
  bool published = false;
  int behind = 0;  // times another node appended first (a lost head lock)
  auto fail_all = [&](const Error& error) -> Result<void> {
    for (PendingWrite* w : writes) {
      w->result = std::unexpected(error);
      w->event.reset();
    }
    return std::unexpected(error);
  };
  for (;;) {
    if (shared && !published) {
      // Hold the shared head while deciding: apply what other nodes appended,
      // then decide against the shared head itself, which cannot move until
      // the publish commits. Nodes take turns at this lock; none is refused.
      if (auto ready = lock_and_catch_up(); !ready) return fail_all(ready.error());
    }
    try {
      env->write([&](Txn& txn) {
        if (published) throw SharedPublished{};
        for (PendingWrite* w : writes) {  // the body re-runs after a map resize
          w->result = fail(ErrorCode::storage, "operation not run");
          w->event.reset();
        }
        const detail::LogHead before = shared ? log->head(txn) : detail::LogHead{};
        // Projections are brought to the head once, and their checkpoints
        // written once, per transaction (not per event); without nested
        // transactions the sessions, indexes and statistics records are
        // written once too, and each session is decoded once (`states`).
        // Every event enters through the one write door (write_door.hpp).
        door->begin(txn, !isolated);
        TxnStates states;
        for (PendingWrite* w : writes) {
          if (isolated) {
            Txn nested = txn.child();
            if (!run_one(nested, *w, true, states)) continue;  // `nested` aborts: nothing left
            nested.commit();
          } else {
            run_one(txn, *w, false, states);
          }
        }
        door->end(txn);
        if (shared) {
          publish_shared(txn, before);  // last: the LMDB commit follows
          published = true;
        }
      });
      break;
    } catch (const PartialWrite&) {
      if (shared) shared->unlock_head();
      isolated = true;  // nothing was committed; redo with a nested txn per op
    } catch (const SharedBehind&) {
      // Decided against an old head (the lock was lost with its connection):
      // the next round locks again, catches up and decides the group again.
      if (++behind > kMaxSharedRetries) {
        return fail_all(Error{ErrorCode::storage,
                              fmt::format("shared log {}: other nodes appended first {} times in "
                                          "a row; nothing of this write was appended",
                                          shared->name(), behind - 1)});
      }
    } catch (const SharedFailed& failed) {
      shared->unlock_head();
      return fail_all(failed.error);  // nothing appended anywhere
    } catch (const SharedPublished&) {
      // The results decided before stand; the events arrive as recorded ones
      // (and queue their signals).
      if (auto pulled = pull_shared(); !pulled)
        return fail_all(published_not_applied(pulled.error()));
      return {};
    } catch (...) {
      if (shared) shared->unlock_head();
      const Error error = detail::translate_exception(std::current_exception());
      return fail_all(published ? published_not_applied(error) : error);
    }
  }
  for (PendingWrite* w : writes) {
    // Commit order = log order. The event moves to the queue; `event` stays
    // engaged, which is all execute() reads of it afterwards.
    if (w->event) signal_queue.push(std::move(*w->event));
  }
  return {};
}

bool SessionManager::Impl::run_one(const Txn& txn, PendingWrite& w, bool isolated,
                                   TxnStates& states) {
  bool wrote = false;
  auto outcome = apply_one(txn, *w.op, wrote, states);
  if (!outcome) {
    if (wrote && !isolated) throw PartialWrite{};
    w.result = std::unexpected(outcome.error());
    return false;
  }
  w.result = std::move(outcome->first);
  w.event = std::move(outcome->second);
  return true;
}

Result<std::pair<Session, std::optional<Event>>> SessionManager::Impl::apply_one(
    const Txn& txn, const WriteOp& op, bool& wrote, TxnStates& states) {
  TxnStates::iterator entry = states.find(op.session_id);
  bool folding = false;
  try {
    if (entry == states.end()) {
      std::optional<Session> loaded = load(txn, op.session_id);
      entry = states.emplace(op.session_id, std::move(loaded)).first;
    }
    // The state is folded in place once the event is in: later ops of the
    // transaction read it here. Nothing before the fold changes it.
    std::optional<Session>& state = entry->second;
    auto decision = op.decide(state, txn);
    if (!decision) return std::unexpected(decision.error());
    if (!*decision) return std::pair{*state, std::optional<Event>{}};  // nothing changes

    Event event;
    event.session_id = op.session_id;
    event.stream_version = (state ? state->stream_version : 0) + 1;
    event.actor = op.actor;
    event.payload = std::move(**decision);
    event.type = event_type_of(event.payload);
    event.timestamp = now();
    auto entered = door->enter(txn, event, state, detail::WriteDoor::Origin::decided, wrote);
    if (!entered) return std::unexpected(entered.error());
    folding = true;
    Session result;
    if (event.type == EventType::session_removed) {
      result = std::move(*state);  // a removal returns the last state
      state.reset();
    } else {
      detail::fold(state, event);
      result = *state;
    }
    return std::pair{std::move(result), std::optional<Event>(std::move(event))};
  } catch (const lmdb::error&) {
    throw;  // the enclosing transaction is unusable (e.g. MDB_MAP_FULL): redo it all
  } catch (...) {
    // A state half folded is dropped: the next op reads it from `txn` again.
    if (folding) states.erase(entry);
    // A failing user projection or a damaged record fails this op alone (the
    // caller rolls back what it wrote when `wrote` is set).
    return std::unexpected(detail::translate_exception(std::current_exception()));
  }
}

}  // namespace planning
