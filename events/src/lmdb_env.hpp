// The LMDB layer: environment, scoped transactions and cursors, and the named
// databases. Built on lmdb++'s C-API wrappers (lmdb::dbi_get, lmdb::cursor_get, ...)
// but with its own RAII types, designed around lmdb++ 0.9's known traps:
//  * Txn::commit releases the handle before mdb_txn_commit, so a failed commit
//    (MDB_MAP_FULL) is never aborted a second time (lmdbxx#26);
//  * Cursor is always destroyed before its transaction commits (lmdbxx#22);
//  * values are passed as MDB_val with explicit data/size (lmdbxx#20);
//  * MDB_NOTLS goes to mdb_env_open, not env::create; mdb_reader_check, env_info
//    and env_copy2 use the C API.
// lmdb::error exceptions thrown here are translated to planning::Error at the
// SessionManager boundary (translate_exception).
#pragma once

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <mutex>
#include <optional>
#include <span>
#include <vector>
#include <shared_mutex>

#include <pthread.h>
#include <sys/types.h>
#include <string>
#include <string_view>
#include <utility>

#include <lmdb++.h>

#include <planning/storage.hpp>
#include <planning/result.hpp>

#include "events/src/lmdb_check.hpp"

namespace planning::detail {

inline MDB_val to_val(std::string_view s) {
  return MDB_val{s.size(), const_cast<char*>(s.data())};
}
inline std::string_view from_val(const MDB_val& v) {
  return {static_cast<const char*>(v.mv_data), v.mv_size};
}

// A transaction; aborted on scope exit unless committed. It also names the
// slot of derived databases it works on (see DerivedDbi): the slot in force
// when Environment began it, unless a rebuild redirects it with use_slot.
class Txn {
 public:
  Txn(MDB_env* env, bool write);
  Txn(MDB_env* env, MDB_txn* parent);
  ~Txn();
  Txn(Txn&& other) noexcept
      : handle_(std::exchange(other.handle_, nullptr)), slot_(other.slot_), pool_(other.pool_) {}
  Txn(const Txn&) = delete;
  Txn& operator=(const Txn&) = delete;
  MDB_txn* get() const noexcept { return handle_; }
  // A nested write transaction (same slot): its changes reach this one only if
  // it commits.
  Txn child() const;
  // Commits; throws lmdb::error on failure. The handle is released first: LMDB
  // frees the transaction whether or not the commit succeeds.
  void commit();

  std::uint8_t slot() const noexcept { return slot_; }
  // Points this transaction's derived-database reads and writes at `slot`
  // (0 or 1). Only a rebuild filling the slot not in force uses it.
  void use_slot(std::uint8_t slot) noexcept { slot_ = slot; }

 private:
  friend class Environment;
  // Takes over `pooled`, a read transaction renewed from `pool`.
  struct Pooled {};
  Txn(Pooled, MDB_txn* pooled, const class Environment* pool) noexcept
      : handle_(pooled), pool_(pool) {}
  MDB_txn* handle_ = nullptr;
  std::uint8_t slot_ = 0;
  // A read transaction goes back to this environment's pool when it ends
  // (Environment::recycle) instead of being freed.
  const class Environment* pool_ = nullptr;
};

// Derived databases — the projections' and their checkpoints, everything that
// is rebuilt from the log — exist in two copies, "slots": slot 0 under the
// plain name, slot 1 under the name + kSlotSuffix. Database "slots" records
// which slot is in force; every transaction reads it when it begins (Txn::slot).
// A rebuild fills the other slot in transactions of its own and makes it the
// slot in force in one commit, so readers see the old projections until then
// and a crash leaves them in force (docs/FORMAT.md, "Slots").
inline constexpr std::string_view kSlotSuffix = "@1";
std::string slot_name(std::string_view name, std::uint8_t slot);

// The two handles of a derived database; in(txn) is the one `txn` works on.
struct DerivedDbi {
  std::array<MDB_dbi, 2> handles{};
  MDB_dbi in(const Txn& txn) const noexcept { return handles[txn.slot()]; }
};

// A cursor; closed on scope exit. REQUIRES: destroyed before its txn commits.
class Cursor {
 public:
  Cursor(const Txn& txn, MDB_dbi dbi);
  ~Cursor();
  Cursor(const Cursor&) = delete;
  Cursor& operator=(const Cursor&) = delete;
  // Positions with `op`; returns false at the end / when not found.
  bool get(MDB_val& key, MDB_val& value, MDB_cursor_op op);
  // Puts through the cursor. With MDB_APPEND, each put finds the last leaf
  // where the previous one left the cursor; kv_put searches from the root.
  void put(std::string_view key, std::string_view value, unsigned flags = 0);
  MDB_cursor* get() const noexcept { return handle_; }

 private:
  MDB_cursor* handle_ = nullptr;
};

// Point operations. get() returns a view into the map, valid until the txn ends.
std::optional<std::string_view> kv_get(const Txn& txn, MDB_dbi dbi, std::string_view key);
void kv_put(const Txn& txn, MDB_dbi dbi, std::string_view key, std::string_view value,
            unsigned flags = 0);
// Deletes `key` (and, for DUPSORT databases, only the pair with `value` when given).
bool kv_del(const Txn& txn, MDB_dbi dbi, std::string_view key,
            std::optional<std::string_view> value = std::nullopt);
// Deletes every entry of a database (keeps the database).
void kv_clear(const Txn& txn, MDB_dbi dbi);
// Visits keys in [prefix, ...) while they start with `prefix`; stop by returning false.
void kv_scan_prefix(const Txn& txn, MDB_dbi dbi, std::string_view prefix,
                    const std::function<bool(std::string_view, std::string_view)>& visit);
// Visits the duplicates of `key` in a DUPSORT database, in order (reverse when
// `descending`); stop by returning false.
void kv_scan_dups(const Txn& txn, MDB_dbi dbi, std::string_view key, bool descending,
                  const std::function<bool(std::string_view)>& visit);
std::uint64_t kv_count(const Txn& txn, MDB_dbi dbi);
// Bytes of the pages holding a database's B-tree.
std::uint64_t kv_bytes(const Txn& txn, MDB_dbi dbi);

// How to open an environment (the engine fills it from planning::Options, whose
// fields of the same names document each one).
struct StorageOptions {
  std::filesystem::path path;
  bool create_if_missing = true;
  Logger logger;
  Durability durability = Durability::full;
  std::size_t initial_map_size = std::size_t{64} << 20;
  std::size_t max_map_size = std::size_t{1} << 40;
  unsigned max_readers = 126;
  bool read_only = false;
  StructureCheck structure_check = StructureCheck::roots;
};

// A named database: its name (part of the format, docs/FORMAT.md) and its LMDB
// flags. Each owner declares its databases once, as constants: the log in
// event_log.hpp, the projections in projections/src/databases.hpp. The
// environment opens the list it is given; code reaches a database through
// Environment::dbi(constant), never by spelling its name.
struct DatabaseSpec {
  std::string_view name;
  unsigned flags = 0;
  bool derived = false;  // rebuilt from the log: one copy per slot (DerivedDbi)
};

// The environment's own database: "in_force" -> one byte, the slot in force
// (absent: slot 0, as in a store of format 1).
inline constexpr DatabaseSpec kSlotsDatabase{"slots"};

template <typename T>
struct is_expected : std::false_type {};
template <typename T, typename E>
struct is_expected<std::expected<T, E>> : std::true_type {};

// A shared mutex that prefers exclusive lockers: once a map resize waits, new
// transactions queue behind it, so constant read traffic cannot starve a resize
// (glibc's default rwlock prefers readers). Not recursive: a thread must not
// take it shared twice (no transaction nests inside another of this env).
class ResizeLock {
 public:
  ResizeLock();
  ~ResizeLock();
  ResizeLock(const ResizeLock&) = delete;
  ResizeLock& operator=(const ResizeLock&) = delete;
  void lock();
  void unlock();
  void lock_shared();
  void unlock_shared();

 private:
  pthread_rwlock_t lock_;
};

// Thrown by Environment::begin when another process grew the map
// (MDB_MAP_RESIZED); write()/read() adopt the new size and retry.
struct MapResized {};

// The open environment. Thread-safe. Transactions hold `map_lock` shared; a map
// resize holds it exclusively (mdb_env_set_mapsize needs no live transaction in
// this process).
class Environment {
 public:
  // Opens or creates the environment in options.path (files mode 0600) and
  // the named `databases` (creating missing ones unless read-only).
  static Result<std::unique_ptr<Environment>> open(const StorageOptions& options,
                                                   std::span<const DatabaseSpec> databases);
  ~Environment();

  MDB_env* handle() const noexcept { return env_; }
  // The handle of `database`, one of those open() was given (std::logic_error
  // otherwise, or when it is derived: a programming error).
  MDB_dbi dbi(const DatabaseSpec& database) const;
  // The handles of derived `database`, one of those open() was given.
  DerivedDbi derived(const DatabaseSpec& database) const;
  // The handle of `database` in the slot `txn` works on (either kind).
  MDB_dbi dbi(const Txn& txn, const DatabaseSpec& database) const;
  // Names of the given databases whose copy in the slot in force did not exist
  // before this open (their owners' data was lost: the projections must be
  // rebuilt).
  const std::vector<std::string>& created_databases() const noexcept { return created_; }

  // Makes `slot` the slot in force once `txn` commits; later transactions
  // begin on it. REQUIRES: a write transaction.
  void set_slot_in_force(const Txn& txn, std::uint8_t slot) const;
  // Empties every derived database of `slot` in `txn` — user projections'
  // included, registered in this process or not. REQUIRES: a write transaction.
  void clear_slot(const Txn& txn, std::uint8_t slot) const;

  // Runs `body` in a write transaction and commits it — unless `body` returns a
  // Result holding an error, in which case the transaction is aborted. On MDB_MAP_FULL the map
  // grows and `body` runs again in a new transaction, so `body` must have no
  // effects outside the transaction. Other lmdb errors propagate as exceptions.
  template <typename F>
  auto write(F&& body) -> decltype(body(std::declval<Txn&>()));
  // Runs `body` in a read-only transaction (a consistent snapshot).
  template <typename F>
  auto read(F&& body) const -> decltype(body(std::declval<Txn&>()));

  // Opens (creating) an extra derived database, "user:<name>", in both slots.
  // Returns the handles and whether the copy in the slot in force was created
  // now (its data was lost).
  std::pair<DerivedDbi, bool> open_derived(const std::string& name);

  std::uint64_t map_size() const;
  void reader_check() const;  // clears slots of dead reader processes
  // Unmaps the pages of data.mdb this process has faulted in, so that a long
  // scan (a rebuild) does not keep the whole file resident. The data stays in
  // the page cache; concurrent readers refault it (the map is a read-only shared
  // file mapping; without MDB_WRITEMAP, LMDB never writes through it). Does
  // nothing with MDB_WRITEMAP. REQUIRES: no transaction of this thread is live.
  void release_mapped_pages() const;
  // The same from inside `live`, a transaction of this environment (which keeps
  // the map from moving); pointers into the map stay valid.
  void release_mapped_pages(const Txn& live) const;
  const std::filesystem::path& path() const noexcept { return path_; }
  // Opened read-only (MDB_RDONLY): writes fail.
  bool read_only() const noexcept { return read_only_; }
  // Checks data.mdb's LMDB structure (lmdb_check.hpp) for the snapshot of
  // `snapshot`, or of a read transaction of its own.
  Result<StructureSummary> check_structure(StructureDepth depth, const Txn* snapshot = nullptr) const;

 private:
  friend class Txn;  // a pooled read transaction returns itself (recycle)
  Environment() = default;
  void grow_map();
  void adopt_resized_map() const;
  void drop_mapped_pages() const;  // REQUIRES: map_lock_ held (shared)
  // mdb_env_set_mapsize. REQUIRES: no live transaction in this process.
  void set_map_size(std::size_t bytes) const;
  Txn begin(bool write) const;
  // A read transaction from the pool, renewed on the latest snapshot; nullopt
  // when the pool is empty.
  std::optional<Txn> renew_pooled() const;
  // Ends read transaction `txn`: reset and kept in the pool (at most
  // kReaderPoolSize), or freed.
  void recycle(MDB_txn* txn) const noexcept;
  // Frees every pooled read transaction (and the reader slot each holds).
  void drain_reader_pool() const noexcept;
  // The slot in force for `txn`; a read-only one may reuse its snapshot's.
  std::uint8_t read_slot(const Txn& txn, bool read_only_txn) const;

  // Constant after construction.
  MDB_env* env_ = nullptr;
  std::vector<std::pair<std::string, MDB_dbi>> dbis_;  // the log's databases: name -> handle
  struct Derived {
    std::string name;  // the plain (slot 0) name
    DerivedDbi handles;
  };
  std::vector<Derived> derived_;
  MDB_dbi slots_ = 0;                                  // database "slots" (0: not opened yet)
  std::vector<std::string> created_;
  std::filesystem::path path_;
  std::size_t max_map_size_ = 0;
  Logger logger_;
  bool read_only_ = false;
  pid_t opener_pid_ = 0;  // a forked child's copy is not closed (~Environment)

  // Shared by every live transaction of this process; exclusive for resizes.
  mutable ResizeLock map_lock_;
  // Where data.mdb is mapped (drop_mapped_pages), once found; reset when the
  // map is resized.
  mutable std::mutex file_map_mutex_;
  mutable std::optional<std::pair<void*, std::size_t>> file_map_;
  // Read transactions kept reset for reuse (mdb_txn_renew). A new one costs a
  // zeroed allocation of its per-database arrays (kMaxDatabases entries, about
  // 16 KiB): 40 % of a get(). A reset transaction holds its reader slot
  // (MDB_NOTLS) but no snapshot, so it pins no pages.
  static constexpr std::size_t kReaderPoolSize = 2;
  mutable std::mutex reader_pool_mutex_;
  mutable std::vector<MDB_txn*> reader_pool_;
  // The slot in force as of the last read snapshot that looked, packed as
  // (snapshot id << 1 | slot): a read transaction of the same snapshot reuses it.
  mutable std::atomic<std::uint64_t> slot_seen_{0};
};

template <typename F>
auto Environment::write(F&& body) -> decltype(body(std::declval<Txn&>())) {
  for (;;) {
    try {
      std::shared_lock lock(map_lock_);
      Txn txn = begin(true);
      if constexpr (std::is_void_v<decltype(body(txn))>) {
        body(txn);
        txn.commit();
        return;
      } else {
        auto result = body(txn);
        // A body that returns a failed Result leaves nothing behind: abort.
        if constexpr (is_expected<decltype(result)>::value) {
          if (!result) return result;
        }
        txn.commit();
        return result;
      }
    } catch (const lmdb::map_full_error&) {
      grow_map();  // the transaction is gone; redo it on the larger map
    } catch (const MapResized&) {
      adopt_resized_map();  // another process grew the map
    }
  }
}

template <typename F>
auto Environment::read(F&& body) const -> decltype(body(std::declval<Txn&>())) {
  for (;;) {
    try {
      std::shared_lock lock(map_lock_);
      Txn txn = begin(false);
      return body(txn);
    } catch (const MapResized&) {
      adopt_resized_map();
    }
  }
}

// Translates an exception from the storage layer into an Error (storage or
// corruption); used in every public entry point's catch block.
Error translate_exception(std::exception_ptr error);

}  // namespace planning::detail
