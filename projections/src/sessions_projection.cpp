// Projection "sessions": id -> current Session record.
#include "projections/src/records.hpp"
#include "projections/src/session_fold.hpp"
#include "projections/src/stored_projection.hpp"

namespace planning::detail {

namespace {

class SessionsProjection final : public StoredProjection {
 public:
  explicit SessionsProjection(const Databases& dbs) : dbi_(dbs.sessions) {}
  std::string name() const override { return "sessions"; }
  std::uint32_t schema_version() const override { return 1; }
  bool built_in() const override { return true; }
  void clear(const Txn& txn) override { kv_clear(txn, dbi_); }

  void apply(const Txn& txn, const Event& event) override {
    std::optional<Session> state;
    if (auto bytes = kv_get(txn, dbi_, event.session_id)) state = decode_session(*bytes);
    fold(state, event);
    if (state) {
      kv_put(txn, dbi_, event.session_id, encode_session(*state));
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
