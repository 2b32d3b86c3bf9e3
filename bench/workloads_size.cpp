// Workload 10: the size of a store — the same updates written one per commit
// and in batches of 1,000, by the engine and by the same-work SQLite peer.
#include <algorithm>

#include <fmt/format.h>

#include "bench/sqlite_peer.hpp"
#include "bench/workloads.hpp"

namespace bench {

namespace {

constexpr std::size_t kSessions = 100;
constexpr std::size_t kBatch = 1000;
constexpr std::size_t kContentBytes = 1024;

// Updates 0 .. updates-1, `per_commit` to a transaction: one(op) each in its
// own when per_commit is 1, else group(first, end) for each transaction.
template <class One, class Group>
void in_commits(std::size_t updates, std::size_t per_commit, One one, Group group) {
  for (std::size_t op = 0; op < updates;) {
    if (per_commit == 1) {
      one(op++);
      continue;
    }
    const std::size_t end = std::min(updates, op + per_commit);
    group(op, end);
    op = end;
  }
}

// Bytes of data.mdb after the engine wrote `updates` content updates over
// kSessions sessions, `per_commit` to a transaction (1: each its own
// `update`; more: `apply_batch`). The commits are not synced: when pages
// reach the disk does not change which pages a commit writes.
std::uint64_t engine_store_bytes(const std::filesystem::path& path, std::size_t updates,
                                 std::size_t per_commit, const ContentPool& pool) {
  {
    planning::Options options = store_options(path);
    options.durability = planning::Durability::no_sync;
    auto manager = must(planning::SessionManager::open(options), "open " + path.string());
    std::vector<std::string> ids;
    for (std::size_t s = 0; s < kSessions; ++s) {
      ids.push_back(
          must(manager->create({.title = fmt::format("size {}", s), .created_by = "bench"}),
               "create")
              .id);
    }
    in_commits(
        updates, per_commit,
        [&](std::size_t op) {
          must(manager->update(ids[op % kSessions], autosave(pool.at(op))), "update");
        },
        [&](std::size_t first, std::size_t end) {
          planning::WriteBatch batch;
          for (std::size_t op = first; op < end; ++op) {
            batch.update(ids[op % kSessions], autosave(pool.at(op)));
          }
          for (auto& r : must(manager->apply_batch(batch), "apply_batch")) {
            must(std::move(r), "update");
          }
        });
  }
  return file_size_or_zero(path / "data.mdb");
}

// The same for the peer; its file once the connection closed (SQLite then
// checkpoints the WAL into the database and removes it).
std::uint64_t peer_store_bytes(const std::filesystem::path& dir, std::size_t updates,
                               std::size_t per_commit, const ContentPool& pool) {
  const auto file = dir / "peer.sqlite";
  {
    SqlitePeer peer(file);
    std::vector<std::string> ids;
    for (std::size_t s = 0; s < kSessions; ++s) ids.push_back(peer.create("size", "", ""));
    in_commits(
        updates, per_commit, [&](std::size_t op) { peer.update(ids[op % kSessions], pool.at(op)); },
        [&](std::size_t first, std::size_t end) {
          peer.begin();
          for (std::size_t op = first; op < end; ++op) {
            peer.update_in_txn(ids[op % kSessions], pool.at(op));
          }
          peer.commit();
        });
  }
  return file_size_or_zero(file) + file_size_or_zero(file.string() + "-wal");
}

std::string mib(std::uint64_t bytes) {
  return fmt::format("{:.1f} MiB", static_cast<double>(bytes) / 1048576.0);
}

}  // namespace

void store_size(RunState& state) {
  const Config& c = state.config;
  TempStore store(c, "size");
  const ContentPool pool(kContentBytes);
  const std::size_t n = c.size_updates;
  const std::uint64_t single = engine_store_bytes(store.path() / "single", n, 1, pool);
  const std::uint64_t batched = engine_store_bytes(store.path() / "batched", n, kBatch, pool);
  const std::uint64_t peer_single = peer_store_bytes(store.path() / "peer-single", n, 1, pool);
  const std::uint64_t peer_batched =
      peer_store_bytes(store.path() / "peer-batched", n, kBatch, pool);
  progress(
      fmt::format("10. store size: ours {} one per commit, {} batched; same-work SQLite {}, {}",
                  mib(single), mib(batched), mib(peer_single), mib(peer_batched)));
  const std::string what =
      fmt::format("10. store size, {} updates of 1 KiB over {} sessions", n, kSessions);
  const double spread = static_cast<double>(batched) / static_cast<double>(single);
  state.report.add({.workload = what + ", batches of 1,000",
                    .ours = mib(batched),
                    .baseline = "ours, one per commit: " + mib(single),
                    .ratio = times(spread),
                    .goal = "within 10 % of one per commit",
                    .met = spread >= 0.9 && spread <= 1.1});
  for (const auto& [mode, ours, peer] : {std::tuple{"one per commit", single, peer_single},
                                         std::tuple{"batches of 1,000", batched, peer_batched}}) {
    const double ratio = static_cast<double>(ours) / static_cast<double>(peer);
    state.report.add({.workload = what + ", " + mode,
                      .ours = mib(ours),
                      .baseline = "same-work SQLite: " + mib(peer),
                      .ratio = times(ratio),
                      .goal = "≤ 0.6× same-work SQLite",
                      .met = ratio <= 0.6});
  }
}

}  // namespace bench
