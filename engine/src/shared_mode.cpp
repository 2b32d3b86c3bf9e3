// Shared mode (Options::shared_log; docs/SCALING.md): the authoritative log is
// in PostgreSQL (events/src/shared_log.hpp) and this store is one node's
// replica of it.
//   * open: the local log must be a prefix of the shared one (else
//     `corruption` naming the first sequence where they differ); the node then
//     applies what it lacks and starts its follower.
//   * a write first locks the shared head (SharedLog::lock_head) and applies
//     what other nodes appended, then decides against the local replica — now
//     the shared head — inside the LMDB write transaction, and publishes the
//     transaction's events to the shared log before the LMDB commit
//     (write_path.cpp). Nodes take turns at the lock, so none starves. A caller
//     returns after both commits.
//   * the follower wakes on NOTIFY (or every half second) and applies every
//     event after the local head, in sequence order, through the write door as
//     recorded events — whoever appended them, this node included.
#include <fmt/format.h>

#include "engine/src/manager_impl.hpp"
#include "events/src/content_resolver.hpp"
#include "events/src/shared_log.hpp"
#include "projections/src/session_fold.hpp"

namespace planning {

using detail::Txn;

namespace {
// Events applied per LMDB write transaction while catching up.
constexpr std::size_t kPullBatch = 1000;
// How long the follower sleeps on its wake-up connection before reading anyway.
constexpr std::chrono::milliseconds kFollowPoll{500};
}  // namespace

Result<void> SessionManager::Impl::open_shared() {
  auto writer = detail::SharedLog::open(options.shared_log);
  if (!writer) return std::unexpected(writer.error());
  shared = std::move(*writer);
  auto shared_head = shared->head();
  if (!shared_head) return std::unexpected(shared_head.error());
  shared_head_seen = shared_head->sequence;
  const detail::LogHead local = env->read([&](const Txn& txn) { return log->head(txn); });
  if (local.sequence > shared_head->sequence && shared_head->sequence == 0) {
    return fail(ErrorCode::invalid_state,
                fmt::format("store {} holds {} events and the shared log {} is empty: move the "
                            "store onto it with `planctl share`",
                            options.path.string(), local.sequence, shared->name()));
  }
  if (local.sequence > 0) {
    if (auto same = check_shared_prefix(local, shared_head->sequence); !same) {
      return std::unexpected(same.error());
    }
  }
  if (options.read_only) return {};  // reports its lag; applies nothing
  {
    std::lock_guard write(write_mutex);
    if (auto pulled = pull_shared(); !pulled) return std::unexpected(pulled.error());
  }
  signal_queue.deliver(*signals);
  auto listener = detail::SharedLog::open(options.shared_log);
  if (!listener) return std::unexpected(listener.error());
  follower = std::thread([this, l = std::move(*listener)]() mutable { follow_shared(*l); });
  return {};
}

Result<void> SessionManager::Impl::check_shared_prefix(const detail::LogHead& local,
                                                       std::uint64_t shared_head) {
  // The usual case, one row: the shared event at the local head has its hash.
  if (local.sequence <= shared_head) {
    auto at_head = shared->read(local.sequence - 1, 1);
    if (!at_head) return std::unexpected(at_head.error());
    if (at_head->size() == 1 && at_head->front().hash == local.hash) return {};
  }
  // They differ: find the first sequence where (reading both in order).
  const std::uint64_t common = std::min(local.sequence, shared_head);
  std::uint64_t differs = common + 1;  // the local log runs past the shared head
  std::optional<Error> read_error;
  try {
    env->read([&](const Txn& txn) {
      detail::ContentResolver resolver(*log);
      for (std::uint64_t seq = 0; seq < common;) {
        auto rows = shared->read(seq, kPullBatch);
        if (!rows) {
          read_error = rows.error();
          return;
        }
        if (rows->empty()) break;
        for (const auto& row : *rows) {
          ++seq;
          auto frame = log->frame(txn, seq);
          if (!frame) {
            differs = seq;
            return;
          }
          auto decoded = resolver.decode_stored(txn, seq, *frame);
          if (!decoded || detail::chain_hash(*frame, *decoded) != row.hash) {
            differs = seq;
            return;
          }
          if (seq == common) return;
        }
      }
    });
  } catch (...) {
    return std::unexpected(detail::translate_exception(std::current_exception()));
  }
  if (read_error) return std::unexpected(*read_error);
  return fail(
      ErrorCode::corruption,
      fmt::format("store {} disagrees with the shared log {} from sequence {} on (local "
                  "head {}, shared head {}): a diverged or tampered replica is never "
                  "merged; move the store away to rebuild this node from the shared log",
                  options.path.string(), shared->name(), differs, local.sequence, shared_head));
}

Result<void> SessionManager::Impl::lock_and_catch_up() {
  auto locked = shared->lock_head();
  if (!locked) return std::unexpected(locked.error());
  if (auto pulled = pull_shared(); !pulled) {
    shared->unlock_head();
    return std::unexpected(pulled.error());
  }
  return {};
}

Error SessionManager::Impl::published_not_applied(Error error) {
  error.message =
      "the shared log committed this write but this node could not apply it yet (it "
      "does when it next catches up): " +
      error.message;
  return error;
}

Result<std::uint64_t> SessionManager::Impl::pull_shared() {
  std::uint64_t applied = 0;
  for (;;) {
    std::uint64_t local = 0;
    std::vector<Event> committed;
    try {
      local = env->read([&](const Txn& txn) { return log->head(txn).sequence; });
      auto rows = shared->read(local, kPullBatch);
      if (!rows) return std::unexpected(rows.error());
      if (rows->empty()) return applied;
      shared_head_seen = std::max(shared_head_seen.load(), rows->back().sequence);
      auto done = env->write([&](Txn& txn) -> Result<void> {
        committed.clear();
        // Another process of this node may have applied them meanwhile.
        if (log->head(txn).sequence != local) return {};
        door->begin(txn, /*defer=*/true);
        detail::ContentResolver resolver(*log);
        TxnStates states;
        for (const detail::SharedEvent& row : *rows) {
          auto event = resolver.decode(txn, row.sequence, row.frame);
          if (!event) {
            return fail(ErrorCode::corruption,
                        fmt::format("shared log {}: event {}: {}", shared->name(), row.sequence,
                                    event.error().message));
          }
          if (event->session_id != row.session_id || event->stream_version != row.stream_version ||
              to_string(event->type) != row.type) {
            return fail(ErrorCode::corruption,
                        fmt::format("shared log {}: event {}: its columns disagree with its frame",
                                    shared->name(), row.sequence));
          }
          auto [state, fresh] = states.try_emplace(event->session_id);
          if (fresh) state->second = load(txn, event->session_id);
          bool wrote = false;
          auto entered =
              door->enter(txn, *event, state->second, detail::WriteDoor::Origin::recorded, wrote);
          if (!entered) {
            return fail(ErrorCode::corruption,
                        fmt::format("shared log {}: event {} does not continue this node's log: {}",
                                    shared->name(), row.sequence, entered.error().message));
          }
          if (log->head(txn).hash != row.hash) {
            return fail(ErrorCode::corruption,
                        fmt::format("shared log {}: event {}: its hash column does not match "
                                    "its frame",
                                    shared->name(), row.sequence));
          }
          detail::fold(state->second, *event);
          committed.push_back(std::move(*event));
        }
        door->end(txn);
        return {};
      });
      if (!done) return std::unexpected(done.error());
    } catch (...) {
      return std::unexpected(detail::translate_exception(std::current_exception()));
    }
    for (auto& e : committed) signal_queue.push(std::move(e));
    applied += committed.size();
  }
}

void SessionManager::Impl::publish_shared(const Txn& txn, const detail::LogHead& before) {
  const detail::LogHead now = log->head(txn);
  if (now.sequence == before.sequence) {  // every op was a no-op or refused
    shared->unlock_head();
    return;
  }
  std::vector<detail::SharedEvent> events;
  events.reserve(now.sequence - before.sequence);
  log->scan(txn, before.sequence + 1, now.sequence, [&](std::uint64_t seq, std::string_view frame) {
    auto header = detail::peek_header(seq, frame);
    const Hash256* hash = door->appended_hash(seq);
    if (!header || hash == nullptr) {
      throw SharedFailed{Error{ErrorCode::corruption,
                               fmt::format("event {} this transaction appended cannot be read "
                                           "back to publish it",
                                           seq)}};
    }
    events.push_back(
        detail::SharedEvent{seq, std::string(header->session_id), header->stream_version,
                            std::string(to_string(header->type)), *hash, std::string(frame)});
    return true;
  });
  auto outcome = shared->append(before, events);
  if (!outcome) throw SharedFailed{outcome.error()};
  if (!outcome->appended) throw SharedBehind{};
  shared_head_seen = std::max(shared_head_seen.load(), now.sequence);
}

void SessionManager::Impl::follow_shared(detail::SharedLog& listener) {
  bool reported = false;  // the last failure was logged already
  while (!follower_stop) {
    auto woken = listener.wait_for_append(kFollowPoll);
    if (follower_stop) break;
    Result<std::uint64_t> pulled = 0;
    if (woken) {
      std::lock_guard write(write_mutex);
      pulled = pull_shared();  // also records the shared head it reads up to
    }
    const Error* error = !woken ? &woken.error() : !pulled ? &pulled.error() : nullptr;
    if (error != nullptr) {
      if (!reported) {
        log_message(LogLevel::warning,
                    "following the shared log: " + error->message + " (retrying)");
      }
      reported = true;
      std::unique_lock lock(follower_mutex);
      follower_cv.wait_for(lock, kFollowPoll, [&] { return follower_stop.load(); });
      continue;
    }
    reported = false;
    signal_queue.deliver(*signals);
  }
}

void SessionManager::Impl::stop_shared() {
  {
    std::lock_guard lock(follower_mutex);
    follower_stop = true;
  }
  follower_cv.notify_all();
  if (follower.joinable()) follower.join();
}

}  // namespace planning

namespace planning {

Result<std::uint64_t> SessionManager::share(std::string_view shared_log) {
  if (impl_->shared) {
    return fail(ErrorCode::invalid_state,
                fmt::format("store {} is a node of shared log {} already",
                            impl_->options.path.string(), impl_->shared->name()));
  }
  auto target = detail::SharedLog::open(shared_log);
  if (!target) return std::unexpected(target.error());
  detail::SharedLog& shared = **target;
  auto start = shared.head();
  if (!start) return std::unexpected(start.error());
  std::lock_guard write(impl_->write_mutex);  // the log stays as it is meanwhile
  std::uint64_t uploaded = 0;
  std::optional<Error> error;
  try {
    impl_->env->read([&](const Txn& txn) {
      const detail::LogHead local = impl_->log->head(txn);
      detail::ContentResolver resolver(*impl_->log);
      detail::LogHead head{};  // the shared head as this upload advances it
      std::vector<detail::SharedEvent> batch;
      auto flush = [&]() -> bool {
        if (batch.empty()) return true;
        auto appended = shared.append(head, batch);
        if (!appended || !appended->appended) {
          error = appended ? Error{ErrorCode::conflict,
                                   fmt::format("shared log {}: another writer appended during "
                                               "the share, at event {}",
                                               shared.name(), appended->head.sequence)}
                           : appended.error();
          return false;
        }
        uploaded += batch.size();
        head = appended->head;
        batch.clear();
        return true;
      };
      impl_->log->scan(txn, 1, local.sequence, [&](std::uint64_t seq, std::string_view frame) {
        auto decoded = resolver.decode_stored(txn, seq, frame);
        if (!decoded) {
          error = Error{ErrorCode::corruption,
                        fmt::format("event {}: {}", seq, decoded.error().message)};
          return false;
        }
        const Hash256 hash = detail::chain_hash(frame, *decoded);
        if (seq <= start->sequence) {  // already there: a resumed share
          if (seq == start->sequence) {
            auto there = shared.read(seq - 1, 1);
            if (!there) {
              error = there.error();
              return false;
            }
            if (there->size() != 1 || there->front().hash != hash) {
              error = Error{ErrorCode::invalid_state,
                            fmt::format("shared log {} is not empty and is not a prefix of store "
                                        "{}: a store moves only onto an empty shared log",
                                        shared.name(), impl_->options.path.string())};
              return false;
            }
            head = detail::LogHead{seq, hash};
          }
          return true;
        }
        const Event& event = decoded->event;
        batch.push_back(detail::SharedEvent{seq, event.session_id, event.stream_version,
                                            std::string(to_string(event.type)), hash,
                                            std::string(frame)});
        return batch.size() < 1000 || flush();
      });
      if (!error && start->sequence > local.sequence) {
        error = Error{ErrorCode::invalid_state,
                      fmt::format("shared log {} holds {} events, more than store {} ({}): a "
                                  "store moves only onto an empty shared log",
                                  shared.name(), start->sequence, impl_->options.path.string(),
                                  local.sequence)};
      }
      if (!error) flush();
    });
  } catch (...) {
    return std::unexpected(detail::translate_exception(std::current_exception()));
  }
  if (error) return std::unexpected(*error);
  return uploaded;
}

}  // namespace planning
