// Projection "statistics": running counters plus, per session, what it
// contributes to them (so a change can subtract the old contribution).
//   "counters"  -> Counters
//   "s:" + id   -> Contribution
#include <unordered_map>

#include <planning/queries.hpp>

#include "events/src/cereal_fields.hpp"
#include "events/src/record_reader.hpp"
#include "projections/src/databases.hpp"
#include "projections/src/session_fold.hpp"
#include "projections/src/statistics_records.hpp"
#include "projections/src/stored_projection.hpp"

namespace planning::detail {

namespace {

template <class Archive>
void counter_fields(Archive& ar, Counters& c) {
  fields(ar, c.active, c.paused, c.converted, c.archived, c.removed, c.with_content, c.versions);
}

template <class Archive>
void contribution_fields(Archive& ar, Contribution& c) {
  fields(ar, c.status, c.versions, c.has_content);
}

template <typename T, typename Fn>
std::string encode(T value, Fn&& fn) {
  return encode_record([&](auto& ar) { fn(ar, value); });
}

template <typename T, typename Fn>
T decode(std::string_view bytes, Fn&& fn) {
  T value;
  decode_record(bytes, [&](auto& ar) { fn(ar, value); });
  return value;
}

void add(Counters& c, const Contribution& k, int sign) {
  auto bump = [sign](std::uint64_t& v, std::uint64_t by) {
    v = sign > 0 ? v + by : v - by;
  };
  switch (k.status) {
    case Status::active: bump(c.active, 1); break;
    case Status::paused: bump(c.paused, 1); break;
    case Status::converted: bump(c.converted, 1); break;
    case Status::archived: bump(c.archived, 1); break;
  }
  if (k.has_content) bump(c.with_content, 1);
  bump(c.versions, k.versions);
}

constexpr std::string_view kCountersKey = "counters";

class StatisticsProjection final : public StoredProjection {
 public:
  explicit StatisticsProjection(const Environment& env) : dbi_(env.derived(StatisticsDatabases::records)) {}
  std::span<const DatabaseSpec> databases() const override { return StatisticsDatabases::all; }
  std::string name() const override { return "statistics"; }
  std::uint32_t schema_version() const override { return 1; }
  bool built_in() const override { return true; }
  void clear(const Txn& txn) override { kv_clear(txn, dbi_.in(txn)); }

  void apply(const Txn& txn, const Event& event) override {
    // Built in a buffer kept between events: one allocation per projection,
    // not one per event (a session id is longer than a short string's buffer).
    std::string& key = key_;
    key.assign("s:");
    key += event.session_id;
    if (!in_run_) {
      Counters counters = read_counters(txn, dbi_.in(txn));
      const std::optional<Contribution> now = next(counters, load(txn, key), event);
      store(txn, key, now);
      write_counters(txn, counters);
      return;
    }
    // In a run the counters and each session's contribution stay in memory
    // and are written once, by end_run.
    if (!run_counters_) run_counters_ = read_counters(txn, dbi_.in(txn));
    auto [it, fresh] = run_.try_emplace(key);
    if (fresh) it->second = load(txn, key);
    it->second = next(*run_counters_, it->second, event);
  }

  void begin_run() override {
    run_counters_ = std::nullopt;
    run_.clear();
    in_run_ = true;
  }
  bool deferrable() const override { return true; }  // get_statistics reads it, writes never do

  void end_run(const Txn* txn) override {
    if (txn) write_run(*txn);
    run_counters_ = std::nullopt;
    run_.clear();
    in_run_ = false;
  }

  void begin_bulk(const BulkOptions& /*options*/) override { begin_run(); }
  std::size_t run_bytes() const override { return run_.size() * kCachedBytes; }
  void write_run(const Txn& txn) const override {
    for (const auto* entry : in_key_order(run_)) store(txn, entry->first, entry->second);
    if (run_counters_) write_counters(txn, *run_counters_);
  }
  // The counters stay: they are read once per run, and equal what was written.
  void drop_run() override { run_.clear(); }
  void end_bulk() override { end_run(nullptr); }

 private:
  std::optional<Contribution> load(const Txn& txn, const std::string& key) const {
    auto bytes = kv_get(txn, dbi_.in(txn), key);
    if (!bytes) return std::nullopt;
    return decode<Contribution>(*bytes, [](auto& ar, auto& v) { contribution_fields(ar, v); });
  }

  // What the statistics count of a session, by Session's names (fold_into).
  struct Counted {
    Status status = Status::active;
    std::uint32_t current_version = 0;
    bool has_content = false;
  };

  // The session's contribution after `event`, from the one before it (absent:
  // no session yet, or removed); moves `counters` from one to the other.
  static std::optional<Contribution> next(Counters& counters,
                                          const std::optional<Contribution>& old,
                                          const Event& event) {
    std::optional<Counted> partial;
    if (old) {
      add(counters, *old, -1);
      partial = Counted{old->status, old->versions, old->has_content};
    }
    fold_into(partial, event);
    if (!partial) {
      counters.removed += 1;
      return std::nullopt;
    }
    const Contribution now{partial->status, partial->current_version, partial->has_content};
    add(counters, now, +1);
    return now;
  }

  void store(const Txn& txn, const std::string& key, const std::optional<Contribution>& c) const {
    if (c) {
      kv_put(txn, dbi_.in(txn), key, encode(*c, [](auto& ar, auto& v) { contribution_fields(ar, v); }));
    } else {
      kv_del(txn, dbi_.in(txn), key);
    }
  }

  void write_counters(const Txn& txn, Counters counters) const {
    kv_put(txn, dbi_.in(txn), kCountersKey,
           encode(counters, [](auto& ar, auto& v) { counter_fields(ar, v); }));
  }

  DerivedDbi dbi_;
  std::string key_;  // apply's key, "s:" ‖ session id
  // The current run's state (see StoredProjection::begin_run): the counters
  // once read, and the contributions of the sessions it touched.
  bool in_run_ = false;
  std::optional<Counters> run_counters_;
  std::unordered_map<std::string, std::optional<Contribution>> run_;
  // Memory of one cached contribution: key, value and the map's node.
  static constexpr std::size_t kCachedBytes = 160;
};

}  // namespace

Counters read_counters(const Txn& txn, MDB_dbi dbi) {
  auto bytes = kv_get(txn, dbi, kCountersKey);
  if (!bytes) return Counters{};
  return decode<Counters>(*bytes, [](auto& ar, auto& v) { counter_fields(ar, v); });
}

std::unique_ptr<StoredProjection> make_statistics_projection(const Environment& env) {
  return std::make_unique<StatisticsProjection>(env);
}

}  // namespace planning::detail
