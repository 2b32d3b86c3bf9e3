// The list of built-in projections and the databases a store opens.
#include "events/src/event_log.hpp"
#include "projections/src/databases.hpp"
#include "projections/src/stored_projection.hpp"

namespace planning::detail {

std::span<const BuiltinProjection> builtin_projections() {
  static constexpr BuiltinProjection kBuiltins[] = {
      {StreamsDatabases::all, make_streams_projection},
      {SessionsDatabases::all, make_sessions_projection},
      {VersionsDatabases::all, make_versions_projection},
      {StatisticsDatabases::all, make_statistics_projection},
      {IndexesDatabases::all, make_indexes_projection},
  };
  return kBuiltins;
}

std::vector<DatabaseSpec> store_databases() {
  std::vector<DatabaseSpec> all(std::begin(kLogDatabases), std::end(kLogDatabases));
  all.push_back(kCheckpointsDatabase);
  for (const BuiltinProjection& builtin : builtin_projections()) {
    all.insert(all.end(), builtin.databases.begin(), builtin.databases.end());
  }
  return all;
}

}  // namespace planning::detail
