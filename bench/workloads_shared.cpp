// Workload 9: shared mode (docs/SCALING.md) against one PostgreSQL server this
// program starts for the run (tests/support/pg_server.hpp: a Unix socket in a
// temporary directory, fsync on, so PostgreSQL commits are as durable as the
// stores'). Rows: durable single updates with 1, 2 and 3 nodes (one writer
// thread each, each on sessions of its own, 1 KiB content) against the same
// work straight into PostgreSQL — one INSERT of a 1 KiB frame per transaction
// from one client; the follow lag from one node's commit to another node's
// signal; and a new node's catch-up rate against the embedded rebuild rate of
// the same log.
#include <libpq-fe.h>
#include <stdlib.h>

#include <algorithm>
#include <atomic>
#include <mutex>
#include <thread>
#include <unordered_map>

#include <fmt/format.h>

#include "bench/workloads.hpp"
#include "support/pg_server.hpp"

namespace bench {

namespace {

using planning::test::PgServer;

// Updates of 1 KiB content for `seconds` by `nodes` nodes, one writer thread
// each; returns all nodes' updates per second.
double node_updates(const std::vector<planning::SessionManager*>& nodes, double seconds) {
  std::atomic<std::size_t> done{0};
  std::vector<std::thread> writers;
  const auto start = SteadyClock::now();
  for (std::size_t n = 0; n < nodes.size(); ++n) {
    writers.emplace_back([&, n] {
      planning::SessionManager& node = *nodes[n];
      ContentPool pool(1024, 101);
      planning::CreateRequest create;
      create.title = fmt::format("node {}", n);
      const std::string id = must(node.create(create), "create").id;
      while (seconds_since(start) < seconds) {
        planning::UpdateRequest u;
        u.content = pool.next();
        must(node.update(id, u), "update");
        ++done;
      }
    });
  }
  for (auto& w : writers) w.join();
  return static_cast<double>(done.load()) / seconds_since(start);
}

// The same work straight into PostgreSQL: one 1 KiB row per transaction.
double postgres_inserts(const std::string& conninfo, double seconds) {
  PGconn* conn = PQconnectdb(conninfo.c_str());
  if (PQstatus(conn) != CONNECTION_OK) die(std::string("baseline: ") + PQerrorMessage(conn));
  PQclear(PQexec(conn,
                 "CREATE TABLE events (sequence bigint PRIMARY KEY, session_id text NOT NULL,"
                 " stream_version integer NOT NULL, type text NOT NULL, hash bytea NOT NULL,"
                 " frame bytea NOT NULL, UNIQUE (session_id, stream_version))"));
  ContentPool pool(1024, 101);
  const std::string hash(32, 'h');
  std::size_t done = 0;
  const auto start = SteadyClock::now();
  while (seconds_since(start) < seconds) {
    ++done;
    const std::string seq = std::to_string(done);
    const char* values[] = {seq.c_str(),      "session",   seq.c_str(),
                            "SessionUpdated", hash.data(), pool.next().data()};
    const int lengths[] = {0, 0, 0, 0, 32, 1024};
    const int formats[] = {0, 0, 0, 0, 1, 1};
    PGresult* r =
        PQexecParams(conn, "INSERT INTO events VALUES ($1::bigint, $2, $3::integer, $4, $5, $6)", 6,
                     nullptr, values, lengths, formats, 0);
    if (PQresultStatus(r) != PGRES_COMMAND_OK)
      die(std::string("baseline: ") + PQerrorMessage(conn));
    PQclear(r);
  }
  const double rate = static_cast<double>(done) / seconds_since(start);
  PQfinish(conn);
  return rate;
}

planning::Options node_options(const std::filesystem::path& path, const std::string& shared_log) {
  planning::Options options = store_options(path);
  options.shared_log = shared_log;
  return options;
}

}  // namespace

void shared_log(RunState& state) {
  const Config& c = state.config;
  if (auto why = PgServer::unavailable()) {
    progress("workload 9 not run: " + *why);
    state.report.add({.workload = "9. shared mode (PostgreSQL)",
                      .ours = "not run: " + *why,
                      .goal = "—",
                      .met = std::nullopt});
    return;
  }
  TempStore dir(c, "shared");
  // The server's directory sits directly in the system temp dir: the server
  // runs as another user (as root: postgres), who cannot enter the bench's
  // private directory.
  std::string pg_dir =
      (std::filesystem::temp_directory_path() / "planning-bench-pg-XXXXXX").string();
  if (::mkdtemp(pg_dir.data()) == nullptr) die("workload 9: mkdtemp failed");
  struct RemoveDir {
    std::filesystem::path path;
    ~RemoveDir() {
      std::error_code ec;
      std::filesystem::remove_all(path, ec);
    }
  } remove_pg_dir{pg_dir};
  PgServer server(pg_dir);
  if (auto e = server.init(/*durable=*/true); !e.empty()) die("workload 9: " + e);
  if (auto e = server.start(); !e.empty()) die("workload 9: " + e);
  const double seconds = c.scale == "full" ? 20.0 : 4.0;

  // Appends with 1, 2 and 3 nodes, each round on a fresh shared log.
  if (auto e = server.create_database("baseline"); !e.empty()) die("workload 9: " + e);
  const double inserts = postgres_inserts(server.conninfo("baseline"), seconds);
  progress(fmt::format("9. INSERT ... COMMIT from one client: {:.0f}/s", inserts));
  for (int nodes = 1; nodes <= 3; ++nodes) {
    const std::string db = fmt::format("appends{}", nodes);
    if (auto e = server.create_database(db); !e.empty()) die("workload 9: " + e);
    std::vector<std::unique_ptr<planning::SessionManager>> open;
    std::vector<planning::SessionManager*> raw;
    for (int n = 0; n < nodes; ++n) {
      open.push_back(must(planning::SessionManager::open(node_options(
                              dir.path() / fmt::format("a{}-{}", nodes, n), server.conninfo(db))),
                          "open node"));
      raw.push_back(open.back().get());
    }
    const double rate = node_updates(raw, seconds);
    progress(fmt::format("9. {} node(s): {:.0f} updates/s", nodes, rate));
    state.report.add({.workload = fmt::format("9. durable single updates, {} node{} × 1 writer, "
                                              "shared log in PostgreSQL",
                                              nodes, nodes == 1 ? "" : "s"),
                      .ours = bench::rate(rate, "updates/s"),
                      .baseline = "INSERT … COMMIT of a 1 KiB row from one client: " +
                                  bench::rate(inserts, "rows/s"),
                      .ratio = times(rate / inserts),
                      .goal = "— (informational)",
                      .met = std::nullopt});
  }

  // Follow lag: node A updates, node B's signal fires once it applied it.
  if (auto e = server.create_database("lag"); !e.empty()) die("workload 9: " + e);
  auto a = must(
      planning::SessionManager::open(node_options(dir.path() / "lag-a", server.conninfo("lag"))),
      "open node A");
  auto b = must(
      planning::SessionManager::open(node_options(dir.path() / "lag-b", server.conninfo("lag"))),
      "open node B");
  std::mutex times_mutex;
  std::unordered_map<std::uint64_t, SteadyClock::time_point> committed, applied;
  a->signals().any.connect([&](const planning::Event& e) {
    std::lock_guard lock(times_mutex);
    committed[e.sequence] = SteadyClock::now();
  });
  b->signals().any.connect([&](const planning::Event& e) {
    std::lock_guard lock(times_mutex);
    applied[e.sequence] = SteadyClock::now();
  });
  const std::size_t samples = c.scale == "full" ? 1000 : 200;
  {
    planning::CreateRequest create;
    create.title = "lag";
    const std::string id = must(a->create(create), "create").id;
    ContentPool pool(1024, 101);
    for (std::size_t i = 0; i < samples; ++i) {
      planning::UpdateRequest u;
      u.content = pool.next();
      must(a->update(id, u), "update");
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
  }
  const std::uint64_t last = must(a->head_sequence(), "head");
  for (int i = 0; i < 400 && must(b->head_sequence(), "head") < last; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(25));
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(100));  // B's last signals
  std::vector<double> lags;
  {
    std::lock_guard lock(times_mutex);
    for (const auto& [seq, at] : committed) {
      auto there = applied.find(seq);
      if (there != applied.end()) {
        lags.push_back(std::chrono::duration<double, std::milli>(there->second - at).count());
      }
    }
  }
  std::sort(lags.begin(), lags.end());
  if (lags.empty()) die("workload 9: node B applied none of node A's events");
  const double p50 = lags[lags.size() / 2];
  const double p99 = lags[std::min(lags.size() - 1, lags.size() * 99 / 100)];
  state.report.add({.workload = fmt::format("9. follow lag, A's commit → B applied it ({} updates "
                                            "5 ms apart)",
                                            lags.size()),
                    .ours = fmt::format("median {}, p99 {}", millis(p50), millis(p99)),
                    .goal = "— (informational)",
                    .met = std::nullopt});

  // A new node's catch-up against the embedded rebuild of the same log.
  const std::uint64_t events = must(a->head_sequence(), "head");
  double catch_up = 0;
  {
    const auto start = SteadyClock::now();
    auto fresh = must(
        planning::SessionManager::open(node_options(dir.path() / "lag-c", server.conninfo("lag"))),
        "open a new node");
    catch_up = static_cast<double>(must(fresh->head_sequence(), "head")) / seconds_since(start);
  }
  const double rebuild_seconds = time_seconds([&] { must(b->rebuild_projections(), "rebuild"); });
  const double rebuild = static_cast<double>(events) / rebuild_seconds;
  state.report.add(
      {.workload =
           fmt::format("9. a new node catching up, {}-event shared log", with_commas(events)),
       .ours = rate(catch_up, "events/s"),
       .baseline = "embedded rebuild_projections, same log: " + rate(rebuild, "events/s"),
       .ratio = times(catch_up / rebuild),
       .goal = "— (informational)",
       .met = std::nullopt});
}

}  // namespace bench
