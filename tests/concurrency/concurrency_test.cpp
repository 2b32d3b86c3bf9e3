// Concurrency: many threads on one SessionManager, and several processes on one
// store (SessionManager contract: thread-safe, writes serialized and
// group-committed, reads on snapshots; README "Durability and concurrency").
//
// Optimistic concurrency is the oracle: every increment is a read-modify-write
// of a counter kept in the session's metadata, guarded by
// expected_stream_version and retried on ErrorCode::conflict. A lost update
// shows as a final counter below the number of increments that succeeded, or as
// two writers both "successfully" writing the same counter value.
//
// Catch2 assertions are not thread-safe: worker threads record what went wrong
// in a Failures list that the test thread asserts empty after joining. Child
// processes report through pipes (tests/reliability's ChildProcess) and end with
// _exit. Everything is deterministic except the interleaving itself: seeds are
// fixed and no assertion depends on timing.
//
// ThreadSanitizer: .ci/sanitizers.sh runs this suite's default cases in a TSan
// build; keep the cases free of data races of their own.
#include <algorithm>
#include <atomic>
#include <cstdint>
#include <map>
#include <mutex>
#include <random>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <catch2/catch.hpp>

#include <planning/planning.hpp>

#include "reliability/reliability_support.hpp"
#include "support/temp_store.hpp"
#include "support/test_helpers.hpp"

using namespace planning;
using namespace planning::test;

namespace {

// What worker threads found wrong (thread-safe); asserted empty by the test.
class Failures {
 public:
  void add(std::string what) {
    std::lock_guard lock(mu_);
    if (list_.size() < 50) list_.push_back(std::move(what));
    ++count_;
  }
  std::size_t count() const {
    std::lock_guard lock(mu_);
    return count_;
  }
  std::string summary() const {
    std::lock_guard lock(mu_);
    std::ostringstream out;
    for (const auto& f : list_) out << "\n  - " << f;
    return out.str();
  }

 private:
  mutable std::mutex mu_;
  std::vector<std::string> list_;
  std::size_t count_ = 0;
};

#define REQUIRE_NO_FAILURES(failures)                            \
  do {                                                           \
    INFO("failures seen by worker threads:" << (failures).summary()); \
    REQUIRE((failures).count() == 0);                            \
  } while (false)

std::int64_t counter_of(const Session& s) {
  auto it = s.metadata.find("counter");
  return it != s.metadata.end() && it->is_number_integer() ? it->get<std::int64_t>() : -1;
}

// The content of version n of a writer-owned session (version 1 = initial content).
std::string content_for(std::uint32_t n) { return "# plan\n\nversion " + std::to_string(n) + "\n"; }

std::string describe(const Error& e) { return std::string(to_string(e.code)) + ": " + e.message; }

// What one session should look like at the end.
struct Ledger {
  std::atomic<std::int64_t> increments{0};
  std::atomic<std::int64_t> content_updates{0};
};

// The outcome of one optimistic read-modify-write.
enum class Attempt { applied, conflict, failed };

// One increment attempt of `id`'s counter, guarded by expected_stream_version.
// `written` receives the counter value written when applied.
Attempt try_increment(SessionManager& m, const std::string& id, Failures& failures,
                      std::int64_t* written = nullptr) {
  auto s = m.get(id);
  if (!s) {
    failures.add("get " + id + ": " + describe(s.error()));
    return Attempt::failed;
  }
  UpdateRequest r;
  r.metadata = nlohmann::json{{"counter", counter_of(*s) + 1}};
  r.expected_stream_version = s->stream_version;
  auto u = m.update(id, r);
  if (!u) {
    if (u.error().code == ErrorCode::conflict) return Attempt::conflict;
    failures.add("increment " + id + ": " + describe(u.error()));
    return Attempt::failed;
  }
  if (counter_of(*u) != counter_of(*s) + 1 || u->stream_version != s->stream_version + 1) {
    failures.add("increment " + id + " returned counter " + std::to_string(counter_of(*u)) +
                 " at stream version " + std::to_string(u->stream_version) + " after reading " +
                 std::to_string(counter_of(*s)) + " at " + std::to_string(s->stream_version));
  }
  if (written != nullptr) *written = counter_of(*u);
  return Attempt::applied;
}

// Retries until applied (conflicts are expected); false if something failed.
bool increment(SessionManager& m, const std::string& id, Failures& failures,
               std::atomic<std::int64_t>& conflicts) {
  for (;;) {
    switch (try_increment(m, id, failures)) {
      case Attempt::applied: return true;
      case Attempt::conflict: ++conflicts; break;
      case Attempt::failed: return false;
    }
  }
}

// A content update of a writer-owned session, making its next version.
bool next_version(SessionManager& m, const std::string& id, Failures& failures,
                  std::atomic<std::int64_t>& conflicts) {
  for (;;) {
    auto s = m.get(id);
    if (!s) {
      failures.add("get " + id + ": " + describe(s.error()));
      return false;
    }
    UpdateRequest r;
    r.content = content_for(s->current_version + 1);
    r.change_summary = "version " + std::to_string(s->current_version + 1);
    r.expected_stream_version = s->stream_version;
    auto u = m.update(id, r);
    if (u) {
      if (u->current_version != s->current_version + 1 || u->content != *r.content) {
        failures.add("content update of " + id + " made version " +
                     std::to_string(u->current_version) + " after " +
                     std::to_string(s->current_version));
      }
      return true;
    }
    if (u.error().code != ErrorCode::conflict) {
      failures.add("content update " + id + ": " + describe(u.error()));
      return false;
    }
    ++conflicts;
  }
}

struct WorkloadConfig {
  int writers = 8;
  int readers = 8;
  int ops_per_writer = 40;
  int shared_sessions = 2;
  int rebuilders = 0;  // threads calling rebuild_projections() while writers run
  Durability durability = Durability::no_sync;
  std::uint64_t seed = 20250101;
};

// Readers' view of one session: checks of a snapshot sequence (get, versions,
// events, get) and of per-reader monotonicity.
void read_session(SessionManager& m, const std::string& id, bool owned,
                  std::map<std::string, std::uint32_t>& last_stream_version, Failures& failures) {
  auto before = m.get(id);
  auto versions = m.get_versions(id);
  EventQuery q;
  q.session_id = id;
  auto events = m.events(q);
  auto after = m.get(id);
  if (!before || !versions || !events || !after) {
    failures.add("reading " + id + " failed");
    return;
  }
  for (const Session* s : {&*before, &*after}) {
    // Each event of a shared session is one increment; an owned session's
    // events are its creation (version 1), increments and content updates.
    const std::int64_t expected_counter =
        owned ? std::int64_t{s->stream_version} - s->current_version : s->stream_version - 1;
    if (counter_of(*s) != expected_counter) {
      failures.add("snapshot of " + id + " is inconsistent: counter " +
                   std::to_string(counter_of(*s)) + ", stream version " +
                   std::to_string(s->stream_version) + ", current version " +
                   std::to_string(s->current_version));
    }
    if (owned && s->content != content_for(s->current_version)) {
      failures.add("content of " + id + " does not match its current version " +
                   std::to_string(s->current_version));
    }
  }
  if (after->stream_version < before->stream_version) {
    failures.add("stream version of " + id + " went backwards within one reader");
  }
  auto& last = last_stream_version[id];
  if (before->stream_version < last) failures.add("stream version of " + id + " went backwards");
  last = after->stream_version;

  const auto n = versions->size();
  if (n < before->current_version || n > after->current_version) {
    failures.add("get_versions of " + id + " returned " + std::to_string(n) +
                 " versions, outside [" + std::to_string(before->current_version) + ", " +
                 std::to_string(after->current_version) + "]");
  }
  for (std::size_t i = 0; i < n; ++i) {
    const Version& v = (*versions)[i];
    if (v.version_number != i + 1) {
      failures.add("versions of " + id + " are not numbered 1..n");
      break;
    }
    if (owned && v.content != content_for(v.version_number)) {
      failures.add("version " + std::to_string(v.version_number) + " of " + id +
                   " has the content of another version");
      break;
    }
  }
  const auto e = events->size();
  if (e < before->stream_version || e > after->stream_version) {
    failures.add("events of " + id + ": " + std::to_string(e) + ", outside [" +
                 std::to_string(before->stream_version) + ", " +
                 std::to_string(after->stream_version) + "]");
  }
  for (std::size_t i = 0; i < e; ++i) {
    if ((*events)[i].stream_version != i + 1 || (i > 0 && (*events)[i].sequence <= (*events)[i - 1].sequence)) {
      failures.add("events of " + id + " are not its stream in log order");
      break;
    }
  }
}

// Whole-store checks across projections: statistics vs the sessions list.
void read_store(SessionManager& m, std::uint64_t& last_head, Failures& failures) {
  auto s1 = m.get_statistics();
  auto all = m.list();
  auto active = m.find_active();
  auto s2 = m.get_statistics();
  if (!s1 || !all || !active || !s2) {
    failures.add("store-wide read failed");
    return;
  }
  for (const Statistics* s : {&*s1, &*s2}) {
    if (s->total_sessions != s->active_sessions + s->paused_sessions + s->converted_sessions +
                                 s->archived_sessions) {
      failures.add("statistics total differs from the sum of the per-status counts");
    }
  }
  if (s1->total_events < last_head || s2->total_events < s1->total_events) {
    failures.add("the log head went backwards for one reader: " + std::to_string(last_head) +
                 ", then " + std::to_string(s1->total_events) + ", then " +
                 std::to_string(s2->total_events));
  }
  last_head = s2->total_events;
  if (all->size() < s1->total_sessions || all->size() > s2->total_sessions) {
    failures.add("list() size " + std::to_string(all->size()) + " outside statistics totals [" +
                 std::to_string(s1->total_sessions) + ", " + std::to_string(s2->total_sessions) + "]");
  }
  if (active->size() < s1->active_sessions || active->size() > s2->active_sessions) {
    failures.add("find_active() size outside the statistics' active counts");
  }
  std::uint64_t versions = 0;
  for (const Session& s : *all) versions += s.current_version;
  if (versions < s1->total_versions || versions > s2->total_versions) {
    failures.add("sum of current_version over list() (" + std::to_string(versions) +
                 ") outside statistics total_versions [" + std::to_string(s1->total_versions) +
                 ", " + std::to_string(s2->total_versions) + "]");
  }
}

// Records every `any` signal; checks order and density as they arrive.
struct SignalRecorder {
  std::mutex mu;
  std::uint64_t last = 0;  // guarded by mu
  std::uint64_t count = 0;
  std::uint64_t updated = 0;
  std::set<std::thread::id> threads;
  Failures* failures = nullptr;

  void on_any(const Event& e) {
    std::lock_guard lock(mu);
    if (e.sequence != last + 1) {
      failures->add("signal for event " + std::to_string(e.sequence) + " after event " +
                    std::to_string(last) + " (signals must follow log order, no gaps)");
    }
    last = std::max(last, e.sequence);
    ++count;
    threads.insert(std::this_thread::get_id());
  }
  void on_updated(const Event&) {
    std::lock_guard lock(mu);
    ++updated;
  }
};

void run_workload(const WorkloadConfig& config) {
  TempDir dir;
  ManualClock clock;
  Options options = test_options(dir, &clock);
  options.durability = config.durability;
  auto m = open_store(options);

  Failures failures;
  SignalRecorder signals;
  signals.failures = &failures;
  m->signals().any.connect([&](const Event& e) { signals.on_any(e); });
  m->signals().updated.connect([&](const Event& e) { signals.on_updated(e); });

  std::vector<std::string> shared;
  for (int i = 0; i < config.shared_sessions; ++i) {
    shared.push_back(PLAN_OK(m->create({.title = "shared " + std::to_string(i),
                                        .metadata = {{"counter", 0}}}))
                         .id);
  }
  std::vector<std::string> owned;
  for (int w = 0; w < config.writers; ++w) {
    owned.push_back(PLAN_OK(m->create({.title = "writer " + std::to_string(w),
                                       .initial_content = content_for(1),
                                       .metadata = {{"counter", 0}}}))
                        .id);
  }
  std::map<std::string, Ledger> ledgers;
  for (const auto& id : shared) ledgers[id];
  for (const auto& id : owned) ledgers[id];
  const std::uint64_t head_at_start = head_of(*m);

  std::atomic<std::int64_t> conflicts{0};
  std::atomic<std::int64_t> batches{0};
  std::atomic<std::int64_t> creates{0};
  std::atomic<int> writers_left{config.writers};
  std::vector<std::thread> threads;

  for (int w = 0; w < config.writers; ++w) {
    threads.emplace_back([&, w] {
      std::mt19937_64 rng(config.seed + static_cast<std::uint64_t>(w));
      std::uniform_int_distribution<int> percent(0, 99);
      std::uniform_int_distribution<std::size_t> pick(0, shared.size() - 1);
      for (int op = 0; op < config.ops_per_writer; ++op) {
        const int roll = percent(rng);
        if (roll < 45) {
          const auto& id = shared[pick(rng)];
          if (increment(*m, id, failures, conflicts)) ++ledgers.at(id).increments;
        } else if (roll < 70) {
          if (increment(*m, owned[w], failures, conflicts)) ++ledgers.at(owned[w]).increments;
        } else if (roll < 90) {
          if (next_version(*m, owned[w], failures, conflicts)) ++ledgers.at(owned[w]).content_updates;
        } else if (roll < 97) {
          // Two guarded increments in one batch: each applies or conflicts alone.
          const auto& a = shared[pick(rng)];
          const auto& b = owned[w];
          auto sa = m->get(a);
          auto sb = m->get(b);
          if (!sa || !sb) {
            failures.add("get before batch failed");
            continue;
          }
          WriteBatch batch;
          UpdateRequest ra;
          ra.metadata = nlohmann::json{{"counter", counter_of(*sa) + 1}};
          ra.expected_stream_version = sa->stream_version;
          UpdateRequest rb;
          rb.metadata = nlohmann::json{{"counter", counter_of(*sb) + 1}};
          rb.expected_stream_version = sb->stream_version;
          batch.update(a, ra).update(b, rb);
          auto results = m->apply_batch(batch);
          if (!results || results->size() != 2) {
            failures.add("apply_batch failed as a whole");
            continue;
          }
          ++batches;
          const std::string* ids[] = {&a, &b};
          for (std::size_t i = 0; i < 2; ++i) {
            const auto& r = (*results)[i];
            if (r) {
              ++ledgers.at(*ids[i]).increments;
            } else if (r.error().code == ErrorCode::conflict) {
              ++conflicts;
            } else {
              failures.add("batched increment: " + describe(r.error()));
            }
          }
        } else {
          auto s = m->create({.title = "created by writer " + std::to_string(w)});
          if (s) {
            ++creates;
          } else {
            failures.add("create: " + describe(s.error()));
          }
        }
      }
      --writers_left;
    });
  }

  std::atomic<std::int64_t> reads{0};
  for (int r = 0; r < config.readers; ++r) {
    threads.emplace_back([&, r] {
      std::mt19937_64 rng(config.seed * 31 + static_cast<std::uint64_t>(r));
      std::map<std::string, std::uint32_t> last_stream_version;
      std::uint64_t last_head = 0;
      // At least a few rounds even if the writers finish first.
      for (int round = 0; round < 3 || writers_left.load() > 0; ++round) {
        if (rng() % 2 == 0) {
          const auto& id = shared[rng() % shared.size()];
          read_session(*m, id, false, last_stream_version, failures);
        } else {
          const auto& id = owned[rng() % owned.size()];
          read_session(*m, id, true, last_stream_version, failures);
        }
        read_store(*m, last_head, failures);
        ++reads;
      }
    });
  }
  std::atomic<std::int64_t> rebuilds{0};
  for (int b = 0; b < config.rebuilders; ++b) {
    threads.emplace_back([&] {
      // Each rebuild decodes the log on a thread of its own (decode_ahead.hpp).
      for (int round = 0; round < 1 || writers_left.load() > 0; ++round) {
        if (auto r = m->rebuild_projections(); !r) {
          failures.add("rebuild_projections: " + describe(r.error()));
          return;
        }
        ++rebuilds;
      }
    });
  }
  for (auto& t : threads) t.join();

  INFO("conflicts retried: " << conflicts.load() << ", batches: " << batches.load()
                             << ", reader rounds: " << reads.load()
                             << ", rebuilds: " << rebuilds.load());
  REQUIRE_NO_FAILURES(failures);

  // No lost update: each counter equals the increments that succeeded on it.
  std::int64_t increments = 0;
  std::int64_t content_updates = 0;
  for (const auto& [id, ledger] : ledgers) {
    const auto s = PLAN_OK(m->get(id));
    const bool is_owned = std::find(owned.begin(), owned.end(), id) != owned.end();
    INFO("session " << s.title);
    CHECK(counter_of(s) == ledger.increments.load());
    CHECK(s.stream_version == 1 + ledger.increments.load() + ledger.content_updates.load());
    CHECK(s.current_version == (is_owned ? 1 + ledger.content_updates.load() : 0));
    CHECK(PLAN_OK(m->get_versions(id)).size() == s.current_version);
    increments += ledger.increments.load();
    content_updates += ledger.content_updates.load();
  }

  const std::uint64_t head = head_of(*m);
  CHECK(head == head_at_start + static_cast<std::uint64_t>(increments + content_updates +
                                                           creates.load()));
  const auto stats = PLAN_OK(m->get_statistics());
  CHECK(stats.total_events == head);
  CHECK(stats.total_sessions ==
        static_cast<std::uint64_t>(config.shared_sessions + config.writers + creates.load()));
  {
    std::lock_guard lock(signals.mu);
    CHECK(signals.count == head);  // every committed event, once
    CHECK(signals.last == head);
    CHECK(signals.updated == static_cast<std::uint64_t>(increments + content_updates));
  }
  require_verified(*m);
}

}  // namespace

TEST_CASE("8 writers and 8 readers on one manager: no lost update, consistent snapshots",
          "[concurrency]") {
  WorkloadConfig config;
  run_workload(config);
}

TEST_CASE("concurrent writers under full durability share commits without losing updates",
          "[concurrency]") {
  WorkloadConfig config;
  config.writers = 4;
  config.readers = 2;
  config.ops_per_writer = 15;
  config.durability = Durability::full;
  run_workload(config);
}

TEST_CASE("rebuilds while writers and readers run: no lost update, consistent snapshots",
          "[concurrency][rebuild]") {
  WorkloadConfig config;
  config.writers = 4;
  config.readers = 2;
  config.rebuilders = 1;
  run_workload(config);
}

TEST_CASE("many writers and readers over many operations: no lost update", "[concurrency][slow]") {
  WorkloadConfig config;
  config.ops_per_writer = 600;
  config.shared_sessions = 3;
  SECTION("no_sync") { run_workload(config); }
  SECTION("full durability") {
    config.ops_per_writer = 150;
    config.durability = Durability::full;
    run_workload(config);
  }
}

TEST_CASE("a slot that writes back while other threads write keeps signals in log order",
          "[concurrency][signals]") {
  TempDir dir;
  ManualClock clock;
  Options options = test_options(dir, &clock);
  options.durability = Durability::no_sync;
  auto m = open_store(options);
  Failures failures;
  SignalRecorder recorder;
  recorder.failures = &failures;
  m->signals().any.connect([&](const Event& e) { recorder.on_any(e); });
  // Every created session gets tagged from inside the slot (a mutating call made
  // while signals are being delivered, possibly on behalf of another thread).
  std::atomic<int> tagged{0};
  m->signals().created.connect([&](const Event& e) {
    UpdateRequest r;
    r.description = "tagged by slot";
    auto u = m->update(e.session_id, r);
    if (u) {
      ++tagged;
    } else {
      failures.add("update from slot: " + describe(u.error()));
    }
  });

  constexpr int kThreads = 6;
  constexpr int kPerThread = 15;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kPerThread; ++i) {
        auto s = m->create({.title = "t" + std::to_string(t) + "-" + std::to_string(i)});
        if (!s) failures.add("create: " + describe(s.error()));
      }
    });
  }
  for (auto& t : threads) t.join();
  REQUIRE_NO_FAILURES(failures);

  constexpr int kSessions = kThreads * kPerThread;
  CHECK(tagged.load() == kSessions);
  CHECK(head_of(*m) == 2u * kSessions);
  for (const Session& s : PLAN_OK(m->list())) {
    INFO(s.title);
    CHECK(s.description == "tagged by slot");
    CHECK(s.stream_version == 2u);
  }
  std::lock_guard lock(recorder.mu);
  CHECK(recorder.count == 2u * kSessions);
  CHECK(recorder.last == 2u * kSessions);
}

namespace {

// Snapshot monotonicity on its own: every read transaction starts from the
// latest commit, so within one thread the head never moves backwards — also
// across map growth (1 MiB initial map, ~2 KiB per event) and with fsync'd
// commits.
void run_head_monotonicity(Durability durability, int writers, int creates_each) {
  TempDir dir;
  ManualClock clock;
  Options options = test_options(dir, &clock);
  options.durability = durability;
  auto m = open_store(options);
  Failures failures;
  std::atomic<int> writers_left{writers};
  std::vector<std::thread> threads;
  // Printable noise: compact version storage cannot shrink it, so the map grows.
  std::string content;
  for (std::uint64_t x = 88172645463325252ULL; content.size() < 2048;) {
    x ^= x << 13;  // xorshift64
    x ^= x >> 7;
    x ^= x << 17;
    content.push_back(static_cast<char>(' ' + x % 95));
  }
  for (int w = 0; w < writers; ++w) {
    threads.emplace_back([&, w] {
      for (int i = 0; i < creates_each; ++i) {
        auto s = m->create({.title = "w" + std::to_string(w) + "-" + std::to_string(i),
                            .initial_content = content});
        if (!s) failures.add("create: " + describe(s.error()));
      }
      --writers_left;
    });
  }
  for (int r = 0; r < 4; ++r) {
    threads.emplace_back([&, r] {
      std::uint64_t last = 0;
      std::uint64_t reads = 0;
      while (writers_left.load() > 0 || reads < 3) {
        Result<std::uint64_t> head = m->head_sequence();
        if (r % 2 == 1) {  // the head as the statistics see it (another read path)
          auto stats = m->get_statistics();
          head = stats ? Result<std::uint64_t>(stats->total_events)
                       : Result<std::uint64_t>(std::unexpected(stats.error()));
        }
        ++reads;
        if (!head) {
          failures.add("read failed: " + describe(head.error()));
          return;
        }
        if (*head < last) {
          failures.add("the head went backwards within one reader: " + std::to_string(last) +
                       " then " + std::to_string(*head) + " (read #" + std::to_string(reads) + ")");
        }
        last = std::max(last, *head);
      }
    });
  }
  for (auto& t : threads) t.join();
  REQUIRE_NO_FAILURES(failures);
  CHECK(head_of(*m) == static_cast<std::uint64_t>(writers * creates_each));
}

}  // namespace

TEST_CASE("a reader never sees the log head move backwards while writers commit",
          "[concurrency]") {
  SECTION("full durability") { run_head_monotonicity(Durability::full, 4, 40); }
  SECTION("no_sync") { run_head_monotonicity(Durability::no_sync, 4, 80); }
}

TEST_CASE("a reader never sees the log head move backwards: many commits",
          "[concurrency][slow]") {
  SECTION("full durability") { run_head_monotonicity(Durability::full, 6, 250); }
  SECTION("no_sync") { run_head_monotonicity(Durability::no_sync, 6, 1000); }
}

// --- Several processes on one store ----------------------------------------------

namespace {

struct ProcessReport {
  std::int64_t applied = 0;
  std::int64_t conflicts = 0;
  std::vector<std::int64_t> written;  // counter values this process wrote
};

// Runs in a child: opens its own manager (never inherited across fork), waits
// for "go", makes `increments` successful increments of `id` from `threads`
// threads, and reports "done <applied> <conflicts> <value>..." (or "error ...").
int increment_in_child(int out, int in, const Options& options, const std::string& id,
                       int increments, int threads) {
  auto opened = SessionManager::open(options);
  if (!opened) {
    reliability::send_line(out, "error open: " + describe(opened.error()));
    return 3;
  }
  SessionManager& m = **opened;
  char go = 0;
  if (::read(in, &go, 1) != 1) return 4;  // the parent's start signal

  Failures failures;
  std::mutex mu;
  ProcessReport report;
  std::vector<std::thread> workers;
  for (int t = 0; t < threads; ++t) {
    workers.emplace_back([&, t] {
      const int mine = increments / threads + (t < increments % threads ? 1 : 0);
      for (int done = 0; done < mine;) {
        std::int64_t value = 0;
        switch (try_increment(m, id, failures, &value)) {
          case Attempt::applied: {
            std::lock_guard lock(mu);
            ++report.applied;
            report.written.push_back(value);
            ++done;
            break;
          }
          case Attempt::conflict: {
            std::lock_guard lock(mu);
            ++report.conflicts;
            break;
          }
          case Attempt::failed: return;
        }
      }
    });
  }
  for (auto& w : workers) w.join();
  if (failures.count() > 0) {
    std::string summary = failures.summary();
    std::replace(summary.begin(), summary.end(), '\n', ' ');
    reliability::send_line(out, "error" + summary.substr(0, 3000));
    return 5;
  }
  std::string line = "done " + std::to_string(report.applied) + " " + std::to_string(report.conflicts);
  for (auto v : report.written) line += " " + std::to_string(v);
  reliability::send_line(out, line);
  return 0;
}

void run_processes(int processes, int increments_each, int threads_each, Durability durability) {
  TempDir dir;
  Options options = test_options(dir);
  options.durability = durability;
  std::string id;
  {
    auto m = open_store(options);
    id = PLAN_OK(m->create({.title = "shared by processes", .metadata = {{"counter", 0}}})).id;
  }  // closed before fork: a child never inherits an open environment

  std::vector<std::unique_ptr<reliability::ChildProcess>> children;
  for (int p = 0; p < processes; ++p) {
    children.push_back(std::make_unique<reliability::ChildProcess>([&](int out, int in) {
      return increment_in_child(out, in, options, id, increments_each, threads_each);
    }));
  }
  for (auto& child : children) child->send("g");  // start together

  std::int64_t applied = 0;
  std::int64_t conflicts = 0;
  std::vector<std::int64_t> written;
  for (auto& child : children) {
    const auto lines = child->drain();
    const int status = child->wait();
    INFO("child output: " << Catch::Detail::stringify(lines));
    REQUIRE(reliability::exited_ok(status));
    REQUIRE(lines.size() == 1);
    std::istringstream words(lines[0]);
    std::string tag;
    std::int64_t a = 0;
    std::int64_t c = 0;
    words >> tag >> a >> c;
    REQUIRE(tag == "done");
    CHECK(a == increments_each);
    applied += a;
    conflicts += c;
    for (std::int64_t v = 0; words >> v;) written.push_back(v);
  }
  INFO("conflicts seen across processes: " << conflicts);

  // Every success wrote a distinct counter value, and together they are 1..n.
  std::sort(written.begin(), written.end());
  REQUIRE(static_cast<std::int64_t>(written.size()) == applied);
  for (std::size_t i = 0; i < written.size(); ++i) {
    INFO("value #" << i);
    REQUIRE(written[i] == static_cast<std::int64_t>(i + 1));
  }

  auto m = open_store(options);
  const auto s = PLAN_OK(m->get(id));
  CHECK(counter_of(s) == applied);
  CHECK(s.stream_version == 1 + applied);
  CHECK(head_of(*m) == static_cast<std::uint64_t>(1 + applied));
  require_verified(*m);
}

}  // namespace

TEST_CASE("two processes incrementing one session lose no update", "[concurrency][process]") {
  run_processes(2, 120, 1, Durability::full);
}

TEST_CASE("several multi-threaded processes incrementing one session lose no update",
          "[concurrency][process][slow]") {
  run_processes(3, 400, 3, Durability::no_sync);
}
