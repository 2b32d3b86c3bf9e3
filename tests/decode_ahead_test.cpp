// Decoding the log ahead of a replay on a thread of its own
// (events/src/decode_ahead.hpp): every event once, in log order, as
// SessionManager::events() reads it; a session filter; a missing event or an
// unreadable header reported after the events before it; a reader that leaves
// early. Runs under TSan in CI.
#include <planning/planning.hpp>

#include <set>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "events/src/cereal_fields.hpp"
#include "events/src/decode_ahead.hpp"
#include "events/src/event_log.hpp"
#include "events/src/lmdb_env.hpp"
#include "support/log_fixture.hpp"
#include "support/raw_lmdb.hpp"
#include "support/temp_store.hpp"
#include "support/test_helpers.hpp"

using namespace planning;
using namespace planning::test;
using planning::detail::DecodeAhead;
using planning::detail::DecodeError;
using planning::detail::Environment;
using planning::detail::EventLog;

namespace {

// Every event the feed hands over, taking them as a replay does.
std::vector<Event> take_all(DecodeAhead& decoded) {
  std::vector<Event> out;
  for (;;) {
    decoded.wait();
    Event* event = decoded.take();
    if (event == nullptr) break;
    out.push_back(*event);
    while ((event = decoded.take()) != nullptr) out.push_back(*event);
  }
  return out;
}

}  // namespace

TEST_CASE("decoding ahead hands over every event once, in log order, as events() reads it",
          "[replay][decode_ahead]") {
  TempDir dir;
  const std::vector<Event> expected = write_log(dir, 7, 90);  // 637 events: several chunks
  OpenLog open = open_log(dir);
  const std::uint64_t head = expected.size();

  SECTION("the whole log") {
    DecodeAhead decoded(*open.env, *open.log, 0, head, {}, 1 << 20);
    CHECK(take_all(decoded) == expected);
    CHECK(decoded.finished());
  }
  SECTION("from the middle, with a cache too small for any content") {
    DecodeAhead decoded(*open.env, *open.log, 300, head, {}, 1);
    const std::vector<Event> got = take_all(decoded);
    CHECK(got == std::vector<Event>(expected.begin() + 300, expected.end()));
    CHECK(decoded.finished());
  }
  SECTION("with a cache that holds two sessions' content of the seven (evicting every event)") {
    // Each session's text is ~330 bytes: the resolver keeps two, evicts the
    // least recently used and decodes the others' bases from the log again.
    DecodeAhead decoded(*open.env, *open.log, 0, head, {}, 700);
    CHECK(take_all(decoded) == expected);
    CHECK(decoded.finished());
  }
  SECTION("only the sessions a filter accepts") {
    const std::set<std::string> chosen = {expected[0].session_id, expected[3].session_id};
    DecodeAhead decoded(
        *open.env, *open.log, 0, head,
        [&](std::string_view id) { return chosen.contains(std::string(id)); }, 1 << 20);
    std::vector<Event> want;
    for (const Event& e : expected) {
      if (chosen.contains(e.session_id)) want.push_back(e);
    }
    CHECK(take_all(decoded) == want);
    CHECK(decoded.finished());
  }
  SECTION("an empty range") {
    DecodeAhead decoded(*open.env, *open.log, head, head, {}, 1 << 20);
    CHECK(take_all(decoded).empty());
    CHECK(decoded.finished());
  }
}

TEST_CASE("decoding ahead reports a missing event after handing over the events before it",
          "[replay][decode_ahead]") {
  TempDir dir;
  const std::vector<Event> expected = write_log(dir, 3, 200);
  const std::uint64_t missing = GENERATE(as<std::uint64_t>{}, 1, 100, 450, 603);
  REQUIRE(raw::del(dir.path() / "store", "log", raw::seq_key(missing)).empty());
  OpenLog open = open_log(dir);
  DecodeAhead decoded(*open.env, *open.log, 0, expected.size(), {}, 1 << 20);
  std::vector<Event> got;
  try {
    got = take_all(decoded);
    FAIL("the missing event was not reported");
  } catch (const DecodeError& e) {
    CHECK(std::string(e.what()) == "event " + std::to_string(missing) + " is missing from the log");
  }
  CHECK_FALSE(decoded.finished());
  // take_all() lost what it had gathered to the throw: take again from the start.
  DecodeAhead again(*open.env, *open.log, 0, expected.size(), {}, 1 << 20);
  for (std::uint64_t seq = 1; seq < missing; ++seq) {
    again.wait();
    Event* event = again.take();
    REQUIRE(event != nullptr);
    CHECK(*event == expected[seq - 1]);
  }
  again.wait();
  CHECK_THROWS_AS(again.take(), DecodeError);
}

TEST_CASE(
    "decoding ahead with a session filter reports an unreadable header after the events "
    "before it",
    "[replay][decode_ahead]") {
  TempDir dir;
  const std::vector<Event> expected = write_log(dir, 3, 200);
  // The filter reads each frame's header (the others are never decoded).
  const std::uint64_t damaged = GENERATE(as<std::uint64_t>{}, 2, 300, 600);
  REQUIRE(raw::put(dir.path() / "store", "log", raw::seq_key(damaged), "not a frame").empty());
  OpenLog open = open_log(dir);
  const std::string chosen = expected[0].session_id;
  DecodeAhead decoded(
      *open.env, *open.log, 0, expected.size(), [&](std::string_view id) { return id == chosen; },
      1 << 20);
  std::vector<Event> got;
  bool reported = false;
  for (;;) {
    decoded.wait();
    try {
      Event* event = decoded.take();
      if (event == nullptr) break;
      got.push_back(*event);
    } catch (const DecodeError& e) {
      CHECK_THAT(e.what(), Catch::Contains(std::to_string(damaged)));
      reported = true;
      break;
    }
  }
  CHECK(reported);
  CHECK_FALSE(decoded.finished());
  std::vector<Event> want;
  for (const Event& e : expected) {
    if (e.sequence < damaged && e.session_id == chosen) want.push_back(e);
  }
  CHECK(got == want);
}

TEST_CASE("decoding ahead stops when its reader leaves before the end", "[replay][decode_ahead]") {
  TempDir dir;
  const std::vector<Event> expected = write_log(dir, 5, 300);  // 1,505 events: a full queue
  OpenLog open = open_log(dir);
  for (std::size_t taken : {std::size_t{0}, std::size_t{1}, std::size_t{700}}) {
    DecodeAhead decoded(*open.env, *open.log, 0, expected.size(), {}, 1 << 20);
    for (std::size_t i = 0; i < taken; ++i) {
      decoded.wait();
      Event* event = decoded.take();
      REQUIRE(event != nullptr);
      CHECK(*event == expected[i]);
    }
    CHECK_FALSE(decoded.finished());
  }  // each destructor stops and joins the decoding thread
}
