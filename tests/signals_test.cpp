// Signals (planning/signals.hpp): fire after commit, in log order, only
// for committed events; throwing slots are isolated; slots may call back in.
#include <planning/planning.hpp>

#include <atomic>
#include <mutex>
#include <thread>

#include <catch2/catch.hpp>

#include "support/temp_store.hpp"
#include "support/test_helpers.hpp"

using namespace planning;
using namespace planning::test;

namespace {

struct Recorder {
  std::vector<Event> events;
  void operator()(const Event& e) { events.push_back(e); }
  std::vector<std::uint64_t> sequences() const {
    std::vector<std::uint64_t> out;
    for (const auto& e : events) out.push_back(e.sequence);
    return out;
  }
  std::vector<EventType> types() const {
    std::vector<EventType> out;
    for (const auto& e : events) out.push_back(e.type);
    return out;
  }
};

std::vector<Event> log_events(const SessionManager& m) { return PLAN_OK(m.events()); }

}  // namespace

TEST_CASE("the catch-all signal delivers every committed event in log order", "[signals]") {
  TempDir dir;
  ManualClock clock;
  auto manager = open_store(test_options(dir, &clock));
  Recorder any;
  manager->signals().any.connect(std::ref(any));

  CreateRequest r;
  r.title = "signals";
  r.initial_content = "one";
  const auto id = PLAN_OK(manager->create(r)).id;
  CHECK(any.events.size() == 1);  // delivered before create() returned
  PLAN_OK(manager->update(id, UpdateRequest{.content = "two"}));
  PLAN_OK(manager->pause(id, "why"));
  PLAN_OK(manager->resume(id));
  PLAN_OK(manager->create_version(id, "snap"));
  PLAN_OK(manager->restore_version(id, 1));
  ConvertRequest c;
  c.project_id = "p";
  PLAN_OK(manager->mark_converted(id, c));
  PLAN_OK(manager->archive(id));
  PLAN_OK(manager->remove(id));

  CHECK(any.types() ==
        std::vector<EventType>{EventType::session_created, EventType::session_updated,
                               EventType::session_paused, EventType::session_resumed,
                               EventType::version_created, EventType::version_restored,
                               EventType::session_converted, EventType::session_archived,
                               EventType::session_removed});
  CHECK(any.sequences() == std::vector<std::uint64_t>{1, 2, 3, 4, 5, 6, 7, 8, 9});
  // The delivered events are the logged events.
  CHECK(any.events == log_events(*manager));
}

TEST_CASE("per-kind signals fire for their kinds only", "[signals]") {
  TempDir dir;
  ManualClock clock;
  auto manager = open_store(test_options(dir, &clock));
  auto& sig = manager->signals();
  Recorder any, created, updated, version_created, status_changed, converted, archived, removed;
  sig.any.connect(std::ref(any));
  sig.created.connect(std::ref(created));
  sig.updated.connect(std::ref(updated));
  sig.version_created.connect(std::ref(version_created));
  sig.status_changed.connect(std::ref(status_changed));
  sig.converted.connect(std::ref(converted));
  sig.archived.connect(std::ref(archived));
  sig.removed.connect(std::ref(removed));

  CreateRequest with;
  with.title = "with content";
  with.initial_content = "x";
  const auto a = PLAN_OK(manager->create(with)).id;               // 1 created, version
  const auto b = PLAN_OK(manager->create({.title = "empty"})).id;  // 2 created
  PLAN_OK(manager->update(a, UpdateRequest{.title = "renamed"}));  // 3 updated
  PLAN_OK(manager->update(a, UpdateRequest{.content = "y"}));      // 4 updated, version
  PLAN_OK(manager->pause(b));                                      // 5 status
  PLAN_OK(manager->resume(b));                                     // 6 status
  PLAN_OK(manager->create_version(a));                             // 7 version
  PLAN_OK(manager->restore_version(a, 1));                         // 8 version
  ConvertRequest c;
  c.project_id = "p";
  PLAN_OK(manager->mark_converted(a, c));  // 9 status, converted
  PLAN_OK(manager->archive(a));            // 10 status, archived
  PLAN_OK(manager->archive(b));            // 11 status, archived
  PLAN_OK(manager->remove(b));             // 12 removed

  using V = std::vector<std::uint64_t>;
  CHECK(any.sequences() == V{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12});
  CHECK(created.sequences() == V{1, 2});
  CHECK(updated.sequences() == V{3, 4});
  CHECK(version_created.sequences() == V{1, 4, 7, 8});
  CHECK(status_changed.sequences() == V{5, 6, 9, 10, 11});
  CHECK(converted.sequences() == V{9});
  CHECK(archived.sequences() == V{10, 11});
  CHECK(removed.sequences() == V{12});
}

TEST_CASE("signals fire after the commit, before the call returns", "[signals]") {
  TempDir dir;
  ManualClock clock;
  auto manager = open_store(test_options(dir, &clock));
  std::vector<std::string> problems;
  int calls = 0;
  const auto caller = std::this_thread::get_id();
  manager->signals().any.connect([&](const Event& e) {
    ++calls;
    if (std::this_thread::get_id() != caller) problems.push_back("delivered on another thread");
    auto head = manager->head_sequence();
    if (!head || *head < e.sequence) problems.push_back("event not committed yet");
    auto s = manager->get(e.session_id);
    if (e.type == EventType::session_removed) {
      if (s) problems.push_back("removed session still visible");
    } else if (!s) {
      problems.push_back("session not visible in its own signal");
    } else if (s->stream_version < e.stream_version) {
      problems.push_back("projection behind the signalled event");
    }
  });
  const auto id = PLAN_OK(manager->create({.title = "visible"})).id;
  CHECK(calls == 1);
  PLAN_OK(manager->pause(id));
  CHECK(calls == 2);
  PLAN_OK(manager->remove(id));
  CHECK(calls == 3);
  CHECK(problems.empty());
}

TEST_CASE("rejected and no-op operations emit nothing", "[signals]") {
  TempDir dir;
  ManualClock clock;
  auto manager = open_store(test_options(dir, &clock));
  CreateRequest r;
  r.title = "t";
  r.initial_content = "c";
  const auto id = PLAN_OK(manager->create(r)).id;
  PLAN_OK(manager->pause(id));

  Recorder any, status;
  manager->signals().any.connect(std::ref(any));
  manager->signals().status_changed.connect(std::ref(status));

  CHECK_FALSE(manager->pause(id).has_value());                                   // transition
  CHECK_FALSE(manager->update(id, UpdateRequest{.content = "x"}).has_value());   // state
  CHECK_FALSE(manager->create({.title = "   "}).has_value());                    // argument
  CHECK_FALSE(manager->resume("0190a000-0000-7000-8000-000000000000").has_value());  // unknown
  CHECK_FALSE(manager->restore_version(id, 9).has_value());
  PLAN_OK(manager->resume(id));
  PLAN_OK(manager->update(id, UpdateRequest{.content = "c"}));  // identical: no event
  UpdateRequest stale;
  stale.title = "x";
  stale.expected_stream_version = 1;
  CHECK_FALSE(manager->update(id, stale).has_value());  // conflict

  REQUIRE(any.events.size() == 1);
  CHECK(any.events[0].type == EventType::session_resumed);
  CHECK(status.events.size() == 1);
}

TEST_CASE("a throwing slot is isolated", "[signals]") {
  TempDir dir;
  ManualClock clock;
  LogCapture log;
  Options options = test_options(dir, &clock);
  options.logger = log.as_logger();
  auto manager = open_store(options);

  Recorder before, after;
  manager->signals().any.connect(std::ref(before));
  manager->signals().any.connect([](const Event&) { throw std::runtime_error("slot boom"); });
  // A std::exception alone, then also a non-standard exception.
  if (GENERATE(false, true)) {
    manager->signals().any.connect([](const Event&) { throw 42; });
  }
  manager->signals().any.connect(std::ref(after));

  auto s = manager->create({.title = "survives"});
  REQUIRE(s.has_value());  // the operation itself succeeded
  CHECK(before.events.size() == 1);
  CHECK(after.events.size() == 1);

  const auto errors = log.at_level(LogLevel::error);
  REQUIRE_FALSE(errors.empty());
  bool mentions = false;
  for (const auto& e : errors) mentions = mentions || e.find("slot boom") != std::string::npos;
  CHECK(mentions);

  // The engine is still usable and nothing was lost.
  PLAN_OK(manager->pause(s->id));
  CHECK(before.events.size() == 2);
  CHECK(after.events.size() == 2);
  CHECK(PLAN_OK(manager->get(s->id)).status == Status::paused);
  CHECK(head_of(*manager) == 2);
  require_verified(*manager);
}

TEST_CASE("a slot may call get and mutating methods without deadlock", "[signals]") {
  TempDir dir;
  ManualClock clock;
  auto manager = open_store(test_options(dir, &clock));
  Recorder any;
  std::vector<std::string> problems;
  bool reacted = false;
  manager->signals().any.connect(std::ref(any));
  manager->signals().created.connect([&](const Event& e) {
    if (!manager->get(e.session_id)) problems.push_back("get failed in slot");
    if (!manager->list()) problems.push_back("list failed in slot");
    if (reacted) return;
    reacted = true;
    // A mutating call from inside a slot.
    auto paused = manager->pause(e.session_id, "paused by a slot");
    if (!paused) problems.push_back("pause failed in slot: " + paused.error().message);
    CreateRequest r;
    r.title = "made by a slot";
    if (!manager->create(r)) problems.push_back("create failed in slot");
  });

  const auto s = PLAN_OK(manager->create({.title = "first"}));
  CHECK(problems.empty());
  CHECK(PLAN_OK(manager->get(s.id)).status == Status::paused);
  CHECK(head_of(*manager) == 3);
  // Nested events are delivered after the current round, still in log order.
  CHECK(any.sequences() == std::vector<std::uint64_t>{1, 2, 3});
  CHECK(any.types() == std::vector<EventType>{EventType::session_created,
                                              EventType::session_paused,
                                              EventType::session_created});
  CHECK(PLAN_OK(manager->list()).size() == 2);
}

TEST_CASE("a disconnected slot is no longer called", "[signals]") {
  TempDir dir;
  auto manager = open_store(test_options(dir));
  Recorder r;
  auto conn = manager->signals().any.connect(std::ref(r));
  const auto id = PLAN_OK(manager->create({.title = "x"})).id;
  conn.disconnect();
  PLAN_OK(manager->pause(id));
  CHECK(r.events.size() == 1);
}

TEST_CASE("events from several threads are delivered in log order", "[signals][threads]") {
  TempDir dir;
  auto manager = open_store(test_options(dir));
  std::mutex mu;
  std::vector<std::uint64_t> seen;
  manager->signals().any.connect([&](const Event& e) {
    std::lock_guard lock(mu);
    seen.push_back(e.sequence);
  });
  std::vector<std::thread> threads;
  std::atomic<int> failures{0};
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 25; ++i) {
        CreateRequest r;
        r.title = "t" + std::to_string(t) + "-" + std::to_string(i);
        if (!manager->create(r)) ++failures;
      }
    });
  }
  for (auto& th : threads) th.join();
  CHECK(failures == 0);
  std::vector<std::uint64_t> expected(100);
  for (std::size_t i = 0; i < expected.size(); ++i) expected[i] = i + 1;
  CHECK(seen == expected);
}

TEST_CASE("a slot may run verify and rebuild_projections", "[signals]") {
  TempDir dir;
  ManualClock clock;
  auto manager = open_store(test_options(dir, &clock));
  PLAN_OK(manager->create({.title = "before"}));
  std::vector<std::string> problems;
  bool done = false;
  manager->signals().status_changed.connect([&](const Event&) {
    if (done) return;
    done = true;
    auto report = manager->verify();
    if (!report || !report->ok()) problems.push_back("verify in slot");
    if (!manager->rebuild_projections()) problems.push_back("rebuild in slot");
  });
  const auto id = PLAN_OK(manager->create({.title = "x"})).id;
  const auto before = capture_state(*manager);
  PLAN_OK(manager->pause(id));
  CHECK(done);
  CHECK(problems.empty());
  CHECK(PLAN_OK(manager->get(id)).status == Status::paused);
  CHECK(head_of(*manager) == before.head + 1);
  require_verified(*manager);
}

TEST_CASE("a slot may disconnect itself while being called", "[signals]") {
  TempDir dir;
  auto manager = open_store(test_options(dir));
  int calls = 0;
  boost::signals2::connection self;
  self = manager->signals().any.connect([&](const Event&) {
    ++calls;
    self.disconnect();
  });
  Recorder later;
  manager->signals().any.connect(std::ref(later));
  PLAN_OK(manager->create({.title = "a"}));
  PLAN_OK(manager->create({.title = "b"}));
  CHECK(calls == 1);
  CHECK(later.events.size() == 2);
}

TEST_CASE("a throwing logger does not break the engine", "[signals]") {
  TempDir dir;
  Options options = test_options(dir);
  options.logger = [](LogLevel, std::string_view) { throw std::runtime_error("logger down"); };
  auto manager = open_store(options);
  manager->signals().any.connect([](const Event&) { throw std::runtime_error("slot down"); });
  const auto s = PLAN_OK(manager->create({.title = "still works"}));
  PLAN_OK(manager->pause(s.id));
  CHECK(PLAN_OK(manager->get(s.id)).status == Status::paused);
  require_verified(*manager);
}
