// Nodes of a shared log (Options::shared_log; docs/SCALING.md): several stores,
// one log in a real PostgreSQL server. Each node reads its own writes, follows
// the others', converges to the same head and projections, and never merges a
// replica that disagrees with the shared log.
#include <libpq-fe.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <csignal>
#include <cstdio>
#include <fstream>
#include <map>
#include <random>
#include <sstream>
#include <thread>

#include <fmt/format.h>
#include <catch2/catch.hpp>

#include "support/pg_cluster.hpp"
#include "support/test_helpers.hpp"

using namespace planning;
using planning::test::TempDir;

namespace {

Options node_options(const TempDir& dir, const std::string& shared_log,
                     std::string name = "store") {
  Options options;
  options.path = dir.path() / name;
  options.shared_log = shared_log;
  options.initial_map_size = std::size_t{1} << 20;  // small: exercises map growth
  return options;
}

std::unique_ptr<SessionManager> open_node(const Options& options) {
  auto node = SessionManager::open(options);
  INFO((node ? std::string() : node.error().message));
  REQUIRE(node.has_value());
  return std::move(*node);
}

// Two nodes of a fresh shared log: stores "a" and "b".
struct TwoNodes {
  std::string db = test::process_cluster().create_database();
  TempDir dir;
  std::unique_ptr<SessionManager> a = open_node(node_options(dir, db, "a"));
  std::unique_ptr<SessionManager> b = open_node(node_options(dir, db, "b"));
};

CreateRequest titled(std::string title) {
  CreateRequest request;
  request.title = std::move(title);
  request.initial_content = "# plan\n";
  return request;
}

// Waits (up to 20 s) until `node` has applied the shared log up to `sequence`.
bool reaches(SessionManager& node, std::uint64_t sequence) {
  for (int i = 0; i < 400; ++i) {
    auto info = node.info();
    if (info && info->head_sequence >= sequence) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return false;
}

void same_state(SessionManager& a, SessionManager& b) {
  auto ia = a.info();
  auto ib = b.info();
  REQUIRE(ia.has_value());
  REQUIRE(ib.has_value());
  CHECK(ia->head_sequence == ib->head_sequence);
  CHECK(ia->head_hash == ib->head_hash);
  auto la = a.list();
  auto lb = b.list();
  REQUIRE(la.has_value());
  REQUIRE(lb.has_value());
  REQUIRE(la->size() == lb->size());
  for (std::size_t i = 0; i < la->size(); ++i) {
    CHECK((*la)[i].id == (*lb)[i].id);
    CHECK((*la)[i].stream_version == (*lb)[i].stream_version);
    CHECK((*la)[i].content == (*lb)[i].content);
    CHECK((*la)[i].status == (*lb)[i].status);
  }
  auto va = a.verify();
  auto vb = b.verify();
  REQUIRE(va.has_value());
  REQUIRE(vb.has_value());
  CHECK(va->ok());
  CHECK(vb->ok());
}

}  // namespace

TEST_CASE("a node reads its own writes, and another node follows them, signals included") {
  PLANNING_REQUIRE_POSTGRES();
  TwoNodes nodes;
  auto& a = nodes.a;
  auto& b = nodes.b;
  std::atomic<int> seen_on_b{0};
  b->signals().any.connect([&](const Event&) { ++seen_on_b; });

  auto created = PLAN_OK(a->create(titled("shared plan")));
  auto read_back = a->get(created.id);  // read-your-writes on the writing node
  REQUIRE(read_back.has_value());
  UpdateRequest update;
  update.content = "# plan\n\nstep one\n";
  PLAN_OK(a->update(created.id, update));

  REQUIRE(reaches(*b, 2));
  auto on_b = PLAN_OK(b->get(created.id));
  CHECK(on_b.content == "# plan\n\nstep one\n");
  CHECK(on_b.stream_version == 2);
  for (int i = 0; i < 100 && seen_on_b.load() < 2; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  CHECK(seen_on_b.load() == 2);
  auto info = PLAN_OK(b->info());
  CHECK(info.shared_head_sequence == 2);
  CHECK(info.shared_log.find("dbname=") != std::string::npos);

  // B writes on top of A's events; A follows.
  update.content = "# plan\n\nstep one\nstep two\n";
  PLAN_OK(b->update(created.id, update));
  REQUIRE(reaches(*a, 3));
  same_state(*a, *b);
}

TEST_CASE(
    "two nodes writing one session at once: every write in once, in one order, none refused") {
  PLANNING_REQUIRE_POSTGRES();
  TwoNodes nodes;
  auto& a = nodes.a;
  auto& b = nodes.b;
  auto created = PLAN_OK(a->create(titled("contended")));
  // Both nodes write the same session at once, many times: the shared log
  // takes every write once, in one order, and each node's result is the state
  // its write produced.
  constexpr int kEach = 40;
  std::atomic<int> failures{0};
  auto writer = [&](SessionManager& node, std::string tag) {
    for (int i = 0; i < kEach; ++i) {
      UpdateRequest u;
      u.description = fmt::format("{} {}", tag, i);
      if (!node.update(created.id, u)) ++failures;
    }
  };
  std::thread ta(writer, std::ref(*a), "a");
  std::thread tb(writer, std::ref(*b), "b");
  ta.join();
  tb.join();
  CHECK(failures.load() == 0);
  const std::uint64_t head = 1 + 2 * kEach;
  REQUIRE(reaches(*a, head));
  REQUIRE(reaches(*b, head));
  auto final_a = PLAN_OK(a->get(created.id));
  CHECK(final_a.stream_version == head);
  same_state(*a, *b);
}

TEST_CASE("expected_stream_version across nodes: a stale one is conflict, never a lost update") {
  PLANNING_REQUIRE_POSTGRES();
  TwoNodes nodes;
  auto& a = nodes.a;
  auto& b = nodes.b;
  auto created = PLAN_OK(a->create(titled("guarded")));
  REQUIRE(reaches(*b, 1));
  UpdateRequest first;
  first.content = "from a\n";
  first.expected_stream_version = 1;
  PLAN_OK(a->update(created.id, first));
  // B has not necessarily followed yet: its decision against version 1 is
  // made again after catching up, and refused.
  UpdateRequest second;
  second.content = "from b\n";
  second.expected_stream_version = 1;
  auto refused = b->update(created.id, second);
  REQUIRE_FALSE(refused.has_value());
  CHECK(refused.error().code == ErrorCode::conflict);
  REQUIRE(reaches(*b, 2));
  CHECK(b->get(created.id)->content == "from a\n");
  same_state(*a, *b);
}

TEST_CASE("a node whose store was deleted is rebuilt from the shared log on open") {
  PLANNING_REQUIRE_POSTGRES();
  const std::string db = test::process_cluster().create_database();
  TempDir dir;
  std::string id;
  {
    auto a = open_node(node_options(dir, db, "a"));
    auto created = PLAN_OK(a->create(titled("kept in postgres")));
    id = created.id;
    UpdateRequest u;
    u.content = "second version\n";
    PLAN_OK(a->update(id, u));
  }
  std::filesystem::remove_all(dir.path() / "a");
  auto again = open_node(node_options(dir, db, "a"));
  auto session = PLAN_OK(again->get(id));
  CHECK(session.content == "second version\n");
  auto versions = PLAN_OK(again->get_versions(id));
  CHECK(versions.size() == 2);
  auto report = PLAN_OK(again->verify());
  CHECK(report.ok());
}

TEST_CASE("a replica missing events the shared log committed catches up on open") {
  // What a node killed after the PostgreSQL commit and before its LMDB commit
  // leaves: a local log that lacks a committed suffix.
  PLANNING_REQUIRE_POSTGRES();
  const std::string db = test::process_cluster().create_database();
  TempDir dir;
  std::string id;
  {
    auto a = open_node(node_options(dir, db, "a"));
    auto created = PLAN_OK(a->create(titled("one")));
    id = created.id;
  }
  std::filesystem::copy(dir.path() / "a", dir.path() / "older");  // the replica at event 1
  {
    auto a = open_node(node_options(dir, db, "a"));
    UpdateRequest u;
    u.content = "two\n";
    PLAN_OK(a->update(id, u));
    u.content = "three\n";
    PLAN_OK(a->update(id, u));
  }
  auto older = open_node(node_options(dir, db, "older"));
  auto session = PLAN_OK(older->get(id));
  CHECK(session.content == "three\n");
  CHECK(older->info()->head_sequence == 3);
  auto report = PLAN_OK(older->verify());
  CHECK(report.ok());
}

TEST_CASE("a frame or a hash edited by hand in the shared log is refused by a node") {
  PLANNING_REQUIRE_POSTGRES();
  const std::string db = test::process_cluster().create_database();
  TempDir dir;
  {
    auto a = open_node(node_options(dir, db, "a"));
    auto created = PLAN_OK(a->create(titled("audited")));
    UpdateRequest u;
    u.content = "edited by nobody\n";
    PLAN_OK(a->update(created.id, u));
  }
  // A byte of event 2's frame changed: its checksums fail when a node decodes it.
  PGconn* conn = PQconnectdb(db.c_str());
  REQUIRE(PQstatus(conn) == CONNECTION_OK);
  auto exec = [&](const char* sql) {
    PGresult* r = PQexec(conn, sql);
    INFO(PQresultErrorMessage(r));
    CHECK(PQresultStatus(r) == PGRES_COMMAND_OK);
    PQclear(r);
  };
  exec(
      "UPDATE planning_log_events SET frame = set_byte(frame, 90, (get_byte(frame, 90) + 1) % 256)"
      " WHERE sequence = 2");
  auto frame_edited = SessionManager::open(node_options(dir, db, "b"));
  REQUIRE_FALSE(frame_edited.has_value());
  CHECK(frame_edited.error().code == ErrorCode::corruption);
  CHECK_THAT(frame_edited.error().message, Catch::Contains("event 2"));

  // The frame restored but the hash column changed: it no longer matches the frame.
  exec(
      "UPDATE planning_log_events SET frame = set_byte(frame, 90, (get_byte(frame, 90) + 255) % "
      "256)"
      " WHERE sequence = 2");
  exec(
      "UPDATE planning_log_events SET hash = set_byte(hash, 0, (get_byte(hash, 0) + 1) % 256)"
      " WHERE sequence = 1");
  auto hash_edited = SessionManager::open(node_options(dir, db, "c"));
  REQUIRE_FALSE(hash_edited.has_value());
  CHECK(hash_edited.error().code == ErrorCode::corruption);
  CHECK_THAT(hash_edited.error().message, Catch::Contains("event 1"));
  PQfinish(conn);
}

TEST_CASE(
    "an export imported into a node goes to the shared log, and another node exports it "
    "byte for byte") {
  PLANNING_REQUIRE_POSTGRES();
  const std::string db = test::process_cluster().create_database();
  TempDir dir;
  std::ostringstream exported;
  {
    Options embedded;
    embedded.path = dir.path() / "embedded";
    auto store = open_node(embedded);
    auto created = PLAN_OK(store->create(titled("exported")));
    UpdateRequest u;
    u.content = "moved by export\n";
    PLAN_OK(store->update(created.id, u));
    PLAN_OK(store->export_events(exported));
  }
  auto a = open_node(node_options(dir, db, "a"));
  std::istringstream in(exported.str());
  auto imported = a->import_events(in);
  INFO((imported ? std::string() : imported.error().message));
  REQUIRE(imported.has_value());
  CHECK(*imported == 2);
  auto b = open_node(node_options(dir, db, "b"));
  std::ostringstream again;
  PLAN_OK(b->export_events(again));
  CHECK(again.str() == exported.str());
  same_state(*a, *b);
}

TEST_CASE("a replica that disagrees with the shared log is refused, naming the first sequence") {
  PLANNING_REQUIRE_POSTGRES();
  const std::string db = test::process_cluster().create_database();
  const std::string other_db = test::process_cluster().create_database();
  TempDir dir;
  {
    auto a = open_node(node_options(dir, db, "a"));
    PLAN_OK(a->create(titled("one")));
    PLAN_OK(a->create(titled("two")));
  }
  {
    auto elsewhere = open_node(node_options(dir, other_db, "b"));
    PLAN_OK(elsewhere->create(titled("one")));
  }
  // Store b's log (1 event) against db's (2 events): they differ at event 1.
  auto refused = SessionManager::open(node_options(dir, db, "b"));
  REQUIRE_FALSE(refused.has_value());
  CHECK(refused.error().code == ErrorCode::corruption);
  CHECK_THAT(refused.error().message, Catch::Contains("from sequence 1 on"));

  // An embedded store with events is not silently put onto an empty shared log.
  const std::string empty_db = test::process_cluster().create_database();
  auto not_moved = SessionManager::open(node_options(dir, empty_db, "a"));
  REQUIRE_FALSE(not_moved.has_value());
  CHECK(not_moved.error().code == ErrorCode::invalid_state);
  CHECK_THAT(not_moved.error().message, Catch::Contains("planctl share"));
}

TEST_CASE("with PostgreSQL down a write fails with storage and appends nothing, and reads go on") {
  PLANNING_REQUIRE_POSTGRES();
  const std::string db = test::process_cluster().create_database();
  TempDir dir;
  auto a = open_node(node_options(dir, db, "a"));
  auto created = PLAN_OK(a->create(titled("survives")));

  test::process_cluster().stop(/*immediate=*/true);
  UpdateRequest u;
  u.content = "while down\n";
  auto down = a->update(created.id, u);
  REQUIRE_FALSE(down.has_value());
  CHECK(down.error().code == ErrorCode::storage);
  auto read = a->get(created.id);  // the local replica still serves reads
  REQUIRE(read.has_value());
  CHECK(read->stream_version == 1);
  CHECK(a->info()->head_sequence == 1);

  test::process_cluster().start();
  auto after = a->update(created.id, u);
  INFO((after ? std::string() : after.error().message));
  REQUIRE(after.has_value());
  CHECK(after->stream_version == 2);
  TempDir other;
  auto b = open_node(node_options(other, db, "b"));
  same_state(*a, *b);
}

TEST_CASE("a malformed shared_log is invalid_argument and an unreachable one storage, at open") {
  TempDir dir;
  auto malformed = SessionManager::open(node_options(dir, "not a connection string"));
  REQUIRE_FALSE(malformed.has_value());
  CHECK(malformed.error().code == ErrorCode::invalid_argument);
  TempDir nowhere;
  auto unreachable = SessionManager::open(node_options(
      dir, fmt::format("host={} dbname=x connect_timeout=2", nowhere.path().string())));
  REQUIRE_FALSE(unreachable.has_value());
  CHECK(unreachable.error().code == ErrorCode::storage);
}

// --- Three node processes, four writers each ------------------------------------

namespace {

// One acknowledged update, as its writer saw it.
struct Ack {
  std::string session;
  std::string token;
  std::uint32_t stream_version = 0;  // the state it returned
};

// A node process: 4 writer threads update the 50 sessions until `deadline`
// (half with expected_stream_version), appending one line per acknowledged
// update to `acks`; then waits until it has applied the whole shared log (the
// head the parent writes into `stop`) and writes its head and whether verify()
// passed to `final_file`. Exits 0, or 1 when it could not open.
[[noreturn]] void run_node(const Options& options, const std::vector<std::string>& sessions,
                           const std::filesystem::path& acks,
                           const std::filesystem::path& final_file,
                           std::chrono::steady_clock::time_point deadline, int node) {
  auto opened = SessionManager::open(options);
  for (int i = 0; !opened && i < 100; ++i) {  // PostgreSQL may be restarting
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    opened = SessionManager::open(options);
  }
  if (!opened) _exit(1);
  SessionManager& store = **opened;
  std::mutex ack_mutex;
  std::FILE* out = std::fopen(acks.c_str(), "a");
  if (out == nullptr) _exit(1);
  std::vector<std::thread> writers;
  for (int t = 0; t < 4; ++t) {
    writers.emplace_back([&, t] {
      std::mt19937 rng(static_cast<unsigned>(node * 100 + t + ::getpid()));
      for (int n = 0; std::chrono::steady_clock::now() < deadline; ++n) {
        const std::string& id = sessions[rng() % sessions.size()];
        UpdateRequest u;
        u.content = fmt::format("p{}-t{}-n{}\n", ::getpid(), t, n);
        if (n % 2 == 0) {
          auto current = store.get(id);
          if (!current) continue;
          u.expected_stream_version = current->stream_version;
        }
        auto done = store.update(id, u);
        if (!done) continue;  // conflict (stale version) or storage (server away)
        if (u.expected_stream_version && done->stream_version != *u.expected_stream_version + 1) {
          _exit(3);  // applied on top of another version than expected: a lost update
        }
        std::lock_guard lock(ack_mutex);
        std::fprintf(out, "%s %s %u\n", id.c_str(),
                     u.content->substr(0, u.content->size() - 1).c_str(), done->stream_version);
        std::fflush(out);
      }
    });
  }
  for (auto& w : writers) w.join();
  std::fclose(out);
  // Every node's writers are done once the parent creates `stop`, which holds
  // the shared log's final head; then converge: the local head reaches it.
  // (info().shared_head_sequence is the highest head this node has seen, which
  // may not yet include the other nodes' last appends.)
  std::ofstream(final_file.string() + ".writers-done").put('\n');
  const auto stop = final_file.parent_path() / "stop";
  while (!std::filesystem::exists(stop)) std::this_thread::sleep_for(std::chrono::milliseconds(20));
  std::uint64_t final_head = 0;
  std::ifstream(stop) >> final_head;
  for (int i = 0; i < 600; ++i) {
    auto info = store.info();
    if (info && info->head_sequence >= final_head) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  auto info = store.info();
  auto report = store.verify();  // this node's projections equal a fresh replay of its log
  std::FILE* fin = std::fopen(final_file.c_str(), "w");
  if (!info || !report || fin == nullptr) _exit(1);
  std::fprintf(fin, "%llu %s %s\n", static_cast<unsigned long long>(info->head_sequence),
               to_hex(info->head_hash).c_str(), report->ok() ? "verified" : "mismatch");
  std::fclose(fin);
  _exit(0);
}

pid_t start_node(const Options& options, const std::vector<std::string>& sessions,
                 const std::filesystem::path& acks, const std::filesystem::path& final_file,
                 std::chrono::steady_clock::time_point deadline, int node) {
  const pid_t pid = ::fork();
  if (pid == 0) run_node(options, sessions, acks, final_file, deadline, node);
  return pid;
}

int wait_exit(pid_t pid) {
  int status = 0;
  ::waitpid(pid, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

void run_three_nodes(std::chrono::seconds length, int kills) {
  const std::string db = test::process_cluster().create_database();
  TempDir dir;
  std::vector<std::string> sessions;
  {
    auto seed = open_node(node_options(dir, db, "seed"));
    for (int i = 0; i < 50; ++i) {
      auto created = PLAN_OK(seed->create(titled(fmt::format("session {}", i))));
      sessions.push_back(created.id);
    }
  }
  const auto deadline = std::chrono::steady_clock::now() + length;
  std::vector<Options> options;
  std::vector<pid_t> pids;
  for (int n = 0; n < 3; ++n) {
    options.push_back(node_options(dir, db, fmt::format("node{}", n)));
    pids.push_back(start_node(options[n], sessions, dir.path() / fmt::format("acks{}", n),
                              dir.path() / fmt::format("final{}", n), deadline, n));
  }
  // Faults while they write: SIGKILL of random nodes (restarted on the same
  // store) and, halfway, an immediate stop of PostgreSQL (a crash) for a second.
  std::mt19937 rng(12345);
  const auto step = length / (kills + 2);
  for (int k = 0; k < kills; ++k) {
    std::this_thread::sleep_for(step);
    const int n = static_cast<int>(rng() % 3);
    ::kill(pids[n], SIGKILL);
    wait_exit(pids[n]);
    pids[n] = start_node(options[n], sessions, dir.path() / fmt::format("acks{}", n),
                         dir.path() / fmt::format("final{}", n), deadline, n);
    if (k == kills / 2) {
      test::process_cluster().stop(/*immediate=*/true);
      std::this_thread::sleep_for(std::chrono::seconds(1));
      test::process_cluster().start();
    }
  }
  // Once every node's writers are done, the nodes converge and report.
  for (int n = 0; n < 3; ++n) {
    const auto done = dir.path() / fmt::format("final{}.writers-done", n);
    for (int i = 0; i < 6000 && !std::filesystem::exists(done); ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
  }
  // The shared log's final head: a node opened now catches up to it. Written
  // whole before `stop` appears (renamed into place).
  {
    auto seed = open_node(node_options(dir, db, "seed"));
    std::ofstream(dir.path() / "stop.tmp") << PLAN_OK(seed->info()).head_sequence << '\n';
  }
  std::filesystem::rename(dir.path() / "stop.tmp", dir.path() / "stop");
  for (int n = 0; n < 3; ++n) CHECK(wait_exit(pids[n]) == 0);

  // A fresh node replays the shared log; every node ended at its head.
  auto judge = open_node(node_options(dir, db, "judge"));
  auto info = PLAN_OK(judge->info());
  for (int n = 0; n < 3; ++n) {
    std::ifstream in(dir.path() / fmt::format("final{}", n));
    std::uint64_t head = 0;
    std::string hash, verified;
    in >> head >> hash >> verified;
    CHECK(head == info.head_sequence);
    CHECK(hash == to_hex(info.head_hash));
    CHECK(verified == "verified");
  }
  // Every acknowledged update is in the log exactly once, at the stream version
  // its writer was told.
  std::map<std::string, std::vector<std::pair<std::string, std::uint32_t>>>
      tokens;  // token -> (session, version)
  for (const auto& id : sessions) {
    auto versions = PLAN_OK(judge->get_versions(id));
    for (const auto& v : versions) {
      if (v.content.rfind("p", 0) == 0) {
        tokens[v.content.substr(0, v.content.size() - 1)].push_back({id, v.version_number});
      }
    }
  }
  std::size_t acked = 0;
  for (int n = 0; n < 3; ++n) {
    std::ifstream in(dir.path() / fmt::format("acks{}", n));
    std::string session, token;
    std::uint32_t version = 0;
    while (in >> session >> token >> version) {
      ++acked;
      auto found = tokens.find(token);
      REQUIRE(found != tokens.end());
      CHECK(found->second.size() == 1);
      CHECK(found->second.front().first == session);
      CHECK(found->second.front().second == version);  // every update here makes a version
    }
  }
  for (const auto& [token, places] : tokens) CHECK(places.size() == 1);  // never twice
  INFO("acknowledged updates: " << acked << ", events: " << info.head_sequence);
  CHECK(acked > 0);
  auto report = PLAN_OK(judge->verify());
  CHECK(report.ok());
}

}  // namespace

TEST_CASE("three node processes of four writers, SIGKILLs and a PostgreSQL crash: nothing lost") {
  PLANNING_REQUIRE_POSTGRES();
  run_three_nodes(std::chrono::seconds(6), 2);
}

TEST_CASE("three node processes of four writers for 20 s, 6 SIGKILLs and a PostgreSQL crash",
          "[slow]") {
  PLANNING_REQUIRE_POSTGRES();
  run_three_nodes(std::chrono::seconds(20), 6);
}
