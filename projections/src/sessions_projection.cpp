// Projection "sessions": id -> current Session record.
#include "projections/src/records.hpp"
#include "projections/src/session_fold.hpp"
#include "projections/src/stored_projection.hpp"

namespace planning::detail {

namespace {

bool replaces_metadata(const Event& event) {
  if (std::holds_alternative<SessionCreated>(event.payload)) return true;
  const auto* update = std::get_if<SessionUpdated>(&event.payload);
  return update && update->metadata_json;
}

class SessionsProjection final : public StoredProjection {
 public:
  explicit SessionsProjection(const Databases& dbs) : dbi_(dbs.sessions) {}
  std::string name() const override { return "sessions"; }
  std::uint32_t schema_version() const override { return 1; }
  bool built_in() const override { return true; }
  void clear(const Txn& txn) override { kv_clear(txn, dbi_); }

  void apply(const Txn& txn, const Event& event) override {
    // The metadata stays JSON text unless the event replaces it: parsing and
    // dumping it for every event cost more than the rest of the record.
    std::optional<Session> state;
    std::string metadata;
    if (auto bytes = kv_get(txn, dbi_, event.session_id)) {
      state = decode_session(*bytes, metadata);
    }
    fold(state, event);
    if (state) {
      if (replaces_metadata(event)) metadata = state->metadata.dump();
      kv_put(txn, dbi_, event.session_id, encode_session(*state, metadata));
    } else {
      kv_del(txn, dbi_, event.session_id);
    }
  }

 private:
  MDB_dbi dbi_;
};

}  // namespace

std::unique_ptr<StoredProjection> make_sessions_projection(const Databases& dbs) {
  return std::make_unique<SessionsProjection>(dbs);
}

}  // namespace planning::detail
