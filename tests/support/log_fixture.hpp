// A log written through the engine and opened again at the storage floor
// (the environment and the event log, no projections), for the tests of the
// log's readers (decode_ahead_test, frame_cursor_test).
#pragma once

#include <memory>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include <planning/planning.hpp>

#include "events/src/event_log.hpp"
#include "events/src/lmdb_env.hpp"
#include "support/temp_store.hpp"
#include "support/test_helpers.hpp"

namespace planning::test {

// A log of `sessions` sessions with `updates` content edits each, interleaved
// (so that content is stored as deltas against earlier events); returns every
// event as the engine reads it.
inline std::vector<Event> write_log(const TempDir& dir, int sessions, int updates) {
  auto m = open_store(test_options(dir));
  std::vector<std::string> ids;
  for (int s = 0; s < sessions; ++s) {
    std::string content;
    for (int line = 0; line < 40; ++line) content += "line " + std::to_string(line) + "\n";
    ids.push_back(
        PLAN_OK(m->create({.title = "s" + std::to_string(s), .initial_content = content})).id);
  }
  for (int u = 0; u < updates; ++u) {
    for (int s = 0; s < sessions; ++s) {
      std::string content;
      for (int line = 0; line < 40; ++line) {
        content += "line " + std::to_string(line == u % 40 ? 1000 + u : line) + "\n";
      }
      PLAN_OK(m->update(ids[s], {.content = content}));
    }
  }
  return PLAN_OK(m->events());
}

struct OpenLog {
  std::unique_ptr<detail::Environment> env;
  std::unique_ptr<detail::EventLog> log;
};

inline OpenLog open_log(const TempDir& dir) {
  planning::detail::StorageOptions options;
  options.path = dir.path() / "store";
  options.create_if_missing = false;
  auto env = detail::Environment::open(options, planning::detail::kLogDatabases);
  REQUIRE(env);
  OpenLog out{std::move(*env), nullptr};
  out.log = std::make_unique<detail::EventLog>(*out.env);
  return out;
}

}  // namespace planning::test
