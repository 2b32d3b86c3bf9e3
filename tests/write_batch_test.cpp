// Batch append and group commit: one transaction for many operations, each with
// its own result; a rejected operation never fails the others.
#include <atomic>
#include <thread>

#include <catch2/catch.hpp>

#include "support/raw_lmdb.hpp"
#include "support/temp_store.hpp"

using namespace planning;
using planning::test::ManualClock;
using planning::test::open_store;
using planning::test::TempDir;
using planning::test::test_options;

namespace {

std::string make_session(SessionManager& m, const std::string& title) {
  auto s = m.create({.title = title, .initial_content = "v1\n"});
  REQUIRE(s);
  return s->id;
}

// Throws on any pause whose reason is "boom".
class Bomb final : public Projection {
 public:
  std::string name() const override { return "bomb"; }
  std::uint32_t schema_version() const override { return 1; }
  void apply(const Event& e, ProjectionStore& store) override {
    if (const auto* p = std::get_if<SessionPaused>(&e.payload); p && p->reason == "boom") {
      throw std::runtime_error("boom");
    }
    store.put("last", std::to_string(e.sequence));
  }
};

}  // namespace

TEST_CASE("a batch commits every operation with consecutive sequence numbers", "[batch]") {
  TempDir dir;
  auto m = open_store(test_options(dir));
  const auto a = make_session(*m, "a");
  const auto head = *m->head_sequence();

  WriteBatch batch;
  for (int i = 0; i < 1000; ++i) {
    batch.update(a, {.content = "line " + std::to_string(i) + "\n", .change_summary = "edit"});
  }
  batch.create({.title = "b"}).pause(a, "done for today");
  auto results = m->apply_batch(batch);
  REQUIRE(results);
  REQUIRE(results->size() == 1002);
  for (const auto& r : *results) REQUIRE(r);
  CHECK(results->at(999)->current_version == 1001);
  CHECK(results->back()->status == Status::paused);
  CHECK(*m->head_sequence() == head + 1002);

  auto events = m->events({.from_sequence = head + 1});
  REQUIRE(events);
  REQUIRE(events->size() == 1002);
  for (std::size_t i = 0; i < events->size(); ++i) CHECK((*events)[i].sequence == head + 1 + i);
  CHECK(m->verify()->ok());
}

TEST_CASE("a rejected operation in a batch fails alone", "[batch][failure]") {
  TempDir dir;
  auto m = open_store(test_options(dir));
  const auto a = make_session(*m, "a");
  const auto head = *m->head_sequence();

  WriteBatch batch;
  batch.update(a, {.title = "renamed"})
      .resume(a)                     // active -> active: invalid_transition
      .update(a, {.title = "   "})   // empty title: invalid_argument (validation)
      .pause(a, "later")
      .update(a, {.title = "again"}) // paused: invalid_state (sees the pause before it)
      .archive(a);
  auto results = m->apply_batch(batch);
  REQUIRE(results);
  REQUIRE(results->size() == 6);
  CHECK((*results)[0]);
  CHECK((*results)[1].error().code == ErrorCode::invalid_transition);
  CHECK((*results)[2].error().code == ErrorCode::invalid_argument);
  CHECK((*results)[3]);
  CHECK((*results)[4].error().code == ErrorCode::invalid_state);
  CHECK((*results)[5]);
  CHECK(*m->head_sequence() == head + 3);
  auto s = m->get(a);
  CHECK(s->title == "renamed");
  CHECK(s->status == Status::archived);
  CHECK(m->verify()->ok());
}

TEST_CASE("a projection that throws fails only its own operation in a batch", "[batch][failure]") {
  TempDir dir;
  auto options = test_options(dir);
  options.projections = {std::make_shared<Bomb>()};
  auto m = open_store(options);
  const auto a = make_session(*m, "a");
  const auto b = make_session(*m, "b");

  WriteBatch batch;
  batch.pause(a, "boom").pause(b, "fine");
  auto results = m->apply_batch(batch);
  REQUIRE(results);
  CHECK((*results)[0].error().code == ErrorCode::storage);
  CHECK((*results)[1]);
  CHECK(m->get(a)->status == Status::active);
  CHECK(m->get(b)->status == Status::paused);
  CHECK(*m->projection_value("bomb", "last") == std::to_string(*m->head_sequence()));
  CHECK(m->verify()->ok());
}

TEST_CASE("an operation made invalid by an earlier one in its batch fails alone",
          "[batch][failure]") {
  TempDir dir;
  auto m = open_store(test_options(dir));
  const auto a = make_session(*m, "a");
  const auto head = *m->head_sequence();
  const auto at = m->get(a)->stream_version;

  WriteBatch batch;
  batch.update(a, {.content = "x\n", .expected_stream_version = at})
      .update(a, {.content = "y\n", .expected_stream_version = at})  // conflict after the first
      .archive(a)
      .update(a, {.title = "late"})  // archived by the op before it
      .archive(a);                   // archived -> archived
  auto results = m->apply_batch(batch);
  REQUIRE(results);
  REQUIRE(results->size() == 5);
  CHECK((*results)[0]);
  CHECK((*results)[1].error().code == ErrorCode::conflict);
  CHECK((*results)[2]);
  CHECK_FALSE((*results)[3]);
  CHECK_FALSE((*results)[4]);
  CHECK(*m->head_sequence() == head + 2);
  auto s = m->get(a);
  CHECK(s->content == "x\n");
  CHECK(s->status == Status::archived);
  CHECK(m->verify()->ok());
}

TEST_CASE("a damaged record met mid-write fails only its own operation in a batch",
          "[batch][failure]") {
  // Without user projections operations are not run in nested transactions; a
  // failure after an operation began writing must still leave nothing of it.
  TempDir dir;
  const auto options = test_options(dir);
  std::string a, b;
  std::uint64_t head = 0;
  {
    auto m = open_store(options);
    a = make_session(*m, "a");
    b = make_session(*m, "b");
    head = *m->head_sequence();
  }
  // The statistics projection runs after the log append and two projections.
  REQUIRE(planning::test::raw::put(options.path, "statistics", "s:" + b, "garbage").empty());
  auto m = open_store(options);
  WriteBatch batch;
  batch.update(a, {.title = "a1"}).update(b, {.title = "b1"}).update(a, {.title = "a2"});
  auto results = m->apply_batch(batch);
  REQUIRE(results);
  REQUIRE(results->size() == 3);
  CHECK((*results)[0]);
  CHECK_FALSE((*results)[1]);
  CHECK((*results)[2]);
  CHECK(*m->head_sequence() == head + 2);
  CHECK(m->get(a)->title == "a2");
  CHECK(m->get(b)->title == "b");
  auto events = m->events({.from_sequence = head + 1});
  REQUIRE(events);
  REQUIRE(events->size() == 2);
  for (const auto& e : *events) CHECK(e.session_id == a);
  auto stream = m->events({.session_id = b});
  REQUIRE(stream);
  CHECK(stream->size() == 1);
}

TEST_CASE("signals fire once per committed batch operation, in log order", "[batch][signals]") {
  TempDir dir;
  auto m = open_store(test_options(dir));
  const auto a = make_session(*m, "a");
  std::vector<std::uint64_t> seen;
  m->signals().any.connect([&](const Event& e) { seen.push_back(e.sequence); });
  WriteBatch batch;
  batch.update(a, {.content = "x"}).resume(a).update(a, {.content = "y"});
  REQUIRE(m->apply_batch(batch));
  const auto head = *m->head_sequence();
  CHECK(seen == std::vector<std::uint64_t>{head - 1, head});
}

TEST_CASE("concurrent writers are group-committed without losing or mixing results",
          "[group-commit]") {
  TempDir dir;
  ManualClock clock;
  auto m = open_store(test_options(dir, &clock));
  constexpr int kThreads = 8;
  constexpr int kUpdates = 40;
  std::vector<std::string> ids;
  for (int t = 0; t < kThreads; ++t) ids.push_back(make_session(*m, "s" + std::to_string(t)));

  std::mutex seen_mutex;
  std::vector<std::uint64_t> seen;
  m->signals().any.connect([&](const Event& e) {
    std::lock_guard lock(seen_mutex);
    seen.push_back(e.sequence);
  });

  std::atomic<int> failures{0};
  std::atomic<int> expected_errors{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kUpdates; ++i) {
        auto r = m->update(ids[t], {.content = "t" + std::to_string(t) + " v" + std::to_string(i)});
        if (!r || r->id != ids[t] || r->current_version != static_cast<std::uint32_t>(i + 2)) {
          ++failures;
        }
        // An invalid operation in the same groups must not disturb the others.
        if (i % 10 == 0 && !m->resume(ids[t])) ++expected_errors;
      }
    });
  }
  for (auto& th : threads) th.join();
  CHECK(failures == 0);
  CHECK(expected_errors == kThreads * (kUpdates / 10));
  for (int t = 0; t < kThreads; ++t) {
    auto s = m->get(ids[t]);
    CHECK(s->current_version == kUpdates + 1);
    CHECK(s->content == "t" + std::to_string(t) + " v" + std::to_string(kUpdates - 1));
  }
  REQUIRE(seen.size() == static_cast<std::size_t>(kThreads * kUpdates));
  CHECK(std::is_sorted(seen.begin(), seen.end()));
  CHECK(std::adjacent_find(seen.begin(), seen.end()) == seen.end());
  CHECK(m->verify()->ok());
}
