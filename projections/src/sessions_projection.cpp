// Projection "sessions": id -> current Session record.
#include <unordered_map>

#include "projections/src/records.hpp"
#include "projections/src/session_fold.hpp"
#include "projections/src/databases.hpp"
#include "projections/src/stored_projection.hpp"

namespace planning::detail {

namespace {

bool replaces_metadata(const Event& event) {
  if (std::holds_alternative<SessionCreated>(event.payload)) return true;
  const auto* update = std::get_if<SessionUpdated>(&event.payload);
  return update && update->metadata_json;
}

// Bytes of cached sessions after which a run writes them out.
constexpr std::size_t kMaxRunBytes = std::size_t{16} << 20;

class SessionsProjection final : public StoredProjection {
 public:
  explicit SessionsProjection(const Environment& env) : dbi_(env.derived(SessionsDatabases::records)) {}
  std::span<const DatabaseSpec> databases() const override { return SessionsDatabases::all; }
  std::string name() const override { return "sessions"; }
  std::uint32_t schema_version() const override { return 1; }
  bool built_in() const override { return true; }
  void clear(const Txn& txn) override { kv_clear(txn, dbi_.in(txn)); }

  void apply(const Txn& txn, const Event& event) override {
    if (!in_run_) {
      Cached c = load(txn, event.session_id);
      fold_into(c, event);
      store(txn, event.session_id, c);
      return;
    }
    // In a run the session stays decoded between its events and is written
    // once (a replay batch touches each session many times).
    auto [it, fresh] = run_.try_emplace(event.session_id);
    if (fresh) it->second = load(txn, event.session_id);
    Cached& c = it->second;
    fold_into(c, event);
    run_bytes_ -= c.bytes;
    c.bytes = (c.state ? c.state->content.size() : 0) + c.metadata.size() + 512;
    run_bytes_ += c.bytes;
    if (!bulk_ && run_bytes_ > kMaxRunBytes) flush(txn);  // a bulk build's set decides
  }

  void begin_run() override {
    drop();
    in_run_ = true;
  }
  // The write path reads a session from this database only before the
  // transaction's first event of it, and from its own states after that
  // (write_path.cpp, TxnStates): the records may wait for the transaction's end.
  bool deferrable() const override { return true; }

  void end_run(const Txn* txn) override {
    if (txn) write_run(*txn);
    drop();
    in_run_ = false;
  }

  void begin_bulk(const BulkOptions& /*options*/) override {
    begin_run();
    bulk_ = true;
  }
  std::size_t run_bytes() const override { return run_bytes_; }
  void write_run(const Txn& txn) const override {
    for (const auto* entry : in_key_order(run_)) store(txn, entry->first, entry->second);
  }
  void drop_run() override { drop(); }
  void end_bulk() override {
    end_run(nullptr);
    bulk_ = false;
  }

 private:
  // A session as decoded, its metadata kept as the stored JSON text.
  struct Cached {
    std::optional<Session> state;
    std::string metadata;
    std::size_t bytes = 0;  // estimate, for kMaxRunBytes
  };

  Cached load(const Txn& txn, const std::string& id) const {
    Cached c;
    if (auto bytes = kv_get(txn, dbi_.in(txn), id)) c.state = decode_session(*bytes, c.metadata);
    return c;
  }

  static void fold_into(Cached& c, const Event& event) {
    // The metadata stays JSON text unless the event replaces it: parsing and
    // dumping it for every event cost more than the rest of the record.
    fold(c.state, event);
    if (c.state && replaces_metadata(event)) c.metadata = c.state->metadata.dump();
  }

  void store(const Txn& txn, const std::string& id, const Cached& c) const {
    if (c.state) {
      kv_put(txn, dbi_.in(txn), id, encode_session(*c.state, c.metadata));
    } else {
      kv_del(txn, dbi_.in(txn), id);
    }
  }

  void flush(const Txn& txn) {
    write_run(txn);
    drop();
  }

  void drop() {
    run_.clear();
    run_bytes_ = 0;
  }

  DerivedDbi dbi_;
  // The sessions of the current run (see StoredProjection::begin_run).
  bool in_run_ = false;
  bool bulk_ = false;
  std::unordered_map<std::string, Cached> run_;
  std::size_t run_bytes_ = 0;
};

}  // namespace

std::unique_ptr<StoredProjection> make_sessions_projection(const Environment& env) {
  return std::make_unique<SessionsProjection>(env);
}

}  // namespace planning::detail
