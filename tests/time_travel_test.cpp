// Time travel and log reading (README, "Time travel"): session_at / session_at_time, the
// EventQuery filters, scan_events, and the envelope of logged events.
#include <planning/planning.hpp>

#include <catch2/catch.hpp>

#include "support/temp_store.hpp"
#include "support/test_helpers.hpp"

using namespace planning;
using namespace planning::test;
using namespace std::chrono_literals;

namespace {

struct Snapshot {
  std::uint64_t sequence;
  Session state;
};

// Two interleaved sessions; the state of `a` after each of its events is kept.
struct History {
  TempDir dir;
  ManualClock clock;
  std::unique_ptr<SessionManager> m;
  std::string a, b;
  std::vector<Snapshot> a_states;  // after each event of a
  std::uint64_t a_created_seq = 0;

  History() {
    m = open_store(test_options(dir, &clock));
    CreateRequest rb;
    rb.title = "b";
    b = PLAN_OK(m->create(rb)).id;  // seq 1
    clock.advance(1h);
    CreateRequest ra;
    ra.title = "a";
    ra.initial_content = "a1";
    ra.created_by = "alice";
    a = PLAN_OK(m->create(ra)).id;  // seq 2
    keep();
    a_created_seq = 2;
    clock.advance(1h);
    PLAN_OK(m->update(b, UpdateRequest{.content = "b1"}));  // 3
    clock.advance(1h);
    PLAN_OK(m->update(a, UpdateRequest{.title = "a renamed", .content = "a2"}));  // 4
    keep();
    clock.advance(1h);
    PLAN_OK(m->pause(a, "lunch", "bob"));  // 5
    keep();
    clock.advance(1h);
    PLAN_OK(m->pause(b));  // 6
    clock.advance(1h);
    PLAN_OK(m->resume(a));  // 7
    keep();
    clock.advance(1h);
    PLAN_OK(m->restore_version(a, 1));  // 8
    keep();
    clock.advance(1h);
    PLAN_OK(m->create_version(a, "snap"));  // 9
    keep();
    clock.advance(1h);
    ConvertRequest c;
    c.project_id = "p";
    c.work_item_ids = {"w1", "w2"};
    c.converted_by = "carol";
    PLAN_OK(m->mark_converted(a, c));  // 10
    keep();
    clock.advance(1h);
    PLAN_OK(m->archive(b));  // 11
    clock.advance(1h);
    PLAN_OK(m->archive(a));  // 12
    keep();
    clock.advance(1h);
  }

  void keep() { a_states.push_back({head_of(*m), PLAN_OK(m->get(a))}); }
};

std::vector<std::uint64_t> seqs(const std::vector<Event>& events) {
  std::vector<std::uint64_t> out;
  for (const auto& e : events) out.push_back(e.sequence);
  return out;
}

using Seqs = std::vector<std::uint64_t>;

}  // namespace

TEST_CASE("session_at returns the state after each event of the session", "[time_travel]") {
  History h;
  REQUIRE(h.a_states.size() == 8);
  for (const auto& snap : h.a_states) {
    INFO("sequence " << snap.sequence);
    CHECK(PLAN_OK(h.m->session_at(h.a, snap.sequence)) == snap.state);
  }
}

TEST_CASE("session_at between events returns the latest earlier state", "[time_travel]") {
  History h;
  // seq 3, 6 and 11 are events of b: a is as after seq 2, 5 and 10.
  CHECK(PLAN_OK(h.m->session_at(h.a, 3)) == h.a_states[0].state);
  CHECK(PLAN_OK(h.m->session_at(h.a, 6)) == h.a_states[2].state);
  CHECK(PLAN_OK(h.m->session_at(h.a, 11)) == h.a_states[6].state);
  // Beyond the head: the current state.
  const auto current = PLAN_OK(h.m->get(h.a));
  CHECK(PLAN_OK(h.m->session_at(h.a, 12)) == current);
  CHECK(PLAN_OK(h.m->session_at(h.a, 1000)) == current);
  CHECK(PLAN_OK(h.m->session_at(h.a, UINT64_MAX)) == current);
  // b, read at a's events.
  auto b_at_5 = PLAN_OK(h.m->session_at(h.b, 5));
  CHECK(b_at_5.content == "b1");
  CHECK(b_at_5.status == Status::active);
  CHECK(PLAN_OK(h.m->session_at(h.b, 6)).status == Status::paused);
}

TEST_CASE("session_at before creation is not_found", "[time_travel]") {
  History h;
  REQUIRE_ERROR_CODE(ErrorCode::not_found, h.m->session_at(h.a, 0));
  REQUIRE_ERROR_CODE(ErrorCode::not_found, h.m->session_at(h.a, 1));
  CHECK(PLAN_OK(h.m->session_at(h.a, 2)).title == "a");
  REQUIRE_ERROR_CODE(ErrorCode::not_found, h.m->session_at(h.b, 0));
  CHECK(PLAN_OK(h.m->session_at(h.b, 1)).title == "b");
}

TEST_CASE("session_at_time follows timestamps", "[time_travel]") {
  History h;
  for (std::size_t i = 0; i < h.a_states.size(); ++i) {
    const auto& snap = h.a_states[i];
    INFO("state #" << i);
    // At the event's own time and half an hour later: that state.
    CHECK(PLAN_OK(h.m->session_at_time(h.a, snap.state.updated_at)) == snap.state);
    CHECK(PLAN_OK(h.m->session_at_time(h.a, snap.state.updated_at + 30min)) == snap.state);
    if (i > 0) {
      // Just before it: the previous state.
      CHECK(PLAN_OK(h.m->session_at_time(h.a, snap.state.updated_at - 1ns)) ==
            h.a_states[i - 1].state);
    }
  }
  const auto created = h.a_states[0].state.created_at;
  REQUIRE_ERROR_CODE(ErrorCode::not_found, h.m->session_at_time(h.a, created - 1ns));
  REQUIRE_ERROR_CODE(ErrorCode::not_found, h.m->session_at_time(h.a, created - 24h));
  CHECK(PLAN_OK(h.m->session_at_time(h.a, created + 1000h)) == PLAN_OK(h.m->get(h.a)));
}

TEST_CASE("after removal, session_at before the removal still works", "[time_travel]") {
  History h;
  const auto last = PLAN_OK(h.m->get(h.a));
  const auto before_removal = head_of(*h.m);
  PLAN_OK(h.m->remove(h.a));
  REQUIRE_ERROR_CODE(ErrorCode::not_found, h.m->get(h.a));
  CHECK(PLAN_OK(h.m->session_at(h.a, before_removal)) == last);
  CHECK(PLAN_OK(h.m->session_at(h.a, 4)) == h.a_states[1].state);
  CHECK(PLAN_OK(h.m->session_at_time(h.a, last.updated_at)) == last);
  // The removed session's events stay in the log.
  EventQuery q;
  q.session_id = h.a;
  auto events = PLAN_OK(h.m->events(q));
  REQUIRE(events.size() == 9);
  CHECK(events.back().type == EventType::session_removed);
}

TEST_CASE("events() filters by session, type, sequence, time and limit", "[time_travel][log]") {
  History h;
  auto& m = *h.m;
  const auto all = PLAN_OK(m.events());
  REQUIRE(all.size() == 12);
  CHECK(seqs(all) == Seqs{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12});

  SECTION("session") {
    EventQuery q;
    q.session_id = h.b;
    CHECK(seqs(PLAN_OK(m.events(q))) == Seqs{1, 3, 6, 11});
    q.session_id = h.a;
    CHECK(seqs(PLAN_OK(m.events(q))) == Seqs{2, 4, 5, 7, 8, 9, 10, 12});
    q.session_id = "0190a000-0000-7000-8000-000000000000";
    CHECK(PLAN_OK(m.events(q)).empty());
  }
  SECTION("types") {
    EventQuery q;
    q.types = {EventType::session_paused, EventType::session_archived};
    CHECK(seqs(PLAN_OK(m.events(q))) == Seqs{5, 6, 11, 12});
    q.types = {EventType::version_restored};
    CHECK(seqs(PLAN_OK(m.events(q))) == Seqs{8});
    q.types = {EventType::session_removed};
    CHECK(PLAN_OK(m.events(q)).empty());
  }
  SECTION("sequence range, inclusive") {
    EventQuery q;
    q.from_sequence = 3;
    q.to_sequence = 5;
    CHECK(seqs(PLAN_OK(m.events(q))) == Seqs{3, 4, 5});
    q.from_sequence = 12;
    q.to_sequence = UINT64_MAX;
    CHECK(seqs(PLAN_OK(m.events(q))) == Seqs{12});
    q.from_sequence = 13;
    CHECK(PLAN_OK(m.events(q)).empty());
    q.from_sequence = 7;
    q.to_sequence = 6;
    CHECK(PLAN_OK(m.events(q)).empty());
    q.from_sequence = 0;
    q.to_sequence = 2;
    CHECK(seqs(PLAN_OK(m.events(q))) == Seqs{1, 2});
  }
  SECTION("time range, inclusive") {
    EventQuery q;
    q.from_time = all[3].timestamp;  // seq 4
    q.to_time = all[6].timestamp;    // seq 7
    CHECK(seqs(PLAN_OK(m.events(q))) == Seqs{4, 5, 6, 7});
    q.from_time = all[3].timestamp + 1ns;
    q.to_time = all[6].timestamp - 1ns;
    CHECK(seqs(PLAN_OK(m.events(q))) == Seqs{5, 6});
    q.from_time = all[11].timestamp + 1ns;
    q.to_time.reset();
    CHECK(PLAN_OK(m.events(q)).empty());
  }
  SECTION("limit") {
    EventQuery q;
    q.limit = 3;
    CHECK(seqs(PLAN_OK(m.events(q))) == Seqs{1, 2, 3});
    q.limit = 0;
    CHECK(PLAN_OK(m.events(q)).empty());
    q.limit = 100;
    CHECK(PLAN_OK(m.events(q)).size() == 12);
  }
  SECTION("combined") {
    EventQuery q;
    q.session_id = h.a;
    q.types = {EventType::session_updated, EventType::session_paused,
               EventType::version_created, EventType::session_archived};
    q.from_sequence = 5;
    q.limit = 2;
    CHECK(seqs(PLAN_OK(m.events(q))) == Seqs{5, 9});
    q.limit.reset();
    q.to_time = all[9].timestamp;
    CHECK(seqs(PLAN_OK(m.events(q))) == Seqs{5, 9});
  }
}

TEST_CASE("scan_events streams matching events and stops when asked", "[time_travel][log]") {
  History h;
  auto& m = *h.m;
  const auto all = PLAN_OK(m.events());

  std::vector<Event> seen;
  auto count = PLAN_OK(m.scan_events({}, [&](const Event& e) {
    seen.push_back(e);
    return true;
  }));
  CHECK(count == 12);
  CHECK(seen == all);

  seen.clear();
  count = PLAN_OK(m.scan_events({}, [&](const Event& e) {
    seen.push_back(e);
    return seen.size() < 3;
  }));
  CHECK(count == 3);
  CHECK(seqs(seen) == Seqs{1, 2, 3});

  seen.clear();
  EventQuery q;
  q.session_id = h.a;
  q.from_sequence = 4;
  count = PLAN_OK(m.scan_events(q, [&](const Event& e) {
    seen.push_back(e);
    return e.type != EventType::version_restored;
  }));
  CHECK(count == 4);
  CHECK(seqs(seen) == Seqs{4, 5, 7, 8});

  seen.clear();
  q = {};
  q.limit = 5;
  count = PLAN_OK(m.scan_events(q, [&](const Event& e) {
    seen.push_back(e);
    return true;
  }));
  CHECK(count == 5);
  CHECK(seqs(seen) == Seqs{1, 2, 3, 4, 5});
}

TEST_CASE("logged events carry the documented envelope", "[time_travel][log]") {
  History h;
  auto& m = *h.m;
  const auto all = PLAN_OK(m.events());
  REQUIRE(all.size() == 12);

  std::map<std::string, std::uint32_t> stream;
  for (std::size_t i = 0; i < all.size(); ++i) {
    const Event& e = all[i];
    INFO("sequence " << e.sequence);
    CHECK(e.sequence == i + 1);
    CHECK(e.stream_version == ++stream[e.session_id]);
    CHECK(e.type == event_type_of(e.payload));
    CHECK(e.schema_version >= 1);
    if (i == 0) {
      CHECK(e.prev_hash == Hash256{});
    } else {
      CHECK(e.prev_hash != Hash256{});
      CHECK(e.prev_hash != all[i - 1].prev_hash);
      CHECK(e.timestamp > all[i - 1].timestamp);
    }
  }

  const auto& created = std::get<SessionCreated>(all[1].payload);
  CHECK(all[1].actor == "alice");
  CHECK(created.title == "a");
  CHECK(created.initial_content == std::optional<std::string>("a1"));
  CHECK(nlohmann::json::parse(created.metadata_json) == nlohmann::json::object());

  const auto& update = std::get<SessionUpdated>(all[3].payload);
  CHECK(update.title == std::optional<std::string>("a renamed"));
  CHECK(update.content == std::optional<std::string>("a2"));
  CHECK(update.changed_fields == std::vector<std::string>{"title", "content"});
  CHECK(update.version_number == 2);

  CHECK(std::get<SessionPaused>(all[4].payload).reason == "lunch");
  CHECK(all[4].actor == "bob");
  const auto& restored = std::get<VersionRestored>(all[7].payload);
  CHECK(restored.restored_from == 1);
  CHECK(restored.version_number == 3);
  CHECK(restored.content == "a1");
  const auto& snap = std::get<VersionCreated>(all[8].payload);
  CHECK(snap.version_number == 4);
  CHECK(snap.change_summary == "snap");
  CHECK(snap.content_seq == 8);  // the restore set the content
  const auto& conv = std::get<SessionConverted>(all[9].payload);
  CHECK(conv.project_id == "p");
  CHECK(conv.work_item_ids == std::vector<std::string>{"w1", "w2"});
  CHECK(all[9].actor == "carol");

  // The timestamps are the sessions' updated_at.
  CHECK(all[11].timestamp == PLAN_OK(m.get(h.a)).updated_at);
  CHECK(all[10].timestamp == PLAN_OK(m.get(h.b)).updated_at);
}

TEST_CASE("events() returns at most 10000 events by default", "[time_travel][log][slow]") {
  TempDir dir;
  Options options = test_options(dir);
  options.durability = Durability::no_sync;
  auto m = open_store(options);
  CreateRequest r;
  r.title = "many";
  const auto id = PLAN_OK(m->create(r)).id;
  for (int i = 0; i < 10'050; ++i) {
    PLAN_OK(m->update(id, UpdateRequest{.content = "c" + std::to_string(i)}));
  }
  CHECK(PLAN_OK(m->events()).size() == 10'000);
  EventQuery q;
  q.limit = 20'000;
  CHECK(PLAN_OK(m->events(q)).size() == 10'051);
  auto count = PLAN_OK(m->scan_events({}, [](const Event&) { return true; }));
  CHECK(count == 10'051);
}

TEST_CASE("a clock stepping backwards never makes log time go backwards", "[time_travel][clock]") {
  TempDir dir;
  SetClock clock(date_utc(2025, 5, 1));
  auto m = open_store(options_with(dir, clock.as_clock()));
  const auto created = PLAN_OK(m->create({.title = "clock"}));
  clock.set(date_utc(2025, 4, 1));  // a month back
  auto paused = PLAN_OK(m->pause(created.id));
  CHECK(paused.updated_at >= created.updated_at);
  REQUIRE(paused.paused_at.has_value());
  clock.set(date_utc(2025, 5, 2));
  auto resumed = PLAN_OK(m->resume(created.id));
  CHECK(resumed.updated_at > paused.updated_at);

  const auto events = PLAN_OK(m->events());
  REQUIRE(events.size() == 3);
  CHECK(events[1].timestamp >= events[0].timestamp);
  CHECK(events[2].timestamp >= events[1].timestamp);
  // Time travel by time agrees with time travel by sequence.
  CHECK(PLAN_OK(m->session_at_time(created.id, events[1].timestamp)).status != Status::active);
  require_verified(*m);
}
