// Adapter running a user Projection over its own database "user:<name>".
#include <stdexcept>

#include "projections/src/stored_projection.hpp"

namespace planning::detail {

namespace {

class TxnProjectionStore final : public ProjectionStore {
 public:
  TxnProjectionStore(const Txn& txn, MDB_dbi dbi) : txn_(txn), dbi_(dbi) {}

  std::optional<std::string> get(std::string_view key) const override {
    check_key(key);
    auto value = kv_get(txn_, dbi_, key);
    if (!value) return std::nullopt;
    return std::string(*value);
  }
  void put(std::string_view key, std::string_view value) override {
    check_key(key);
    kv_put(txn_, dbi_, key, value);
  }
  void erase(std::string_view key) override {
    check_key(key);
    kv_del(txn_, dbi_, key);
  }
  void scan(std::string_view prefix,
            const std::function<bool(std::string_view, std::string_view)>& visit) const override {
    kv_scan_prefix(txn_, dbi_, prefix, visit);
  }

 private:
  static void check_key(std::string_view key) {
    if (key.empty() || key.size() > 400) {
      throw std::invalid_argument("projection keys must be 1..400 bytes");
    }
  }
  const Txn& txn_;
  MDB_dbi dbi_;
};

class UserProjection final : public StoredProjection {
 public:
  UserProjection(std::shared_ptr<Projection> projection, DerivedDbi dbi)
      : projection_(std::move(projection)), name_(projection_->name()),
        schema_version_(projection_->schema_version()), dbi_(dbi) {}
  std::string name() const override { return "user:" + name_; }
  std::uint32_t schema_version() const override { return schema_version_; }
  bool built_in() const override { return false; }
  void clear(const Txn& txn) override { kv_clear(txn, dbi_.in(txn)); }
  void apply(const Txn& txn, const Event& event) override {
    TxnProjectionStore store(txn, dbi_.in(txn));
    projection_->apply(event, store);
  }

 private:
  std::shared_ptr<Projection> projection_;
  std::string name_;
  std::uint32_t schema_version_;
  DerivedDbi dbi_;
};

}  // namespace

std::unique_ptr<StoredProjection> make_user_projection(std::shared_ptr<Projection> projection,
                                                       DerivedDbi dbi) {
  return std::make_unique<UserProjection>(std::move(projection), dbi);
}

}  // namespace planning::detail
