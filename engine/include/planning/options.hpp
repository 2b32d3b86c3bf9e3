// planning/options.hpp — how to open a store.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <planning/model.hpp>
#include <planning/projection.hpp>
#include <planning/storage.hpp>

namespace planning {

// Injectable clock (tests). Must be thread-safe.
using Clock = std::function<Timestamp()>;

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
  // memory; a catch-up's progress survives a crash between batches. A catch-up
  // transaction also ends once it has touched 2048 sessions (their dirty pages
  // are held in memory); a rebuild's memory is bounded by rebuild_memory_bytes.
  std::size_t replay_batch_events = 20000;
  // Memory a rebuild (rebuild_projections, an upgrade on open) may hold for the
  // records it builds before it writes them out; beyond it, records are sorted
  // into temporary files in the store's directory (freed when the rebuild ends
  // or the process dies). A rebuild reads the log once per group of sessions
  // whose records and texts fit it: a smaller budget means more passes over
  // the log (slower) and a lower peak. Must be positive. A catch-up (open, a projection
  // registered on a long log) uses it (at least 16 MiB) for the cache of each
  // session's latest content; a log whose sessions' content exceeds it
  // replays slower, never with more memory.
  std::size_t rebuild_memory_bytes = std::size_t{48} << 20;
  // Open with MDB_RDONLY: nothing in the store is written, created or extended
  // (a missing store, or an empty or truncated data.mdb, is an error). Projections behind the log are not caught up (reads
  // see them as they are; verify() reports them). A store whose lock file cannot
  // be opened for writing (read-only media, another user's store) is read
  // without LMDB's lock (MDB_NOLOCK): then no writer may run meanwhile. Writes
  // fail with ErrorCode::storage ("... was opened read-only ...").
  bool read_only = false;
  StructureCheck structure_check = StructureCheck::roots;
  // Shared mode (docs/SCALING.md): a libpq connection string ("host=/run/pg
  // dbname=plans" or "postgresql://..."). The authoritative log is then the one
  // in that PostgreSQL database, shared by every node that names it; this store
  // is the node's local replica of it and of every projection. Empty (the
  // default): the embedded store alone.
  std::string shared_log;
};

}  // namespace planning
