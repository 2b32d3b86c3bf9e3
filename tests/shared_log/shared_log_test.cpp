// The shared log's store in PostgreSQL: schema, gapless appends under the head
// lock, refusals that append nothing, wake-ups, tampering and a restarting
// server (events/src/shared_log.hpp; docs/FORMAT.md §9).
#include <libpq-fe.h>

#include <thread>

#include <fmt/format.h>
#include <catch2/catch.hpp>

#include "events/src/hashing.hpp"
#include "events/src/shared_log.hpp"
#include "support/pg_cluster.hpp"
#include "support/test_helpers.hpp"

using namespace planning;
using planning::detail::LogHead;
using planning::detail::SharedEvent;
using planning::detail::SharedLog;

namespace {

std::unique_ptr<SharedLog> open_log(const std::string& conninfo) {
  auto log = SharedLog::open(conninfo);
  INFO((log ? std::string() : log.error().message));
  REQUIRE(log.has_value());
  return std::move(*log);
}

SharedEvent event(std::uint64_t sequence, std::string session, std::uint32_t stream_version) {
  SharedEvent e;
  e.sequence = sequence;
  e.session_id = std::move(session);
  e.stream_version = stream_version;
  e.type = "SessionUpdated";
  e.frame = fmt::format("frame {} of {}", sequence, e.session_id);
  e.hash = detail::sha256(e.frame);
  return e;
}

LogHead head_of(const SharedEvent& e) { return LogHead{e.sequence, e.hash}; }

// Runs one SQL statement directly, as an operator editing a table would.
void sql(const std::string& conninfo, const std::string& statement) {
  PGconn* conn = PQconnectdb(conninfo.c_str());
  REQUIRE(PQstatus(conn) == CONNECTION_OK);
  PGresult* result = PQexec(conn, statement.c_str());
  const auto status = PQresultStatus(result);
  INFO(PQresultErrorMessage(result));
  CHECK((status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK));
  PQclear(result);
  PQfinish(conn);
}

}  // namespace

TEST_CASE("a new database gets the shared log's schema, empty, and opening it again finds it") {
  PLANNING_REQUIRE_POSTGRES();
  const std::string db = test::process_cluster().create_database();
  auto first = open_log(db);
  auto head = first->head();
  REQUIRE(head.has_value());
  CHECK(head->sequence == 0);
  CHECK(head->hash == Hash256{});
  auto again = open_log(db);
  REQUIRE(again->head().has_value());
  CHECK(again->head()->sequence == 0);
  CHECK(first->name().find("dbname=") != std::string::npos);
}

TEST_CASE("appends are gapless and read back in order, with every column") {
  PLANNING_REQUIRE_POSTGRES();
  auto log = open_log(test::process_cluster().create_database());
  std::vector<SharedEvent> batch = {event(1, "s-a", 1), event(2, "s-b", 1), event(3, "s-a", 2)};
  auto appended = log->append(LogHead{}, batch);
  REQUIRE(appended.has_value());
  CHECK(appended->appended);
  CHECK(appended->head.sequence == 3);
  CHECK(appended->head.hash == batch[2].hash);
  CHECK(log->head()->sequence == 3);
  CHECK(log->head()->hash == batch[2].hash);

  auto all = log->read(0, 100);
  REQUIRE(all.has_value());
  REQUIRE(all->size() == 3);
  for (std::size_t i = 0; i < 3; ++i) {
    CHECK((*all)[i].sequence == batch[i].sequence);
    CHECK((*all)[i].session_id == batch[i].session_id);
    CHECK((*all)[i].stream_version == batch[i].stream_version);
    CHECK((*all)[i].type == batch[i].type);
    CHECK((*all)[i].hash == batch[i].hash);
    CHECK((*all)[i].frame == batch[i].frame);
  }
  auto middle = log->read(1, 1);
  REQUIRE(middle.has_value());
  REQUIRE(middle->size() == 1);
  CHECK(middle->front().sequence == 2);
  CHECK(log->read(3, 10)->empty());

  // A batch larger than one INSERT statement holds (1,000 rows each).
  std::vector<SharedEvent> big;
  for (std::uint64_t s = 4; s <= 2503; ++s) big.push_back(event(s, fmt::format("big-{}", s), 1));
  auto second = log->append(head_of(batch.back()), big);
  REQUIRE(second.has_value());
  CHECK(second->appended);
  CHECK(log->head()->sequence == 2503);
  CHECK(log->read(0, 5000)->size() == 2503);
}

TEST_CASE("an append decided against an old head is refused and appends nothing") {
  PLANNING_REQUIRE_POSTGRES();
  const std::string db = test::process_cluster().create_database();
  auto node_a = open_log(db);
  auto node_b = open_log(db);
  const SharedEvent a1 = event(1, "s", 1);
  const SharedEvent a2 = event(2, "s", 2);
  REQUIRE(node_a->append(LogHead{}, std::vector{a1, a2})->appended);

  // Node B decided against the empty log: it is told the head to catch up to.
  auto refused = node_b->append(LogHead{}, std::vector{event(1, "t", 1)});
  REQUIRE(refused.has_value());
  CHECK_FALSE(refused->appended);
  CHECK(refused->head.sequence == 2);
  CHECK(refused->head.hash == a2.hash);
  auto all = node_b->read(0, 10);
  REQUIRE(all->size() == 2);
  CHECK((*all)[0].session_id == "s");

  // Decided again against the head it was told, it goes in.
  auto retried = node_b->append(refused->head, std::vector{event(3, "t", 1)});
  REQUIRE(retried.has_value());
  CHECK(retried->appended);
  CHECK(node_a->head()->sequence == 3);
}

TEST_CASE("a head of the same sequence but another hash is corruption: the logs diverged") {
  PLANNING_REQUIRE_POSTGRES();
  auto log = open_log(test::process_cluster().create_database());
  REQUIRE(log->append(LogHead{}, std::vector{event(1, "s", 1)})->appended);
  const SharedEvent other = event(1, "elsewhere", 1);
  auto diverged = log->append(head_of(other), std::vector{event(2, "s", 2)});
  REQUIRE_FALSE(diverged.has_value());
  CHECK(diverged.error().code == ErrorCode::corruption);
  CHECK_THAT(diverged.error().message, Catch::Contains("diverged"));
  CHECK(log->head()->sequence == 1);
}

TEST_CASE("a stream version stored already is a conflict, and the whole append rolls back") {
  PLANNING_REQUIRE_POSTGRES();
  auto log = open_log(test::process_cluster().create_database());
  const SharedEvent first = event(1, "s", 1);
  REQUIRE(log->append(LogHead{}, std::vector{first})->appended);
  auto twice = log->append(head_of(first), std::vector{event(2, "t", 1), event(3, "s", 1)});
  REQUIRE_FALSE(twice.has_value());
  CHECK(twice.error().code == ErrorCode::conflict);
  CHECK_THAT(twice.error().message, Catch::Contains("planning_log_events"));
  CHECK(log->head()->sequence == 1);
  CHECK(log->read(0, 10)->size() == 1);
  // The connection is usable after the refusal.
  CHECK(log->append(head_of(first), std::vector{event(2, "t", 1)})->appended);
}

TEST_CASE("appenders on four connections: every event once, sequences gapless, chain of heads") {
  PLANNING_REQUIRE_POSTGRES();
  const std::string db = test::process_cluster().create_database();
  constexpr int kThreads = 4;
  constexpr int kEach = 40;
  std::vector<std::thread> threads;
  std::atomic<int> refusals{0};
  std::vector<std::string> errors(kThreads);
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      auto opened = SharedLog::open(db);
      if (!opened) {
        errors[t] = opened.error().message;
        return;
      }
      SharedLog& log = **opened;
      for (int i = 0; i < kEach;) {
        auto head = log.head();
        if (!head) {
          errors[t] = head.error().message;
          return;
        }
        auto done = log.append(
            *head, std::vector{event(head->sequence + 1, fmt::format("t{}-{}", t, i), 1)});
        if (!done) {
          errors[t] = done.error().message;
          return;
        }
        if (done->appended) {
          ++i;
        } else {
          ++refusals;
        }
      }
    });
  }
  for (auto& thread : threads) thread.join();
  for (const auto& e : errors) CHECK(e.empty());
  auto log = open_log(db);
  auto all = log->read(0, 1000);
  REQUIRE(all.has_value());
  REQUIRE(all->size() == kThreads * kEach);
  std::set<std::string> sessions;
  for (std::size_t i = 0; i < all->size(); ++i) {
    CHECK((*all)[i].sequence == i + 1);
    sessions.insert((*all)[i].session_id);
  }
  CHECK(sessions.size() == static_cast<std::size_t>(kThreads * kEach));
  CHECK(log->head()->sequence == kThreads * kEach);
  INFO("refused appends (decided against an old head): " << refusals.load());
  CHECK(refusals.load() >= 0);
}

TEST_CASE("a listener is woken when another connection appends, not before") {
  PLANNING_REQUIRE_POSTGRES();
  const std::string db = test::process_cluster().create_database();
  auto writer = open_log(db);
  auto follower = open_log(db);
  auto quiet = follower->wait_for_append(std::chrono::milliseconds(50));  // subscribes
  REQUIRE(quiet.has_value());
  CHECK_FALSE(*quiet);
  REQUIRE(writer->append(LogHead{}, std::vector{event(1, "s", 1)})->appended);
  auto woken = follower->wait_for_append(std::chrono::seconds(10));
  REQUIRE(woken.has_value());
  CHECK(*woken);
  auto after = follower->wait_for_append(std::chrono::milliseconds(50));
  REQUIRE(after.has_value());
  CHECK_FALSE(*after);
}

TEST_CASE("a malformed connection string is invalid_argument, and no server is storage") {
  auto malformed = SharedLog::open("this is not a connection string");
  REQUIRE_FALSE(malformed.has_value());
  CHECK(malformed.error().code == ErrorCode::invalid_argument);
  CHECK_THAT(malformed.error().message, Catch::Contains("connection string"));

  test::TempDir empty;  // a socket directory where no server listens
  auto unreachable = SharedLog::open(fmt::format(
      "host={} dbname=x user=planning password=secret connect_timeout=2", empty.path().string()));
  REQUIRE_FALSE(unreachable.has_value());
  CHECK(unreachable.error().code == ErrorCode::storage);
  CHECK_THAT(unreachable.error().message, Catch::Contains("cannot connect"));
  CHECK_THAT(unreachable.error().message, !Catch::Contains("secret"));
}

TEST_CASE("a shared log of another schema version is refused with corruption, untouched") {
  PLANNING_REQUIRE_POSTGRES();
  const std::string db = test::process_cluster().create_database();
  open_log(db);
  sql(db, "UPDATE planning_log_meta SET value = '2' WHERE key = 'schema_version'");
  auto refused = SharedLog::open(db);
  REQUIRE_FALSE(refused.has_value());
  CHECK(refused.error().code == ErrorCode::corruption);
  CHECK_THAT(refused.error().message, Catch::Contains("schema version 2"));
}

TEST_CASE("rows removed by hand are caught: a missing last event or a gap is corruption") {
  PLANNING_REQUIRE_POSTGRES();
  const std::string db = test::process_cluster().create_database();
  auto log = open_log(db);
  std::vector<SharedEvent> batch = {event(1, "s", 1), event(2, "s", 2), event(3, "s", 3)};
  REQUIRE(log->append(LogHead{}, batch)->appended);

  sql(db, "DELETE FROM planning_log_events WHERE sequence = 2");
  auto gap = log->read(0, 10);
  REQUIRE_FALSE(gap.has_value());
  CHECK(gap.error().code == ErrorCode::corruption);
  CHECK_THAT(gap.error().message, Catch::Contains("event 2 is missing"));

  sql(db, "DELETE FROM planning_log_events WHERE sequence = 3");
  auto head = log->head();
  REQUIRE_FALSE(head.has_value());
  CHECK(head.error().code == ErrorCode::corruption);
  CHECK_THAT(head.error().message,
             Catch::Contains("says sequence 3 but the last stored event is 1"));
}

TEST_CASE(
    "while the server is down calls fail with storage, and they reconnect by themselves after") {
  PLANNING_REQUIRE_POSTGRES();
  const std::string db = test::process_cluster().create_database();
  auto log = open_log(db);
  REQUIRE(log->append(LogHead{}, std::vector{event(1, "s", 1)})->appended);
  REQUIRE(log->wait_for_append(std::chrono::milliseconds(10)).has_value());  // subscribes

  test::process_cluster().stop(/*immediate=*/true);
  auto down =
      log->append(LogHead{1, detail::sha256("frame 1 of s")}, std::vector{event(2, "s", 2)});
  REQUIRE_FALSE(down.has_value());
  CHECK(down.error().code == ErrorCode::storage);
  auto head_down = log->head();
  REQUIRE_FALSE(head_down.has_value());
  CHECK(head_down.error().code == ErrorCode::storage);

  test::process_cluster().start();
  auto head = log->head();
  INFO((head ? std::string() : head.error().message));
  REQUIRE(head.has_value());
  CHECK(head->sequence == 1);  // nothing of the failed append
  // Wake-ups sent while it was away are lost: the first wait says "read again".
  auto woken = log->wait_for_append(std::chrono::milliseconds(10));
  REQUIRE(woken.has_value());
  CHECK(*woken);
  CHECK(log->append(*head, std::vector{event(2, "s", 2)})->appended);
}
