// Opening a store (the in-process registry, the format stamp, the projections'
// catch-up), signal delivery, and the helpers that read inside a transaction.
// The write path itself is write_path.cpp.
#include "engine/src/manager_impl.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <set>

#include <fmt/format.h>

#include "events/src/content_resolver.hpp"
#include "engine/src/validation.hpp"
#include "events/src/bytes.hpp"
#include "events/src/cereal_fields.hpp"
#include "events/src/event_codec.hpp"
#include "projections/src/session_fold.hpp"

namespace planning {

using detail::Txn;

// --- Signal delivery -----------------------------------------------------------

namespace {
// Queues this thread is delivering right now (to detect calls from slots).
thread_local std::vector<const SignalQueue*> tls_delivering;
}  // namespace

void SignalQueue::push(Event event) {
  std::lock_guard lock(pending_mutex_);
  pending_.push_back(std::move(event));
}

void SignalQueue::deliver(Signals& signals) {
  if (std::find(tls_delivering.begin(), tls_delivering.end(), this) != tls_delivering.end()) {
    return;  // called from a slot: the loop below, further up this stack, delivers it
  }
  std::lock_guard emit(emit_mutex_);
  tls_delivering.push_back(this);
  struct Pop {
    ~Pop() { tls_delivering.pop_back(); }
  } pop;
  for (;;) {
    Event event;
    {
      std::lock_guard lock(pending_mutex_);
      if (pending_.empty()) break;
      event = std::move(pending_.front());
      pending_.pop_front();
    }
    signals.emit(event);  // the combiner isolates throwing slots
  }
}

// --- Process-wide registry: one open environment per store per process ---------

// LMDB's POSIX locks belong to the process: a second mdb_env_open of one store
// in a process, once closed, drops the locks of the first (fcntl semantics), and
// the next process may then reset the lock table under a live writer. So the
// registry is consulted before LMDB ever sees the path, and it is keyed by the
// directory's device and inode (a symlink or a path with ".." names the same
// store), plus the pid (a forked child inherits the set but not the locks).
// registry_mutex is held across Environment::open, so two threads opening the
// same new path cannot both pass the check.
namespace {
std::mutex registry_mutex;
std::set<std::string> registry;  // "<pid>:<st_dev>:<st_ino>" of the store directory

std::optional<std::string> store_identity(const std::filesystem::path& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return std::nullopt;
  return fmt::format("{}:{}:{}", ::getpid(), static_cast<unsigned long long>(st.st_dev),
                     static_cast<unsigned long long>(st.st_ino));
}

Error already_open(const std::filesystem::path& path) {
  return Error{ErrorCode::storage, "store " + path.string() +
                                       " is already open in this process (LMDB forbids "
                                       "opening it twice; share the SessionManager)"};
}
}  // namespace

// --- Open -------------------------------------------------------------------------

Result<std::unique_ptr<SessionManager::Impl>> SessionManager::Impl::open(Options options) {
  auto impl = std::make_unique<Impl>();
  impl->options = std::move(options);
  const Options& o = impl->options;
  if (o.path.empty()) return fail(ErrorCode::invalid_argument, "Options::path is empty");
  if (o.replay_batch_events == 0) {
    return fail(ErrorCode::invalid_argument, "Options::replay_batch_events must be positive");
  }
  if (o.rebuild_memory_bytes == 0) {
    return fail(ErrorCode::invalid_argument, "Options::rebuild_memory_bytes must be positive");
  }

  {
    std::lock_guard lock(registry_mutex);
    if (auto id = store_identity(o.path); id && registry.contains(*id)) {
      return std::unexpected(already_open(o.path));  // LMDB never saw the path
    }
    detail::StorageOptions storage{.path = o.path,
                                   .create_if_missing = o.create_if_missing,
                                   .logger = o.logger,
                                   .durability = o.durability,
                                   .initial_map_size = o.initial_map_size,
                                   .max_map_size = o.max_map_size,
                                   .max_readers = o.max_readers,
                                   .read_only = o.read_only,
                                   .structure_check = o.structure_check};
    auto env = detail::Environment::open(storage, detail::store_databases());  // may create the directory
    if (!env) return std::unexpected(env.error());
    auto id = store_identity(o.path);
    if (!id) return fail(ErrorCode::storage, "cannot stat " + o.path.string() + " after opening it");
    if (!registry.insert(*id).second) return std::unexpected(already_open(o.path));
    impl->env = std::move(*env);
    impl->registry_key = std::move(*id);
  }

  impl->signals = std::make_unique<Signals>([raw = impl.get()](const std::string& what) {
    raw->log_message(LogLevel::error, "signal slot threw: " + what);
  });
  impl->log = std::make_unique<detail::EventLog>(*impl->env);

  try {
    // Format version: stamp a new store, refuse an unknown one. A read-only
    // open writes nothing (an unstamped store reads as version 0).
    auto stamp = [&](Txn& txn) -> std::optional<std::uint32_t> {
      if (o.read_only) return impl->log->format_version(txn).value_or(0);
      auto v = impl->log->format_version(txn);
      if (!v) {
        if (impl->log->head(txn).sequence != 0) return std::uint32_t{0};
        impl->log->set_format_version(txn, kFormatVersion);
        return kFormatVersion;
      }
      return v;
    };
    auto format = o.read_only ? impl->env->read(stamp) : impl->env->write(stamp);
    // Formats 1 and 2 (docs/FORMAT.md §1.1: no "slots" database in 1, version
    // records of record version 1 in both) are read as they are, and upgraded
    // by a rebuild into the slot not in force when writable.
    const bool upgradable = *format >= kOldestUpgradableFormat && *format < kFormatVersion;
    if (*format != kFormatVersion && !upgradable) {
      return fail(ErrorCode::corruption,
                  fmt::format("store {} has format version {}; this build reads version {} and "
                              "upgrades versions from {} on",
                              o.path.string(), *format, kFormatVersion, kOldestUpgradableFormat));
    }

    impl->projections = std::make_unique<detail::ProjectionSet>(*impl->env, *impl->log);
    impl->projections->add_builtins();
    impl->door = std::make_unique<detail::WriteDoor>(*impl->env, *impl->log, *impl->projections);
    std::set<std::string> names;
    for (const auto& user : o.projections) {
      if (!user) return fail(ErrorCode::invalid_argument, "Options::projections holds a null");
      const std::string name = user->name();
      if (!detail::is_projection_name(name) || !names.insert(name).second) {
        return fail(ErrorCode::invalid_argument,
                    "projection name '" + name + "' is invalid or used twice ([a-z0-9_-]{1,64})");
      }
      impl->projections->add_user(user, false);
    }
    if (o.read_only) {
      if (upgradable) {
        impl->log_message(LogLevel::warning,
                          fmt::format("store {} has format version {} (opened read-only, so it is "
                                      "read as it is and not upgraded to {})",
                                      o.path.string(), *format, kFormatVersion));
      }
      impl->warn_about_stale_projections();  // read-only: nothing is caught up
    } else if (upgradable) {
      impl->upgrade_format(*format);
    } else {
      impl->projections->catch_up(o.replay_batch_events, o.rebuild_memory_bytes, {});
    }
  } catch (...) {
    return std::unexpected(detail::translate_exception(std::current_exception()));
  }
  if (!o.shared_log.empty()) {
    if (auto node = impl->open_shared(); !node) return std::unexpected(node.error());
  }
  return impl;
}

void SessionManager::Impl::upgrade_format(std::uint32_t from) {
  const std::string path = options.path.string();
  log_message(LogLevel::info,
              fmt::format("upgrading store {} from format version {} to {}: rebuilding every "
                          "projection from the log (the log is not changed)",
                          path, from, kFormatVersion));
  int logged_tenths = 0;
  auto progress = [&](std::uint64_t done, std::uint64_t total) {
    const int tenths = total == 0 ? 10 : static_cast<int>(done * 10 / total);
    if (tenths <= logged_tenths) return;
    logged_tenths = tenths;
    log_message(LogLevel::info,
                fmt::format("upgrading store {}: {} of {} events replayed", path, done, total));
  };
  projections->rebuild(options.replay_batch_events, options.rebuild_memory_bytes, progress,
                       [&](const Txn& txn) {
    log->set_format_version(txn, kFormatVersion);  // in the commit that switches slots
  });
  log_message(LogLevel::info, fmt::format("upgraded store {} to format version {}", path,
                                          kFormatVersion));
}

SessionManager::Impl::~Impl() {
  stop_shared();  // the follower writes through everything below
  // Close the environment before leaving the registry: until mdb_env_close
  // returns, this process still holds the store's locks through it.
  projections.reset();
  log.reset();
  env.reset();
  if (!registry_key.empty()) {
    std::lock_guard lock(registry_mutex);
    registry.erase(registry_key);
  }
}

// --- Helpers ----------------------------------------------------------------------

void SessionManager::Impl::warn_about_stale_projections() const {
  env->read([&](const Txn& txn) {
    const std::uint64_t head = log->head(txn).sequence;
    for (const auto& info : projections->info(txn)) {
      if (info.checkpoint == head) continue;
      log_message(LogLevel::warning,
                  fmt::format("projection {} is at event {} but the log head is {} (opened "
                              "read-only, so it is not caught up: its reads may be stale; "
                              "`rebuild` or any write brings it up to date)",
                              info.name, info.checkpoint, head));
    }
  });
}

bool SessionManager::Impl::snapshot_is_current(const Txn& txn) const {
  std::uint64_t head = 0;
  try {
    head = log->head(txn).sequence;
  } catch (const detail::DecodeError&) {
    return true;  // a damaged head record: the read itself reports what it needs
  }
  std::uint64_t newest = newest_head_read.load(std::memory_order_acquire);
  if (head < newest) return false;
  while (head > newest &&
         !newest_head_read.compare_exchange_weak(newest, head, std::memory_order_acq_rel)) {
  }
  return true;
}

std::optional<Session> SessionManager::Impl::load(const Txn& txn, std::string_view id) const {
  auto bytes = detail::kv_get(txn, env->dbi(txn, detail::SessionsDatabases::records), id);
  if (!bytes) return std::nullopt;
  return detail::decode_session(*bytes);
}

Result<Session> SessionManager::Impl::require(const Txn& txn, std::string_view id) const {
  if (auto c = detail::check_session_id(id); !c) return std::unexpected(c.error());
  const std::string canonical = detail::canonical_session_id(id);  // ids are case-insensitive
  id = canonical;
  auto session = load(txn, id);
  if (!session) return fail(ErrorCode::not_found, "session " + std::string(id) + " not found");
  return std::move(*session);
}

namespace {

// Version `number` of `session` from its stored record and its content.
Version make_version(const Session& session, std::uint32_t number, detail::VersionRecord record,
                     std::string content) {
  Version v;
  v.session_id = session.id;
  v.version_number = number;
  v.content = std::move(content);
  v.change_summary = std::move(record.change_summary);
  v.changed_fields = std::move(record.changed_fields);
  v.created_at = record.created_at;
  v.created_by = std::move(record.created_by);
  v.event_seq = record.event_seq;
  return v;
}

}  // namespace

Result<Version> SessionManager::Impl::version(const Txn& txn, const Session& session,
                                              std::uint32_t number) const {
  if (auto c = detail::check_version_number(number); !c) return std::unexpected(c.error());
  auto bytes = detail::kv_get(txn, env->dbi(txn, detail::VersionsDatabases::records), detail::version_key(session.id, number));
  if (!bytes) {
    return fail(ErrorCode::not_found,
                fmt::format("version {} of session {} not found (it has {})", number, session.id,
                            session.current_version));
  }
  detail::VersionRecord record = detail::decode_version(*bytes);
  auto content = detail::ContentResolver(*log).content(txn, record.content_seq);
  if (!content) return std::unexpected(content.error());
  return make_version(session, number, std::move(record), std::move(*content));
}

Result<std::vector<Version>> SessionManager::Impl::versions(const Txn& txn,
                                                            const Session& session) const {
  std::vector<Version> out;
  out.reserve(session.current_version);
  // Oldest first: each version's delta applies to the content of the version
  // before it (its base), as resolved a step earlier, not to a chain from the
  // keyframe.
  detail::ContentResolver resolver(*log);
  detail::FrameCursor frames(*log, txn);
  std::optional<Error> failed;
  // Views the content of an element of `out`, which never reallocates: it was
  // reserved for every version and the scan stops at the last.
  detail::ContentResolver::Known previous;
  detail::kv_scan_prefix(
      txn, env->dbi(txn, detail::VersionsDatabases::records), session.id,
      [&](std::string_view key, std::string_view value) {
        const auto number = static_cast<std::uint32_t>(out.size() + 1);
        // Keys are id ‖ u32 BE number (docs/FORMAT.md §1); the scan stays in the prefix.
        if (key.size() != session.id.size() + 4 ||
            detail::get_be<std::uint32_t>(key, session.id.size()) != number) {
          failed = Error{ErrorCode::corruption,
                         fmt::format("the versions of session {} are not numbered 1 to {}",
                                     session.id, session.current_version)};
          return false;
        }
        detail::VersionRecord record = detail::decode_version(value);
        // A version that changed no content (title, metadata) shares its
        // predecessor's content event: copied, not decoded again.
        if (!out.empty() && record.content_seq == previous.sequence) {
          std::string same = out.back().content;
          out.push_back(make_version(session, number, std::move(record), std::move(same)));
          return number < session.current_version;
        }
        std::uint32_t depth = 0;
        auto content = resolver.content_after(txn, record.content_seq, frames, previous, depth);
        if (!content) {
          failed = content.error();
          return false;
        }
        const std::uint64_t content_seq = record.content_seq;
        out.push_back(make_version(session, number, std::move(record), std::move(*content)));
        previous = {content_seq, depth, out.back().content};
        return number < session.current_version;
      });
  if (failed) return std::unexpected(*failed);
  if (out.size() != session.current_version) {
    return fail(ErrorCode::corruption,
                fmt::format("session {} has {} versions; {} are stored", session.id,
                            session.current_version, out.size()));
  }
  return out;
}

std::uint64_t SessionManager::Impl::latest_content_seq(const Txn& txn,
                                                       const Session& session) const {
  auto latest =
      detail::latest_content_event(txn, *env, *log, session.id, session.stream_version);
  return latest && *latest ? (*latest)->sequence : 0;
}

Result<Session> SessionManager::Impl::replay_session(
    const Txn& txn, std::string_view id,
    const std::function<bool(const detail::FrameHeader&)>& include) const {
  if (auto c = detail::check_session_id(id); !c) return std::unexpected(c.error());
  const std::string canonical = detail::canonical_session_id(id);  // ids are case-insensitive
  id = canonical;
  std::optional<Session> state;
  bool existed = false;
  detail::ContentResolver resolver(*log);
  for (std::uint32_t sv = 1;; ++sv) {
    auto seq_bytes = detail::kv_get(txn, env->dbi(txn, detail::StreamsDatabases::records), detail::stream_key(id, sv));
    if (!seq_bytes) break;
    const auto seq = detail::get_be<std::uint64_t>(*seq_bytes, 0);
    auto frame = log->frame(txn, seq);
    if (!frame) {
      return fail(ErrorCode::corruption, fmt::format("event {} is missing from the log", seq));
    }
    auto header = detail::peek_header(seq, *frame);
    if (!header) return std::unexpected(header.error());
    if (!include(*header)) break;
    auto event = resolver.decode(txn, seq, *frame);
    if (!event) return std::unexpected(event.error());
    detail::fold(state, *event);
    existed = true;
  }
  if (!state) {
    return fail(ErrorCode::not_found,
                existed ? "session " + std::string(id) + " was removed by then"
                        : "session " + std::string(id) + " did not exist then");
  }
  return std::move(*state);
}

Timestamp SessionManager::Impl::now() const {
  if (options.clock) return options.clock();
  return std::chrono::time_point_cast<std::chrono::nanoseconds>(std::chrono::system_clock::now());
}

void SessionManager::Impl::log_message(LogLevel level, const std::string& message) const {
  if (!options.logger) return;
  try {
    options.logger(level, message);
  } catch (...) {
  }
}

}  // namespace planning
