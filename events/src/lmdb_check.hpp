// A bounds-checked structural check of an LMDB 0.9 data file (data.mdb),
// independent of liblmdb: it reads the file with pread and never follows a
// page number, offset or length before checking it, so damage that would make
// LMDB crash (SIGSEGV, SIGBUS, an assert) is returned as ErrorCode::corruption
// naming the page and, where known, the database.
//
// Checked: both meta pages (flags, magic, version, page size, txnid parity and
// succession, root page numbers); from the meta LMDB would use, every page of
// the free-page database and of the main database, and through the main
// database's F_SUBDATA nodes every named database, its DUPSORT sub-pages and
// sub-trees, and every overflow run: page number and type, mp_lower/mp_upper,
// node offsets and sizes inside the page, child page numbers <= mm_last_pg and
// inside the file, branch pages with at least two keys, equal leaf depth,
// keys <= 511 bytes and in order (within a page and within the bounds of the
// parent's separators), each page reached once, free-list records well formed
// and disjoint from the trees, and the page and entry counts each MDB_db
// records. `metas` checks the two meta pages only; `roots` checks the metas, the main database and each named
// database's root page only (a few preads).
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>

#include <planning/result.hpp>

namespace planning::detail {

enum class StructureDepth : std::uint8_t { metas, roots, full };

struct StructureSummary {
  std::uint64_t txnid = 0;        // the snapshot checked
  std::uint32_t page_size = 0;
  std::uint64_t last_pgno = 0;    // mm_last_pg of that snapshot
  std::uint64_t file_size = 0;
  std::uint64_t pages_visited = 0;
  std::uint64_t databases = 0;    // named databases found
};

// Checks `data_file`. With `snapshot_txnid`, checks the meta page of that
// transaction (the snapshot of a live read transaction, whose pages no writer
// reuses while it lives) and returns ErrorCode::conflict when that meta page
// was already overwritten (begin a newer read transaction and retry).
// Errors: corruption (damage, naming what is wrong), storage (cannot read).
Result<StructureSummary> check_lmdb_structure(const std::filesystem::path& data_file,
                                            StructureDepth depth,
                                            std::optional<std::uint64_t> snapshot_txnid = {});

}  // namespace planning::detail
