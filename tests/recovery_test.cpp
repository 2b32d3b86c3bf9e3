// Recovery: lost projection data is rebuilt on open, late and re-versioned user
// projections catch up, a writer killed with SIGKILL loses no acknowledged
// operation, rebuild_projections is exact, and per-session restore from history.
#include <planning/planning.hpp>

#include <fcntl.h>
#include <signal.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <map>
#include <fstream>
#include <set>
#include <sstream>
#include <thread>

#include <catch2/catch.hpp>

#include "events/src/lmdb_env.hpp"
#include "support/raw_lmdb.hpp"
#include "support/temp_store.hpp"
#include "support/test_helpers.hpp"

using namespace planning;
using namespace planning::test;
using namespace std::chrono_literals;

namespace {

// --- A user projection counting events ------------------------------------------

// Counts events per type under "<prefix>count:<type>", their total under
// "<prefix>total", and records "<prefix>gap" if a sequence is ever skipped or
// repeated (apply must see every event once, in order).
class EventCounter : public Projection {
 public:
  EventCounter(std::uint32_t version = 1, std::string prefix = {})
      : version_(version), prefix_(std::move(prefix)) {}
  std::string name() const override { return "counter"; }
  std::uint32_t schema_version() const override { return version_; }
  void apply(const Event& event, ProjectionStore& store) override {
    const auto last = store.get(prefix_ + "last_seq");
    const std::uint64_t last_seq = last ? std::stoull(*last) : 0;
    if (event.sequence != last_seq + 1) store.put(prefix_ + "gap", std::to_string(event.sequence));
    store.put(prefix_ + "last_seq", std::to_string(event.sequence));
    bump(store, prefix_ + "count:" + std::string(to_string(event.type)));
    bump(store, prefix_ + "total");
  }

 private:
  static void bump(ProjectionStore& store, const std::string& key) {
    const auto v = store.get(key);
    store.put(key, std::to_string((v ? std::stoull(*v) : 0) + 1));
  }
  std::uint32_t version_;
  std::string prefix_;
};

std::optional<std::string> value_of(const SessionManager& m, std::string_view key,
                                    std::string_view projection = "counter") {
  return PLAN_OK(m.projection_value(projection, key));
}

std::uint64_t count_of(const SessionManager& m, std::string_view key) {
  auto v = value_of(m, key);
  return v ? std::stoull(*v) : 0;
}

std::optional<ProjectionInfo> projection_info(const SessionManager& m, std::string_view name) {
  for (const auto& p : PLAN_OK(m.projections())) {
    if (p.name == name) return p;
  }
  return std::nullopt;
}

// A store touching every index: statuses, repositories, urls, projects,
// creators, versions of all kinds, a removed session.
void populate(SessionManager& m, ManualClock& clock, int sessions = 12) {
  std::vector<std::string> ids;
  for (int i = 0; i < sessions; ++i) {
    clock.advance(1h);
    CreateRequest r;
    r.title = "Session " + std::to_string(i) + (i % 2 ? " alpha" : " beta");
    r.description = "d" + std::to_string(i);
    r.repository_path = "/repo/" + std::to_string(i % 3);
    r.repository_url = "https://git/" + std::to_string(i % 4);
    r.working_directory = "/wd";
    r.created_by = "user" + std::to_string(i % 2);
    r.metadata = {{"i", i}};
    if (i % 5 != 0) r.initial_content = "# doc " + std::to_string(i) + "\nline";
    ids.push_back(PLAN_OK(m.create(r)).id);
  }
  for (int i = 0; i < sessions; ++i) {
    clock.advance(1min);
    const auto& id = ids[static_cast<std::size_t>(i)];
    UpdateRequest u;
    u.content = "# doc " + std::to_string(i) + "\nline\nmore";
    u.change_summary = "more";
    PLAN_OK(m.update(id, u));
    if (i % 4 == 1) PLAN_OK(m.restore_version(id, 1));
    if (i % 4 == 2) PLAN_OK(m.create_version(id, "snap"));
    switch (i % 6) {
      case 1: PLAN_OK(m.pause(id, "wait")); break;
      case 2: {
        ConvertRequest c;
        c.project_id = "proj-" + std::to_string(i % 2);
        c.work_item_ids = {"w" + std::to_string(i)};
        PLAN_OK(m.mark_converted(id, c));
        break;
      }
      case 3: PLAN_OK(m.archive(id)); break;
      case 4: PLAN_OK(m.remove(id)); break;
      case 5:
        PLAN_OK(m.pause(id));
        PLAN_OK(m.resume(id));
        break;
      default: break;
    }
  }
}

// Reads "<id> <stream_version>" lines from a pipe.
struct Ack {
  std::string id;
  std::uint32_t stream_version;
};

}  // namespace

TEST_CASE("a closed and reopened store shows the same state", "[recovery]") {
  TempDir dir;
  ManualClock clock;
  Options options = test_options(dir, &clock);
  auto manager = open_store(options);
  populate(*manager, clock);
  const StoreState before = capture_state(*manager);
  manager.reset();
  manager = open_store(options);
  CHECK_SAME_STATE(before, capture_state(*manager));
  require_verified(*manager);
}

TEST_CASE("a projection whose data was lost is rebuilt on open", "[recovery][lost]") {
  const std::string name =
      GENERATE(as<std::string>{}, "sessions", "versions", "statistics", "idx_status",
               "idx_created", "idx_updated", "idx_repo_path", "idx_repo_url", "idx_project",
               "idx_fields", "streams", "checkpoints", "user:counter");
  INFO("dropped database: " << name);

  TempDir dir;
  ManualClock clock;
  Options options = test_options(dir, &clock);
  options.projections = {std::make_shared<EventCounter>()};
  auto manager = open_store(options);
  populate(*manager, clock);
  const StoreState before = capture_state(*manager);
  const auto counter_total = count_of(*manager, "total");
  REQUIRE(counter_total == before.head);
  manager.reset();

  {
    const auto names = raw::named_databases(options.path);
    INFO("named databases: " << Catch::Detail::stringify(names));
    const std::string err = raw::drop_database(options.path, name, /*delete_db=*/true);
    REQUIRE(err.empty());
    const auto after_drop = raw::named_databases(options.path);
    REQUIRE(std::find(after_drop.begin(), after_drop.end(), name) == after_drop.end());
  }

  manager = open_store(options);
  CHECK_SAME_STATE(before, capture_state(*manager));
  // Caught up exactly once: no double counting, no gap.
  CHECK(count_of(*manager, "total") == counter_total);
  CHECK_FALSE(value_of(*manager, "gap").has_value());
  for (const auto& p : PLAN_OK(manager->projections())) {
    INFO("projection " << p.name);
    CHECK(p.checkpoint == before.head);
  }
  require_verified(*manager);

  // And it keeps working: the next write lands in every projection.
  CreateRequest r;
  r.title = "after recovery";
  r.repository_path = "/repo/0";
  auto s = PLAN_OK(manager->create(r));
  CHECK(PLAN_OK(manager->get(s.id)) == s);
  CHECK(ids_of(PLAN_OK(manager->find_by_repository("/repo/0"))).back() == s.id);
  CHECK(count_of(*manager, "total") == counter_total + 1);
  require_verified(*manager);
}

TEST_CASE("verify detects an emptied projection and rebuild_projections repairs it",
          "[recovery][lost]") {
  const std::string name = GENERATE(as<std::string>{}, "sessions", "versions", "idx_status");
  INFO("emptied database: " << name);
  TempDir dir;
  ManualClock clock;
  Options options = test_options(dir, &clock);
  auto manager = open_store(options);
  populate(*manager, clock);
  const StoreState before = capture_state(*manager);
  manager.reset();

  REQUIRE(raw::drop_database(options.path, name, /*delete_db=*/false).empty());
  manager = open_store(options);
  auto report = PLAN_OK(manager->verify());
  CHECK_FALSE(report.ok());
  CHECK(report.events_checked == before.head);

  PLAN_OK(manager->rebuild_projections());
  CHECK_SAME_STATE(before, capture_state(*manager));
  require_verified(*manager);
}

TEST_CASE("a user projection registered after 1000 events catches up", "[recovery][user]") {
  TempDir dir;
  ManualClock clock;
  Options options = test_options(dir, &clock);
  std::uint64_t creates = 0, updates = 0, pauses = 0, resumes = 0;
  {
    Options setup = options;
    setup.durability = Durability::no_sync;  // setup only; the store closes cleanly
    auto manager = open_store(setup);
    std::vector<std::string> ids;
    for (int i = 0; i < 100; ++i) {
      CreateRequest r;
      r.title = "s" + std::to_string(i);
      ids.push_back(PLAN_OK(manager->create(r)).id);
      ++creates;
    }
    for (int i = 0; i < 900; ++i) {
      const auto& id = ids[static_cast<std::size_t>(i) % ids.size()];
      if (PLAN_OK(manager->get(id)).status == Status::paused) {
        PLAN_OK(manager->resume(id));
        ++resumes;
      } else if (i % 3 == 2) {
        PLAN_OK(manager->pause(id));
        ++pauses;
      } else {
        UpdateRequest u;
        u.content = "content " + std::to_string(i);
        PLAN_OK(manager->update(id, u));
        ++updates;
      }
    }
    REQUIRE(head_of(*manager) == 1000);
  }

  auto check_caught_up = [&](const SessionManager& m) {
    const auto head = head_of(m);
    CHECK(count_of(m, "total") == head);
    CHECK(count_of(m, "count:session_created") == creates);
    CHECK(count_of(m, "count:session_updated") == updates);
    CHECK(count_of(m, "count:session_paused") == pauses);
    CHECK(count_of(m, "count:session_resumed") == resumes);
    CHECK_FALSE(value_of(m, "count:session_archived").has_value());
    CHECK_FALSE(value_of(m, "gap").has_value());
    auto info = projection_info(m, "counter");
    REQUIRE(info.has_value());
    CHECK_FALSE(info->built_in);
    CHECK(info->checkpoint == head);
  };

  SECTION("through Options::projections on open") {
    options.projections = {std::make_shared<EventCounter>()};
    auto manager = open_store(options);
    check_caught_up(*manager);
    CHECK(projection_info(*manager, "counter")->schema_version == 1);

    SECTION("new events are applied in the same transaction as the append") {
      CreateRequest r;
      r.title = "one more";
      PLAN_OK(manager->create(r));
      ++creates;
      check_caught_up(*manager);
    }
    SECTION("bumping schema_version clears the data and replays from sequence 1") {
      manager.reset();
      options.projections = {std::make_shared<EventCounter>(2, "v2:")};
      manager = open_store(options);
      CHECK_FALSE(value_of(*manager, "total").has_value());
      CHECK_FALSE(value_of(*manager, "count:session_created").has_value());
      CHECK(count_of(*manager, "v2:total") == 1000);
      CHECK(count_of(*manager, "v2:count:session_created") == creates);
      CHECK_FALSE(value_of(*manager, "v2:gap").has_value());
      auto info = projection_info(*manager, "counter");
      REQUIRE(info.has_value());
      CHECK(info->schema_version == 2);
      CHECK(info->checkpoint == 1000);
    }
    SECTION("reopening with the same schema version does not replay again") {
      manager.reset();
      manager = open_store(options);
      CHECK(count_of(*manager, "total") == 1000);
    }
  }
  SECTION("in small replay batches") {
    options.replay_batch_events = 7;
    options.projections = {std::make_shared<EventCounter>()};
    auto manager = open_store(options);
    check_caught_up(*manager);
  }
  SECTION("through register_projection on an open manager") {
    auto manager = open_store(options);
    CHECK_FALSE(projection_info(*manager, "counter").has_value());
    PLAN_OK(manager->register_projection(std::make_shared<EventCounter>()));
    check_caught_up(*manager);
  }
  SECTION("built-in projections are all at the head") {
    auto manager = open_store(options);
    auto infos = PLAN_OK(manager->projections());
    CHECK_FALSE(infos.empty());
    for (const auto& p : infos) {
      INFO(p.name);
      CHECK(p.built_in);
      CHECK(p.checkpoint == 1000);
    }
  }
}

TEST_CASE("readers see the old projections until a rebuild switches to the new ones",
          "[recovery][rebuild]") {
  TempDir dir;
  ManualClock clock;
  Options options = test_options(dir, &clock);
  options.projections = {std::make_shared<EventCounter>()};
  options.replay_batch_events = 8;
  auto manager = open_store(options);
  populate(*manager, clock, 40);
  const StoreState before = capture_state(*manager);
  const auto total_before = count_of(*manager, "total");
  int midway = 0;
  PLAN_OK(manager->rebuild_projections([&](std::uint64_t done, std::uint64_t total) {
    if (done == total) return;
    ++midway;
    // Between two of the rebuild's transactions: the old projections, whole.
    CHECK_SAME_STATE(before, capture_state(*manager));
    CHECK(count_of(*manager, "total") == total_before);
  }));
  CHECK(midway >= 3);
  CHECK_SAME_STATE(before, capture_state(*manager));
  require_verified(*manager);
}

TEST_CASE("a user projection not registered by the process that rebuilt is replayed when it "
          "is registered again",
          "[recovery][rebuild]") {
  TempDir dir;
  ManualClock clock;
  Options options = test_options(dir, &clock);
  options.projections = {std::make_shared<EventCounter>()};
  std::uint64_t total = 0;
  {
    auto manager = open_store(options);
    populate(*manager, clock, 20);
    total = count_of(*manager, "total");
  }
  Options without = options;
  without.projections.clear();
  for (int rebuilds = 1; rebuilds <= 2; ++rebuilds) {  // both slots in turn
    INFO("rebuilds " << rebuilds);
    {
      auto manager = open_store(without);
      PLAN_OK(manager->rebuild_projections());
    }
    auto manager = open_store(options);
    CHECK(count_of(*manager, "total") == total);
    CHECK_FALSE(value_of(*manager, "gap").has_value());
    require_verified(*manager);
  }
}

TEST_CASE("rebuild_projections reports progress and reproduces the same state",
          "[recovery][rebuild]") {
  TempDir dir;
  ManualClock clock;
  Options options = test_options(dir, &clock);
  options.projections = {std::make_shared<EventCounter>()};
  // The default batch size, then batches of 5.
  options.replay_batch_events = GENERATE(as<std::size_t>{}, Options{}.replay_batch_events, 5);

  auto manager = open_store(options);
  populate(*manager, clock, 30);
  const StoreState before = capture_state(*manager);
  const auto total_before = count_of(*manager, "total");

  std::vector<std::pair<std::uint64_t, std::uint64_t>> calls;
  PLAN_OK(manager->rebuild_projections(
      [&](std::uint64_t done, std::uint64_t total) { calls.emplace_back(done, total); }));

  REQUIRE_FALSE(calls.empty());
  for (std::size_t i = 0; i < calls.size(); ++i) {
    INFO("call " << i);
    CHECK(calls[i].second == before.head);
    CHECK(calls[i].first <= calls[i].second);
    if (i > 0) CHECK(calls[i - 1].first <= calls[i].first);
  }
  CHECK(calls.back().first == before.head);

  CHECK_SAME_STATE(before, capture_state(*manager));
  CHECK(count_of(*manager, "total") == total_before);  // user projections are rebuilt too
  CHECK_FALSE(value_of(*manager, "gap").has_value());
  require_verified(*manager);

  SECTION("without a callback") {
    PLAN_OK(manager->rebuild_projections());
    CHECK_SAME_STATE(before, capture_state(*manager));
  }
  SECTION("verify reports progress the same way") {
    std::vector<std::pair<std::uint64_t, std::uint64_t>> vcalls;
    auto report = PLAN_OK(manager->verify(
        [&](std::uint64_t done, std::uint64_t total) { vcalls.emplace_back(done, total); }));
    CHECK(report.ok());
    CHECK(report.events_checked == before.head);
    REQUIRE_FALSE(vcalls.empty());
    CHECK(vcalls.back().first == vcalls.back().second);
    for (std::size_t i = 1; i < vcalls.size(); ++i) CHECK(vcalls[i - 1].first <= vcalls[i].first);
  }
}

TEST_CASE("restore_from_history returns the same session as get", "[recovery][history]") {
  TempDir dir;
  ManualClock clock;
  auto manager = open_store(test_options(dir, &clock));
  populate(*manager, clock, 18);
  const auto head = head_of(*manager);
  const auto sessions = PLAN_OK(manager->list());
  REQUIRE(sessions.size() >= 10);
  for (const auto& s : sessions) {
    INFO("session " << s.id);
    CHECK(PLAN_OK(SessionRecovery::restore_from_history(s.id, *manager)) == s);
  }
  CHECK(head_of(*manager) == head);
  CHECK(capture_state(*manager).sessions == sessions);

  SECTION("removed and unknown sessions are not_found") {
    CreateRequest r;
    r.title = "to remove";
    const auto id = PLAN_OK(manager->create(r)).id;
    PLAN_OK(manager->remove(id));
    REQUIRE_ERROR_CODE(ErrorCode::not_found, SessionRecovery::restore_from_history(id, *manager));
    REQUIRE_ERROR_CODE(ErrorCode::not_found,
                       SessionRecovery::restore_from_history("0190a000-0000-7000-8000-000000000000",
                                                             *manager));
  }
}

TEST_CASE("restore_from_history repairs a session whose record was lost",
          "[recovery][history]") {
  TempDir dir;
  ManualClock clock;
  Options options = test_options(dir, &clock);
  auto manager = open_store(options);
  populate(*manager, clock, 6);
  const auto sessions = PLAN_OK(manager->list());
  REQUIRE_FALSE(sessions.empty());
  manager.reset();

  // Empty the records but keep the database and its checkpoint: open() has no
  // reason to replay, so the session records are simply missing.
  REQUIRE(raw::drop_database(options.path, "sessions", /*delete_db=*/false).empty());
  manager = open_store(options);
  const Session& target = sessions.front();
  auto restored = PLAN_OK(SessionRecovery::restore_from_history(target.id, *manager));
  CHECK(restored == target);
  CHECK(PLAN_OK(manager->get(target.id)) == target);
}

TEST_CASE("SessionRecovery::apply acts on a stale report and skips changed sessions",
          "[recovery][stale]") {
  TempDir dir;
  ManualClock clock;
  auto manager = open_store(test_options(dir, &clock));
  auto make = [&] {
    CreateRequest r;
    r.title = "stale";
    return PLAN_OK(manager->create(r)).id;
  };
  const auto ancient = make();  // archive
  clock.advance(7 * 24h);
  const auto old1 = make();  // pause
  const auto old2 = make();  // pause, but touched after the report
  clock.advance(25h);
  const auto fresh = make();

  auto report = PLAN_OK(SessionRecovery::find_stale(*manager));
  CHECK(report.recommendations.size() == 3);
  CHECK(report.recommendations.at(ancient) == Recommendation::archive);
  CHECK(report.recommendations.at(old1) == Recommendation::pause);
  CHECK(report.recommendations.count(fresh) == 0);

  PLAN_OK(manager->update(old2, UpdateRequest{.content = "activity"}));
  const auto head = head_of(*manager);
  auto changed = PLAN_OK(SessionRecovery::apply(*manager, report));
  CHECK(changed == 2);
  CHECK(head_of(*manager) == head + 2);
  auto s1 = PLAN_OK(manager->get(old1));
  CHECK(s1.status == Status::paused);
  CHECK_THAT(s1.pause_reason, Catch::StartsWith("Auto-paused"));
  CHECK(s1.updated_by == "planning:recovery");
  CHECK(PLAN_OK(manager->get(ancient)).status == Status::archived);
  CHECK(PLAN_OK(manager->get(old2)).status == Status::active);
  CHECK(PLAN_OK(manager->get(fresh)).status == Status::active);

  SECTION("custom thresholds and now") {
    StaleOptions so;
    so.inactive_for = 1h;
    so.archive_after = 2h;
    so.now = PLAN_OK(manager->get(fresh)).last_activity_at + 90min;
    auto r2 = PLAN_OK(SessionRecovery::find_stale(*manager, so));
    // fresh and old2 (updated just after fresh was made): ~90 min -> pause;
    // old1 is paused with 26.5 h of inactivity -> archive.
    CHECK(r2.recommendations.at(fresh) == Recommendation::pause);
    CHECK(r2.recommendations.at(old2) == Recommendation::pause);
    CHECK(r2.recommendations.at(old1) == Recommendation::archive);
    CHECK(r2.recommendations.count(ancient) == 0);  // archived already
  }
  SECTION("archive_after below inactive_for is invalid") {
    StaleOptions so;
    so.inactive_for = 48h;
    so.archive_after = 24h;
    REQUIRE_ERROR_CODE(ErrorCode::invalid_argument, SessionRecovery::find_stale(*manager, so));
  }
}

namespace {

// This process's POSIX locks on `file`, as /proc/self/fdinfo lists them for
// each descriptor open on it ("lock:\t<n>: POSIX ADVISORY READ <pid> <dev>:<inode>
// <start> <end>"). Not /proc/locks: that list is system-wide and read in
// pieces, so locks other processes take and drop meanwhile (tests running in
// parallel) can make lines of this process's go missing or repeat.
std::size_t locks_held_on(const std::filesystem::path& file) {
  const auto target = std::filesystem::canonical(file);
  const std::string pid = std::to_string(::getpid());
  std::size_t held = 0;
  for (const auto& fd : std::filesystem::directory_iterator("/proc/self/fd")) {
    std::error_code ec;
    const auto opened = std::filesystem::read_symlink(fd.path(), ec);
    if (ec || opened != target) continue;
    std::ifstream info("/proc/self/fdinfo/" + fd.path().filename().string());
    REQUIRE(info.good());
    std::string line;
    while (std::getline(info, line)) {
      if (!line.starts_with("lock:")) continue;
      std::istringstream fields(line.substr(5));
      std::string id, kind, mode, access, owner;
      fields >> id >> kind;
      if (kind == "->") continue;  // a waiter holds nothing yet
      fields >> mode >> access >> owner;
      if (owner == pid) ++held;
    }
  }
  return held;
}

}  // namespace

// LMDB's locks are per process: a second mdb_env_open of the store, once
// closed, would drop the first handle's locks, and the next process could then
// reset the lock table under a live writer. The refusal must come before LMDB
// sees the path, whichever spelling of the path names the store.
TEST_CASE("SessionRecovery::apply checks its actor like every other write", "[recovery][stale]") {
  TempDir dir;
  ManualClock clock;
  auto manager = open_store(test_options(dir, &clock));
  CreateRequest r;
  r.title = "stale";
  const auto id = PLAN_OK(manager->create(r)).id;
  clock.advance(8 * 24h);
  auto report = PLAN_OK(SessionRecovery::find_stale(*manager));
  REQUIRE(report.recommendations.size() == 1);
  const auto head = head_of(*manager);

  for (const std::string& by : {std::string("\xff\xfe not UTF-8"), std::string(4096, 'a')}) {
    auto applied = SessionRecovery::apply(*manager, report, by);
    REQUIRE_FALSE(applied);
    CHECK(applied.error().code == ErrorCode::invalid_argument);
    CHECK_THAT(applied.error().message, Catch::Contains("actor"));
    CHECK(head_of(*manager) == head);  // nothing appended
    CHECK(PLAN_OK(manager->get(id)).status == Status::active);
  }
  CHECK(PLAN_OK(SessionRecovery::apply(*manager, report, "ops-bot")) == 1);
  CHECK(PLAN_OK(manager->get(id)).updated_by == "ops-bot");
}

TEST_CASE("opening a store that is already open in this process is refused", "[recovery]") {
  TempDir dir;
  Options options = test_options(dir);
  auto first = open_store(options);
  PLAN_OK(first->create({.title = "before", .initial_content = "x"}));
  const auto lock_file = options.path / "lock.mdb";
  const std::size_t locks_before = locks_held_on(lock_file);
  REQUIRE(locks_before >= 1);
  const FileSnapshot data_before = snapshot_file(options.path / "data.mdb");

  std::filesystem::create_directory_symlink(options.path, dir.path() / "link");
  std::filesystem::create_directories(dir.path() / "sub");
  const auto spelling = GENERATE(as<std::string>{}, "same", "symlink", "dotdot");
  Options again = options;
  if (spelling == "symlink") again.path = dir.path() / "link";
  if (spelling == "dotdot") again.path = dir.path() / "sub" / ".." / "store";
  INFO("second open through " << again.path);
  auto second = SessionManager::open(again);
  REQUIRE_FALSE(second.has_value());
  CHECK(second.error().code == ErrorCode::storage);
  CHECK_THAT(second.error().message, Catch::Matchers::Contains("already open"));

  // The first handle keeps its locks, and nothing was written.
  CHECK(locks_held_on(lock_file) == locks_before);
  CHECK(snapshot_file(options.path / "data.mdb") == data_before);
  CreateRequest r;
  r.title = "still fine";
  PLAN_OK(first->create(r));
  require_verified(*first);
}

// Closing a manager leaves the registry only after LMDB let go of the store:
// the same store opens again at once, and again after that.
TEST_CASE("a closed store can be opened again in the same process", "[recovery]") {
  TempDir dir;
  Options options = test_options(dir);
  for (int round = 0; round < 3; ++round) {
    auto m = open_store(options);
    PLAN_OK(m->create({.title = "round " + std::to_string(round)}));
    CHECK(PLAN_OK(m->list()).size() == static_cast<std::size_t>(round + 1));
  }
}

namespace {

// Child side of the kill test: open its own manager and write forever,
// acknowledging each committed operation on `fd`. Never returns.
[[noreturn]] void writer_child(const Options& options, int fd) {
  auto opened = SessionManager::open(options);
  if (!opened) _exit(2);
  auto& m = **opened;
  auto ack = [&](const Session& s) {
    const std::string line = s.id + " " + std::to_string(s.stream_version) + "\n";
    if (write(fd, line.data(), line.size()) != static_cast<ssize_t>(line.size())) _exit(4);
  };
  for (std::uint64_t i = 0;; ++i) {
    CreateRequest r;
    r.title = "kill " + std::to_string(i);
    r.initial_content = std::string(100 + (i * 7919) % 20000, 'a');
    auto s = m.create(r);
    if (!s) _exit(3);
    ack(*s);
    const std::string id = s->id;
    for (int step = 0; step < 4; ++step) {
      Result<Session> next = [&]() -> Result<Session> {
        switch (step) {
          case 0: {
            UpdateRequest u;
            u.content = std::string(50 + (i * 31 + 17) % 30000, 'b');
            return m.update(id, u);
          }
          case 1: return m.pause(id, "p");
          case 2: return m.resume(id);
          default: {
            if (i % 3 == 0) return m.archive(id);
            auto v = m.restore_version(id, 1);
            return v;
          }
        }
      }();
      if (!next) _exit(5);
      ack(*next);
    }
  }
}

}  // namespace

TEST_CASE("a writer killed with SIGKILL loses no acknowledged operation", "[recovery][kill]") {
  const int kill_after = GENERATE(25, 180, 500);
  INFO("kill after " << kill_after << " acknowledgements");
  TempDir dir;
  Options options = test_options(dir);  // system clock; durable commits

  int fds[2];
  REQUIRE(pipe(fds) == 0);
  const pid_t pid = fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    close(fds[0]);
    writer_child(options, fds[1]);
  }
  close(fds[1]);

  FILE* in = fdopen(fds[0], "r");
  REQUIRE(in != nullptr);
  std::vector<Ack> acks;
  char buf[256];
  bool killed = false;
  while (std::fgets(buf, sizeof buf, in) != nullptr) {
    std::istringstream line(buf);
    Ack a;
    line >> a.id >> a.stream_version;
    if (!line.fail()) acks.push_back(a);
    if (!killed && static_cast<int>(acks.size()) >= kill_after) {
      REQUIRE(kill(pid, SIGKILL) == 0);
      killed = true;
    }
  }
  // EOF: the child is dead; every line it wrote before dying is an acknowledged op.
  std::fclose(in);
  int status = 0;
  REQUIRE(waitpid(pid, &status, 0) == pid);
  INFO("child status " << status);
  REQUIRE(killed);
  REQUIRE(WIFSIGNALED(status));
  REQUIRE(WTERMSIG(status) == SIGKILL);
  REQUIRE(static_cast<int>(acks.size()) >= kill_after);

  auto manager = open_store(options);
  std::map<std::string, std::uint32_t> acknowledged;
  for (const auto& a : acks) {
    acknowledged[a.id] = std::max(acknowledged[a.id], a.stream_version);
  }
  for (const auto& [id, version] : acknowledged) {
    INFO("session " << id);
    auto s = manager->get(id);
    REQUIRE(s.has_value());
    CHECK(s->stream_version >= version);
  }
  CHECK(head_of(*manager) >= acks.size());
  require_verified(*manager);

  // The store accepts writes again (no stale lock, no stale reader).
  CreateRequest r;
  r.title = "after the crash";
  PLAN_OK(manager->create(r));
  require_verified(*manager);
}

TEST_CASE("a rebuild killed with SIGKILL leaves a store that recovers on open",
          "[recovery][kill]") {
  TempDir dir;
  ManualClock clock;
  Options options = test_options(dir, &clock);
  options.replay_batch_events = 16;
  StoreState before;
  {
    auto manager = open_store(options);
    populate(*manager, clock, 60);
    before = capture_state(*manager);
  }
  options.clock = {};  // the ManualClock is not for the child

  int fds[2];
  REQUIRE(pipe(fds) == 0);
  const pid_t pid = fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    close(fds[0]);
    auto opened = SessionManager::open(options);
    if (!opened) _exit(2);
    for (;;) {
      auto r = (*opened)->rebuild_projections([&](std::uint64_t done, std::uint64_t) {
        const std::string line = std::to_string(done) + "\n";
        if (write(fds[1], line.data(), line.size()) < 0) _exit(4);
      });
      if (!r) _exit(3);
    }
  }
  close(fds[1]);
  FILE* in = fdopen(fds[0], "r");
  REQUIRE(in != nullptr);
  char buf[64];
  int lines = 0;
  bool killed = false;
  while (std::fgets(buf, sizeof buf, in) != nullptr) {
    if (!killed && ++lines >= 7) {
      REQUIRE(kill(pid, SIGKILL) == 0);
      killed = true;
    }
  }
  std::fclose(in);
  int status = 0;
  REQUIRE(waitpid(pid, &status, 0) == pid);
  REQUIRE(killed);
  REQUIRE(WIFSIGNALED(status));

  auto manager = open_store(options);
  CHECK_SAME_STATE(before, capture_state(*manager));
  require_verified(*manager);
  // What the killed rebuild left in the other slot (records, temporary
  // files, its mark) does not stop the next one.
  PLAN_OK(manager->rebuild_projections());
  CHECK_SAME_STATE(before, capture_state(*manager));
  require_verified(*manager);
}

// --- Damaged stores ------------------------------------------------------------

namespace {

// A small closed store: returns its options and head; sessions in `ids`.
struct ClosedStore {
  TempDir dir;
  ManualClock clock;
  Options options;
  StoreState state;
  std::vector<std::string> ids;

  ClosedStore() {
    options = test_options(dir, &clock);
    auto m = open_store(options);
    for (int i = 0; i < 3; ++i) {
      CreateRequest r;
      r.title = "s" + std::to_string(i);
      r.initial_content = "c" + std::to_string(i);
      ids.push_back(PLAN_OK(m->create(r)).id);  // 1, 2, 3
    }
    PLAN_OK(m->pause(ids[0], "reason"));                          // 4
    PLAN_OK(m->update(ids[1], UpdateRequest{.content = "c1b"}));  // 5
    PLAN_OK(m->pause(ids[2], "other"));                           // 6
    PLAN_OK(m->resume(ids[0]));                                   // 7
    PLAN_OK(m->archive(ids[2]));                                  // 8
    state = capture_state(*m);
  }

  std::string frame(std::uint64_t seq) {
    std::optional<std::string> v;
    const auto err = raw::get(options.path, "log", raw::seq_key(seq), v);
    if (!err.empty() || !v) FAIL("cannot read event " << seq << ": " << err);
    return *v;
  }
  void write_frame(std::uint64_t seq, const std::string& bytes) {
    const auto err = raw::put(options.path, "log", raw::seq_key(seq), bytes);
    if (!err.empty()) FAIL(err);
  }
};

bool has_issue_at(const VerifyReport& report, std::initializer_list<std::uint64_t> seqs) {
  for (const auto& issue : report.issues) {
    for (auto s : seqs) {
      if (issue.sequence == s) return true;
    }
  }
  return false;
}

std::string issues_text(const VerifyReport& report) {
  std::string out;
  for (const auto& i : report.issues) out += "[" + std::to_string(i.sequence) + "] " + i.what + "; ";
  return out;
}

}  // namespace

TEST_CASE("a store with an unknown format version is refused", "[recovery][format]") {
  ClosedStore store;
  auto be32 = [](std::uint32_t v) {
    return std::string{static_cast<char>(v >> 24), static_cast<char>(v >> 16),
                       static_cast<char>(v >> 8), static_cast<char>(v)};
  };
  std::optional<std::string> format;
  REQUIRE(raw::get(store.options.path, "meta", "format", format).empty());
  REQUIRE(format.has_value());
  CHECK(*format == be32(kFormatVersion));

  REQUIRE(raw::put(store.options.path, "meta", "format", be32(kFormatVersion + 1)).empty());
  auto refused = SessionManager::open(store.options);
  REQUIRE_FALSE(refused.has_value());
  INFO(refused.error().message);
  CHECK(refused.error().code == ErrorCode::corruption);
  CHECK_THAT(refused.error().message, Catch::Contains("version " + std::to_string(kFormatVersion + 1)));
  CHECK_THAT(refused.error().message, Catch::Contains("version " + std::to_string(kFormatVersion)));

  // Nothing was touched: restoring the version makes it open as before.
  REQUIRE(raw::put(store.options.path, "meta", "format", *format).empty());
  auto m = open_store(store.options);
  CHECK_SAME_STATE(store.state, capture_state(*m));
}

TEST_CASE("a damaged event is reported as corruption with its sequence number",
          "[recovery][corruption]") {
  ClosedStore store;
  std::string f = store.frame(5);
  f.back() = static_cast<char>(f.back() ^ 0x20);
  store.write_frame(5, f);

  auto opened = SessionManager::open(store.options);
  if (!opened) {
    // Refusing to open is acceptable, but only as corruption naming the event.
    CHECK(opened.error().code == ErrorCode::corruption);
    CHECK_THAT(opened.error().message, Catch::Contains("5"));
    return;
  }
  auto& m = **opened;

  auto report = PLAN_OK(m.verify());
  INFO("issues: " << issues_text(report));
  CHECK_FALSE(report.ok());
  CHECK(has_issue_at(report, {5}));

  auto events = m.events();
  REQUIRE_FALSE(events.has_value());
  CHECK(events.error().code == ErrorCode::corruption);
  CHECK_THAT(events.error().message, Catch::Contains("5"));

  EventQuery before_damage;
  before_damage.to_sequence = 4;
  CHECK(PLAN_OK(m.events(before_damage)).size() == 4);

  std::uint64_t visited = 0;
  auto scanned = m.scan_events({}, [&](const Event&) {
    ++visited;
    return true;
  });
  REQUIRE_FALSE(scanned.has_value());
  CHECK(scanned.error().code == ErrorCode::corruption);
  CHECK(visited <= 4);

  REQUIRE_ERROR_CODE(ErrorCode::corruption, m.session_at(store.ids[1], UINT64_MAX));
  // Reads of projections are unaffected.
  CHECK(PLAN_OK(m.get(store.ids[1])).content == "c1b");
}

TEST_CASE("replaying through a damaged event fails with corruption, not a crash",
          "[recovery][corruption]") {
  ClosedStore store;
  std::string f = store.frame(5);
  f[f.size() / 2] = static_cast<char>(f[f.size() / 2] ^ 0x01);
  store.write_frame(5, f);
  REQUIRE(raw::drop_database(store.options.path, "sessions", true).empty());

  auto opened = SessionManager::open(store.options);
  REQUIRE_FALSE(opened.has_value());
  CHECK(opened.error().code == ErrorCode::corruption);
  CHECK_THAT(opened.error().message, Catch::Contains("5"));
}

TEST_CASE("a missing event is a gap that verify reports", "[recovery][corruption]") {
  ClosedStore store;
  REQUIRE(raw::del(store.options.path, "log", raw::seq_key(5)).empty());
  auto m = open_store(store.options);
  auto report = PLAN_OK(m->verify());
  INFO("issues: " << issues_text(report));
  CHECK_FALSE(report.ok());
  CHECK(has_issue_at(report, {5, 6}));
}

TEST_CASE("reordered events are reported by verify", "[recovery][corruption]") {
  ClosedStore store;
  const std::string four = store.frame(4);
  const std::string five = store.frame(5);
  store.write_frame(4, five);
  store.write_frame(5, four);
  auto m = open_store(store.options);
  auto report = PLAN_OK(m->verify());
  INFO("issues: " << issues_text(report));
  CHECK_FALSE(report.ok());
  CHECK(has_issue_at(report, {4}));
  CHECK(has_issue_at(report, {5}));
}

TEST_CASE("a truncated log tail is caught by the head record", "[recovery][corruption]") {
  ClosedStore store;
  REQUIRE(raw::del(store.options.path, "log", raw::seq_key(8)).empty());
  auto opened = SessionManager::open(store.options);
  if (!opened) {
    CHECK(opened.error().code == ErrorCode::corruption);
    return;
  }
  auto report = PLAN_OK((*opened)->verify());
  INFO("issues: " << issues_text(report));
  CHECK_FALSE(report.ok());
}

// --- Export, import, backup, growth -------------------------------------------------

TEST_CASE("export then import into an empty store reproduces the state", "[recovery][export]") {
  TempDir dir;
  ManualClock clock;
  Options options = test_options(dir, &clock);
  auto source = open_store(options);
  populate(*source, clock, 10);
  const StoreState state = capture_state(*source);

  std::stringstream lines;
  CHECK(PLAN_OK(source->export_events(lines)) == state.head);
  const std::string exported = lines.str();
  CHECK(static_cast<std::uint64_t>(std::count(exported.begin(), exported.end(), '\n')) ==
        state.head);

  TempDir dir2;
  Options target_options = test_options(dir2);
  auto target = open_store(target_options);

  SECTION("all of it") {
    std::istringstream in(exported);
    CHECK(PLAN_OK(target->import_events(in)) == state.head);
    CHECK_SAME_STATE(state, capture_state(*target));
    require_verified(*target);
    CHECK(PLAN_OK(target->events()) == PLAN_OK(source->events()));
  }
  SECTION("a bad line in the middle: nothing is imported") {
    std::vector<std::string> all;
    std::istringstream split(exported);
    for (std::string line; std::getline(split, line);) all.push_back(line);
    REQUIRE(all.size() > 10);
    std::string text;
    for (std::size_t i = 0; i < all.size(); ++i) {
      if (i == all.size() / 2) {
        auto j = nlohmann::json::parse(all[i]);
        j["type"] = "exploded";
        text += j.dump() + "\n";
      } else {
        text += all[i] + "\n";
      }
    }
    std::istringstream in(text);
    CHECK_FALSE(target->import_events(in).has_value());
    CHECK(head_of(*target) == 0);
    CHECK(PLAN_OK(target->list()).empty());
  }
  SECTION("a missing line: nothing is imported") {
    std::string text;
    std::istringstream split(exported);
    int n = 0;
    for (std::string line; std::getline(split, line); ++n) {
      if (n != 3) text += line + "\n";
    }
    std::istringstream in(text);
    CHECK_FALSE(target->import_events(in).has_value());
    CHECK(head_of(*target) == 0);
  }
  SECTION("the same events again do not continue the head") {
    std::istringstream in(exported);
    PLAN_OK(target->import_events(in));
    std::istringstream again(exported);
    CHECK_FALSE(target->import_events(again).has_value());
    CHECK(head_of(*target) == state.head);
    CHECK_SAME_STATE(state, capture_state(*target));
  }
}

TEST_CASE("an import continues a store from its head", "[recovery][export]") {
  TempDir dir;
  ManualClock clock;
  Options options = test_options(dir, &clock);
  auto source = open_store(options);
  populate(*source, clock, 6);
  const auto k = head_of(*source);

  TempDir backup_dir;
  const auto copy_path = backup_dir.path() / "copy";
  PLAN_OK(source->backup(copy_path));
  populate(*source, clock, 6);  // more events after the backup
  const StoreState state = capture_state(*source);

  std::stringstream tail;
  EventQuery q;
  q.from_sequence = k + 1;
  CHECK(PLAN_OK(source->export_events(tail, q)) == state.head - k);

  Options copy_options = test_options(backup_dir);
  copy_options.path = copy_path;
  auto copy = open_store(copy_options);
  REQUIRE(head_of(*copy) == k);
  CHECK(PLAN_OK(copy->import_events(tail)) == state.head - k);
  CHECK_SAME_STATE(state, capture_state(*copy));
  require_verified(*copy);
}

TEST_CASE("a backup opens with the same state", "[recovery][backup]") {
  TempDir dir;
  ManualClock clock;
  Options options = test_options(dir, &clock);
  auto m = open_store(options);
  populate(*m, clock, 10);
  const StoreState state = capture_state(*m);
  const bool compact = GENERATE(false, true);

  TempDir backup_dir;
  const auto dest = backup_dir.path() / "copy";
  PLAN_OK(m->backup(dest, compact));
  // The original keeps working.
  CreateRequest r;
  r.title = "after backup";
  PLAN_OK(m->create(r));

  Options copy_options = test_options(backup_dir);
  copy_options.path = dest;
  copy_options.create_if_missing = false;
  auto copy = open_store(copy_options);
  CHECK_SAME_STATE(state, capture_state(*copy));
  require_verified(*copy);

  SECTION("into a non-empty directory is refused") {
    TempDir other;
    std::ofstream(other.path() / "occupied") << "x";
    CHECK_FALSE(m->backup(other.path(), compact).has_value());
  }
}

TEST_CASE("a full map grows instead of failing", "[recovery][map]") {
  TempDir dir;
  Options options = test_options(dir);  // 1 MiB initial map
  REQUIRE(options.initial_map_size == std::size_t{1} << 20);
  auto m = open_store(options);
  std::vector<std::string> ids;
  for (int i = 0; i < 24; ++i) {
    CreateRequest r;
    r.title = "big " + std::to_string(i);
    r.initial_content = std::string(200 * 1024, static_cast<char>('a' + i % 26));
    ids.push_back(PLAN_OK(m->create(r)).id);
  }
  auto info = PLAN_OK(m->info());
  CHECK(info.map_size > options.initial_map_size);
  CHECK(info.map_used <= info.map_size);
  CHECK(info.format_version == kFormatVersion);
  CHECK(info.head_sequence == 24);
  CHECK(info.sessions == 24);
  CHECK(info.versions == 24);
  for (std::size_t i = 0; i < ids.size(); ++i) {
    CHECK(PLAN_OK(m->get(ids[i])).content.size() == 200 * 1024);
  }
  require_verified(*m);
  const StoreState state = capture_state(*m);
  m.reset();
  m = open_store(options);
  CHECK_SAME_STATE(state, capture_state(*m));
}

// --- Several processes on one store ------------------------------------------------

namespace {

// Forks a child that runs `body(options)` with its own manager and exits with
// its return value (0 = success). The parent must not have the store open.
pid_t spawn(const Options& options, const std::function<int(SessionManager&)>& body) {
  const pid_t pid = fork();
  if (pid == 0) {
    auto opened = SessionManager::open(options);
    if (!opened) _exit(90);
    const int rc = body(**opened);
    opened->reset();
    _exit(rc);
  }
  return pid;
}

int wait_exit_code(pid_t pid) {
  int status = 0;
  if (waitpid(pid, &status, 0) != pid) return -1;
  return WIFEXITED(status) ? WEXITSTATUS(status) : 100 + (WIFSIGNALED(status) ? WTERMSIG(status) : 0);
}

}  // namespace

TEST_CASE("two processes writing at once keep one dense, verified log", "[recovery][process]") {
  TempDir dir;
  Options options = test_options(dir);  // 1 MiB map: the children also race to grow it
  { auto init = open_store(options); }

  auto writer = [](int tag) {
    return [tag](SessionManager& m) -> int {
      for (int i = 0; i < 60; ++i) {
        CreateRequest r;
        r.title = "p" + std::to_string(tag) + "-" + std::to_string(i);
        r.initial_content = std::string(8000 + 97 * i, static_cast<char>('a' + tag));
        auto s = m.create(r);
        if (!s) return 1;
        UpdateRequest u;
        u.content = s->content + "\nmore";
        if (!m.update(s->id, u)) return 2;
        if (!m.pause(s->id, "p")) return 3;
      }
      return 0;
    };
  };
  const pid_t a = spawn(options, writer(0));
  const pid_t b = spawn(options, writer(1));
  REQUIRE(a > 0);
  REQUIRE(b > 0);
  CHECK(wait_exit_code(a) == 0);
  CHECK(wait_exit_code(b) == 0);

  auto m = open_store(options);
  CHECK(head_of(*m) == 360);
  auto stats = PLAN_OK(m->get_statistics());
  CHECK(stats.total_sessions == 120);
  CHECK(stats.paused_sessions == 120);
  CHECK(stats.total_versions == 240);
  auto events = PLAN_OK(m->events());
  REQUIRE(events.size() == 360);
  for (std::size_t i = 0; i < events.size(); ++i) CHECK(events[i].sequence == i + 1);
  require_verified(*m);
}

TEST_CASE("a manager sees and continues writes made by another process", "[recovery][process]") {
  TempDir dir;
  Options options = test_options(dir);
  options.projections = {std::make_shared<EventCounter>()};
  { auto init = open_store(options); }

  // Child A holds the store open (with the counter projection) across the writes
  // of child B (without it), then reads B's session and writes once more.
  int go[2], ready[2];
  REQUIRE(pipe(go) == 0);
  REQUIRE(pipe(ready) == 0);
  const pid_t a = spawn(options, [&](SessionManager& m) -> int {
    close(go[1]);
    close(ready[0]);
    CreateRequest r;
    r.title = "from A";
    if (!m.create(r)) return 1;                 // seq 1
    if (write(ready[1], "r", 1) != 1) return 2;  // A is open and has written
    char c;
    if (read(go[0], &c, 1) != 1) return 3;  // B has finished
    auto head = m.head_sequence();
    if (!head || *head != 11) return 4;
    auto all = m.list();
    if (!all || all->size() != 11) return 5;
    auto b_session = m.get(all->back().id);
    if (!b_session || b_session->title != "from B 9") return 6;
    auto s = m.create(r);  // seq 12: must continue the log after B's events
    if (!s) return 7;
    auto after = m.head_sequence();
    if (!after || *after != 12) return 8;
    return 0;
  });
  close(go[0]);
  close(ready[1]);
  char c;
  REQUIRE(read(ready[0], &c, 1) == 1);

  Options without_counter = options;
  without_counter.projections.clear();
  const pid_t b = spawn(without_counter, [](SessionManager& m) -> int {
    for (int i = 0; i < 10; ++i) {
      CreateRequest r;
      r.title = "from B " + std::to_string(i);
      if (!m.create(r)) return 1;
    }
    return 0;
  });
  CHECK(wait_exit_code(b) == 0);
  REQUIRE(write(go[1], "g", 1) == 1);
  CHECK(wait_exit_code(a) == 0);
  close(go[1]);
  close(ready[0]);

  auto m = open_store(options);
  CHECK(head_of(*m) == 12);
  CHECK(PLAN_OK(m->list()).size() == 12);
  require_verified(*m);
  // The counter saw every event exactly once, B's included.
  CHECK(count_of(*m, "total") == 12);
  CHECK_FALSE(value_of(*m, "gap").has_value());
  CHECK(projection_info(*m, "counter")->checkpoint == 12);
}

TEST_CASE("reader slots of a killed process are released on open", "[recovery][kill]") {
  TempDir dir;
  Options options = test_options(dir);
  options.max_readers = 64;
  {
    auto m = open_store(options);
    CreateRequest r;
    r.title = "read me";
    PLAN_OK(m->create(r));
  }
  int fds[2];
  REQUIRE(pipe(fds) == 0);
  const pid_t pid = fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    close(fds[0]);
    auto opened = SessionManager::open(options);
    if (!opened) _exit(2);
    SessionManager& m = **opened;
    std::vector<std::thread> readers;
    std::atomic<int> started{0};
    for (int t = 0; t < 12; ++t) {
      readers.emplace_back([&] {
        ++started;
        for (;;) {
          (void)m.list();
          (void)m.events();
        }
      });
    }
    while (started < 12) std::this_thread::yield();
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    if (write(fds[1], "r", 1) != 1) _exit(3);
    for (;;) pause();
  }
  close(fds[1]);
  char c;
  REQUIRE(read(fds[0], &c, 1) == 1);
  REQUIRE(kill(pid, SIGKILL) == 0);
  int status = 0;
  REQUIRE(waitpid(pid, &status, 0) == pid);
  close(fds[0]);

  auto m = open_store(options);
  auto info = PLAN_OK(m->info());
  INFO("readers_in_use " << info.readers_in_use);
  CHECK(info.readers_in_use < 12);
  CHECK(info.max_readers == 64);
  // Reads and writes work.
  CHECK(PLAN_OK(m->list()).size() == 1);
  CreateRequest r;
  r.title = "after";
  PLAN_OK(m->create(r));
  require_verified(*m);
}

TEST_CASE("every durability mode commits and reopens", "[recovery]") {
  const Durability mode = GENERATE(Durability::full, Durability::no_meta_sync, Durability::no_sync);
  TempDir dir;
  ManualClock clock;
  Options options = test_options(dir, &clock);
  options.durability = mode;
  auto m = open_store(options);
  populate(*m, clock, 6);
  const StoreState state = capture_state(*m);
  m.reset();
  m = open_store(options);
  CHECK_SAME_STATE(state, capture_state(*m));
}

TEST_CASE("a rebuild that folds many events of a session in one batch equals the live store",
          "[recovery][rebuild]") {
  // Replay batches keep the sessions, index fields and statistics they touch
  // in memory and write them once; the result must match the event-by-event
  // write path byte for byte (verify compares every projection record).
  TempDir dir;
  ManualClock clock;
  Options options = test_options(dir, &clock);
  // One batch (the default size), then batches of 3.
  options.replay_batch_events = GENERATE(as<std::size_t>{}, Options{}.replay_batch_events, 3);
  auto manager = open_store(options);
  std::vector<std::string> ids;
  for (int i = 0; i < 4; ++i) {
    ids.push_back(PLAN_OK(manager->create({.title = "s" + std::to_string(i),
                                           .repository_path = "/repo/" + std::to_string(i % 2),
                                           .initial_content = "v1\n",
                                           .metadata = nlohmann::json{{"n", i}}}))
                      .id);
  }
  for (int round = 0; round < 3; ++round) {
    for (std::size_t i = 0; i < ids.size(); ++i) {
      clock.advance(1s);
      PLAN_OK(manager->update(ids[i], {.content = "round " + std::to_string(round) + "\n"}));
      PLAN_OK(manager->update(ids[i], {.repository_path = "/moved/" + std::to_string(round),
                                       .metadata = nlohmann::json{{"round", round}}}));
    }
  }
  // A large session: its record alone passes the run's 16 MiB flush bound.
  PLAN_OK(manager->update(ids[0], {.content = std::string(9 << 20, 'a')}));
  PLAN_OK(manager->update(ids[1], {.content = std::string(9 << 20, 'b')}));
  PLAN_OK(manager->update(ids[0], {.title = "after the large ones"}));
  PLAN_OK(manager->pause(ids[1], "later"));
  PLAN_OK(manager->mark_converted(ids[2], {.project_id = "p", .work_item_ids = {"w"}}));
  PLAN_OK(manager->remove(ids[3]));
  const auto created = PLAN_OK(manager->create({.title = "late"}));
  PLAN_OK(manager->archive(created.id));

  const StoreState before = capture_state(*manager);
  require_verified(*manager);
  PLAN_OK(manager->rebuild_projections());
  CHECK_SAME_STATE(before, capture_state(*manager));
  require_verified(*manager);
}

namespace {

// A user projection whose records fill pages fast: 3,000 bytes per event. It
// counts the events it is given.
class Padder : public Projection {
 public:
  std::string name() const override { return "padder"; }
  std::uint32_t schema_version() const override { return 1; }
  void apply(const Event& event, ProjectionStore& store) override {
    ++applied;
    store.put("e" + std::to_string(event.sequence), std::string(3000, 'p'));
  }
  std::atomic<std::uint64_t> applied{0};
};

}  // namespace

TEST_CASE("a rebuild held to a small memory budget equals the live store",
          "[recovery][rebuild]") {
  // The projections' runs are written out whenever they pass half the budget,
  // and the streams and versions records go through sorted temporary files
  // (many of them at 1 KiB); verify compares every record with a replay
  // event by event.
  TempDir dir;
  ManualClock clock;
  Options options = test_options(dir, &clock);
  options.rebuild_memory_bytes = GENERATE(as<std::size_t>{}, 1, 1 << 10, 256 << 10);
  options.replay_batch_events = GENERATE(as<std::size_t>{}, 7, 20000);
  auto manager = open_store(options);
  PLAN_OK(manager->register_projection(std::make_shared<EventCounter>()));
  populate(*manager, clock, 48);
  const StoreState before = capture_state(*manager);
  const auto files = [&] {
    std::set<std::string> names;
    for (const auto& entry : std::filesystem::directory_iterator(options.path)) {
      names.insert(entry.path().filename().string());
    }
    return names;
  };
  const auto files_before = files();
  PLAN_OK(manager->rebuild_projections());
  CHECK_SAME_STATE(before, capture_state(*manager));
  CHECK(count_of(*manager, "total") == head_of(*manager));
  CHECK_FALSE(value_of(*manager, "gap").has_value());
  require_verified(*manager);
  CHECK(files() == files_before);  // the temporary files are gone
}

// Sessions of 3 KiB texts: the pages of their records would ask for more
// passes than the runs do (a page estimate counts every field and the
// B-tree's slack as text), so the rebuild counts the texts themselves to size
// its passes. Whatever it chooses, the result is the live store.
TEST_CASE("a rebuild whose passes are sized by the sessions' texts equals the live store",
          "[recovery][rebuild]") {
  TempDir dir;
  ManualClock clock;
  Options options = test_options(dir, &clock);
  options.rebuild_memory_bytes = 64 << 10;
  auto manager = open_store(options);
  for (int s = 0; s < 24; ++s) {
    const std::string text(3000, static_cast<char>('a' + s % 26));
    const std::string id =
        PLAN_OK(manager->create({.title = "big " + std::to_string(s), .initial_content = text})).id;
    for (int v = 0; v < 3; ++v) {
      clock.advance(1s);
      UpdateRequest update;
      update.content = text + "\nedit " + std::to_string(v);
      PLAN_OK(manager->update(id, update));
    }
  }
  const StoreState before = capture_state(*manager);
  PLAN_OK(manager->rebuild_projections());
  CHECK_SAME_STATE(before, capture_state(*manager));
  require_verified(*manager);
}

TEST_CASE("a rebuild whose map fills up midway starts over on a larger map and completes",
          "[recovery][rebuild][map]") {
  TempDir dir;
  ManualClock clock;
  Options options = test_options(dir, &clock);
  options.replay_batch_events = 8;
  auto padder = std::make_shared<Padder>();
  StoreState before;
  std::uint64_t head = 0;
  {
    auto manager = open_store(options);
    PLAN_OK(manager->register_projection(padder));
    populate(*manager, clock, 40);
    before = capture_state(*manager);
    head = head_of(*manager);
  }
  // Reopened with a map no larger than the file, the new slot cannot fit
  // without growing it; the padder writes in the replay transactions, which
  // cannot be redone alone, so the rebuild starts over.
  options.initial_map_size = 64 << 10;
  auto manager = open_store(options);
  PLAN_OK(manager->register_projection(padder));
  const std::uint64_t map_before = PLAN_OK(manager->info()).map_size;
  padder->applied = 0;
  PLAN_OK(manager->rebuild_projections());
  CHECK(padder->applied > head);
  CHECK(PLAN_OK(manager->info()).map_size > map_before);
  CHECK_SAME_STATE(before, capture_state(*manager));
  CHECK(PLAN_OK(manager->projection_value("padder", "e" + std::to_string(head))) ==
        std::string(3000, 'p'));
  require_verified(*manager);
}

TEST_CASE("a rebuild stops when another process takes its slot over, and the old projections stay",
          "[recovery][rebuild]") {
  TempDir dir;
  ManualClock clock;
  Options options = test_options(dir, &clock);
  options.replay_batch_events = 16;
  auto manager = open_store(options);
  populate(*manager, clock, 30);
  const StoreState before = capture_state(*manager);
  // Slot 0 is in force in a store never rebuilt: the rebuild fills slot 1.
  const std::string checkpoints = detail::slot_name("checkpoints", 1);
  int child_status = -1;
  auto rebuilt = manager->rebuild_projections([&](std::uint64_t, std::uint64_t) {
    if (child_status != -1) return;
    // Another process marks the slot as its own, as a second rebuild does.
    const pid_t pid = fork();
    if (pid == 0) {
      const std::string err = raw::with_txn(options.path, true, [&](MDB_txn* txn) -> std::string {
        MDB_dbi dbi;
        if (auto e = raw::open_dbi(txn, checkpoints, dbi); !e.empty()) return e;
        MDB_val key = raw::val("~rebuild"), value = raw::val("another rebuild");
        return mdb_put(txn, dbi, &key, &value, 0) == 0 ? "" : "mdb_put failed";
      });
      if (!err.empty()) std::fprintf(stderr, "child: %s\n", err.c_str());
      _exit(err.empty() ? 0 : 1);
    }
    waitpid(pid, &child_status, 0);
  });
  REQUIRE(WIFEXITED(child_status));
  REQUIRE(WEXITSTATUS(child_status) == 0);
  REQUIRE_FALSE(rebuilt.has_value());
  CHECK(rebuilt.error().code == ErrorCode::storage);
  CHECK_THAT(rebuilt.error().message, Catch::Matchers::Contains("another process"));
  CHECK_SAME_STATE(before, capture_state(*manager));
  require_verified(*manager);

  PLAN_OK(manager->rebuild_projections());  // a new rebuild takes the slot back
  CHECK_SAME_STATE(before, capture_state(*manager));
  require_verified(*manager);
}
