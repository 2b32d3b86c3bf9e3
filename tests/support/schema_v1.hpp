// Stores as an older build wrote them: rewrites a store's log in the
// full-content payload schema 1 (docs/FORMAT.md §7), for the tests of
// upcasting, import and the golden stores. The store must NOT be open in this
// process (raw_lmdb.hpp).
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include <planning/planning.hpp>

#include "events/src/event_codec.hpp"
#include "events/src/hashing.hpp"
#include "support/raw_lmdb.hpp"

namespace planning::test {

// Rewrites `events` (the whole log, in order, as SessionManager::events read
// it) in schema 1, re-chaining the hashes and the head record.
inline void downgrade_to_v1(const std::filesystem::path& path, const std::vector<Event>& events) {
  Hash256 prev{};
  for (Event e : events) {
    e.prev_hash = prev;
    const std::string frame =
        detail::encode_event(e, {.schema_version = detail::kFullContentSchemaVersion});
    REQUIRE(raw::put(path, "log", raw::seq_key(e.sequence), frame).empty());
    prev = detail::sha256(frame);
  }
  std::string head = raw::seq_key(events.back().sequence);
  head.append(reinterpret_cast<const char*>(prev.data()), prev.size());
  REQUIRE(raw::put(path, "meta", "head", head).empty());
}

}  // namespace planning::test
