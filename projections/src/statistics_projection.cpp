// Projection "statistics": running counters plus, per session, what it
// contributes to them (so a change can subtract the old contribution).
//   "counters"  -> Counters
//   "s:" + id   -> Contribution
#include <planning/queries.hpp>

#include "events/src/cereal_fields.hpp"
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
  explicit StatisticsProjection(const Databases& dbs) : dbi_(dbs.statistics) {}
  std::string name() const override { return "statistics"; }
  std::uint32_t schema_version() const override { return 1; }
  bool built_in() const override { return true; }
  void clear(const Txn& txn) override { kv_clear(txn, dbi_); }

  void apply(const Txn& txn, const Event& event) override {
    Counters counters = in_run_ ? run_counters(txn) : read_counters(txn, dbi_);
    const std::string key = "s:" + event.session_id;
    std::optional<Session> partial;
    if (auto bytes = kv_get(txn, dbi_, key)) {
      const auto old = decode<Contribution>(*bytes, [](auto& ar, auto& v) { contribution_fields(ar, v); });
      add(counters, old, -1);
      Session s;
      s.id = event.session_id;
      s.status = old.status;
      s.current_version = old.versions;
      if (old.has_content) s.content = "x";  // only emptiness matters here
      partial = std::move(s);
    }
    fold(partial, event);
    if (partial) {
      const Contribution now{partial->status, partial->current_version, !partial->content.empty()};
      add(counters, now, +1);
      kv_put(txn, dbi_, key, encode(now, [](auto& ar, auto& v) { contribution_fields(ar, v); }));
    } else {
      kv_del(txn, dbi_, key);
      counters.removed += 1;
    }
    if (in_run_) {
      *run_ = counters;  // written once, by end_run
    } else {
      write_counters(txn, counters);
    }
  }

  void begin_run() override {
    run_ = std::nullopt;
    in_run_ = true;
  }

  void end_run(const Txn* txn) override {
    if (txn && run_) write_counters(*txn, *run_);
    run_ = std::nullopt;
    in_run_ = false;
  }

 private:
  Counters run_counters(const Txn& txn) {
    if (!run_) run_ = read_counters(txn, dbi_);
    return *run_;
  }
  void write_counters(const Txn& txn, Counters counters) {
    kv_put(txn, dbi_, kCountersKey,
           encode(counters, [](auto& ar, auto& v) { counter_fields(ar, v); }));
  }

  MDB_dbi dbi_;
  // The counters of the current run, once read (see StoredProjection::begin_run).
  bool in_run_ = false;
  std::optional<Counters> run_;
};

}  // namespace

Counters read_counters(const Txn& txn, MDB_dbi dbi) {
  auto bytes = kv_get(txn, dbi, kCountersKey);
  if (!bytes) return Counters{};
  return decode<Counters>(*bytes, [](auto& ar, auto& v) { counter_fields(ar, v); });
}

std::unique_ptr<StoredProjection> make_statistics_projection(const Databases& dbs) {
  return std::make_unique<StatisticsProjection>(dbs);
}

}  // namespace planning::detail
