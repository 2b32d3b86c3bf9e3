// Records of the "statistics" projection (docs/FORMAT.md, "Projection records").
#pragma once

#include <cstdint>

#include <planning/model.hpp>

#include "events/src/lmdb_env.hpp"

namespace planning::detail {

struct Counters {
  std::uint64_t active = 0, paused = 0, converted = 0, archived = 0;
  std::uint64_t removed = 0, with_content = 0, versions = 0;
};

struct Contribution {
  Status status = Status::active;
  std::uint32_t versions = 0;
  bool has_content = false;
};

Counters read_counters(const Txn& txn, MDB_dbi statistics);

}  // namespace planning::detail
