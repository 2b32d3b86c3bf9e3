// Projection "versions": id + u32 BE version -> VersionRecord. Content is not
// copied: each record points at the log position holding the content.
#include "projections/src/records.hpp"
#include "projections/src/session_fold.hpp"
#include "projections/src/databases.hpp"
#include "projections/src/stored_projection.hpp"

#include "events/src/event_codec.hpp"

namespace planning::detail {

namespace {

class VersionsProjection final : public StoredProjection {
 public:
  explicit VersionsProjection(const Environment& env) : dbi_(env.derived(VersionsDatabases::records)) {}
  std::span<const DatabaseSpec> databases() const override { return VersionsDatabases::all; }
  std::string name() const override { return "versions"; }
  std::uint32_t schema_version() const override { return 2; }
  bool built_in() const override { return true; }
  void clear(const Txn& txn) override { kv_clear(txn, dbi_.in(txn)); }

  void apply(const Txn& txn, const Event& event) override {
    if (event.type == EventType::session_removed) {
      std::vector<std::string> keys;
      kv_scan_prefix(txn, dbi_.in(txn), event.session_id, [&](std::string_view key, std::string_view) {
        keys.emplace_back(key);
        return true;
      });
      for (const auto& key : keys) kv_del(txn, dbi_.in(txn), key);
      return;
    }
    const std::uint32_t made = version_made_by(event);
    if (made == 0) return;

    VersionRecord record;
    record.event_seq = event.sequence;
    record.content_seq = event.sequence;
    record.created_at = event.timestamp;
    record.created_by = event.actor;
    std::visit(
        [&](const auto& p) {
          using T = std::decay_t<decltype(p)>;
          if constexpr (std::is_same_v<T, SessionCreated>) {
            record.change_summary = "Initial version";
            record.changed_fields = {"content"};
          } else if constexpr (std::is_same_v<T, SessionUpdated>) {
            record.change_summary = p.change_summary;
            record.changed_fields = p.changed_fields;
          } else if constexpr (std::is_same_v<T, VersionRestored>) {
            record.change_summary = "Restored from version " + std::to_string(p.restored_from);
            record.changed_fields = {"content"};
          } else if constexpr (std::is_same_v<T, VersionCreated>) {
            record.change_summary = p.change_summary;
            record.content_seq = p.content_seq;
          }
        },
        event.payload);
    kv_put(txn, dbi_.in(txn), version_key(event.session_id, made), encode_version(record));
  }

 private:
  DerivedDbi dbi_;
};

}  // namespace

std::unique_ptr<StoredProjection> make_versions_projection(const Environment& env) {
  return std::make_unique<VersionsProjection>(env);
}

}  // namespace planning::detail
