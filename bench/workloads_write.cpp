// Workloads 1-3: durable writes — one update per transaction, group commit of
// concurrent writers, and apply_batch.
#include <barrier>
#include <thread>
#include <vector>

#include <fmt/format.h>

#include "bench/baselines.hpp"
#include "bench/sqlite_peer.hpp"
#include "bench/workloads.hpp"

namespace bench {

namespace {

constexpr std::size_t kContentBytes = 1024;

std::string create_session(planning::SessionManager& manager, std::string title) {
  return must(manager.create({.title = std::move(title), .created_by = "bench"}), "create").id;
}

// One manager.update per durable commit on one session, until `ops` ops or
// `max_seconds`.
WriteRate engine_single_updates(const std::filesystem::path& store, std::size_t ops,
                                double max_seconds, ContentPool& pool) {
  auto manager = open_store(store);
  const std::string id = create_session(*manager, "single writer");
  return measure_writes([&] {
    std::size_t done = 0;
    const auto start = SteadyClock::now();
    for (; done < ops; ++done) {
      if (done > 0 && seconds_since(start) > max_seconds) break;
      must(manager->update(id, autosave(pool.next())), "update");
    }
    return done;
  });
}

// The same-work SQLite peer: one durable update per transaction on one
// session, until `ops` ops or `max_seconds`.
WriteRate peer_single_updates(const std::filesystem::path& dir, std::size_t ops, double max_seconds,
                              ContentPool& pool) {
  SqlitePeer peer(dir / "peer.sqlite");
  const std::string id = peer.create("single writer", "", "");
  return measure_writes([&] {
    std::size_t done = 0;
    const auto start = SteadyClock::now();
    for (; done < ops; ++done) {
      if (done > 0 && seconds_since(start) > max_seconds) break;
      peer.update(id, pool.next());
    }
    return done;
  });
}

// The peer with `threads` writer threads, each with its own connection and
// session (SQLite serializes writers: BEGIN IMMEDIATE waits for the lock).
double peer_concurrent_updates(const std::filesystem::path& dir, std::size_t threads,
                               std::size_t ops_per_thread, const ContentPool& pool) {
  const auto file = dir / "peer.sqlite";
  std::vector<std::string> ids;
  {
    SqlitePeer setup(file);
    for (std::size_t t = 0; t < threads; ++t) ids.push_back(setup.create("writer", "", ""));
  }
  std::barrier start(static_cast<std::ptrdiff_t>(threads + 1));
  std::vector<std::jthread> workers;
  for (std::size_t t = 0; t < threads; ++t) {
    workers.emplace_back([&, t] {
      SqlitePeer peer(file);
      start.arrive_and_wait();
      for (std::size_t i = 0; i < ops_per_thread; ++i) peer.update(ids[t], pool.at(i * threads + t));
    });
  }
  const auto begin = SteadyClock::now();
  start.arrive_and_wait();
  for (auto& w : workers) w.join();
  return static_cast<double>(threads * ops_per_thread) / seconds_since(begin);
}

// The peer's batches: `batches` transactions of `batch_size` updates over 100
// sessions.
WriteRate peer_batched_updates(const std::filesystem::path& dir, std::size_t batches,
                               std::size_t batch_size, const ContentPool& pool) {
  SqlitePeer peer(dir / "peer.sqlite");
  constexpr std::size_t kSessions = 100;
  std::vector<std::string> ids;
  peer.begin();
  for (std::size_t s = 0; s < kSessions; ++s) ids.push_back(peer.create_in_txn("batch", "", ""));
  peer.commit();
  std::size_t op = 0;
  return measure_writes([&] {
    for (std::size_t b = 0; b < batches; ++b) {
      peer.begin();
      for (std::size_t i = 0; i < batch_size; ++i, ++op) {
        peer.update_in_txn(ids[op % kSessions], pool.at(op));
      }
      peer.commit();
    }
    return batches * batch_size;
  });
}

// The rows of bytes written per op, against raw LMDB, the same-work peer and,
// when given, raw LMDB writing one update's records in the engine's layout.
void add_written_rows(Report& report, const std::string& workload, const WriteRate& ours,
                      const WriteRate& raw, const WriteRate& peer,
                      const WriteRate* layout = nullptr) {
  std::vector<std::pair<std::string, const WriteRate*>> baselines = {
      {"raw LMDB: " + kib_per_op(raw.bytes_per_op, "put"), &raw},
      {"same-work SQLite: " + kib_per_op(peer.bytes_per_op, "update"), &peer}};
  if (layout != nullptr) {
    baselines.emplace_back("raw LMDB in our layout: " + kib_per_op(layout->bytes_per_op, "update"),
                           layout);
  }
  for (const auto& [baseline, rate] : baselines) {
    report.add({.workload = workload,
                .ours = kib_per_op(ours.bytes_per_op, "update"),
                .baseline = baseline,
                .ratio = times(ours.bytes_per_op / std::max(rate->bytes_per_op, 1.0)),
                .goal = "informational (write amplification)",
                .met = std::nullopt});
  }
}

}  // namespace

void single_update(RunState& state) {
  const Config& c = state.config;
  TempStore store(c, "single");
  ContentPool pool(kContentBytes);
  WriteRate ours_w, raw_w, layout_w, peer_w;
  for (int round = 0; round < c.rounds; ++round) {
    ours_w = best_of(ours_w, engine_single_updates(store.path() / "engine", c.single_ops,
                                                   c.single_seconds, pool));
    raw_w = best_of(raw_w, raw_lmdb_single_puts(store.path() / fmt::format("raw-{}", round),
                                                c.single_ops, c.single_seconds, pool));
    layout_w =
        best_of(layout_w, raw_lmdb_layout_updates(store.path() / fmt::format("layout-{}", round),
                                                  c.single_ops, c.single_seconds, pool));
    peer_w = best_of(peer_w, peer_single_updates(store.path() / fmt::format("peer-{}", round),
                                                 c.single_ops, c.single_seconds, pool));
    progress(fmt::format(
        "1. single update: round {}: ours {:.0f}/s, raw {:.0f}/s, raw in our "
        "layout {:.0f}/s, same-work SQLite {:.0f}/s",
        round + 1, ours_w.per_second, raw_w.per_second, layout_w.per_second, peer_w.per_second));
  }
  const double ours = ours_w.per_second, raw = raw_w.per_second, peer = peer_w.per_second;
  const double layout = layout_w.per_second;
  state.single_update_rate = ours;
  state.report.add({.workload = "1. durable update, 1 per txn, 1 thread",
                    .ours = rate(ours),
                    .baseline = "raw LMDB put+commit: " + rate(raw),
                    .ratio = times(ours / raw),
                    .goal = "≥ 0.90× raw",
                    .met = ours >= 0.9 * raw});
  state.report.add(
      {.workload = "1. durable update, 1 per txn, 1 thread",
       .ours = rate(ours),
       .baseline = "raw LMDB, one update's records in 9 databases + commit: " + rate(layout),
       .ratio = times(ours / layout),
       .goal = "informational (the layout's floor; ÷ raw put+commit: " + times(layout / raw) + ")",
       .met = std::nullopt});
  state.report.add({.workload = "1. durable update, 1 per txn, 1 thread",
                    .ours = rate(ours),
                    .baseline = "same-work SQLite: " + rate(peer),
                    .ratio = times(ours / peer),
                    .goal = "informational (one writer: fsync-bound)",
                    .met = std::nullopt});
  add_written_rows(state.report, "1. bytes written per durable update", ours_w, raw_w, peer_w,
                   &layout_w);
}

void group_commit(RunState& state) {
  const Config& c = state.config;
  if (!state.single_update_rate) {
    // Run on its own (--only group): measure the single-writer figure first.
    TempStore single(c, "single");
    ContentPool pool(kContentBytes);
    state.single_update_rate =
        engine_single_updates(single.path(), c.single_ops, c.single_seconds, pool).per_second;
  }
  TempStore store(c, "group");
  const ContentPool pool(kContentBytes);
  const std::size_t threads = c.group_threads;
  double best = 0;
  auto manager = open_store(store.path());
  std::vector<std::string> ids;
  for (std::size_t t = 0; t < threads; ++t) {
    ids.push_back(create_session(*manager, fmt::format("writer {}", t)));
  }
  std::size_t offset = 0;  // keeps each session's next content different across rounds
  double peer = 0;
  for (int round = 0; round < c.rounds; ++round) {
    peer = std::max(peer, peer_concurrent_updates(store.path() / fmt::format("peer-{}", round),
                                                  threads, c.group_ops_per_thread, pool));
    std::barrier start(static_cast<std::ptrdiff_t>(threads + 1));
    std::vector<std::jthread> workers;
    for (std::size_t t = 0; t < threads; ++t) {
      workers.emplace_back([&, t] {
        start.arrive_and_wait();
        for (std::size_t i = 0; i < c.group_ops_per_thread; ++i) {
          const std::string& content = pool.at((offset + i) * threads + t);
          must(manager->update(ids[t], autosave(content)), "update");
        }
      });
    }
    const auto begin = SteadyClock::now();
    start.arrive_and_wait();
    for (auto& w : workers) w.join();
    const double seconds = seconds_since(begin);
    offset += c.group_ops_per_thread;
    best = std::max(best, static_cast<double>(threads * c.group_ops_per_thread) / seconds);
    progress(fmt::format("2. group commit: round {}: {:.0f}/s, same-work SQLite {:.0f}/s",
                         round + 1, best, peer));
  }
  const double single = *state.single_update_rate;
  state.report.add({.workload = fmt::format("2. group commit, {} threads, own sessions", threads),
                    .ours = rate(best),
                    .baseline = "workload 1: " + rate(single),
                    .ratio = times(best / single),
                    .goal = "≥ 5× workload 1",
                    .met = best >= 5.0 * single});
  state.report.add({.workload = fmt::format("2. group commit, {} threads, own sessions", threads),
                    .ours = rate(best),
                    .baseline = fmt::format("same-work SQLite, {} threads: {}", threads, rate(peer)),
                    .ratio = times(best / peer),
                    .goal = "≥ 2× same-work SQLite",
                    .met = best >= 2.0 * peer});
}

void batch_append(RunState& state) {
  const Config& c = state.config;
  TempStore store(c, "batch");
  ContentPool pool(kContentBytes);
  constexpr std::size_t kSessions = 100;
  auto manager = open_store(store.path() / "engine");
  std::vector<std::string> ids;
  {
    planning::WriteBatch creates;
    for (std::size_t s = 0; s < kSessions; ++s) {
      creates.create({.title = fmt::format("batch target {}", s), .created_by = "bench"});
    }
    for (auto& r : must(manager->apply_batch(creates), "apply_batch")) {
      ids.push_back(must(std::move(r), "create").id);
    }
  }
  std::size_t op = 0;
  WriteRate ours_w, raw_w, peer_w;
  double sqlite = 0;
  for (int round = 0; round < c.rounds; ++round) {
    peer_w = best_of(peer_w, peer_batched_updates(store.path() / fmt::format("peer-{}", round),
                                                  c.batch_count, c.batch_size, pool));
    ours_w = best_of(ours_w, measure_writes([&] {
                       for (std::size_t b = 0; b < c.batch_count; ++b) {
                         planning::WriteBatch batch;
                         for (std::size_t i = 0; i < c.batch_size; ++i, ++op) {
                           batch.update(ids[op % kSessions], autosave(pool.at(op)));
                         }
                         for (auto& r : must(manager->apply_batch(batch), "apply_batch"))
                           must(std::move(r), "update");
                       }
                       return c.batch_count * c.batch_size;
                     }));
    raw_w = best_of(raw_w, raw_lmdb_batched_puts(store.path() / fmt::format("raw-{}", round),
                                                 c.batch_count, c.batch_size, pool));
    sqlite = std::max(sqlite, sqlite_batched_inserts(store.path() / fmt::format("sqlite-{}", round),
                                                     c.batch_count, c.batch_size, pool));
    progress(
        fmt::format("3. batch append: round {}: ours {:.0f}/s, raw {:.0f}/s, sqlite {:.0f}/s, "
                    "same-work SQLite {:.0f}/s",
                    round + 1, ours_w.per_second, raw_w.per_second, sqlite, peer_w.per_second));
  }
  const double ours = ours_w.per_second, raw = raw_w.per_second, peer = peer_w.per_second;
  const std::string name = fmt::format("3. apply_batch, {} updates per txn", c.batch_size);
  state.report.add({.workload = name,
                    .ours = rate(ours),
                    .baseline = fmt::format("raw LMDB, {} puts/txn: {}", c.batch_size, rate(raw)),
                    .ratio = times(ours / raw),
                    .goal = "≥ 0.50× raw",
                    .met = ours >= 0.5 * raw});
  state.report.add({.workload = name,
                    .ours = rate(ours),
                    .baseline = fmt::format("SQLite WAL, sync=FULL, {} inserts/txn: {}",
                                            c.batch_size, rate(sqlite)),
                    .ratio = times(ours / sqlite),
                    .goal = "> 1× SQLite",
                    .met = ours > sqlite});
  state.report.add(
      {.workload = name,
       .ours = rate(ours),
       .baseline = fmt::format("same-work SQLite, {} updates/txn: {}", c.batch_size, rate(peer)),
       .ratio = times(ours / peer),
       .goal = "≥ 2× same-work SQLite",
       .met = ours >= 2.0 * peer});
  add_written_rows(state.report,
                   fmt::format("3. bytes written per update, {} per txn", c.batch_size), ours_w,
                   raw_w, peer_w);
}

}  // namespace bench
