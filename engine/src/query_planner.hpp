// list(): picks the narrowest index the filters allow, streams its candidates,
// and checks every filter on each loaded session. When the index order is the
// requested order, it stops after offset + limit matches, so the cost grows with
// the answer, not the store.
#pragma once

#include <functional>
#include <optional>
#include <vector>

#include <planning/queries.hpp>

#include "events/src/lmdb_env.hpp"

namespace planning::detail {

using SessionLoader = std::function<std::optional<Session>(std::string_view id)>;

Result<std::vector<Session>> run_list(const Txn& txn, const Environment& env,
                                      const SessionFilters& filters, const SessionLoader& load);

// True when `session` satisfies every filter (order, limit and offset aside).
bool matches(const Session& session, const SessionFilters& filters);

}  // namespace planning::detail
