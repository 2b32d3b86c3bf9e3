#include "events/src/lmdb_env.hpp"

#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <map>
#include <set>
#include <stdexcept>
#include <thread>

#include <cereal/details/helpers.hpp>
#include <fmt/format.h>

#include "events/src/lmdb_check.hpp"
#include "events/src/cereal_fields.hpp"

namespace planning::detail {

namespace {
constexpr std::string_view kSlotInForceKey = "in_force";
// Named databases one environment may open: the log's, both slots of each
// derived database and of each user projection's.
constexpr MDB_dbi kMaxDatabases = 256;
}  // namespace

// --- ResizeLock --------------------------------------------------------------

ResizeLock::ResizeLock() {
  pthread_rwlockattr_t attr;
  pthread_rwlockattr_init(&attr);
  pthread_rwlockattr_setkind_np(&attr, PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);
  pthread_rwlock_init(&lock_, &attr);
  pthread_rwlockattr_destroy(&attr);
}
ResizeLock::~ResizeLock() { pthread_rwlock_destroy(&lock_); }
void ResizeLock::lock() { pthread_rwlock_wrlock(&lock_); }
void ResizeLock::unlock() { pthread_rwlock_unlock(&lock_); }
void ResizeLock::lock_shared() { pthread_rwlock_rdlock(&lock_); }
void ResizeLock::unlock_shared() { pthread_rwlock_unlock(&lock_); }

// --- Txn / Cursor ------------------------------------------------------------

Txn::Txn(MDB_env* env, bool write) {
  const int rc = ::mdb_txn_begin(env, nullptr, write ? 0 : MDB_RDONLY, &handle_);
  if (rc == MDB_MAP_RESIZED) throw MapResized{};
  if (rc != MDB_SUCCESS) lmdb::error::raise("mdb_txn_begin", rc);
}

Txn::Txn(MDB_env* env, MDB_txn* parent) {
  const int rc = ::mdb_txn_begin(env, parent, 0, &handle_);
  if (rc != MDB_SUCCESS) lmdb::error::raise("mdb_txn_begin (nested)", rc);
}

Txn Txn::child() const {
  Txn nested(::mdb_txn_env(handle_), handle_);
  nested.slot_ = slot_;
  return nested;
}

std::string slot_name(std::string_view name, std::uint8_t slot) {
  std::string out(name);
  if (slot == 1) out += kSlotSuffix;
  return out;
}

Txn::~Txn() {
  if (handle_ == nullptr) return;
  if (pool_ != nullptr) {
    pool_->recycle(handle_);
  } else {
    ::mdb_txn_abort(handle_);
  }
}

void Txn::commit() {
  MDB_txn* txn = std::exchange(handle_, nullptr);
  const int rc = ::mdb_txn_commit(txn);
  if (rc != MDB_SUCCESS) lmdb::error::raise("mdb_txn_commit", rc);
}

Cursor::Cursor(const Txn& txn, MDB_dbi dbi) { lmdb::cursor_open(txn.get(), dbi, &handle_); }

Cursor::~Cursor() {
  if (handle_ != nullptr) ::mdb_cursor_close(handle_);
}

bool Cursor::get(MDB_val& key, MDB_val& value, MDB_cursor_op op) {
  return lmdb::cursor_get(handle_, &key, &value, op);
}

void Cursor::put(std::string_view key, std::string_view value, unsigned flags) {
  MDB_val k = to_val(key);
  MDB_val v = to_val(value);
  lmdb::cursor_put(handle_, &k, &v, flags);
}

// --- Point operations ----------------------------------------------------------

std::optional<std::string_view> kv_get(const Txn& txn, MDB_dbi dbi, std::string_view key) {
  MDB_val k = to_val(key);
  MDB_val v{};
  if (!lmdb::dbi_get(txn.get(), dbi, &k, &v)) return std::nullopt;
  return from_val(v);
}

void kv_put(const Txn& txn, MDB_dbi dbi, std::string_view key, std::string_view value,
            unsigned flags) {
  MDB_val k = to_val(key);
  MDB_val v = to_val(value);
  // lmdb++'s dbi_put returns false on MDB_KEYEXIST instead of throwing: with
  // NOOVERWRITE/NODUPDATA/APPEND that is a real failure here, never silent.
  if (!lmdb::dbi_put(txn.get(), dbi, &k, &v, flags)) {
    if ((flags & MDB_NODUPDATA) != 0) return;  // identical duplicate already there
    lmdb::error::raise("mdb_put", MDB_KEYEXIST);
  }
}

bool kv_del(const Txn& txn, MDB_dbi dbi, std::string_view key,
            std::optional<std::string_view> value) {
  MDB_val k = to_val(key);
  if (value) {
    MDB_val v = to_val(*value);
    return lmdb::dbi_del(txn.get(), dbi, &k, &v);
  }
  return lmdb::dbi_del(txn.get(), dbi, &k, nullptr);
}

void kv_clear(const Txn& txn, MDB_dbi dbi) { lmdb::dbi_drop(txn.get(), dbi, false); }

void kv_scan_prefix(const Txn& txn, MDB_dbi dbi, std::string_view prefix,
                    const std::function<bool(std::string_view, std::string_view)>& visit) {
  Cursor cursor(txn, dbi);
  MDB_val k = to_val(prefix);
  MDB_val v{};
  bool ok = prefix.empty() ? cursor.get(k, v, MDB_FIRST) : cursor.get(k, v, MDB_SET_RANGE);
  while (ok) {
    const std::string_view key = from_val(k);
    if (!key.starts_with(prefix)) break;
    if (!visit(key, from_val(v))) break;
    ok = cursor.get(k, v, MDB_NEXT);
  }
}

void kv_scan_dups(const Txn& txn, MDB_dbi dbi, std::string_view key, bool descending,
                  const std::function<bool(std::string_view)>& visit) {
  Cursor cursor(txn, dbi);
  MDB_val k = to_val(key);
  MDB_val v{};
  if (!cursor.get(k, v, MDB_SET_KEY)) return;
  if (descending) {
    if (!cursor.get(k, v, MDB_LAST_DUP)) return;
  }
  for (bool ok = true; ok; ok = cursor.get(k, v, descending ? MDB_PREV_DUP : MDB_NEXT_DUP)) {
    if (!visit(from_val(v))) break;
  }
}

std::uint64_t kv_count(const Txn& txn, MDB_dbi dbi) {
  MDB_stat stat{};
  lmdb::dbi_stat(txn.get(), dbi, &stat);
  return stat.ms_entries;
}

std::uint64_t kv_bytes(const Txn& txn, MDB_dbi dbi) {
  MDB_stat stat{};
  lmdb::dbi_stat(txn.get(), dbi, &stat);
  return (stat.ms_branch_pages + stat.ms_leaf_pages + stat.ms_overflow_pages) *
         std::uint64_t{stat.ms_psize};
}

// --- Environment ---------------------------------------------------------------

namespace {

void log_to(const Logger& logger, LogLevel level, const std::string& message) {
  if (!logger) return;
  try {
    logger(level, message);
  } catch (...) {
  }
}


// LMDB reads pages through its memory map, so a page past the end of data.mdb
// is SIGBUS, not an error. The file can be shorter than the last page the
// current meta names for two reasons: it was truncated (damage: those pages are
// lost), or it is healthy after a crash (trailing pages that a transaction
// allocated but never wrote are free). Extending the file with zeros up to that
// page is right for both: free pages are written before they are used, and lost
// pages read as zeros, which LMDB reports as MDB_CORRUPTED and the frame
// checksums as corruption. REQUIRES: a write transaction is open, so no other
// process grows the file meanwhile. Returns an error message, or "" when done.
std::string cover_last_page(MDB_env* env, const Logger& logger) {
  MDB_envinfo info{};
  MDB_stat stat{};
  mdb_filehandle_t fd{};
  if (::mdb_env_info(env, &info) != MDB_SUCCESS || ::mdb_env_stat(env, &stat) != MDB_SUCCESS ||
      ::mdb_env_get_fd(env, &fd) != MDB_SUCCESS) {
    return "cannot read the environment's page layout";
  }
  struct stat file{};
  if (::fstat(fd, &file) != 0) return std::string("fstat failed: ") + std::strerror(errno);
  const auto needed = static_cast<off_t>((info.me_last_pgno + 1) * stat.ms_psize);
  if (file.st_size >= needed) return "";
  log_to(logger, LogLevel::warning,
         fmt::format("data.mdb holds {} bytes but its last page ends at byte {}: extending it "
                     "with zeros (free pages after a crash, or a truncated file that verify() "
                     "will report)",
                     file.st_size, needed));
  if (::ftruncate(fd, needed) != 0) {
    return std::string("cannot extend data.mdb to its last page: ") + std::strerror(errno);
  }
  return "";
}
}  // namespace

Result<std::unique_ptr<Environment>> Environment::open(const StorageOptions& options,
                                                       std::span<const DatabaseSpec> databases) {
  std::unique_ptr<Environment> self(new Environment());
  self->opener_pid_ = ::getpid();
  self->path_ = options.path;
  self->max_map_size_ = std::max(options.max_map_size, options.initial_map_size);
  self->logger_ = options.logger;
  self->read_only_ = options.read_only;

  std::error_code ec;
  if (!std::filesystem::exists(options.path, ec)) {
    if (!options.create_if_missing || options.read_only) {
      return fail(ErrorCode::storage,
                  "no store at " + options.path.string() +
                      (options.read_only ? " (opened read-only)"
                                         : " (and Options::create_if_missing is false)"));
    }
    std::filesystem::create_directories(options.path, ec);
    if (ec) {
      return fail(ErrorCode::storage,
                  "cannot create " + options.path.string() + ": " + ec.message());
    }
    ::chmod(options.path.c_str(), 0700);
  } else if (!std::filesystem::is_directory(options.path, ec)) {
    return fail(ErrorCode::storage, options.path.string() + " is not a directory");
  }

  const auto data_file = options.path / "data.mdb";
  const bool data_exists = std::filesystem::exists(data_file, ec);
  if (options.read_only && !data_exists) {
    return fail(ErrorCode::storage,
                "no store at " + options.path.string() + " (data.mdb is missing; opened read-only)");
  }
  // LMDB trusts its pages (no checksums): a damaged meta page or page header
  // can crash liblmdb. The meta pages are checked before mdb_env_open reads
  // them, the trees once a read transaction pins the snapshot. A 0-byte
  // data.mdb is a new store to a writer (LMDB initialises it) but damage to a
  // reader, which must not write.
  const bool check = data_exists && (options.read_only || std::filesystem::file_size(data_file, ec) > 0);
  auto prefix = [&](const Error& e) {
    return Error{e.code, "cannot open " + options.path.string() + ": " + e.message};
  };
  if (check) {
    // A meta page being written by another process's commit can read torn:
    // damage is reported only when it is still there on a second look.
    auto metas = check_lmdb_structure(data_file, StructureDepth::metas);
    for (int again = 0; !metas && metas.error().code == ErrorCode::corruption && again < 3; ++again) {
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
      metas = check_lmdb_structure(data_file, StructureDepth::metas);
    }
    if (!metas) return std::unexpected(prefix(metas.error()));
  }

  try {
    lmdb::env_create(&self->env_);
    lmdb::env_set_max_dbs(self->env_, kMaxDatabases);
    lmdb::env_set_max_readers(self->env_, options.max_readers);
    // Never map less than the file already holds.
    std::size_t map_size = options.initial_map_size;
    if (data_exists) {
      map_size = std::max<std::size_t>(map_size, std::filesystem::file_size(data_file, ec));
    }
    self->set_map_size(map_size);
    unsigned flags = MDB_NOTLS;  // read txns are not tied to threads (lmdb++ rejects it at create)
    if (options.durability == Durability::no_meta_sync) flags |= MDB_NOMETASYNC;
    if (options.durability == Durability::no_sync) flags |= MDB_NOSYNC;
    if (options.read_only) {
      flags |= MDB_RDONLY;
      // LMDB opens lock.mdb for writing even with MDB_RDONLY; where that is
      // refused (read-only media, another user's store), read without the lock.
      const int rc = ::mdb_env_open(self->env_, options.path.c_str(), flags, 0600);
      if (rc == EACCES || rc == EROFS) {
        ::mdb_env_close(self->env_);
        self->env_ = nullptr;
        lmdb::env_create(&self->env_);
        lmdb::env_set_max_dbs(self->env_, kMaxDatabases);
        lmdb::env_set_max_readers(self->env_, options.max_readers);
        self->set_map_size(map_size);
        lmdb::env_open(self->env_, options.path.c_str(), flags | MDB_NOLOCK, 0600);
        log_to(self->logger_, LogLevel::warning,
               "lock.mdb of " + options.path.string() +
                   " cannot be opened for writing: reading without LMDB's lock (no writer may "
                   "run meanwhile)");
      } else if (rc != MDB_SUCCESS) {
        lmdb::error::raise("mdb_env_open", rc);
      }
    } else {
      lmdb::env_open(self->env_, options.path.c_str(), flags, 0600);
      self->reader_check();
    }

    if (check) {
      const StructureDepth depth = options.structure_check == StructureCheck::full
                                       ? StructureDepth::full
                                       : StructureDepth::roots;
      for (int attempt = 0;; ++attempt) {
        try {
          auto checked = self->check_structure(depth);
          if (!checked) return std::unexpected(prefix(checked.error()));
          break;
        } catch (const MapResized&) {
          if (attempt == 3) throw;
          self->set_map_size(0);  // another process grew the map: adopt it
        }
      }
    }

    // Named databases are opened in one transaction and kept by committing it:
    // first "slots", to know the slot in force, then each given database (both
    // copies of a derived one). A read-only open creates nothing: a missing
    // database is damage, or a store of an older build (no "slots": slot 0, and
    // no slot-1 copies), which opening it for writing once completes.
    Txn txn = options.read_only ? self->begin(false) : Txn(self->env_, true);
    if (!options.read_only) {
      if (const std::string problem = cover_last_page(self->env_, self->logger_); !problem.empty()) {
        return fail(ErrorCode::storage, "cannot open " + options.path.string() + ": " + problem);
      }
    }
    // Opens `name`; nullopt when it is missing and cannot be created.
    auto open_one = [&](const std::string& name, unsigned flags) -> std::optional<std::pair<MDB_dbi, bool>> {
      MDB_dbi dbi = 0;
      const int rc = ::mdb_dbi_open(txn.get(), name.c_str(), flags, &dbi);
      if (rc == MDB_SUCCESS) return std::pair{dbi, false};
      if (rc != MDB_NOTFOUND) lmdb::error::raise("mdb_dbi_open", rc);
      if (options.read_only) return std::nullopt;
      lmdb::dbi_open(txn.get(), name.c_str(), flags | MDB_CREATE, &dbi);
      return std::pair{dbi, true};
    };
    auto missing = [&](std::string_view name) {
      return fail(ErrorCode::corruption,
                  fmt::format("cannot open {} read-only: its database '{}' does not exist "
                              "(a store of an older build, or damage; opening it for writing "
                              "once creates it)",
                              options.path.string(), name));
    };
    if (auto slots = open_one(std::string(kSlotsDatabase.name), 0)) self->slots_ = slots->first;
    const std::uint8_t in_force = self->read_slot(txn, false);
    for (const DatabaseSpec& spec : databases) {
      Derived derived{std::string(spec.name), {}};
      for (std::uint8_t slot = 0; slot < (spec.derived ? 2 : 1); ++slot) {
        const std::string name = slot_name(spec.name, slot);
        auto opened = open_one(name, spec.flags);
        if (!opened) {
          if (spec.derived && slot != in_force) continue;  // never read: stays 0
          return missing(name);
        }
        if (spec.derived) {
          derived.handles.handles[slot] = opened->first;
        } else {
          self->dbis_.emplace_back(name, opened->first);
        }
        if (opened->second && (!spec.derived || slot == in_force)) {
          self->created_.emplace_back(spec.name);
        }
      }
      if (spec.derived) self->derived_.push_back(std::move(derived));
    }
    txn.commit();
  } catch (const MapResized&) {
    return fail(ErrorCode::storage,
                "cannot open " + options.path.string() + ": the map was resized during open");
  } catch (const lmdb::error& e) {
    const int code = e.code();
    if (code == MDB_CORRUPTED || code == MDB_INVALID || code == MDB_PAGE_NOTFOUND ||
        code == MDB_VERSION_MISMATCH) {
      return fail(ErrorCode::corruption,
                  "cannot open " + options.path.string() + ": " + std::string(e.what()));
    }
    if (code == EACCES || code == EROFS) {
      return fail(ErrorCode::storage,
                  "cannot open " + options.path.string() +
                      (options.read_only ? " (permission denied)"
                                         : " for writing (permission denied / read-only)"));
    }
    return fail(ErrorCode::storage,
                "cannot open " + options.path.string() + ": " + std::string(e.what()));
  }
  return self;
}

Result<StructureSummary> Environment::check_structure(StructureDepth depth,
                                                    const Txn* snapshot) const {
  const auto data_file = path_ / "data.mdb";
  // The snapshot's pages are stable, but its meta page is read while other
  // processes may commit: a torn read of it is told from damage by a second
  // look (damage stays).
  auto settled = [&](const auto& check) {
    Result<StructureSummary> checked = check();
    for (int again = 0; !checked && checked.error().code == ErrorCode::corruption && again < 3;
         ++again) {
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
      checked = check();
    }
    return checked;
  };
  if (snapshot != nullptr) {
    return settled([&] { return check_lmdb_structure(data_file, depth, ::mdb_txn_id(snapshot->get())); });
  }
  // A read transaction pins its snapshot: no writer reuses its pages while it
  // lives. Should two commits overwrite its meta page before it is read, a
  // newer transaction tries again.
  for (int attempt = 0;; ++attempt) {
    Result<StructureSummary> checked = [&] {
      std::shared_lock lock(map_lock_);
      Txn txn = begin(false);
      return settled(
          [&] { return check_lmdb_structure(data_file, depth, ::mdb_txn_id(txn.get())); });
    }();
    if (checked || checked.error().code != ErrorCode::conflict || attempt == 1000) return checked;
  }
}

Environment::~Environment() {
  // A forked child's copy is left open: LMDB's reader table is shared memory,
  // and freeing the transactions or closing the environment would free the
  // reader slots of the process that opened it (they carry its pid). The
  // child's mapping and memory go when it exits.
  if (::getpid() != opener_pid_) return;
  drain_reader_pool();
  if (env_ != nullptr) ::mdb_env_close(env_);
}

std::optional<Txn> Environment::renew_pooled() const {
  MDB_txn* pooled = nullptr;
  {
    std::lock_guard lock(reader_pool_mutex_);
    if (reader_pool_.empty()) return std::nullopt;
    pooled = reader_pool_.back();
    reader_pool_.pop_back();
  }
  const int rc = ::mdb_txn_renew(pooled);
  if (rc != MDB_SUCCESS) {
    ::mdb_txn_abort(pooled);
    if (rc == MDB_MAP_RESIZED) throw MapResized{};
    lmdb::error::raise("mdb_txn_renew", rc);
  }
  return std::optional<Txn>(Txn(Txn::Pooled{}, pooled, this));
}

void Environment::recycle(MDB_txn* txn) const noexcept {
  ::mdb_txn_reset(txn);
  {
    std::lock_guard lock(reader_pool_mutex_);
    if (reader_pool_.size() < kReaderPoolSize) {
      reader_pool_.push_back(txn);
      return;
    }
  }
  ::mdb_txn_abort(txn);
}

void Environment::drain_reader_pool() const noexcept {
  std::vector<MDB_txn*> pooled;
  {
    std::lock_guard lock(reader_pool_mutex_);
    pooled.swap(reader_pool_);
  }
  for (MDB_txn* txn : pooled) ::mdb_txn_abort(txn);
}

Txn Environment::begin(bool write) const {
  // A reader process killed mid-snapshot pins pages until its slot is cleared,
  // so every write transaction first clears dead readers' slots (mdb_reader_check).
  // The cost is one scan of the reader table: small next to a commit.
  if (write && read_only_) {
    // LMDB would say only "Permission denied".
    throw std::runtime_error("store " + path_.string() +
                             " was opened read-only (Options::read_only): writes are refused");
  }
  if (write) reader_check();
  if (!write) {
    if (std::optional<Txn> reused = renew_pooled()) {
      reused->use_slot(read_slot(*reused, true));
      return std::move(*reused);
    }
  }
  auto start = [&] {
    try {
      return Txn(env_, write);
    } catch (const lmdb::error& e) {
      // Slots of reader processes that died since open() are reclaimed on
      // demand, and so are those this process keeps in its pool.
      if (e.code() != MDB_READERS_FULL) throw;
      drain_reader_pool();
      reader_check();
      return Txn(env_, write);
    }
  };
  Txn txn = start();
  if (!write) txn.pool_ = this;
  txn.use_slot(read_slot(txn, !write));
  return txn;
}

std::uint8_t Environment::read_slot(const Txn& txn, bool read_only_txn) const {
  if (slots_ == 0) return 0;  // during open(), before "slots" is opened
  // A read snapshot's slot is that of every read of the same snapshot. A write
  // transaction's id is not yet a snapshot's, and it may switch the slot itself.
  const std::uint64_t id = ::mdb_txn_id(txn.get());
  if (read_only_txn) {
    const std::uint64_t seen = slot_seen_.load(std::memory_order_relaxed);
    if (seen != 0 && (seen >> 1) == id) return static_cast<std::uint8_t>(seen & 1);
  }
  std::uint8_t slot = 0;
  if (auto value = kv_get(txn, slots_, kSlotInForceKey)) {
    if (value->size() != 1 || static_cast<std::uint8_t>((*value)[0]) > 1) {
      throw lmdb::corrupted_error("the slot record of database 'slots' is damaged", MDB_CORRUPTED);
    }
    slot = static_cast<std::uint8_t>((*value)[0]);
  }
  if (read_only_txn) slot_seen_.store((id << 1) | slot, std::memory_order_relaxed);
  return slot;
}

void Environment::set_slot_in_force(const Txn& txn, std::uint8_t slot) const {
  const char record = static_cast<char>(slot);
  kv_put(txn, slots_, kSlotInForceKey, std::string_view(&record, 1));
}

void Environment::clear_slot(const Txn& txn, std::uint8_t slot) const {
  // Every named database is a key of LMDB's main database; the derived ones of
  // `slot` are the known derived names and "user:<name>", with the slot's suffix.
  auto in_slot = [&](std::string_view name) {
    const bool suffixed = name.ends_with(kSlotSuffix);
    if (suffixed != (slot == 1)) return false;
    if (suffixed) name.remove_suffix(kSlotSuffix.size());
    return name.starts_with("user:") ||
           std::any_of(derived_.begin(), derived_.end(),
                       [&](const Derived& d) { return d.name == name; });
  };
  std::vector<std::string> names;
  {
    MDB_dbi main = 0;  // LMDB's main database: mdb_dbi_open with no name
    lmdb::dbi_open(txn.get(), nullptr, 0, &main);
    Cursor cursor(txn, main);
    MDB_val k{}, v{};
    for (bool ok = cursor.get(k, v, MDB_FIRST); ok; ok = cursor.get(k, v, MDB_NEXT)) {
      if (in_slot(from_val(k))) names.emplace_back(from_val(k));
    }
  }
  for (const std::string& name : names) {
    MDB_dbi dbi = 0;
    const int rc = ::mdb_dbi_open(txn.get(), name.c_str(), 0, &dbi);
    if (rc != MDB_SUCCESS) lmdb::error::raise("mdb_dbi_open", rc);
    kv_clear(txn, dbi);
    // Emptying a database reads its branch pages (to free every page): at a
    // million events they would stay resident after the switch of a rebuild.
    release_mapped_pages(txn);
  }
}

MDB_dbi Environment::dbi(const DatabaseSpec& database) const {
  if (database.derived) {
    throw std::logic_error("database '" + std::string(database.name) +
                           "' is derived: reach it through a transaction's slot");
  }
  for (const auto& [name, handle] : dbis_) {
    if (name == database.name) return handle;
  }
  throw std::logic_error("database '" + std::string(database.name) + "' was not opened");
}

DerivedDbi Environment::derived(const DatabaseSpec& database) const {
  if (!database.derived) {
    throw std::logic_error("database '" + std::string(database.name) + "' is not derived");
  }
  for (const Derived& d : derived_) {
    if (d.name == database.name) return d.handles;
  }
  throw std::logic_error("database '" + std::string(database.name) + "' was not opened");
}

MDB_dbi Environment::dbi(const Txn& txn, const DatabaseSpec& database) const {
  return database.derived ? derived(database).in(txn) : dbi(database);
}

std::pair<DerivedDbi, bool> Environment::open_derived(const std::string& name) {
  if (read_only_) {
    // No database can be created: existing ones are opened in a read
    // transaction, committed to keep the handles (a missing copy stays 0 and
    // is never read: it is not the slot in force).
    std::shared_lock lock(map_lock_);
    Txn txn = begin(false);
    DerivedDbi handles;
    for (std::uint8_t slot = 0; slot < 2; ++slot) {
      const int rc = ::mdb_dbi_open(txn.get(), slot_name(name, slot).c_str(), 0, &handles.handles[slot]);
      if (rc == MDB_NOTFOUND && slot != txn.slot()) continue;
      if (rc != MDB_SUCCESS) lmdb::error::raise("mdb_dbi_open (read-only store)", rc);
    }
    txn.commit();
    return std::pair{handles, false};
  }
  return write([&](Txn& txn) {
    DerivedDbi handles;
    bool created = false;
    for (std::uint8_t slot = 0; slot < 2; ++slot) {
      const std::string copy = slot_name(name, slot);
      const int rc = ::mdb_dbi_open(txn.get(), copy.c_str(), 0, &handles.handles[slot]);
      if (rc == MDB_SUCCESS) continue;
      if (rc != MDB_NOTFOUND) lmdb::error::raise("mdb_dbi_open", rc);
      lmdb::dbi_open(txn.get(), copy.c_str(), MDB_CREATE, &handles.handles[slot]);
      if (slot == txn.slot()) created = true;
    }
    return std::pair{handles, created};
  });
}

std::uint64_t Environment::map_size() const {
  MDB_envinfo info{};
  ::mdb_env_info(env_, &info);
  return info.me_mapsize;
}

void Environment::reader_check() const {
  int dead = 0;
  ::mdb_reader_check(env_, &dead);
  if (dead > 0) {
    log_to(logger_, LogLevel::info, fmt::format("cleared {} stale reader slot(s)", dead));
  }
}

namespace {

// The address and length of this process's mapping of the file open on `fd`
// (LMDB reports the map address only with MDB_FIXEDMAP): from /proc/self/maps.
std::optional<std::pair<void*, std::size_t>> find_file_map(int fd) {
  struct stat st {};
  if (::fstat(fd, &st) != 0) return std::nullopt;
  std::ifstream maps("/proc/self/maps");
  std::string line;
  while (std::getline(maps, line)) {
    unsigned long begin = 0, end = 0, offset = 0, inode = 0;
    unsigned major = 0, minor = 0;
    char perms[8] = {};
    if (std::sscanf(line.c_str(), "%lx-%lx %7s %lx %x:%x %lu", &begin, &end, perms, &offset, &major,
                    &minor, &inode) != 7) {
      continue;
    }
    if (inode == st.st_ino && major == ::major(st.st_dev) && minor == ::minor(st.st_dev) &&
        offset == 0 && perms[3] == 's') {
      return std::pair{reinterpret_cast<void*>(begin), static_cast<std::size_t>(end - begin)};
    }
  }
  return std::nullopt;
}

}  // namespace

void Environment::release_mapped_pages() const {
  std::shared_lock lock(map_lock_);  // the map is not moved or resized meanwhile
  drop_mapped_pages();
}

void Environment::release_mapped_pages(const Txn& /*live*/) const {
  drop_mapped_pages();  // `live` holds map_lock_ shared
}

void Environment::drop_mapped_pages() const {
  unsigned flags = 0;
  if (::mdb_env_get_flags(env_, &flags) != 0 || (flags & MDB_WRITEMAP) != 0) return;
  std::optional<std::pair<void*, std::size_t>> map;
  {
    // Reading /proc/self/maps costs about as much as replaying a few events:
    // the mapping is looked up once per map size (set_map_size forgets it).
    std::lock_guard lock(file_map_mutex_);
    if (!file_map_) {
      int fd = -1;
      if (::mdb_env_get_fd(env_, &fd) != 0) return;
      file_map_ = find_file_map(fd);
    }
    map = file_map_;
  }
  // Best effort: a failure only leaves the pages resident.
  if (map) (void)::madvise(map->first, map->second, MADV_DONTNEED);
}

void Environment::set_map_size(std::size_t bytes) const {
  drain_reader_pool();  // reset transactions hold no snapshot, but none outlives a remap
  lmdb::env_set_mapsize(env_, bytes);  // may move the map
  std::lock_guard lock(file_map_mutex_);
  file_map_.reset();
}

void Environment::grow_map() {
  std::unique_lock lock(map_lock_);  // no transaction of this process is live
  const std::uint64_t current = map_size();
  if (current >= max_map_size_) {
    throw lmdb::runtime_error("map is at max_map_size; cannot grow", MDB_MAP_FULL);
  }
  const std::uint64_t next = std::min<std::uint64_t>(current * 2, max_map_size_);
  set_map_size(next);
  log_to(logger_, LogLevel::info,
         fmt::format("map full: grew map from {} to {} bytes", current, next));
}

void Environment::adopt_resized_map() const {
  std::unique_lock lock(map_lock_);
  set_map_size(0);  // adopt the size another process set
}

Error translate_exception(std::exception_ptr error) {
  try {
    std::rethrow_exception(error);
  } catch (const lmdb::map_full_error& e) {
    return Error{ErrorCode::storage, std::string("database full: ") + e.what()};
  } catch (const lmdb::corrupted_error& e) {
    return Error{ErrorCode::corruption, std::string("LMDB reports corruption: ") + e.what()};
  } catch (const lmdb::error& e) {
    if (e.code() == MDB_PAGE_NOTFOUND || e.code() == MDB_INVALID || e.code() == MDB_CORRUPTED) {
      return Error{ErrorCode::corruption, std::string("LMDB reports corruption: ") + e.what()};
    }
    std::string what = e.what();
    if (e.code() == ENOSPC) what = "no space left on device (" + what + ")";
    if (e.code() == EIO) what = "I/O error (" + what + ")";
    if (e.code() == MDB_READERS_FULL) what = "too many readers (" + what + ")";
    return Error{ErrorCode::storage, what};
  } catch (const DecodeError& e) {
    return Error{ErrorCode::corruption, std::string("corrupt record: ") + e.what()};
  } catch (const cereal::Exception& e) {
    return Error{ErrorCode::corruption, std::string("corrupt record: ") + e.what()};
  } catch (const std::bad_alloc&) {
    return Error{ErrorCode::storage, "out of memory"};
  } catch (const std::exception& e) {
    return Error{ErrorCode::storage, e.what()};
  } catch (...) {
    return Error{ErrorCode::storage, "unknown failure"};
  }
}

}  // namespace planning::detail
