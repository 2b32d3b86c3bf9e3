// Stale and long readers (docs/RELIABILITY.md §5).
//   * 200 reader processes, each killed with SIGKILL in the middle of its reads,
//     leave no lasting reader slots: more than Options::max_readers (126) slots
//     are left behind in total, yet no read ever fails with MDB_READERS_FULL and
//     the reader table stays small, because every open clears dead slots.
//   * A long-lived read transaction (another process) does not stop writers; the
//     file grows while it pins old pages, and once it ends the file stops
//     growing. The same must hold when the reader dies instead of ending.
//
// A "holder" child keeps the store open the whole time: LMDB re-initialises its
// lock table when the first process opens a store, which would hide stale slots.
#include <planning/planning.hpp>

#include <lmdb.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <set>
#include <thread>

#include <catch2/catch.hpp>

#include "reliability/reliability_support.hpp"
#include "support/temp_store.hpp"
#include "support/test_helpers.hpp"

using namespace planning;
using namespace planning::test;
using namespace planning::reliability;
using namespace std::chrono_literals;

namespace {

// Pids owning a slot in the store's reader table (mdb_reader_list), read with
// the C API. REQUIRES: no SessionManager of this store is open in this process.
std::multiset<long> reader_slot_pids(const std::filesystem::path& store) {
  std::multiset<long> pids;
  MDB_env* env = nullptr;
  REQUIRE(mdb_env_create(&env) == 0);
  mdb_env_set_maxdbs(env, 64);
  const int rc = mdb_env_open(env, store.c_str(), MDB_RDONLY, 0600);
  if (rc == 0) {
    mdb_reader_list(
        env,
        [](const char* msg, void* ctx) -> int {
          // "    pid     thread     txnid" (a header line first, or "(no active readers)")
          long pid = 0;
          if (std::sscanf(msg, " %ld", &pid) == 1 && pid > 0) {
            static_cast<std::multiset<long>*>(ctx)->insert(pid);
          }
          return 0;
        },
        &pids);
  }
  mdb_env_close(env);
  REQUIRE(rc == 0);
  return pids;
}

// A child that keeps the store open and answers "read" / "info" commands.
int holder_main(const Options& options, int out, int in) {
  auto opened = SessionManager::open(options);
  if (!opened) {
    send_line(out, "E open " + opened.error().message);
    return 60;
  }
  auto& m = **opened;
  send_line(out, "READY");
  std::string command;
  char c;
  while (::read(in, &c, 1) == 1) {
    if (c != '\n') {
      command.push_back(c);
      continue;
    }
    if (command == "read") {
      auto a = m.list();
      auto b = m.get_statistics();
      auto h = m.head_sequence();
      if (!a || !b || !h) {
        const Error& e = !a ? a.error() : !b ? b.error() : h.error();
        send_line(out, "R " + std::string(to_string(e.code)) + " " + e.message);
      } else {
        send_line(out, "R ok " + std::to_string(a->size()));
      }
    } else if (command == "info") {
      auto i = m.info();
      send_line(out,
                i ? "I " + std::to_string(i->readers_in_use) + " " + std::to_string(i->max_readers)
                  : "I error " + i.error().message);
    }
    command.clear();
  }
  return 0;
}

// A child that opens its own manager and reads from `threads` threads until it
// is killed; "READY" once every thread has completed a read.
int busy_reader_main(const Options& options, int threads, int out) {
  auto opened = SessionManager::open(options);
  if (!opened) {
    send_line(out, "E open " + opened.error().message);
    return 50;
  }
  auto& m = **opened;
  std::atomic<int> warmed{0};
  std::vector<std::thread> pool;
  for (int t = 0; t < threads; ++t) {
    pool.emplace_back([&, t] {
      bool counted = false;
      for (std::uint64_t i = 0;; ++i) {
        auto all = m.list();
        if (!all) {
          send_line(out, "E list " + std::string(to_string(all.error().code)) + " " +
                             all.error().message);
          ::_exit(51);
        }
        for (const auto& s : *all) {
          const bool versions = (i + static_cast<std::uint64_t>(t)) % 2 == 1;
          std::optional<Error> error;
          if (versions) {
            if (auto v = m.get_versions(s.id); !v) error = v.error();
          } else {
            if (auto g = m.get(s.id); !g) error = g.error();
          }
          if (error) {
            send_line(out, "E read " + std::string(to_string(error->code)) + " " + error->message);
            ::_exit(52);
          }
        }
        if (!counted) {
          counted = true;
          warmed.fetch_add(1);
        }
      }
    });
  }
  while (warmed.load() < threads) std::this_thread::sleep_for(100us);
  send_line(out, "READY");
  for (auto& t : pool) t.join();
  return 0;
}

std::string expect_line(ChildProcess& child, const char* what) {
  auto line = child.read_line(60s);
  INFO("waiting for " << what);
  REQUIRE(line.has_value());
  if (line->starts_with("E ")) FAIL("child reported: " << *line);
  return *line;
}

}  // namespace

TEST_CASE("200 reader processes killed mid-read leave no lasting reader slots",
          "[readers][stale]") {
  TempDir dir;
  ManualClock clock;
  Options options = test_options(dir, &clock);
  {
    auto m = open_store(options);
    populate_every_kind(*m, clock, 20);
  }
  options.clock = {};  // children use the system clock
  const std::uint64_t seed = seed_from_env("PLANNING_READERS_SEED", 4242);
  const auto readers = count_from_env("PLANNING_READERS", 200);
  constexpr int kThreads = 4;
  WARN("stale readers: " << readers << " reader processes of " << kThreads << " threads, seed "
                         << seed << " (PLANNING_READERS_SEED)");
  std::mt19937_64 rng(seed);

  ChildProcess holder([&](int out, int in) { return holder_main(options, out, in); });
  REQUIRE(expect_line(holder, "holder READY") == "READY");

  std::uint64_t stale_left = 0;
  std::uint64_t most_stale_at_once = 0;
  for (std::uint64_t i = 0; i < readers; ++i) {
    INFO("reader process " << i);
    pid_t pid = 0;
    {
      ChildProcess reader([&](int out, int) { return busy_reader_main(options, kThreads, out); });
      pid = reader.pid();
      REQUIRE(expect_line(reader, "reader READY") == "READY");
      std::this_thread::sleep_for(std::chrono::microseconds(rng() % 2000));
      reader.kill_now();
      for (const auto& line : reader.drain()) {
        if (line.starts_with("E ")) FAIL("reader reported: " << line);
      }
      REQUIRE(killed_by_sigkill(reader.wait()));
    }
    // Evidence that the test exercises the cleanup: the dead process's slots
    // are still in the table (the next open clears them).
    const auto pids = reader_slot_pids(options.path);
    const auto left = pids.count(pid);
    stale_left += left;
    std::uint64_t dead_slots = 0;
    for (long p : pids) {
      if (::kill(static_cast<pid_t>(p), 0) != 0 && errno == ESRCH) ++dead_slots;
    }
    most_stale_at_once = std::max(most_stale_at_once, dead_slots);
    // The long-lived process still reads.
    holder.send("read");
    const auto r = expect_line(holder, "holder read");
    INFO("holder: " << r);
    REQUIRE(r.starts_with("R ok"));
  }

  holder.send("info");
  const auto info_line = expect_line(holder, "holder info");
  const auto words = split_words(info_line);
  REQUIRE(words.size() == 3);
  REQUIRE(words[0] == "I");
  const auto in_use = std::stoull(words[1]);
  const auto max_readers = std::stoull(words[2]);
  WARN("stale reader slots left by killed readers: "
       << stale_left << " in total (max_readers " << max_readers << "), at most "
       << most_stale_at_once << " at once; reader table high-water mark " << in_use);
  // Without clearing, the slots left behind would have filled the table.
  REQUIRE(stale_left > max_readers);
  CHECK(most_stale_at_once <= 2 * kThreads);
  CHECK(in_use <= 3 * kThreads);

  holder.close_input();
  CHECK(exited_ok(holder.wait()));
  auto m = open_store(options);
  const auto info = PLAN_OK(m->info());
  CHECK(info.readers_in_use <= 2);
  require_verified(*m);
}

namespace {

// A child holding one LMDB read transaction (C API) until told to end it.
int snapshot_holder_main(const std::filesystem::path& store, int out, int in) {
  MDB_env* env = nullptr;
  if (mdb_env_create(&env) != 0) return 70;
  mdb_env_set_maxdbs(env, 64);
  if (int rc = mdb_env_open(env, store.c_str(), MDB_RDONLY, 0600); rc != 0) {
    send_line(out, std::string("E mdb_env_open ") + mdb_strerror(rc));
    return 71;
  }
  MDB_txn* txn = nullptr;
  if (int rc = mdb_txn_begin(env, nullptr, MDB_RDONLY, &txn); rc != 0) {
    send_line(out, std::string("E mdb_txn_begin ") + mdb_strerror(rc));
    return 72;
  }
  MDB_envinfo info{};
  mdb_env_info(env, &info);
  send_line(out, "HELD " + std::to_string(info.me_last_txnid));
  char c;
  std::string command;
  while (::read(in, &c, 1) == 1 && c != '\n') command.push_back(c);
  mdb_txn_abort(txn);
  send_line(out, "ENDED");
  while (::read(in, &c, 1) == 1) {
  }
  mdb_env_close(env);
  return 0;
}

// A child that opens the store (clearing stale reader slots) and closes it on command.
int opener_main(const Options& options, int out, int in) {
  char c;
  std::string command;
  while (::read(in, &c, 1) == 1) {
    if (c != '\n') {
      command.push_back(c);
      continue;
    }
    if (command == "open") {
      auto m = SessionManager::open(options);
      send_line(out, m ? "OPENED" : "E open " + m.error().message);
    }
    command.clear();
  }
  return 0;
}

// `n` small in-place changes: pause / resume of one session.
void churn(SessionManager& m, const std::string& id, int n) {
  for (int i = 0; i < n; ++i) {
    if (i % 2 == 0) {
      PLAN_OK(m.pause(id, "churn"));
    } else {
      PLAN_OK(m.resume(id));
    }
  }
}

std::uintmax_t file_size_of(const SessionManager& m) { return PLAN_OK(m.info()).file_size; }

}  // namespace

namespace {

// Holds a snapshot in another process during heavy appends, then ends it
// (`kill_reader` false) or kills that process (true), and measures the file over
// the same small in-place changes before and after.
void long_reader_scenario(bool kill_reader) {
  TempDir dir;
  Options options = test_options(dir);
  options.durability = Durability::no_sync;  // page reuse, not fsync, is under test
  std::string doc, churned;
  {
    auto m = open_store(options);
    doc = PLAN_OK(m->create({.title = "doc", .initial_content = "v0"})).id;
    churned = PLAN_OK(m->create({.title = "churned"})).id;
  }
  INFO((kill_reader ? "the reader is killed" : "the reader ends its transaction"));

  // Forked before this process opens the store.
  ChildProcess reader([&](int out, int in) { return snapshot_holder_main(options.path, out, in); });
  ChildProcess opener([&](int out, int in) { return opener_main(options, out, in); });
  REQUIRE(expect_line(reader, "reader HELD").starts_with("HELD "));

  auto m = open_store(options);
  const auto map_before = PLAN_OK(m->info()).map_size;
  // Heavy appends while the snapshot pins every page it can see.
  for (int i = 0; i < 150; ++i) {
    UpdateRequest u;
    u.content = "# rev " + std::to_string(i) + "\n" +
                std::string(16 << 10, static_cast<char>('a' + i % 26));
    PLAN_OK(m->update(doc, u));
  }
  const auto info_after_heavy = PLAN_OK(m->info());
  CHECK(info_after_heavy.map_size >= map_before);

  const auto before_pinned = file_size_of(*m);
  churn(*m, churned, 300);
  const auto pinned_growth = file_size_of(*m) - before_pinned;
  INFO("growth over 300 small changes with the snapshot held: " << pinned_growth);
  REQUIRE(pinned_growth > 0);  // the reader does pin pages (the check below can fail)

  if (kill_reader) {
    reader.kill_now();
    REQUIRE(killed_by_sigkill(reader.wait()));
  } else {
    reader.send("end");
    REQUIRE(expect_line(reader, "reader ENDED") == "ENDED");
  }

  churn(*m, churned, 60);  // let the freed pages reach the free list
  const auto before_free = file_size_of(*m);
  churn(*m, churned, 300);
  const auto free_growth = file_size_of(*m) - before_free;
  INFO("growth over the same 300 changes after the reader " << (kill_reader ? "died" : "ended")
                                                            << ": " << free_growth);
  CHECK(free_growth == 0);

  // Another process opening the store clears a dead reader's slot; from then
  // on the file is flat in every case.
  opener.send("open");
  REQUIRE(expect_line(opener, "opener OPENED") == "OPENED");
  churn(*m, churned, 60);
  const auto before_cleared = file_size_of(*m);
  churn(*m, churned, 300);
  CHECK(file_size_of(*m) == before_cleared);
  require_verified(*m);

  if (!kill_reader) {
    reader.close_input();
    CHECK(exited_ok(reader.wait()));
  }
  opener.close_input();
  CHECK(exited_ok(opener.wait()));
}

}  // namespace

TEST_CASE(
    "a long-lived read transaction does not stop writers, and once it ends the file stops growing",
    "[readers][long]") {
  long_reader_scenario(/*kill_reader=*/false);
}

TEST_CASE(
    "a reader killed while holding a snapshot stops pinning pages in a writer that has the store "
    "open",
    "[readers][long][stale]") {
  long_reader_scenario(/*kill_reader=*/true);
}

TEST_CASE("reads between writes pin no pages: the store stops growing", "[readers]") {
  // A read that ends keeps its transaction for the next read (reset, holding
  // its reader slot but no snapshot). Were the snapshot kept, no page freed
  // after it could be reused and every update would grow the file.
  TempDir dir;
  auto m = open_store(test_options(dir));
  const Session s = PLAN_OK(m->create({.title = "pinned?", .initial_content = "start\n"}));
  std::string content(16 * 1024, 'a');
  for (std::size_t i = 0; i < content.size(); i += 64) content[i] = '\n';
  std::size_t edit = 0;
  auto rounds = [&](int n) {
    for (int i = 0; i < n; ++i) {
      content[(edit++ * 97) % content.size()] ^= 1;
      PLAN_OK(m->update(s.id, {.content = content}));
      CHECK(PLAN_OK(m->get(s.id)).content == content);
    }
  };
  rounds(200);
  const std::uint64_t settled = PLAN_OK(m->info()).map_used;
  rounds(600);
  const std::uint64_t after = PLAN_OK(m->info()).map_used;
  INFO("map_used " << settled << " -> " << after);
  // Pinned, 600 commits of ~20 dirty pages each would add ~48 MB.
  CHECK(after <= settled + settled / 2 + (1u << 20));
  CHECK(PLAN_OK(m->info()).readers_in_use <= 4);
}

TEST_CASE("a forked child that destroys its copy of a manager leaves the parent's reads working",
          "[readers][fork]") {
  // The child inherits the open environment, whose reader slots (held by the
  // parent's pooled read transactions) carry the parent's pid. Closing that
  // copy in the child would free the parent's slots, and the parent's next
  // read would fail (MDB_BAD_RSLOT) or read unprotected pages.
  TempDir dir;
  auto m = open_store(test_options(dir));
  const Session s = PLAN_OK(m->create({.title = "parent", .initial_content = "v1\n"}));
  for (int i = 0; i < 3; ++i) PLAN_OK(m->get(s.id));  // reads leave pooled transactions
  const pid_t pid = ::fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    m.reset();  // an exit handler, or a worker that drops what it inherited
    ::_exit(0);
  }
  int status = 0;
  REQUIRE(::waitpid(pid, &status, 0) == pid);
  REQUIRE(WIFEXITED(status));
  CHECK(WEXITSTATUS(status) == 0);
  for (int i = 1; i <= 3; ++i) {
    CHECK(PLAN_OK(m->get(s.id)).content == "v" + std::to_string(i) + "\n");
    PLAN_OK(m->update(s.id, {.content = "v" + std::to_string(i + 1) + "\n"}));
  }
  CHECK(PLAN_OK(m->get_versions(s.id)).size() == 4);
  require_verified(*m);
}
