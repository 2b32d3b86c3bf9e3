// The status state machine of docs/BEHAVIOUR.md: every from-status
// crossed with every operation, including same-state transitions. A rejected
// operation appends nothing and changes nothing.
#include <planning/planning.hpp>

#include <atomic>
#include <thread>

#include <catch2/catch.hpp>

#include "support/temp_store.hpp"
#include "support/test_helpers.hpp"

using namespace planning;
using namespace planning::test;

namespace {

enum class Op {
  pause,
  resume,
  archive,
  mark_converted,
  update,
  restore_version,
  create_version,
  remove,
};

const char* op_name(Op op) {
  switch (op) {
    case Op::pause: return "pause";
    case Op::resume: return "resume";
    case Op::archive: return "archive";
    case Op::mark_converted: return "mark_converted";
    case Op::update: return "update";
    case Op::restore_version: return "restore_version";
    case Op::create_version: return "create_version";
    case Op::remove: return "remove";
  }
  return "?";
}

// A session driven into `status`, with two versions so restore has a target.
std::string session_in(SessionManager& m, Status status) {
  CreateRequest r;
  r.title = "state machine";
  r.initial_content = "first";
  auto id = PLAN_OK(m.create(r)).id;
  UpdateRequest u;
  u.content = "second";
  PLAN_OK(m.update(id, u));
  switch (status) {
    case Status::active: break;
    case Status::paused: PLAN_OK(m.pause(id, "hold")); break;
    case Status::converted: {
      ConvertRequest c;
      c.project_id = "p-1";
      c.work_item_ids = {"wi-1"};
      PLAN_OK(m.mark_converted(id, c));
      break;
    }
    case Status::archived: PLAN_OK(m.archive(id)); break;
  }
  REQUIRE(PLAN_OK(m.get(id)).status == status);
  return id;
}

// Runs `op` and returns the session id's result as a Result<Session>-like pair:
// the error, if any, and the status afterwards when it succeeded.
Result<Session> run(SessionManager& m, const std::string& id, Op op) {
  switch (op) {
    case Op::pause: return m.pause(id, "again", "tester");
    case Op::resume: return m.resume(id, "tester");
    case Op::archive: return m.archive(id, "tester");
    case Op::mark_converted: {
      ConvertRequest c;
      c.project_id = "p-2";
      c.work_item_ids = {"wi-2", "wi-3"};
      c.converted_by = "tester";
      return m.mark_converted(id, c);
    }
    case Op::update: {
      UpdateRequest u;
      u.content = "third";
      u.title = "renamed";
      u.updated_by = "tester";
      return m.update(id, u);
    }
    case Op::restore_version: return m.restore_version(id, 1, "tester");
    case Op::create_version: {
      auto v = m.create_version(id, "snapshot", "tester");
      if (!v) return std::unexpected(v.error());
      return m.get(id);
    }
    case Op::remove: return m.remove(id, "tester");
  }
  return fail(ErrorCode::invalid_argument, "unknown op");
}

struct Expectation {
  bool ok;
  ErrorCode code;  // when !ok
  Status target;   // status named by a transition (for messages) or reached
};

// The contract: the BEHAVIOUR.md table.
Expectation expected(Status from, Op op) {
  switch (op) {
    case Op::pause:
      return {from == Status::active, ErrorCode::invalid_transition, Status::paused};
    case Op::resume:
      return {from == Status::paused, ErrorCode::invalid_transition, Status::active};
    case Op::archive:
      return {from != Status::archived, ErrorCode::invalid_transition, Status::archived};
    case Op::mark_converted:
      return {from == Status::active, ErrorCode::invalid_state, Status::converted};
    case Op::update:
    case Op::restore_version:
    case Op::create_version:
      return {from == Status::active, ErrorCode::invalid_state, Status::active};
    case Op::remove: return {true, ErrorCode::invalid_argument, from};
  }
  return {false, ErrorCode::invalid_argument, from};
}

}  // namespace

TEST_CASE("transition_allowed encodes the state machine", "[state]") {
  using S = Status;
  const S all[] = {S::active, S::paused, S::converted, S::archived};
  const std::set<std::pair<S, S>> allowed = {
      {S::active, S::paused},   {S::active, S::converted}, {S::active, S::archived},
      {S::paused, S::active},   {S::paused, S::archived},  {S::converted, S::archived},
  };
  for (S from : all) {
    for (S to : all) {
      INFO(to_string(from) << " -> " << to_string(to));
      CHECK(transition_allowed(from, to) == (allowed.count({from, to}) == 1));
    }
  }
}

TEST_CASE("every operation from every status follows the state machine", "[state]") {
  const Status from = GENERATE(Status::active, Status::paused, Status::converted,
                               Status::archived);
  const Op op = GENERATE(Op::pause, Op::resume, Op::archive, Op::mark_converted, Op::update,
                         Op::restore_version, Op::create_version, Op::remove);
  INFO("from " << to_string(from) << ", operation " << op_name(op));

  TempDir dir;
  ManualClock clock;
  auto manager = open_store(test_options(dir, &clock));
  // A bystander session must never be affected.
  CreateRequest other;
  other.title = "bystander";
  const auto bystander = PLAN_OK(manager->create(other));
  const std::string id = session_in(*manager, from);

  const Session before = PLAN_OK(manager->get(id));
  const StoreState state_before = capture_state(*manager);
  const std::uint64_t head_before = head_of(*manager);
  const Expectation want = expected(from, op);

  auto result = run(*manager, id, op);

  if (!want.ok) {
    REQUIRE_FALSE(result.has_value());
    INFO("message: " << result.error().message);
    CHECK(result.error().code == want.code);
    if (want.code == ErrorCode::invalid_transition) {
      const std::string& msg = result.error().message;
      if (from == want.target) {
        CHECK(count_occurrences(msg, to_string(from)) >= 2);
      } else {
        CHECK_THAT(msg, Catch::Contains(std::string(to_string(from))));
        CHECK_THAT(msg, Catch::Contains(std::string(to_string(want.target))));
      }
    }
    CHECK(head_of(*manager) == head_before);
    CHECK(PLAN_OK(manager->get(id)) == before);
    CHECK_SAME_STATE(state_before, capture_state(*manager));
  } else {
    if (!result) FAIL("unexpected error: " << to_string(result.error().code) << ": "
                                          << result.error().message);
    CHECK(head_of(*manager) == head_before + 1);
    if (op == Op::remove) {
      // Returns the session's last state.
      CHECK(result->id == before.id);
      CHECK(result->title == before.title);
      CHECK(result->status == before.status);
      CHECK(result->content == before.content);
      REQUIRE_ERROR_CODE(ErrorCode::not_found, manager->get(id));
    } else {
      const Session after = PLAN_OK(manager->get(id));
      CHECK(after == *result);
      CHECK(after.status == want.target);
      CHECK(after.stream_version == before.stream_version + 1);
      CHECK(after.updated_by == "tester");
      CHECK(after.updated_at > before.updated_at);
    }
  }
  CHECK(PLAN_OK(manager->get(bystander.id)) == bystander);
}

TEST_CASE("a paused session can be resumed and paused again many times", "[state]") {
  TempDir dir;
  ManualClock clock;
  auto manager = open_store(test_options(dir, &clock));
  CreateRequest r;
  r.title = "ping-pong";
  const auto id = PLAN_OK(manager->create(r)).id;
  for (int i = 0; i < 5; ++i) {
    auto p = PLAN_OK(manager->pause(id, "reason " + std::to_string(i)));
    CHECK(p.status == Status::paused);
    CHECK(p.pause_reason == "reason " + std::to_string(i));
    auto a = PLAN_OK(manager->resume(id));
    CHECK(a.status == Status::active);
    CHECK(a.pause_reason.empty());
    CHECK_FALSE(a.paused_at.has_value());
  }
  CHECK(PLAN_OK(manager->get(id)).stream_version == 11);
}

TEST_CASE("archived is terminal and converted is read-only", "[state]") {
  TempDir dir;
  ManualClock clock;
  auto manager = open_store(test_options(dir, &clock));

  SECTION("converted accepts only archive") {
    const auto id = session_in(*manager, Status::converted);
    const auto head = head_of(*manager);
    REQUIRE_ERROR_CODE(ErrorCode::invalid_state, run(*manager, id, Op::update));
    REQUIRE_ERROR_CODE(ErrorCode::invalid_state, run(*manager, id, Op::restore_version));
    REQUIRE_ERROR_CODE(ErrorCode::invalid_state, run(*manager, id, Op::create_version));
    REQUIRE_ERROR_CODE(ErrorCode::invalid_transition, run(*manager, id, Op::pause));
    REQUIRE_ERROR_CODE(ErrorCode::invalid_transition, run(*manager, id, Op::resume));
    CHECK(head_of(*manager) == head);
    CHECK(PLAN_OK(manager->archive(id)).status == Status::archived);
  }
  SECTION("archived accepts nothing but remove") {
    const auto id = session_in(*manager, Status::archived);
    const auto head = head_of(*manager);
    for (Op op : {Op::pause, Op::resume, Op::archive, Op::mark_converted, Op::update,
                  Op::restore_version, Op::create_version}) {
      INFO(op_name(op));
      CHECK_FALSE(run(*manager, id, op).has_value());
    }
    CHECK(head_of(*manager) == head);
  }
  SECTION("paused goes straight to archived") {
    const auto id = session_in(*manager, Status::paused);
    auto archived = PLAN_OK(manager->archive(id, "closer"));
    CHECK(archived.status == Status::archived);
    CHECK(archived.archived_at.has_value());
    CHECK(archived.updated_by == "closer");
  }
}

TEST_CASE("the transition error message names both states", "[state]") {
  TempDir dir;
  ManualClock clock;
  auto manager = open_store(test_options(dir, &clock));
  const auto id = session_in(*manager, Status::paused);
  auto err = PLAN_ERR(manager->pause(id, "twice"));
  CHECK(err.code == ErrorCode::invalid_transition);
  CHECK(count_occurrences(err.message, "paused") >= 2);
  CHECK(err.message.find('\n') == std::string::npos);  // one line

  const auto archived = session_in(*manager, Status::archived);
  err = PLAN_ERR(manager->resume(archived));
  CHECK(err.code == ErrorCode::invalid_transition);
  CHECK_THAT(err.message, Catch::Contains("archived") && Catch::Contains("active"));
}

TEST_CASE("a removed session rejects every operation with not_found", "[state]") {
  TempDir dir;
  ManualClock clock;
  auto manager = open_store(test_options(dir, &clock));
  const auto id = session_in(*manager, Status::active);
  PLAN_OK(manager->remove(id));
  const auto head = head_of(*manager);
  for (Op op : {Op::pause, Op::resume, Op::archive, Op::mark_converted, Op::update,
                Op::restore_version, Op::create_version, Op::remove}) {
    INFO(op_name(op));
    auto r = run(*manager, id, op);
    REQUIRE_FALSE(r.has_value());
    CHECK(r.error().code == ErrorCode::not_found);
  }
  CHECK(head_of(*manager) == head);
}

TEST_CASE("concurrent status changes of one session: exactly one wins", "[state][threads]") {
  TempDir dir;
  auto manager = open_store(test_options(dir));
  const auto id = PLAN_OK(manager->create({.title = "contended"})).id;
  constexpr int kThreads = 6;
  for (int round = 0; round < 10; ++round) {
    const bool pausing = round % 2 == 0;
    const auto head = head_of(*manager);
    std::atomic<int> ok{0}, rejected{0}, other{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t) {
      threads.emplace_back([&] {
        auto r = pausing ? manager->pause(id, "race") : manager->resume(id);
        if (r) {
          ++ok;
        } else if (r.error().code == ErrorCode::invalid_transition) {
          ++rejected;
        } else {
          ++other;
        }
      });
    }
    for (auto& th : threads) th.join();
    INFO("round " << round);
    CHECK(ok == 1);
    CHECK(rejected == kThreads - 1);
    CHECK(other == 0);
    CHECK(head_of(*manager) == head + 1);
    CHECK(PLAN_OK(manager->get(id)).status == (pausing ? Status::paused : Status::active));
  }
  require_verified(*manager);
}
