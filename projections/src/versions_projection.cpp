// Projection "versions": id + u32 BE version -> VersionRecord. Content is not
// copied: each record points at the log position holding the content.
#include <functional>
#include <string_view>
#include <unordered_map>

#include "projections/src/records.hpp"
#include "projections/src/session_fold.hpp"
#include "projections/src/databases.hpp"
#include "projections/src/sorted_load.hpp"
#include "projections/src/stored_projection.hpp"

#include "events/src/event_codec.hpp"

namespace planning::detail {

namespace {

class VersionsProjection final : public StoredProjection {
 public:
  explicit VersionsProjection(const Environment& env)
      : dbi_(env.derived(VersionsDatabases::records)), bulk_(dbi_) {}
  std::span<const DatabaseSpec> databases() const override { return VersionsDatabases::all; }
  std::string name() const override { return "versions"; }
  std::uint32_t schema_version() const override { return 2; }
  bool built_in() const override { return true; }
  void clear(const Txn& txn) override { kv_clear(txn, dbi_.in(txn)); }

  void apply(const Txn& txn, const Event& event) override {
    if (event.type == EventType::session_removed && bulk_.active()) {
      removed_[event.session_id] = event.sequence;  // take_sorted leaves out what it removed
      return;
    }
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
    const std::string key = version_key(event.session_id, made);
    if (bulk_.active()) {
      bulk_.add(key, event.sequence, encode_version(record));
    } else {
      kv_put(txn, dbi_.in(txn), key, encode_version(record));
    }
  }

  // A bulk build writes the records in key order at its end, without those a
  // later session_removed deleted.
  void begin_bulk(const BulkOptions& options) override {
    removed_.clear();
    bulk_.begin(options);
  }
  std::optional<SortedChunk> take_sorted(std::size_t bytes) override {
    return bulk_.take(bytes, [&](std::string_view key, std::uint64_t sequence) {
      auto it = removed_.find(session_of_version_key(key));
      return it == removed_.end() || sequence > it->second;
    });
  }
  void end_bulk() override {
    bulk_.end();
    removed_.clear();
  }

 private:
  DerivedDbi dbi_;
  SortedLoad bulk_;
  // Looked up by a view of a key's session id, without copying it.
  struct IdHash {
    using is_transparent = void;
    std::size_t operator()(std::string_view id) const noexcept {
      return std::hash<std::string_view>{}(id);
    }
  };
  // In a bulk build: session id -> sequence of its last session_removed.
  std::unordered_map<std::string, std::uint64_t, IdHash, std::equal_to<>> removed_;
};

}  // namespace

std::unique_ptr<StoredProjection> make_versions_projection(const Environment& env) {
  return std::make_unique<VersionsProjection>(env);
}

}  // namespace planning::detail
