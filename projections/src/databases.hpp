// The databases of the projections, declared once (names are part of the
// format, docs/FORMAT.md). Each built-in projection owns the databases in its
// struct and lists them in `all`; nothing else spells a database name: the
// environment opens store_databases(), verify() compares each projection's
// databases(), and readers reach a database as
// env.dbi(txn, SessionsDatabases::records). All of them are derived (rebuilt
// from the log), so each has a copy per slot (lmdb_env.hpp, DerivedDbi).
#pragma once

#include <array>
#include <span>
#include <vector>

#include "events/src/lmdb_env.hpp"

namespace planning::detail {

// ProjectionSet's own: projection name -> checkpoint record.
inline constexpr DatabaseSpec kCheckpointsDatabase{"checkpoints", 0, true};

// "streams": id + u32 BE stream version -> u64 BE sequence.
struct StreamsDatabases {
  static constexpr DatabaseSpec records{"streams", 0, true};
  static constexpr std::array all{records};
};

// "sessions": id -> session record.
struct SessionsDatabases {
  static constexpr DatabaseSpec records{"sessions", 0, true};
  static constexpr std::array all{records};
};

// "versions": id + u32 BE version -> version record.
struct VersionsDatabases {
  static constexpr DatabaseSpec records{"versions", 0, true};
  static constexpr std::array all{records};
};

// "statistics": "counters" / "s:" + id -> statistics records.
struct StatisticsDatabases {
  static constexpr DatabaseSpec records{"statistics", 0, true};
  static constexpr std::array all{records};
};

// "indexes": one database per index, plus each session's indexed fields.
struct IndexesDatabases {
  static constexpr DatabaseSpec status{"idx_status", MDB_DUPSORT, true};  // status byte -> created(8) + id
  static constexpr DatabaseSpec created{"idx_created", 0, true};             // created(8) + id -> ""
  static constexpr DatabaseSpec updated{"idx_updated", 0, true};             // updated(8) + id -> ""
  static constexpr DatabaseSpec repo_path{"idx_repo_path", MDB_DUPSORT, true};  // xxh3(path) -> created(8) + id
  static constexpr DatabaseSpec repo_url{"idx_repo_url", MDB_DUPSORT, true};    // xxh3(url) -> created(8) + id
  static constexpr DatabaseSpec project{"idx_project", MDB_DUPSORT, true};      // xxh3(project) -> created(8) + id
  static constexpr DatabaseSpec fields{"idx_fields", 0, true};  // id -> indexed fields (to remove old entries)
  static constexpr std::array all{status, created, updated, repo_path, repo_url, project, fields};
};

// Every database a store opens: the log's, the checkpoints, and each built-in
// projection's (user projections open theirs, "user:<name>", when registered).
std::vector<DatabaseSpec> store_databases();

}  // namespace planning::detail
