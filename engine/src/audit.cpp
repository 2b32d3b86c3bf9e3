// Audit and maintenance: verify, rebuild, projection registration, info, backup.
#include <planning/session_manager.hpp>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <tuple>
#include <system_error>
#include <vector>

#include <fmt/format.h>

#include "engine/src/manager_impl.hpp"
#include "engine/src/validation.hpp"
#include "events/src/content_resolver.hpp"
#include "events/src/bytes.hpp"
#include "events/src/event_codec.hpp"
#include "projections/src/session_fold.hpp"

namespace planning {

using detail::Txn;

namespace {

std::string printable_key(std::string_view key) {
  std::string out;
  for (unsigned char c : key) {
    if (c >= 0x20 && c < 0x7f) {
      out.push_back(static_cast<char>(c));
    } else {
      out += fmt::format("\\x{:02x}", c);
    }
  }
  return out;
}

// Compares one database of two environments entry by entry; reports up to
// `max_issues` differences.
void compare_database(const Txn& live_txn, MDB_dbi live, const Txn& fresh_txn, MDB_dbi fresh,
                      const std::string& name, std::vector<VerifyIssue>& issues,
                      std::size_t max_issues) {
  detail::Cursor a(live_txn, live);
  detail::Cursor b(fresh_txn, fresh);
  MDB_val ak{}, av{}, bk{}, bv{};
  bool has_a = a.get(ak, av, MDB_FIRST);
  bool has_b = b.get(bk, bv, MDB_FIRST);
  std::size_t reported = 0;
  auto report = [&](std::string what) {
    if (reported++ < max_issues) issues.push_back(VerifyIssue{0, std::move(what)});
  };
  while (has_a || has_b) {
    const auto ka = has_a ? detail::from_val(ak) : std::string_view();
    const auto kb = has_b ? detail::from_val(bk) : std::string_view();
    if (has_a && (!has_b || ka < kb)) {
      report(fmt::format("projection {}: key {} is not produced by a replay of the log", name,
                         printable_key(ka)));
      has_a = a.get(ak, av, MDB_NEXT);
    } else if (has_b && (!has_a || kb < ka)) {
      report(fmt::format("projection {}: key {} is missing (a replay of the log produces it)",
                         name, printable_key(kb)));
      has_b = b.get(bk, bv, MDB_NEXT);
    } else {
      if (detail::from_val(av) != detail::from_val(bv)) {
        report(fmt::format("projection {}: key {} differs from a replay of the log", name,
                           printable_key(ka)));
      }
      has_a = a.get(ak, av, MDB_NEXT);
      has_b = b.get(bk, bv, MDB_NEXT);
    }
  }
  if (reported > max_issues) {
    issues.push_back(VerifyIssue{
        0, fmt::format("projection {}: {} more differences", name, reported - max_issues)});
  }
}

// verify()'s scratch store: a directory in $TMPDIR named
// planning-verify-<pid>-<random>. Its names are removed as soon as the scratch
// environment is open (LMDB keeps using the open files), so an interrupted
// verify — even SIGKILL — leaves nothing behind; directories left by verifies
// of older builds whose process is gone are removed when the next one starts.
struct ScratchDir {
  std::filesystem::path path;
  ScratchDir() {
    const auto temp = std::filesystem::temp_directory_path();
    remove_stale(temp);
    std::random_device rd;
    path = temp / fmt::format("planning-verify-{}-{:x}", ::getpid(), rd());
    std::filesystem::create_directories(path);
    ::chmod(path.c_str(), 0700);
  }
  ~ScratchDir() { unlink_names(); }
  void unlink_names() noexcept {
    std::error_code ec;
    std::filesystem::remove_all(path, ec);
  }
  static void remove_stale(const std::filesystem::path& temp) noexcept {
    std::error_code ec;
    for (std::filesystem::directory_iterator it(temp, ec), end; !ec && it != end; it.increment(ec)) {
      const std::string name = it->path().filename().string();
      unsigned long pid = 0;
      if (std::sscanf(name.c_str(), "planning-verify-%lu-", &pid) != 1 || pid == 0) continue;
      if (::kill(static_cast<pid_t>(pid), 0) == 0 || errno != ESRCH) continue;  // alive
      std::error_code ignored;
      std::filesystem::remove_all(it->path(), ignored);
    }
  }
};

// An error of the scratch store, naming it.
Error scratch_error(const std::filesystem::path& path, const Error& error) {
  return Error{ErrorCode::storage,
               fmt::format("verify's scratch store {} (in $TMPDIR): {}", path.string(),
                           error.message)};
}

}  // namespace

// verify() judges one snapshot: the structural check of data.mdb, the log scan
// and the comparison of every projection all run in one read transaction of the
// live store, so concurrent writers can neither move the head under it nor
// leave it comparing projections of a later state with an earlier log (its
// cost: a map resize by a writer of this process waits until verify ends).
Result<VerifyReport> SessionManager::verify(const ProgressCallback& progress) const {
  constexpr std::size_t kMaxIssues = 100;
  std::shared_lock projections_lock(impl_->projections_mutex);
  std::optional<ScratchDir> scratch_dir;
  try {
    // The replay of every event goes into a scratch store with the same projections.
    scratch_dir.emplace();
  } catch (const std::exception& e) {
    const char* tmpdir = std::getenv("TMPDIR");
    return fail(ErrorCode::storage,
                fmt::format("verify cannot create its scratch store in $TMPDIR ({}): {}",
                            tmpdir != nullptr ? tmpdir : "/tmp", e.what()));
  }
  const std::filesystem::path scratch_path = scratch_dir->path;
  try {
    detail::StorageOptions scratch_options;
    scratch_options.path = scratch_path;
    scratch_options.durability = Durability::no_sync;
    scratch_options.initial_map_size = std::size_t{64} << 20;
    auto scratch = detail::Environment::open(scratch_options, detail::store_databases());
    if (!scratch) return std::unexpected(scratch_error(scratch_path, scratch.error()));
    scratch_dir->unlink_names();
    detail::EventLog scratch_log(**scratch);
    auto scratch_projections = impl_->projections->clone_for(**scratch, scratch_log);
    // User projections' databases, opened before the snapshot is taken.
    std::vector<std::tuple<std::string, detail::DerivedDbi, detail::DerivedDbi>> user_databases;
    for (const auto& user : impl_->projections->users()) {
      user_databases.emplace_back(user.database, impl_->env->open_derived(user.database).first,
                                  (*scratch)->open_derived(user.database).first);
    }

    for (int attempt = 0;; ++attempt) {
      VerifyReport report;
      std::optional<Error> failure;
      bool retry = false;
      impl_->env->read([&](const Txn& live) {
        // 0. LMDB's own structure, before LMDB walks a damaged tree.
        auto structure = impl_->env->check_structure(detail::StructureDepth::full, &live);
        if (!structure) {
          if (structure.error().code == ErrorCode::conflict && attempt < 1000) {
            retry = true;
          } else {
            failure = structure.error();
          }
          return;
        }
        // 1. The log: density, frame checks, hash chain, head record; and a
        //    replay of every event into the scratch store.
        const detail::LogHead head = impl_->log->head(live);
        std::uint64_t expected = 1;
        Hash256 prev_hash{};
        bool chain_intact = true;
        constexpr std::size_t kChunk = 2048;
        detail::ContentResolver resolver(*impl_->log);
        for (;;) {
          std::vector<Event> chunk;
          bool done = true;
          impl_->log->scan(live, expected, head.sequence,
                           [&](std::uint64_t seq, std::string_view frame) {
            if (chunk.size() == kChunk) {
              done = false;
              return false;
            }
            if (seq != expected) {
              report.issues.push_back(VerifyIssue{
                  expected, fmt::format("events {}..{} are missing from the log", expected, seq - 1)});
              chain_intact = false;
            }
            expected = seq + 1;
            ++report.events_checked;
            auto decoded = resolver.decode_stored(live, seq, frame);
            if (!decoded) {
              report.issues.push_back(VerifyIssue{seq, decoded.error().message});
              chain_intact = false;
              return true;
            }
            if (chain_intact && decoded->event.prev_hash != prev_hash) {
              report.issues.push_back(VerifyIssue{
                  seq, "hash chain broken: prev_hash does not match the previous event "
                       "(an earlier event was edited, removed or reordered)"});
            }
            chain_intact = true;
            prev_hash = detail::chain_hash(frame, *decoded);
            chunk.push_back(std::move(decoded->event));
            return true;
          });
          try {
            (*scratch)->write([&](Txn& txn) {
              for (const Event& e : chunk) {
                std::optional<Session> state;
                if (auto bytes = detail::kv_get(txn, (*scratch)->dbi(txn, detail::SessionsDatabases::records), e.session_id)) {
                  state = detail::decode_session(*bytes);
                }
                if (auto check = detail::check_event(state, e); !check) {
                  report.issues.push_back(VerifyIssue{
                      e.sequence, "event breaks the session rules: " + check.error().message});
                  continue;
                }
                scratch_projections->apply_without_checkpoint(txn, e);
              }
            });
          } catch (const lmdb::error&) {
            failure = scratch_error(scratch_path,
                                    detail::translate_exception(std::current_exception()));
            return;
          }
          if (progress) progress(expected - 1, head.sequence);
          if (done || report.issues.size() > kMaxIssues) break;
        }
        if (expected - 1 != head.sequence) {
          report.issues.push_back(VerifyIssue{
              head.sequence, fmt::format("head record names event {} but the log ends at {}",
                                         head.sequence, expected - 1)});
        } else if (head.sequence != 0 && prev_hash != head.hash) {
          report.issues.push_back(VerifyIssue{
              head.sequence, "the last event does not match the head record's hash (edited)"});
        }

        // 2. Projections equal the fresh replay, and every checkpoint is at the
        //    head — of this same snapshot. A store of an older format (opened
        //    read-only: a writable open upgrades it) keeps its projections in
        //    that format's layout, which a replay by this build does not make.
        const std::uint32_t format = impl_->log->format_version(live).value_or(kFormatVersion);
        if (format != kFormatVersion) {
          impl_->log_message(LogLevel::warning,
                             fmt::format("verify: the projections of this store are in the layout "
                                         "of format version {} and were not compared; open it "
                                         "for writing to upgrade it to {}",
                                         format, kFormatVersion));
          return;
        }
        (*scratch)->read([&](const Txn& fresh) {
          report.sessions_checked = detail::kv_count(fresh, (*scratch)->dbi(fresh, detail::SessionsDatabases::records));
          for (const auto& projection : impl_->projections->members()) {
            for (const detail::DatabaseSpec& database : projection->databases()) {
              compare_database(live, impl_->env->dbi(live, database), fresh, (*scratch)->dbi(fresh, database),
                               std::string(database.name), report.issues, kMaxIssues);
            }
          }
          for (const auto& info : impl_->projections->info(live)) {
            if (info.checkpoint != head.sequence) {
              report.issues.push_back(VerifyIssue{
                  0, fmt::format("projection {} checkpoint is {} but the log head is {}",
                                 info.name, info.checkpoint, head.sequence)});
            }
          }
          for (const auto& [database, live_dbi, scratch_dbi] : user_databases) {
            compare_database(live, live_dbi.in(live), fresh, scratch_dbi.in(fresh), database, report.issues,
                             kMaxIssues);
          }
        });
      });
      if (retry) continue;
      if (failure) return std::unexpected(*failure);
      return report;
    }
  } catch (...) {
    return std::unexpected(detail::translate_exception(std::current_exception()));
  }
}

Result<void> SessionManager::rebuild_projections(const ProgressCallback& progress) {
  std::lock_guard write(impl_->write_mutex);
  try {
    impl_->projections->rebuild(impl_->options.replay_batch_events,
                                impl_->options.rebuild_memory_bytes, progress);
  } catch (...) {
    return std::unexpected(detail::translate_exception(std::current_exception()));
  }
  impl_->log_message(LogLevel::info, "rebuilt every projection from the log");
  return {};
}

Result<void> SessionManager::register_projection(std::shared_ptr<Projection> projection) {
  if (!projection) return fail(ErrorCode::invalid_argument, "projection is null");
  const std::string name = projection->name();
  if (!detail::is_projection_name(name)) {
    return fail(ErrorCode::invalid_argument,
                "projection name '" + name + "' is invalid ([a-z0-9_-]{1,64})");
  }
  std::lock_guard write(impl_->write_mutex);
  std::unique_lock projections_lock(impl_->projections_mutex);
  if (impl_->projections->contains("user:" + name)) {
    return fail(ErrorCode::invalid_argument, "projection '" + name + "' is already registered");
  }
  try {
    impl_->projections->add_user(std::move(projection), false);
    impl_->projections->catch_up(impl_->options.replay_batch_events,
                                 impl_->options.rebuild_memory_bytes, {});
  } catch (...) {
    // A projection that cannot catch up is not registered: later writes must not
    // run it. What it stored so far stays, behind its checkpoint.
    impl_->projections->remove("user:" + name);
    return std::unexpected(detail::translate_exception(std::current_exception()));
  }
  return {};
}

Result<std::vector<ProjectionInfo>> SessionManager::projections() const {
  std::shared_lock projections_lock(impl_->projections_mutex);
  return impl_->read<std::vector<ProjectionInfo>>(
      [&](const Txn& txn) -> Result<std::vector<ProjectionInfo>> {
        return impl_->projections->info(txn);
      });
}

Result<std::optional<std::string>> SessionManager::projection_value(
    std::string_view projection, std::string_view key) const {
  const std::string database = "user:" + std::string(projection);
  std::shared_lock projections_lock(impl_->projections_mutex);
  if (!impl_->projections->contains(database)) {
    return fail(ErrorCode::not_found, "no projection named '" + std::string(projection) + "'");
  }
  std::optional<detail::DerivedDbi> dbi;
  for (const auto& user : impl_->projections->users()) {
    if (user.database == database) dbi = impl_->env->open_derived(database).first;
  }
  return impl_->read<std::optional<std::string>>(
      [&](const Txn& txn) -> Result<std::optional<std::string>> {
        if (key.empty() || key.size() > 400) return std::optional<std::string>{};
        auto value = detail::kv_get(txn, dbi->in(txn), key);
        if (!value) return std::optional<std::string>{};
        return std::optional<std::string>(std::string(*value));
      });
}

Result<StoreInfo> SessionManager::info() const {
  std::shared_lock projections_lock(impl_->projections_mutex);
  return impl_->read<StoreInfo>([&](const Txn& txn) -> Result<StoreInfo> {
    StoreInfo info;
    info.path = impl_->env->path();
    info.format_version = impl_->log->format_version(txn).value_or(0);
    const auto head = impl_->log->head(txn);
    info.head_sequence = head.sequence;
    info.head_hash = head.hash;
    info.sessions = detail::kv_count(txn, impl_->env->dbi(txn, detail::SessionsDatabases::records));
    info.versions = detail::kv_count(txn, impl_->env->dbi(txn, detail::VersionsDatabases::records));
    MDB_envinfo env_info{};
    ::mdb_env_info(impl_->env->handle(), &env_info);
    MDB_stat stat{};
    ::mdb_env_stat(impl_->env->handle(), &stat);
    info.map_size = env_info.me_mapsize;
    info.page_size = stat.ms_psize;
    info.map_used = (env_info.me_last_pgno + 1) * static_cast<std::uint64_t>(stat.ms_psize);
    info.max_readers = env_info.me_maxreaders;
    info.readers_in_use = env_info.me_numreaders;
    std::error_code ec;
    const auto size = std::filesystem::file_size(impl_->env->path() / "data.mdb", ec);
    info.file_size = ec ? 0 : size;
    info.projections = impl_->projections->info(txn);
    if (impl_->shared) {
      info.shared_log = impl_->shared->name();
      info.shared_head_sequence = std::max(impl_->shared_head_seen.load(), head.sequence);
    }
    return info;
  });
}

Result<void> SessionManager::backup(const std::filesystem::path& destination, bool compact) const {
  // Directories this call makes (0700, like the store) and the file it writes
  // (0600) are removed again when the backup fails, deepest first.
  namespace fs = std::filesystem;
  std::vector<fs::path> made;
  auto undo = [&made] {
    std::error_code ignored;
    for (auto it = made.rbegin(); it != made.rend(); ++it) fs::remove(*it, ignored);
  };
  std::error_code ec;
  {
    std::vector<fs::path> missing;
    for (fs::path p = destination; !p.empty() && !fs::exists(p, ec); p = p.parent_path()) {
      missing.push_back(p);
      if (p == p.parent_path()) break;
    }
    for (auto it = missing.rbegin(); it != missing.rend(); ++it) {
      if (::mkdir(it->c_str(), 0700) != 0 && errno != EEXIST) {
        const int err = errno;
        undo();
        return fail(ErrorCode::storage, "cannot create " + destination.string() + ": " +
                                            std::generic_category().message(err));
      }
      made.push_back(*it);
    }
  }
  if (!fs::is_directory(destination, ec)) {
    undo();
    return fail(ErrorCode::storage,
                "cannot create " + destination.string() + ": it exists and is not a directory");
  }
  if (!fs::is_empty(destination, ec)) {
    undo();
    return fail(ErrorCode::invalid_argument,
                "backup destination " + destination.string() + " is not empty");
  }
  if (made.empty()) ::chmod(destination.c_str(), 0700);  // an existing empty directory
  const fs::path file = destination / "data.mdb";
  const int fd = ::open(file.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) {
    const int err = errno;
    undo();
    return fail(ErrorCode::storage,
                "cannot create " + file.string() + ": " + std::generic_category().message(err));
  }
  made.push_back(file);
  int rc = ::mdb_env_copyfd2(impl_->env->handle(), fd, compact ? MDB_CP_COMPACT : 0);
  if (rc == MDB_SUCCESS && ::fsync(fd) != 0) rc = errno;
  if (::close(fd) != 0 && rc == MDB_SUCCESS) rc = errno;
  if (rc != MDB_SUCCESS) {
    undo();
    return fail(ErrorCode::storage,
                fmt::format("backup to {} failed: {}", destination.string(), ::mdb_strerror(rc)));
  }
  return {};
}

}  // namespace planning
