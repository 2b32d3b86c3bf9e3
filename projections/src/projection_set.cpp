#include "projections/src/projection_set.hpp"

#include <algorithm>
#include <unordered_set>

#include "events/src/content_resolver.hpp"
#include "events/src/bytes.hpp"
#include "events/src/cereal_fields.hpp"
#include "events/src/event_codec.hpp"
#include "projections/src/databases.hpp"

namespace planning::detail {

namespace {

// Events replayed between two releases of the mapped pages read so far. Each
// event faults in a few pages of a large store at random places, each bringing
// up to 64 KiB of neighbours (the kernel's fault-around).
constexpr std::uint64_t kReleaseEvery = 512;

// Sessions one replay transaction may touch. Each one dirties a few pages
// (sessions, versions, streams, statistics, indexes) that LMDB keeps on the
// heap until the commit: ~2048 x 6 x 4 KiB bounds that near 50 MiB, whatever
// replay_batch_events says.
constexpr std::size_t kMaxSessionsPerReplay = 2048;

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

void ProjectionSet::replay_range(const Txn& txn, std::uint64_t to, std::size_t max_events,
                                 std::uint64_t* reached) const {
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
  std::uint64_t last = from;
  std::uint64_t expected = from + 1;
  RunScope run(projections_);
  std::unordered_set<std::string> touched;
  ContentResolver resolver(log_);
  log_.scan(txn, from + 1, to, [&](std::uint64_t seq, std::string_view frame) {
    if (seq != expected) {
      throw DecodeError("event " + std::to_string(expected) + " is missing from the log");
    }
    auto event = resolver.decode(txn, seq, frame);
    if (!event) throw DecodeError(event.error().message);
    for (std::size_t i = 0; i < projections_.size(); ++i) {
      if (checkpoints[i] < seq) projections_[i]->apply(txn, *event);
    }
    last = seq;
    ++expected;
    // Keeps a long replay's resident set bounded (release_mapped_pages).
    if ((last - from) % kReleaseEvery == 0) env_.release_mapped_pages(txn);
    touched.insert(event->session_id);
    return last - from < max_events && touched.size() < kMaxSessionsPerReplay;
  });
  run.finish(txn);
  for (std::size_t i = 0; i < projections_.size(); ++i) {
    if (checkpoints[i] < last) write_checkpoint(txn, *projections_[i], last);
  }
  *reached = last;
}

void ProjectionSet::catch_up(std::size_t batch, const ProgressCallback& progress) {
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
  for (;;) {
    std::uint64_t reached = 0;
    env_.write([&](Txn& txn) { replay_range(txn, head, batch, &reached); });
    env_.release_mapped_pages();  // the pages replayed are not needed again
    if (progress) progress(reached, head);
    if (reached >= head) break;
  }
}

void ProjectionSet::rebuild(std::size_t batch, const ProgressCallback& progress,
                            const std::function<void(const Txn&)>& at_switch) {
  // Fills the slot not in force from the log, in transactions of its own, and
  // makes it the slot in force in one last commit. Until then every reader
  // sees the old projections; a crash or a damaged log leaves them in force.
  batch = std::max<std::size_t>(batch, 1);
  const std::uint8_t live = env_.read([](const Txn& txn) { return txn.slot(); });
  const std::uint8_t fresh = live ^ 1;
  // Each transaction works on `fresh` — unless another process's rebuild has
  // switched slots meanwhile, when `fresh` is in force and must not be touched.
  struct Switched {};
  auto on_fresh = [&](Txn& txn) {
    if (txn.slot() != live) throw Switched{};
    txn.use_slot(fresh);
  };
  try {
    env_.write([&](Txn& txn) {
      on_fresh(txn);
      env_.clear_slot(txn, fresh);  // what an interrupted rebuild left there
      for (const auto& p : projections_) write_checkpoint(txn, *p, 0);
    });
    const std::uint64_t head = env_.read([&](const Txn& txn) { return log_.head(txn).sequence; });
    // A log that ends before its head record stops a replay short: reported.
    auto advanced = [](std::uint64_t before, std::uint64_t reached) {
      if (reached == before) {
        throw DecodeError("event " + std::to_string(before + 1) + " is missing from the log");
      }
    };
    for (std::uint64_t reached = 0; reached < head;) {
      const std::uint64_t before = reached;
      env_.write([&](Txn& txn) {
        on_fresh(txn);
        replay_range(txn, head, batch, &reached);
      });
      advanced(before, reached);
      env_.release_mapped_pages();  // the pages replayed are not needed again
      if (progress) progress(reached, head);
    }
    env_.write([&](Txn& txn) {
      on_fresh(txn);
      // Events other processes appended since `head`, then the switch.
      const std::uint64_t now = log_.head(txn).sequence;
      for (std::uint64_t reached = 0, before = UINT64_MAX; reached < now;) {
        before = reached;
        replay_range(txn, now, SIZE_MAX, &reached);
        if (reached < now) advanced(before, reached);
      }
      env_.set_slot_in_force(txn, fresh);
      if (at_switch) at_switch(txn);
      env_.clear_slot(txn, live);
    });
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
  lost_.clear();
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
