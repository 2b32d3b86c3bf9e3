// The engine-side projection interface: built-in projections and the adapter
// for user projections both implement it. Every method runs inside the caller's
// write transaction; a throw aborts that transaction.
#pragma once

#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include <planning/events.hpp>
#include <planning/projection.hpp>

#include "events/src/lmdb_env.hpp"

namespace planning::detail {

class StoredProjection {
 public:
  virtual ~StoredProjection() = default;
  virtual std::string name() const = 0;
  virtual std::uint32_t schema_version() const = 0;
  virtual bool built_in() const = 0;
  // The databases a built-in projection owns (projections/src/databases.hpp),
  // which verify() compares with a fresh replay; empty for a user projection
  // (its database "user:<name>" is opened when it is registered). Each
  // method reaches its databases in the slot of the `txn` it is given.
  virtual std::span<const DatabaseSpec> databases() const { return {}; }
  // Deletes every record of the projection (not its checkpoint).
  virtual void clear(const Txn& txn) = 0;
  // Folds one event. Events arrive in sequence order, each exactly once
  // between clears.
  virtual void apply(const Txn& txn, const Event& event) = 0;
  // A run: many apply() calls in one transaction (a replay batch). Between
  // begin_run() and end_run() a projection may keep records in memory; end_run
  // writes them when `txn` is given, and drops them when it is null (the
  // transaction failed). Outside a run every apply() writes through.
  virtual void begin_run() {}
  virtual void end_run(const Txn* /*txn*/) {}
  // True when the write path never reads a record of this projection that an
  // event of the current write transaction changed (indexes and statistics:
  // never read by writes; sessions: read only before the transaction's first
  // event of that session). Its records may then be kept in a run for a whole
  // write transaction and written once at its end.
  virtual bool deferrable() const { return false; }

  // A bulk build: the rebuild of an empty slot (ProjectionSet::rebuild), whose
  // contents no reader sees until the rebuild switches to it. One run then
  // spans every replay transaction, and a projection may keep records in
  // memory or in temporary files across them. The set drives it:
  //   begin_bulk(); apply()...  — replay transactions, which may be redone
  //       from the start of the rebuild (a retried transaction restarts it);
  //   run_bytes() over budget, and at the end: write_run(txn) in a write
  //       transaction of its own, which may be retried (so write_run changes
  //       nothing in memory), then drop_run() once it committed;
  //   at the end, take_sorted() until it returns nullopt: chunks of records in
  //       key order, which the set appends (MDB_APPEND) in transactions of
  //       their own;
  //   end_bulk() — also after a failure, dropping whatever is left.
  // The defaults write through in apply(), as outside a run.
  struct BulkOptions {
    std::filesystem::path temp_directory;  // for sorted runs
    std::size_t memory_bytes = 0;          // this projection's share
  };
  struct SortedChunk {
    DerivedDbi dbi;     // written in the slot being built
    std::string bytes;  // the records' keys and values, back to back, ascending keys
    std::vector<std::pair<std::uint32_t, std::uint32_t>> sizes;  // (key, value) sizes
    void add(std::string_view key, std::string_view value) {
      bytes.append(key).append(value);
      sizes.emplace_back(static_cast<std::uint32_t>(key.size()),
                         static_cast<std::uint32_t>(value.size()));
    }
    // Calls visit(key, value) for each record, in order.
    template <typename Visit>
    void each(Visit&& visit) const {
      std::string_view rest = bytes;
      for (const auto& [k, v] : sizes) {
        visit(rest.substr(0, k), rest.substr(k, v));
        rest.remove_prefix(std::size_t{k} + v);
      }
    }
  };
  virtual void begin_bulk(const BulkOptions& /*options*/) {}
  virtual std::size_t run_bytes() const { return 0; }
  virtual void write_run(const Txn& /*txn*/) const {}
  virtual void drop_run() {}
  virtual std::optional<SortedChunk> take_sorted(std::size_t /*bytes*/) { return std::nullopt; }
  virtual void end_bulk() {}
};

// The entries of a run's map in key order, for writing a run out: neighbouring
// puts then land on the same B-tree pages.
template <class Map>
std::vector<const typename Map::value_type*> in_key_order(const Map& map) {
  std::vector<const typename Map::value_type*> order;
  order.reserve(map.size());
  for (const auto& entry : map) order.push_back(&entry);
  std::sort(order.begin(), order.end(), [](auto* a, auto* b) { return a->first < b->first; });
  return order;
}

// Built-in projections (one file each). REQUIRES: `env` was opened with
// store_databases() (projections/src/databases.hpp).
std::unique_ptr<StoredProjection> make_streams_projection(const Environment& env);
std::unique_ptr<StoredProjection> make_sessions_projection(const Environment& env);
std::unique_ptr<StoredProjection> make_versions_projection(const Environment& env);
std::unique_ptr<StoredProjection> make_statistics_projection(const Environment& env);
std::unique_ptr<StoredProjection> make_indexes_projection(const Environment& env);

// The built-in projections in the order they apply events, each with the
// databases it owns.
struct BuiltinProjection {
  std::span<const DatabaseSpec> databases;
  std::unique_ptr<StoredProjection> (*make)(const Environment& env);
};
std::span<const BuiltinProjection> builtin_projections();
// Adapter over a user Projection stored in its own database (both slots).
std::unique_ptr<StoredProjection> make_user_projection(std::shared_ptr<Projection> projection,
                                                       DerivedDbi dbi);

}  // namespace planning::detail
