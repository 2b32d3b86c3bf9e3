// Projection "indexes": secondary indexes for queries.
//   idx_status    DUPSORT  status byte          -> created(8) + id
//   idx_created            created(8) + id      -> ""
//   idx_updated            updated(8) + id      -> ""
//   idx_repo_path DUPSORT  xxh3(path) BE (8)    -> created(8) + id
//   idx_repo_url  DUPSORT  xxh3(url)  BE (8)    -> created(8) + id
//   idx_project   DUPSORT  xxh3(project) BE (8) -> created(8) + id
//   idx_fields             id -> the indexed fields as last indexed, so the old
//                          entries can be removed without reading other projections.
// Times are ordered_time() big-endian, so byte order is time order.
#include "projections/src/indexes.hpp"

#include <unordered_map>

#include "events/src/bytes.hpp"
#include "events/src/cereal_fields.hpp"
#include "events/src/hashing.hpp"
#include "events/src/record_reader.hpp"
#include "projections/src/databases.hpp"
#include "projections/src/session_fold.hpp"
#include "projections/src/stored_projection.hpp"

namespace planning::detail {

std::string status_key(Status status) { return std::string(1, static_cast<char>(status)); }

std::string string_key(std::string_view value) { return be64(checksum64(value)); }

std::string time_id_key(Timestamp t, std::string_view id) {
  std::string key = be64(ordered_time(t.time_since_epoch().count()));
  key.append(id);
  return key;
}

std::string_view id_of_time_id_key(std::string_view key) { return key.substr(8); }

namespace {

struct IndexedFields {
  Status status = Status::active;
  Timestamp created_at{};
  Timestamp updated_at{};
  std::string repository_path;
  std::string repository_url;
  std::string project_id;
};

template <class Archive>
void indexed_fields(Archive& ar, IndexedFields& f) {
  fields(ar, f.status, f.created_at, f.updated_at, f.repository_path, f.repository_url,
         f.project_id);
}

std::string encode_fields(IndexedFields f) {
  return encode_record([&](auto& ar) { indexed_fields(ar, f); });
}

IndexedFields decode_fields(std::string_view bytes) {
  IndexedFields f;
  decode_record(bytes, [&](auto& ar) { indexed_fields(ar, f); });
  return f;
}

class IndexesProjection final : public StoredProjection {
 public:
  explicit IndexesProjection(const Environment& env)
      : status_(env.derived(IndexesDatabases::status)),
        created_(env.derived(IndexesDatabases::created)),
        updated_(env.derived(IndexesDatabases::updated)),
        repo_path_(env.derived(IndexesDatabases::repo_path)),
        repo_url_(env.derived(IndexesDatabases::repo_url)),
        project_(env.derived(IndexesDatabases::project)),
        fields_(env.derived(IndexesDatabases::fields)) {}
  std::span<const DatabaseSpec> databases() const override { return IndexesDatabases::all; }
  std::string name() const override { return "indexes"; }
  std::uint32_t schema_version() const override { return 1; }
  bool built_in() const override { return true; }

  void clear(const Txn& txn) override {
    for (const DerivedDbi& dbi : {status_, created_, updated_, repo_path_, repo_url_, project_, fields_}) {
      kv_clear(txn, dbi.in(txn));
    }
  }

  void apply(const Txn& txn, const Event& event) override {
    const std::string& id = event.session_id;
    if (!in_run_) {
      const std::optional<IndexedFields> old = load(txn, id);
      store(txn, id, old, next(old, event));
      return;
    }
    // In a run each session's entries are rewritten once, from the fields
    // stored before the run to the fields after its last event.
    auto [it, fresh] = run_.try_emplace(id);
    if (fresh) {
      it->second.now = it->second.stored = load(txn, id);
      run_bytes_ += kCachedBytes + 2 * id.size();
    }
    it->second.now = next(it->second.now, event);
  }

  void begin_run() override {
    drop_run();
    in_run_ = true;
  }
  bool deferrable() const override { return true; }  // queries read it, writes never do

  void end_run(const Txn* txn) override {
    if (txn) write_run(*txn);
    run_.clear();
    in_run_ = false;
  }

  void begin_bulk(const BulkOptions& /*options*/) override { begin_run(); }
  std::size_t run_bytes() const override { return run_bytes_; }
  void write_run(const Txn& txn) const override {
    for (const auto* entry : in_key_order(run_)) {
      store(txn, entry->first, entry->second.stored, entry->second.now);
    }
  }
  void drop_run() override {
    run_.clear();
    run_bytes_ = 0;
  }
  void end_bulk() override { end_run(nullptr); }

 private:
  std::optional<IndexedFields> load(const Txn& txn, const std::string& id) const {
    auto bytes = kv_get(txn, fields_.in(txn), id);
    if (!bytes) return std::nullopt;
    return decode_fields(*bytes);
  }

  // The indexed fields after `event`, from those before it: IndexedFields has
  // Session's names for the fields it keeps, so fold_into moves them.
  static std::optional<IndexedFields> next(const std::optional<IndexedFields>& old,
                                           const Event& event) {
    std::optional<IndexedFields> now = old;
    fold_into(now, event);
    return now;
  }

  // Moves the session's entries from `old` to `now` (either may be absent).
  // Only the entries whose key changed are rewritten (a content update moves
  // only idx_updated); the resulting entries are the same as a full rewrite's.
  void store(const Txn& txn, const std::string& id, const std::optional<IndexedFields>& old,
             const std::optional<IndexedFields>& now) const {
    if (!now) {
      if (old) {
        remove_entries(txn, id, *old, nullptr);
        kv_del(txn, fields_.in(txn), id);
      }
      return;
    }
    if (old) remove_entries(txn, id, *old, &*now);
    add_entries(txn, id, *now, old ? &*old : nullptr);
    if (!old || !same_fields(*old, *now)) kv_put(txn, fields_.in(txn), id, encode_fields(*now));
  }

  // A session touched by the current run (see StoredProjection::begin_run).
  struct Cached {
    std::optional<IndexedFields> stored;  // as in the database before the run
    std::optional<IndexedFields> now;
  };
  bool in_run_ = false;
  std::unordered_map<std::string, Cached> run_;
  std::size_t run_bytes_ = 0;  // estimate, for a bulk build's budget
  // Memory of one cached session besides its id (two IndexedFields with
  // short strings, and the map's node).
  static constexpr std::size_t kCachedBytes = 2 * sizeof(IndexedFields) + 256;

  static bool same_fields(const IndexedFields& a, const IndexedFields& b) {
    return a.status == b.status && a.created_at == b.created_at && a.updated_at == b.updated_at &&
           a.repository_path == b.repository_path && a.repository_url == b.repository_url &&
           a.project_id == b.project_id;
  }

  // Which entries of `a` differ from those of `b` (all of them when `b` is null).
  struct Changed {
    bool status, created, updated, repo_path, repo_url, project;
  };
  static Changed changed(const IndexedFields& a, const IndexedFields* b) {
    if (!b) return {true, true, true, true, true, true};
    const bool created = a.created_at != b->created_at;
    return {created || a.status != b->status,
            created,
            a.updated_at != b->updated_at,
            created || a.repository_path != b->repository_path,
            created || a.repository_url != b->repository_url,
            created || a.project_id != b->project_id};
  }

  // Removes the entries of `f` that `next` does not have (all when null).
  void remove_entries(const Txn& txn, const std::string& id, const IndexedFields& f,
                      const IndexedFields* next) const {
    const Changed c = changed(f, next);
    const std::string created = time_id_key(f.created_at, id);
    if (c.status) kv_del(txn, status_.in(txn), status_key(f.status), created);
    if (c.created) kv_del(txn, created_.in(txn), created);
    if (c.updated) kv_del(txn, updated_.in(txn), time_id_key(f.updated_at, id));
    if (c.repo_path && !f.repository_path.empty()) {
      kv_del(txn, repo_path_.in(txn), string_key(f.repository_path), created);
    }
    if (c.repo_url && !f.repository_url.empty()) {
      kv_del(txn, repo_url_.in(txn), string_key(f.repository_url), created);
    }
    if (c.project && !f.project_id.empty()) {
      kv_del(txn, project_.in(txn), string_key(f.project_id), created);
    }
  }

  // Adds the entries of `f` that `previous` did not have (all when null).
  void add_entries(const Txn& txn, const std::string& id, const IndexedFields& f,
                   const IndexedFields* previous) const {
    const Changed c = changed(f, previous);
    const std::string created = time_id_key(f.created_at, id);
    if (c.status) kv_put(txn, status_.in(txn), status_key(f.status), created, MDB_NODUPDATA);
    if (c.created) kv_put(txn, created_.in(txn), created, "");
    if (c.updated) kv_put(txn, updated_.in(txn), time_id_key(f.updated_at, id), "");
    if (c.repo_path && !f.repository_path.empty()) {
      kv_put(txn, repo_path_.in(txn), string_key(f.repository_path), created, MDB_NODUPDATA);
    }
    if (c.repo_url && !f.repository_url.empty()) {
      kv_put(txn, repo_url_.in(txn), string_key(f.repository_url), created, MDB_NODUPDATA);
    }
    if (c.project && !f.project_id.empty()) {
      kv_put(txn, project_.in(txn), string_key(f.project_id), created, MDB_NODUPDATA);
    }
  }

  DerivedDbi status_;
  DerivedDbi created_;
  DerivedDbi updated_;
  DerivedDbi repo_path_;
  DerivedDbi repo_url_;
  DerivedDbi project_;
  DerivedDbi fields_;
};

}  // namespace

std::unique_ptr<StoredProjection> make_indexes_projection(const Environment& env) {
  return std::make_unique<IndexesProjection>(env);
}

}  // namespace planning::detail
