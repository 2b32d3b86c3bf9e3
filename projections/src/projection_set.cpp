#include "projections/src/projection_set.hpp"

#include <algorithm>
#include <cstring>
#include <random>
#include <stdexcept>
#include <unordered_set>
#if defined(__GLIBC__)
#include <malloc.h>
#endif

#include "events/src/bytes.hpp"
#include "events/src/cereal_fields.hpp"
#include "events/src/decode_ahead.hpp"
#include "events/src/event_codec.hpp"
#include "events/src/read_ahead.hpp"
#include "projections/src/databases.hpp"
#include "projections/src/records.hpp"

namespace planning::detail {

namespace {

// Events replayed between two releases of the mapped pages read so far. Each
// event faults in a few pages of a large store at random places, each bringing
// its neighbours too (the kernel's fault-around, or the whole large folio of
// the page cache the page is in: ~120 KiB per fault measured on ext4).
constexpr std::uint64_t kReleaseEvery = 512;

// Sessions one replay transaction may touch. Each one dirties a few pages
// (sessions, versions, streams, statistics, indexes) that LMDB keeps on the
// heap until the commit: ~2048 x 6 x 4 KiB bounds that near 50 MiB, whatever
// replay_batch_events says.
constexpr std::size_t kMaxSessionsPerReplay = 2048;

// How often (in events) a bulk build's replay compares the runs' memory with
// its budget.
constexpr std::uint64_t kBudgetCheckEvery = 256;

// Bytes of sorted records appended per transaction at the end of a bulk build,
// and chunks merged ahead of the appending thread.
constexpr std::size_t kSortedChunkBytes = std::size_t{2} << 20;
constexpr std::size_t kSortedChunksAhead = 2;

// Passes a bulk build may make over the log (each reads all of it).
constexpr std::uint64_t kMaxBulkPasses = 16;

// Gives the heap's free pages back to the system. A bulk build frees its runs
// when it writes them out, and its content cache and decoded chunks (in the
// decoding thread's arena) between passes; malloc keeps most of that resident, so the
// next pass, or the switch, would add its peak on top of it.
void return_free_heap() {
#if defined(__GLIBC__)
  ::malloc_trim(0);
#endif
}

// Key of the rebuild's mark in the checkpoints of the slot it builds: no
// projection name starts with '~'. Another process that finds a mark that is
// not its own knows a second rebuild has taken the slot over.
constexpr std::string_view kRebuildOwnerKey = "~rebuild";

// Thrown when a bulk build must start over (ProjectionSet::bulk_build).
struct RestartBuild {};

// Thrown when a catch-up must start over from the checkpoints as committed
// (ProjectionSet::catch_up).
struct RestartCatchUp {};

// A bulk build over every projection (StoredProjection::begin_bulk); leaving
// the scope ends it, dropping what is left.
class BulkScope {
 public:
  BulkScope(const std::vector<std::unique_ptr<StoredProjection>>& projections,
            const StoredProjection::BulkOptions& options)
      : projections_(projections) {
    for (const auto& p : projections_) p->begin_bulk(options);
  }
  ~BulkScope() {
    for (const auto& p : projections_) p->end_bulk();
  }
  BulkScope(const BulkScope&) = delete;
  BulkScope& operator=(const BulkScope&) = delete;

 private:
  const std::vector<std::unique_ptr<StoredProjection>>& projections_;
};

// A run of apply() calls over every projection (StoredProjection::begin_run):
// finish() writes what the projections kept in memory; leaving the scope
// without finish() (an exception) drops it.
class RunScope {
 public:
  explicit RunScope(const std::vector<std::unique_ptr<StoredProjection>>& projections)
      : projections_(projections) {
    for (const auto& p : projections_) p->begin_run();
  }
  ~RunScope() {
    if (!finished_) {
      for (const auto& p : projections_) p->end_run(nullptr);
    }
  }
  RunScope(const RunScope&) = delete;
  RunScope& operator=(const RunScope&) = delete;
  void finish(const Txn& txn) {
    for (const auto& p : projections_) p->end_run(&txn);
    finished_ = true;
  }

 private:
  const std::vector<std::unique_ptr<StoredProjection>>& projections_;
  bool finished_ = false;
};

}  // namespace

ProjectionSet::ProjectionSet(Environment& env, const EventLog& log)
    : env_(env), log_(log), checkpoints_(env.derived(kCheckpointsDatabase)) {}

void ProjectionSet::add(std::unique_ptr<StoredProjection> projection, bool data_lost) {
  if (data_lost) lost_.push_back(projection->name());
  projections_.push_back(std::move(projection));
}

void ProjectionSet::add_user(std::shared_ptr<Projection> projection, bool data_lost) {
  const std::string database = "user:" + projection->name();
  auto [dbi, fresh] = env_.open_derived(database);
  users_.push_back(UserEntry{projection, database});
  add(make_user_projection(std::move(projection), dbi), data_lost || fresh);
}

void ProjectionSet::add_builtins() {
  const std::vector<std::string>& created = env_.created_databases();
  for (const BuiltinProjection& builtin : builtin_projections()) {
    const bool lost = std::any_of(
        builtin.databases.begin(), builtin.databases.end(), [&](const DatabaseSpec& database) {
          return std::find(created.begin(), created.end(), database.name) != created.end();
        });
    add(builtin.make(env_), lost);
  }
}

void ProjectionSet::apply_without_checkpoint(const Txn& txn, const Event& event) const {
  for (const auto& p : projections_) p->apply(txn, event);
}

std::unique_ptr<ProjectionSet> ProjectionSet::clone_for(Environment& env,
                                                        const EventLog& log) const {
  auto set = std::make_unique<ProjectionSet>(env, log);
  set->add_builtins();
  for (const auto& user : users_) set->add_user(user.projection, false);
  return set;
}

void ProjectionSet::remove(const std::string& name) {
  std::erase_if(projections_, [&](const auto& p) { return p->name() == name; });
  std::erase_if(users_, [&](const UserEntry& u) { return u.database == name; });
}

bool ProjectionSet::contains(const std::string& name) const {
  return std::any_of(projections_.begin(), projections_.end(),
                     [&](const auto& p) { return p->name() == name; });
}

Checkpoint ProjectionSet::read_checkpoint(const Txn& txn, const StoredProjection& p) const {
  auto value = kv_get(txn, checkpoints_.in(txn), p.name());
  // Missing or damaged: schema version 0 never matches, so catch_up() resets the
  // projection and replays it (checkpoints are derived data).
  if (!value || value->size() != 12) return Checkpoint{0, 0};
  return Checkpoint{get_be<std::uint64_t>(*value, 0), get_be<std::uint32_t>(*value, 8)};
}

void ProjectionSet::write_checkpoint(const Txn& txn, const StoredProjection& p,
                                     std::uint64_t sequence) const {
  std::string record = be64(sequence);
  put_be<std::uint32_t>(record, p.schema_version());
  kv_put(txn, checkpoints_.in(txn), p.name(), record);
}

std::uint64_t ProjectionSet::replay_events(const Txn& txn, ContentResolver& resolver,
                                           std::uint64_t from, std::uint64_t to,
                                           const std::function<bool(const Event&)>& apply) const {
  std::uint64_t last = from;
  log_.scan(txn, from + 1, to, [&](std::uint64_t seq, std::string_view frame) {
    const bool more = apply(decode_in_order(txn, resolver, &last, seq, frame));
    // Keeps a long replay's resident set bounded (release_mapped_pages).
    if ((last - from) % kReleaseEvery == 0) env_.release_mapped_pages(txn);
    return more;
  });
  return last;
}

std::uint64_t ProjectionSet::lowest_checkpoint(const Txn& txn) const {
  std::uint64_t lowest = UINT64_MAX;
  for (const auto& p : projections_) lowest = std::min(lowest, read_checkpoint(txn, *p).sequence);
  return lowest;
}

void ProjectionSet::replay_range(const Txn& txn, std::uint64_t to, std::size_t max_events,
                                 std::uint64_t* reached, DecodeAhead* decoded) const {
  std::vector<std::uint64_t> checkpoints;
  std::uint64_t from = UINT64_MAX;
  for (const auto& p : projections_) {
    checkpoints.push_back(read_checkpoint(txn, *p).sequence);
    from = std::min(from, checkpoints.back());
  }
  *reached = from;
  if (projections_.empty() || from >= to) {
    *reached = to;
    return;
  }
  RunScope run(projections_);
  std::unordered_set<std::string> touched;
  std::size_t applied = 0;
  auto apply = [&](const Event& event) {
    for (std::size_t i = 0; i < projections_.size(); ++i) {
      if (checkpoints[i] < event.sequence) projections_[i]->apply(txn, event);
    }
    touched.insert(event.session_id);
    return ++applied < max_events && touched.size() < kMaxSessionsPerReplay;
  };
  std::uint64_t last = from;
  if (decoded == nullptr) {
    ContentResolver resolver(log_);
    last = replay_events(txn, resolver, from, to, apply);
  } else {
    while (const Event* event = decoded->take()) {
      // Behind the checkpoints (another process caught up meanwhile) only
      // skips events; ahead of them would skip some for good.
      if (last == from && event->sequence > from + 1) throw RestartCatchUp{};
      last = std::max(last, event->sequence);
      if (!apply(*event)) break;
    }
  }
  run.finish(txn);
  for (std::size_t i = 0; i < projections_.size(); ++i) {
    if (checkpoints[i] < last) write_checkpoint(txn, *projections_[i], last);
  }
  *reached = last;
}

void ProjectionSet::catch_up(std::size_t batch, std::size_t memory_bytes,
                             const ProgressCallback& progress) {
  // Reset what must start over.
  env_.write([&](Txn& txn) {
    for (const auto& p : projections_) {
      const bool lost = std::find(lost_.begin(), lost_.end(), p->name()) != lost_.end();
      const Checkpoint cp = read_checkpoint(txn, *p);
      if (lost || cp.schema_version != p->schema_version()) {
        p->clear(txn);
        write_checkpoint(txn, *p, 0);
      }
    }
  });
  lost_.clear();

  const std::uint64_t head = env_.read([&](Txn& txn) { return log_.head(txn).sequence; });
  batch = std::max<std::size_t>(batch, 1);
  const std::size_t cache_bytes = std::max(memory_bytes, ContentResolver::kDefaultCacheBytes);
  for (;;) {
    const std::uint64_t from = env_.read([&](const Txn& txn) { return lowest_checkpoint(txn); });
    if (from >= head) break;
    // Decoding runs ahead on a thread of its own, applying on this one.
    DecodeAhead decoded(env_, log_, from, head, {}, cache_bytes);
    try {
      for (std::uint64_t reached = from; reached < head;) {
        decoded.wait();  // outside any transaction (decode_ahead.hpp)
        bool entered = false;
        env_.write([&](Txn& txn) {
          // Run again after the map grew: the events the first run took are gone.
          if (entered) throw RestartCatchUp{};
          entered = true;
          replay_range(txn, head, batch, &reached, &decoded);
        });
        env_.release_mapped_pages();  // the pages replayed are not needed again
        if (progress) progress(reached, head);
      }
      break;
    } catch (const RestartCatchUp&) {
      // Again from the checkpoints as committed, with a new decoding thread.
    }
  }
}

void ProjectionSet::rebuild(std::size_t batch, std::size_t memory_bytes,
                            const ProgressCallback& progress,
                            const std::function<void(const Txn&)>& at_switch) {
  // Builds the slot not in force from the log, in transactions of its own, and
  // makes it the slot in force in one last commit. Until then every reader
  // sees the old projections; a crash or a damaged log leaves them in force.
  batch = std::max<std::size_t>(batch, 1);
  const std::uint8_t live = env_.read([](const Txn& txn) { return txn.slot(); });
  const std::uint8_t fresh = live ^ 1;
  std::string owner(16, '\0');
  std::random_device random;
  for (std::size_t i = 0; i < owner.size(); i += 4) {
    const std::uint32_t r = random();
    std::memcpy(owner.data() + i, &r, 4);
  }
  // Each transaction works on `fresh` — unless another process's rebuild has
  // switched slots meanwhile, when `fresh` is in force and must not be touched.
  struct Switched {};
  auto point = [&](Txn& txn) {
    if (txn.slot() != live) throw Switched{};
    txn.use_slot(fresh);
  };
  auto on_fresh = [&](Txn& txn) {
    point(txn);
    auto mark = kv_get(txn, checkpoints_.in(txn), kRebuildOwnerKey);
    if (mark && *mark != owner) {
      throw std::runtime_error(
          "another process started rebuilding the projections during this rebuild; the old "
          "projections stay in force");
    }
  };
  for (;;) {
    try {
      bulk_build(
          batch, memory_bytes, progress, [&](Txn& txn) { on_fresh(txn); },
          [&](Txn& txn) {
            point(txn);
            env_.clear_slot(txn, fresh);  // what an interrupted rebuild left there
            kv_put(txn, checkpoints_.in(txn), kRebuildOwnerKey, owner);
          });
      env_.write([&](Txn& txn) {
        on_fresh(txn);
        // Events other processes appended since the bulk build, then the switch.
        const std::uint64_t now = log_.head(txn).sequence;
        for (std::uint64_t reached = 0, before = UINT64_MAX; reached < now;) {
          before = reached;
          replay_range(txn, now, SIZE_MAX, &reached);
          if (reached == before) {
            throw missing_event(before + 1);
          }
        }
        kv_del(txn, checkpoints_.in(txn), kRebuildOwnerKey);
        env_.set_slot_in_force(txn, fresh);
        if (at_switch) at_switch(txn);
        env_.clear_slot(txn, live);
      });
      break;
    } catch (const RestartBuild&) {
      continue;  // the map grew under a transaction that cannot be redone alone
    } catch (const Switched&) {
      return;  // another process rebuilt the projections from the same log
    } catch (...) {
      // The old slot stays in force; the partial one is emptied when possible.
      try {
        env_.write([&](Txn& txn) {
          on_fresh(txn);
          env_.clear_slot(txn, fresh);
        });
      } catch (...) {
      }
      throw;
    }
  }
  lost_.clear();
}

std::vector<std::string> ProjectionSet::bulk_partitions(std::size_t memory_bytes) const {
  // Estimated from the slot in force (a guess: a damaged or empty slot gives
  // one pass, and the runs' budget still bounds memory). A session costs its
  // record in the sessions run and ~1 KiB in the indexes and statistics runs;
  // its latest text in the resolver's cache. A slot in force that cannot be
  // read (a rebuild is how it is repaired) gives one pass.
  try {
    return partitions_of_slot_in_force(memory_bytes);
  } catch (const std::exception&) {
    return {};
  }
}

std::vector<std::string> ProjectionSet::partitions_of_slot_in_force(
    std::size_t memory_bytes) const {
  return env_.read([&](const Txn& txn) {
    const MDB_dbi sessions = env_.dbi(txn, SessionsDatabases::records);
    const std::uint64_t bytes = kv_bytes(txn, sessions);
    const std::uint64_t count = kv_count(txn, sessions);
    const std::uint64_t runs = std::max<std::uint64_t>(memory_bytes / 2, 1);
    const std::uint64_t cache = std::max<std::uint64_t>(memory_bytes / 4, 1);
    auto passes_for = [&](std::uint64_t record_bytes, std::uint64_t text_bytes) {
      return std::min<std::uint64_t>(
          {kMaxBulkPasses, count,
           std::max<std::uint64_t>({1, (record_bytes + count * 1024 + runs - 1) / runs,
                                    (text_bytes + cache - 1) / cache})});
    };
    // The pages of the records bound both the records and their texts from
    // above, but they also hold the B-tree's slack, and the texts are only
    // part of the records (about half, for 1 KiB documents). When the pages
    // ask for more than one pass, the records' and texts' own sizes are
    // counted (a scan of the records). A record this build cannot read (a
    // slot of an older format being upgraded) leaves the estimate from the
    // pages.
    std::uint64_t passes = passes_for(bytes, bytes);
    if (passes > 1) {
      try {
        std::uint64_t records = 0, texts = 0, index = 0;
        std::string metadata_json;
        kv_scan_prefix(txn, sessions, "", [&](std::string_view, std::string_view value) {
          records += value.size();
          texts += decode_session(value, metadata_json).content.size();
          if (++index % kReleaseEvery == 0) env_.release_mapped_pages(txn);
          return true;
        });
        passes = passes_for(records, texts);
      } catch (const std::exception&) {
      }
    }
    // Ranges of equal session counts, as the slot in force has them.
    std::vector<std::string> bounds;
    std::uint64_t index = 0;
    if (passes > 1) {
      kv_scan_prefix(txn, sessions, "", [&](std::string_view key, std::string_view) {
        ++index;
        if (index == count * (bounds.size() + 1) / passes) bounds.emplace_back(key);
        // The pages scanned are not needed again (release_mapped_pages).
        if (index % kReleaseEvery == 0) env_.release_mapped_pages(txn);
        return bounds.size() + 1 < passes;
      });
    }
    return bounds;
  });
}

void ProjectionSet::bulk_build(std::size_t batch, std::size_t memory_bytes,
                               const ProgressCallback& progress,
                               const std::function<void(Txn&)>& on_slot,
                               const std::function<void(Txn&)>& start) {
  // The projections keep a run across every transaction (StoredProjection::
  // begin_bulk): each replay transaction only reads, unless a projection
  // writes through; runs are written out when over budget and at the end;
  // sorted databases are appended in key order last.
  // The budget: half for the runs, a quarter for the resolver's cache, a
  // quarter for the sorted loads' buffers.
  BulkScope bulk(projections_, StoredProjection::BulkOptions{env_.path(), memory_bytes / 8});
  const std::size_t run_budget = memory_bytes / 2;
  // A replay transaction changes the runs in memory, so it cannot be retried
  // after MDB_MAP_FULL the way Environment::write would: the build restarts.
  auto once = [&](const std::function<void(Txn&)>& body) {
    bool entered = false;
    env_.write([&](Txn& txn) {
      if (entered) throw RestartBuild{};
      entered = true;
      on_slot(txn);
      body(txn);
    });
  };
  // Each projection's run in a transaction of its own, the largest last, and
  // dropped once committed: the peak is then the runs not yet written plus one
  // run's dirty pages (LMDB keeps them on the heap), not every run and every
  // page at once. Nothing reads the slot being built, so nothing needs the
  // runs committed together.
  auto write_runs = [&] {
    std::vector<StoredProjection*> order;
    for (const auto& p : projections_) order.push_back(p.get());
    std::stable_sort(order.begin(), order.end(),
                     [](const auto* a, const auto* b) { return a->run_bytes() < b->run_bytes(); });
    for (StoredProjection* p : order) {
      env_.write([&](Txn& txn) {
        on_slot(txn);
        p->write_run(txn);
        env_.release_mapped_pages(txn);  // the pages read to find where records go
      });
      p->drop_run();
      env_.release_mapped_pages();  // the pages the run was written into
    }
    return_free_heap();
  };
  auto run_bytes = [&] {
    std::size_t total = 0;
    for (const auto& p : projections_) total += p->run_bytes();
    return total;
  };

  env_.write([&](Txn& txn) {
    start(txn);
    for (const auto& p : projections_) write_checkpoint(txn, *p, 0);
  });
  const std::uint64_t head = env_.read([&](const Txn& txn) { return log_.head(txn).sequence; });
  // Passes over the log, each for the sessions of one range of ids, so that
  // the sessions a pass keeps in memory fit the budget: their records are then
  // written once, not once per transaction, and each pass writes into its own
  // part of the B-trees keyed by id. User projections see every event
  // in the first pass (they need log order); later passes skip their events.
  const std::vector<std::string> bounds = bulk_partitions(memory_bytes);
  const std::uint64_t passes = bounds.size() + 1;
  auto partition = [&](std::string_view session_id) -> std::uint64_t {
    return std::upper_bound(bounds.begin(), bounds.end(), session_id) - bounds.begin();
  };
  bool users = false;
  for (const auto& p : projections_) users = users || !p->built_in();
  for (std::uint64_t pass = 0; pass < passes; ++pass) {
    SessionFilter select;
    if (passes > 1 && (pass > 0 || !users)) {
      select = [&](std::string_view id) { return partition(id) == pass; };
    }
    // Decoding runs ahead on a thread of its own, applying on this one.
    DecodeAhead decoded(env_, log_, 0, head, select, memory_bytes / 4);
    for (std::uint64_t reached = 0; reached < head;) {
      decoded.wait();  // outside any transaction (decode_ahead.hpp)
      once([&](Txn& txn) {
        std::size_t applied = 0;
        while (Event* event = decoded.take()) {
          const bool mine = passes == 1 || partition(event->session_id) == pass;
          for (const auto& p : projections_) {
            if (p->built_in() ? mine : pass == 0) p->apply(txn, *event);
          }
          reached = event->sequence;
          ++applied;
          if (applied >= batch || (applied % kBudgetCheckEvery == 0 && run_bytes() >= run_budget)) {
            break;
          }
        }
        if (decoded.finished()) reached = head;  // the events left belong to other passes
      });
      if (run_bytes() >= run_budget) write_runs();
      env_.release_mapped_pages();  // the pages replayed are not needed again
      if (progress) progress((pass * head + reached) / passes, head);
    }
    write_runs();
  }
  {
    // The sorted runs are merged into the next chunk on a thread of its own
    // while this one appends the last (take_sorted touches no transaction).
    std::size_t loading = 0;  // index in projections_
    ReadAhead<StoredProjection::SortedChunk> chunks(
        [&]() -> std::optional<StoredProjection::SortedChunk> {
          for (; loading < projections_.size(); ++loading) {
            if (auto chunk = projections_[loading]->take_sorted(kSortedChunkBytes)) return chunk;
          }
          return std::nullopt;
        },
        kSortedChunksAhead);
    while (auto chunk = chunks.take()) {
      env_.write([&](Txn& txn) {
        on_slot(txn);
        Cursor appender(txn, chunk->dbi.in(txn));
        chunk->each([&](std::string_view key, std::string_view value) {
          appender.put(key, value, MDB_APPEND);
        });
      });
      env_.release_mapped_pages();
    }
  }
  return_free_heap();  // before the switch, which maps the old slot's pages to free them
  env_.write([&](Txn& txn) {
    on_slot(txn);
    for (const auto& p : projections_) write_checkpoint(txn, *p, head);
  });
}

void ProjectionSet::begin_appends(const Txn& txn, std::uint64_t head, bool defer) {
  // Projections registered only in this process fall behind when another process
  // appends; bring them up first so no event is skipped.
  std::uint64_t reached = 0;
  do {
    replay_range(txn, head, SIZE_MAX, &reached);
  } while (reached < head);
  deferred_.clear();
  for (const auto& p : projections_) {
    p->end_run(nullptr);  // drops what a failed transaction left in a run
    if (defer && p->deferrable()) {
      p->begin_run();
      deferred_.push_back(p.get());
    }
  }
  appends_from_ = head;
}

void ProjectionSet::apply_appended(const Txn& txn, const Event& event) const {
  for (const auto& p : projections_) p->apply(txn, event);
}

void ProjectionSet::end_appends(const Txn& txn, std::uint64_t head) {
  for (StoredProjection* p : deferred_) p->end_run(&txn);
  deferred_.clear();
  if (head == appends_from_) return;  // nothing appended
  for (const auto& p : projections_) write_checkpoint(txn, *p, head);
}

std::vector<ProjectionInfo> ProjectionSet::info(const Txn& txn) const {
  std::vector<ProjectionInfo> out;
  for (const auto& p : projections_) {
    const Checkpoint cp = read_checkpoint(txn, *p);
    std::string name = p->name();
    if (!p->built_in()) name = name.substr(5);  // "user:<name>" -> "<name>"
    out.push_back(ProjectionInfo{std::move(name), p->built_in(), p->schema_version(), cp.sequence});
  }
  return out;
}

}  // namespace planning::detail
