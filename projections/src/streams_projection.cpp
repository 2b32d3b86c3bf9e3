// Projection "streams": id + u32 BE stream version -> u64 BE sequence. The index
// of each session's events in the log (time travel, per-session log reading).
// Entries are kept after removal: the history stays readable.
#include "events/src/bytes.hpp"
#include "projections/src/records.hpp"
#include "projections/src/databases.hpp"
#include "projections/src/sorted_load.hpp"
#include "projections/src/stored_projection.hpp"

namespace planning::detail {

namespace {

class StreamsProjection final : public StoredProjection {
 public:
  explicit StreamsProjection(const Environment& env)
      : dbi_(env.derived(StreamsDatabases::records)), bulk_(dbi_) {}
  std::span<const DatabaseSpec> databases() const override { return StreamsDatabases::all; }
  std::string name() const override { return "streams"; }
  std::uint32_t schema_version() const override { return 1; }
  bool built_in() const override { return true; }
  void clear(const Txn& txn) override { kv_clear(txn, dbi_.in(txn)); }
  void apply(const Txn& txn, const Event& event) override {
    const std::string key = stream_key(event.session_id, event.stream_version);
    if (bulk_.active()) {
      bulk_.add(key, event.sequence, be64(event.sequence));
    } else {
      kv_put(txn, dbi_.in(txn), key, be64(event.sequence));
    }
  }

  // A bulk build writes the entries in key order at its end.
  void begin_bulk(const BulkOptions& options) override { bulk_.begin(options); }
  std::optional<SortedChunk> take_sorted(std::size_t bytes) override { return bulk_.take(bytes); }
  void end_bulk() override { bulk_.end(); }

 private:
  DerivedDbi dbi_;
  SortedLoad bulk_;
};

}  // namespace

std::unique_ptr<StoredProjection> make_streams_projection(const Environment& env) {
  return std::make_unique<StreamsProjection>(env);
}

}  // namespace planning::detail
