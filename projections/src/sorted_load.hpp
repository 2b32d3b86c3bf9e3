// One database of a projection built in key order during a bulk build
// (StoredProjection::begin_bulk): the projection adds its records in event
// order, and take() hands them back sorted, in chunks for MDB_APPEND. Used by
// the projections whose records are only ever inserted (streams, versions).
#pragma once

#include <functional>
#include <memory>

#include "projections/src/sorted_runs.hpp"
#include "projections/src/stored_projection.hpp"

namespace planning::detail {

class SortedLoad {
 public:
  explicit SortedLoad(DerivedDbi dbi) : dbi_(dbi) {}

  bool active() const noexcept { return runs_ != nullptr; }
  void begin(const StoredProjection::BulkOptions& options) {
    runs_ = std::make_unique<SortedRuns>(options.temp_directory, options.memory_bytes);
    reading_ = false;
  }
  // A put of `key` by the event at `sequence`. REQUIRES: active().
  void add(std::string_view key, std::uint64_t sequence, std::string_view value) {
    runs_->add(key, sequence, value);
  }
  // The next records in key order, about `bytes` of them, leaving out those
  // `keep` refuses (given the key and the sequence that wrote it); nullopt
  // when none is left.
  std::optional<StoredProjection::SortedChunk> take(
      std::size_t bytes, const std::function<bool(std::string_view, std::uint64_t)>& keep = {}) {
    if (!runs_) return std::nullopt;
    if (!reading_) {
      runs_->finish();
      reading_ = true;
    }
    StoredProjection::SortedChunk chunk{dbi_, {}, {}};
    chunk.bytes.reserve(bytes + bytes / 8);
    std::size_t taken = 0;
    while (taken < bytes) {
      auto record = runs_->next();
      if (!record) break;
      if (keep && !keep(record->key, record->ordinal)) continue;
      taken += record->key.size() + record->value.size();
      chunk.add(record->key, record->value);
    }
    if (chunk.sizes.empty()) return std::nullopt;
    return chunk;
  }
  void end() { runs_.reset(); }

 private:
  DerivedDbi dbi_;
  std::unique_ptr<SortedRuns> runs_;
  bool reading_ = false;
};

}  // namespace planning::detail
