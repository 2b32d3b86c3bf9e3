// planning/options.hpp — how to open a store.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <string_view>
#include <vector>

#include <planning/model.hpp>
#include <planning/projection.hpp>

namespace planning {

enum class LogLevel : std::uint8_t { debug, info, warning, error };
std::string_view to_string(LogLevel level) noexcept;

// Called from whichever thread logs; must be thread-safe. Must not throw (a throw
// is swallowed).
using Logger = std::function<void(LogLevel level, std::string_view message)>;
// Injectable clock (tests). Must be thread-safe.
using Clock = std::function<Timestamp()>;

// What a commit promises on return (see docs/RELIABILITY.md).
enum class Durability : std::uint8_t {
  full,          // fsync data and meta page: survives process and system crash (default)
  no_meta_sync,  // MDB_NOMETASYNC: a system crash may lose the last commits; stays consistent
  no_sync,       // MDB_NOSYNC: a system crash may corrupt; process crashes lose nothing
};

// How much of data.mdb's LMDB structure open() checks before LMDB reads it
// (docs/RELIABILITY.md, "Damaged LMDB pages"). LMDB 0.9 has no page checksums:
// a damaged page header can crash liblmdb itself, so damage is looked for first.
enum class StructureCheck : std::uint8_t {
  roots,  // both meta pages, the main database and each database's root page (a few reads)
  full,   // every branch, leaf and overflow page header of every database (reads each tree page)
};

struct Options {
  // Directory holding data.mdb / lock.mdb. Created (mode 0700) when missing and
  // create_if_missing is set; database files are created with mode 0600.
  std::filesystem::path path = ".planning";
  bool create_if_missing = true;
  // Each content-changing update makes a version (docs/BEHAVIOUR.md, "Sessions").
  bool auto_version = true;
  Logger logger;  // optional
  Clock clock;    // optional; defaults to the system clock
  Durability durability = Durability::full;
  // Starting map size; the map doubles on MDB_MAP_FULL up to max_map_size.
  std::size_t initial_map_size = std::size_t{64} << 20;
  std::size_t max_map_size = std::size_t{1} << 40;
  unsigned max_readers = 126;
  // User projections, caught up during open().
  std::vector<std::shared_ptr<Projection>> projections;
  // Events applied per write transaction while catching up / rebuilding. Bounds
  // memory; progress survives a crash between batches. A transaction also ends
  // once it has touched 2048 sessions (their dirty pages are held in memory).
  std::size_t replay_batch_events = 20000;
  // Open with MDB_RDONLY: nothing in the store is written, created or extended
  // (a missing store, or an empty or truncated data.mdb, is an error). Projections behind the log are not caught up (reads
  // see them as they are; verify() reports them). A store whose lock file cannot
  // be opened for writing (read-only media, another user's store) is read
  // without LMDB's lock (MDB_NOLOCK): then no writer may run meanwhile. Writes
  // fail with ErrorCode::storage.
  bool read_only = false;
  StructureCheck structure_check = StructureCheck::roots;
};

}  // namespace planning
