// Projection "streams": id + u32 BE stream version -> u64 BE sequence. The index
// of each session's events in the log (time travel, per-session log reading).
// Entries are kept after removal: the history stays readable.
#include "events/src/bytes.hpp"
#include "projections/src/records.hpp"
#include "projections/src/databases.hpp"
#include "projections/src/stored_projection.hpp"

namespace planning::detail {

namespace {

class StreamsProjection final : public StoredProjection {
 public:
  explicit StreamsProjection(const Environment& env) : dbi_(env.derived(StreamsDatabases::records)) {}
  std::span<const DatabaseSpec> databases() const override { return StreamsDatabases::all; }
  std::string name() const override { return "streams"; }
  std::uint32_t schema_version() const override { return 1; }
  bool built_in() const override { return true; }
  void clear(const Txn& txn) override { kv_clear(txn, dbi_.in(txn)); }
  void apply(const Txn& txn, const Event& event) override {
    kv_put(txn, dbi_.in(txn), stream_key(event.session_id, event.stream_version), be64(event.sequence));
  }

 private:
  DerivedDbi dbi_;
};

}  // namespace

std::unique_ptr<StoredProjection> make_streams_projection(const Environment& env) {
  return std::make_unique<StreamsProjection>(env);
}

}  // namespace planning::detail
