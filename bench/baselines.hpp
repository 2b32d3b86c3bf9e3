// Baselines: the same work done directly with the LMDB C API and with SQLite,
// measured in the same run as the engine's figure it is compared with.
#pragma once

#include <cstddef>
#include <filesystem>
#include <initializer_list>
#include <string>
#include <vector>

#include "bench/support.hpp"

namespace bench {

class ContentPool;

// One mdb_put of a value from `values` (1 KiB) + mdb_txn_commit per op, in a fresh
// environment at `dir` opened like the engine's (MDB_NOTLS, default sync).
// Stops after `ops` ops or `max_seconds`, whichever comes first. Returns ops/s.
WriteRate raw_lmdb_single_puts(const std::filesystem::path& dir, std::size_t ops,
                               double max_seconds, ContentPool& values);

// The records one engine update writes, with raw LMDB calls, one update per
// durable commit: a 1 KiB value appended to a sequence-keyed "log", and in 8
// more named databases what the projections write for one session (a head
// record, the session's record with its 1 KiB content, a stream entry and a
// version record appended, two statistics records, an index entry moved, the
// indexed fields, 5 checkpoints). The floor of the engine's layout, against
// which raw_lmdb_single_puts is the floor of one database.
WriteRate raw_lmdb_layout_updates(const std::filesystem::path& dir, std::size_t ops,
                                  double max_seconds, ContentPool& values);

// `batches` write transactions of `batch_size` puts each. Returns puts/s.
WriteRate raw_lmdb_batched_puts(const std::filesystem::path& dir, std::size_t batches,
                                std::size_t batch_size, ContentPool& values);

// SQLite at dir/bench.sqlite: WAL, synchronous=FULL, a prepared INSERT of a blob
// from `values`, `batch_size` inserts per transaction. Returns inserts/s.
double sqlite_batched_inserts(const std::filesystem::path& dir, std::size_t batches,
                              std::size_t batch_size, ContentPool& values);

// Time (ms) to open the LMDB environment at `store` with the raw C API as the
// engine does (max_dbs, map size >= file size, MDB_NOTLS) and begin and end one
// read transaction. REQUIRES: no SessionManager of this process has it open.
double raw_lmdb_open_ms(const std::filesystem::path& store);

// Deletes those of the named databases of `store` that exist, with the raw C
// API: what a lost projection looks like to the next open().
// REQUIRES: no SessionManager of this process has the store open.
void raw_lmdb_drop_databases(const std::filesystem::path& store,
                             std::initializer_list<const char*> names);

// Latency (µs) of each raw read: begin a read-only transaction, mdb_get `key`
// from the named database `database` of the store, touch the value, abort.
// REQUIRES: no SessionManager of this process has the store open.
struct RawGets {
  std::vector<double> micros;
  std::size_t value_bytes = 0;  // size of the first value read
};
RawGets raw_lmdb_gets(const std::filesystem::path& store, const char* database,
                      const std::vector<std::string>& keys);

}  // namespace bench
