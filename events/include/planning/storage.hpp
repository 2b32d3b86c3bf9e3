// planning/storage.hpp — the storage layer's settings: logging, what a commit
// promises, how much of a store's structure open() checks. Options
// (<planning/options.hpp>) carries them.
#pragma once

#include <cstdint>
#include <functional>
#include <string_view>

namespace planning {

enum class LogLevel : std::uint8_t { debug, info, warning, error };
std::string_view to_string(LogLevel level) noexcept;

// Called from whichever thread logs; must be thread-safe. Must not throw (a throw
// is swallowed).
using Logger = std::function<void(LogLevel level, std::string_view message)>;

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

}  // namespace planning
