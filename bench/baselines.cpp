#include "bench/baselines.hpp"

#include <lmdb.h>
#include <sqlite3.h>

#include <algorithm>
#include <string>
#include <vector>

#include "bench/support.hpp"

namespace bench {

namespace {

void check_mdb(int rc, std::string_view what) {
  if (rc != MDB_SUCCESS) die(std::string(what) + ": " + ::mdb_strerror(rc));
}

std::string be64(std::uint64_t n) {
  std::string key(8, '\0');
  for (int i = 7; i >= 0; --i, n >>= 8)
    key[static_cast<std::size_t>(i)] = static_cast<char>(n & 0xff);
  return key;
}

MDB_val to_val(const std::string& s) { return MDB_val{s.size(), const_cast<char*>(s.data())}; }

// A raw environment with one unnamed database, opened the way the engine opens
// its own: MDB_NOTLS and LMDB's default (fully synchronous) commits.
class RawEnv {
 public:
  RawEnv(const std::filesystem::path& dir, std::size_t map_size, unsigned extra_flags = 0) {
    std::filesystem::create_directories(dir);
    check_mdb(::mdb_env_create(&env_), "mdb_env_create");
    check_mdb(::mdb_env_set_maxdbs(env_, 64), "mdb_env_set_maxdbs");
    check_mdb(::mdb_env_set_mapsize(env_, map_size), "mdb_env_set_mapsize");
    check_mdb(::mdb_env_open(env_, dir.c_str(), MDB_NOTLS | extra_flags, 0600), "mdb_env_open");
  }
  ~RawEnv() { ::mdb_env_close(env_); }
  RawEnv(const RawEnv&) = delete;
  RawEnv& operator=(const RawEnv&) = delete;
  MDB_env* get() const noexcept { return env_; }

  MDB_dbi open_dbi(const char* name, unsigned flags) const {
    MDB_txn* txn = nullptr;
    check_mdb(::mdb_txn_begin(env_, nullptr, flags & MDB_CREATE ? 0 : MDB_RDONLY, &txn),
              "mdb_txn_begin");
    MDB_dbi dbi = 0;
    check_mdb(::mdb_dbi_open(txn, name, flags, &dbi), "mdb_dbi_open");
    check_mdb(::mdb_txn_commit(txn), "mdb_txn_commit");
    return dbi;
  }

 private:
  MDB_env* env_ = nullptr;
};

// Map large enough for every baseline's data without growing.
constexpr std::size_t kRawMapSize = std::size_t{8} << 30;

// Runs `op(txn, i)` in a durable write transaction of its own for i = 0, 1, ...
// until `ops` ops or `max_seconds`, whichever comes first. Returns the rate.
template <typename Op>
WriteRate durable_commits(const RawEnv& env, std::size_t ops, double max_seconds, Op&& op) {
  return measure_writes([&] {
    std::size_t done = 0;
    const auto start = SteadyClock::now();
    for (; done < ops; ++done) {
      if (done > 0 && seconds_since(start) > max_seconds) break;
      MDB_txn* txn = nullptr;
      check_mdb(::mdb_txn_begin(env.get(), nullptr, 0, &txn), "mdb_txn_begin");
      op(txn, done);
      check_mdb(::mdb_txn_commit(txn), "mdb_txn_commit");
    }
    return done;
  });
}

}  // namespace

WriteRate raw_lmdb_single_puts(const std::filesystem::path& dir, std::size_t ops,
                               double max_seconds, ContentPool& values) {
  RawEnv env(dir, kRawMapSize);
  const MDB_dbi dbi = env.open_dbi(nullptr, MDB_CREATE);
  return durable_commits(env, ops, max_seconds, [&](MDB_txn* txn, std::size_t i) {
    const std::string key = be64(i + 1);
    MDB_val k = to_val(key);
    MDB_val v = to_val(values.next());
    check_mdb(::mdb_put(txn, dbi, &k, &v, 0), "mdb_put");
  });
}

WriteRate raw_lmdb_layout_updates(const std::filesystem::path& dir, std::size_t ops,
                                  double max_seconds, ContentPool& values) {
  RawEnv env(dir, kRawMapSize);
  const char* const names[] = {"log",        "meta",        "sessions",   "streams",    "versions",
                               "statistics", "idx_updated", "idx_fields", "checkpoints"};
  std::vector<MDB_dbi> dbi;
  for (const char* name : names) dbi.push_back(env.open_dbi(name, MDB_CREATE));
  const std::string id = "0193a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b";  // one session, as workload 1
  const std::string small(100, 'r');
  const std::string checkpoint(16, 'c');
  const char* const projections[] = {"indexes", "sessions", "statistics", "streams", "versions"};
  return durable_commits(env, ops, max_seconds, [&](MDB_txn* txn, std::size_t i) {
    auto put = [&](std::size_t db, const std::string& key, const std::string& value) {
      MDB_val k = to_val(key);
      MDB_val v = to_val(value);
      check_mdb(::mdb_put(txn, dbi[db], &k, &v, 0), "mdb_put");
    };
    const std::uint64_t seq = i + 1;
    const std::string& content = values.next();
    put(0, be64(seq), content);
    put(1, "head", small.substr(0, 48));
    put(2, id, content);
    put(3, id + be64(seq).substr(4), be64(seq));
    put(4, id + be64(seq).substr(4), small);
    put(5, "counters", small.substr(0, 64));
    put(5, "s:" + id, small.substr(0, 32));
    if (seq > 1) {
      const std::string old_key = be64(seq - 1) + id;
      MDB_val k = to_val(old_key);
      check_mdb(::mdb_del(txn, dbi[6], &k, nullptr), "mdb_del");
    }
    put(6, be64(seq) + id, "");
    put(7, id, small.substr(0, 64));
    for (const char* name : projections) put(8, name, checkpoint);
  });
}

WriteRate raw_lmdb_batched_puts(const std::filesystem::path& dir, std::size_t batches,
                                std::size_t batch_size, ContentPool& values) {
  RawEnv env(dir, kRawMapSize);
  const MDB_dbi dbi = env.open_dbi(nullptr, MDB_CREATE);
  std::uint64_t seq = 0;
  return measure_writes([&] {
    for (std::size_t b = 0; b < batches; ++b) {
      MDB_txn* txn = nullptr;
      check_mdb(::mdb_txn_begin(env.get(), nullptr, 0, &txn), "mdb_txn_begin");
      for (std::size_t i = 0; i < batch_size; ++i) {
        const std::string key = be64(++seq);
        MDB_val k = to_val(key);
        MDB_val v = to_val(values.next());
        check_mdb(::mdb_put(txn, dbi, &k, &v, 0), "mdb_put");
      }
      check_mdb(::mdb_txn_commit(txn), "mdb_txn_commit");
    }
    return batches * batch_size;
  });
}

namespace {

void check_sqlite(sqlite3* db, int rc, std::string_view what) {
  if (rc != SQLITE_OK && rc != SQLITE_DONE && rc != SQLITE_ROW) {
    die(std::string(what) + ": " + ::sqlite3_errmsg(db));
  }
}

void exec(sqlite3* db, const char* sql) {
  char* error = nullptr;
  if (::sqlite3_exec(db, sql, nullptr, nullptr, &error) != SQLITE_OK) {
    const std::string message = error ? error : "unknown error";
    ::sqlite3_free(error);
    die(std::string("sqlite: ") + sql + ": " + message);
  }
}

}  // namespace

double sqlite_batched_inserts(const std::filesystem::path& dir, std::size_t batches,
                              std::size_t batch_size, ContentPool& values) {
  std::filesystem::create_directories(dir);
  sqlite3* db = nullptr;
  const std::string file = (dir / "bench.sqlite").string();
  if (::sqlite3_open(file.c_str(), &db) != SQLITE_OK) die("sqlite3_open " + file);
  exec(db, "PRAGMA journal_mode=WAL");
  exec(db, "PRAGMA synchronous=FULL");
  exec(db, "CREATE TABLE events(seq INTEGER PRIMARY KEY, body BLOB NOT NULL)");
  sqlite3_stmt* insert = nullptr;
  check_sqlite(
      db,
      ::sqlite3_prepare_v2(db, "INSERT INTO events(seq, body) VALUES(?, ?)", -1, &insert, nullptr),
      "prepare");
  sqlite3_int64 seq = 0;
  const double seconds = time_seconds([&] {
    for (std::size_t b = 0; b < batches; ++b) {
      exec(db, "BEGIN");
      for (std::size_t i = 0; i < batch_size; ++i) {
        const std::string& body = values.next();
        ::sqlite3_bind_int64(insert, 1, ++seq);
        ::sqlite3_bind_blob(insert, 2, body.data(), static_cast<int>(body.size()), SQLITE_STATIC);
        check_sqlite(db, ::sqlite3_step(insert), "insert");
        ::sqlite3_reset(insert);
      }
      exec(db, "COMMIT");
    }
  });
  ::sqlite3_finalize(insert);
  ::sqlite3_close(db);
  return static_cast<double>(batches * batch_size) / seconds;
}

namespace {

// A map size for opening `store` with the raw C API: at least its file.
std::size_t raw_map_size(const std::filesystem::path& store) {
  return std::max<std::size_t>(std::size_t{64} << 20, file_size_or_zero(store / "data.mdb"));
}

}  // namespace

double raw_lmdb_open_ms(const std::filesystem::path& store) {
  const auto map_size = raw_map_size(store);
  const auto start = SteadyClock::now();
  MDB_env* env = nullptr;
  check_mdb(::mdb_env_create(&env), "mdb_env_create");
  check_mdb(::mdb_env_set_maxdbs(env, 64), "mdb_env_set_maxdbs");
  check_mdb(::mdb_env_set_mapsize(env, map_size), "mdb_env_set_mapsize");
  check_mdb(::mdb_env_open(env, store.c_str(), MDB_NOTLS, 0600), "mdb_env_open");
  MDB_txn* txn = nullptr;
  check_mdb(::mdb_txn_begin(env, nullptr, MDB_RDONLY, &txn), "mdb_txn_begin");
  ::mdb_txn_abort(txn);
  const double ms = seconds_since(start) * 1e3;
  ::mdb_env_close(env);
  return ms;
}

void raw_lmdb_drop_databases(const std::filesystem::path& store,
                             std::initializer_list<const char*> names) {
  RawEnv env(store, raw_map_size(store));
  MDB_txn* txn = nullptr;
  check_mdb(::mdb_txn_begin(env.get(), nullptr, 0, &txn), "mdb_txn_begin");
  for (const char* name : names) {
    MDB_dbi dbi = 0;
    const int rc = ::mdb_dbi_open(txn, name, 0, &dbi);
    if (rc == MDB_NOTFOUND) continue;
    check_mdb(rc, "mdb_dbi_open");
    check_mdb(::mdb_drop(txn, dbi, 1), "mdb_drop");
  }
  check_mdb(::mdb_txn_commit(txn), "mdb_txn_commit");
}

RawGets raw_lmdb_gets(const std::filesystem::path& store, const char* database,
                      const std::vector<std::string>& keys) {
  const auto map_size = raw_map_size(store);
  RawEnv env(store, map_size, MDB_RDONLY);
  const MDB_dbi dbi = env.open_dbi(database, 0);
  RawGets out;
  out.micros.reserve(keys.size());
  unsigned sink = 0;
  for (const std::string& key : keys) {
    const auto start = SteadyClock::now();
    MDB_txn* txn = nullptr;
    check_mdb(::mdb_txn_begin(env.get(), nullptr, MDB_RDONLY, &txn), "mdb_txn_begin");
    MDB_val k = to_val(key);
    MDB_val v{};
    check_mdb(::mdb_get(txn, dbi, &k, &v), "mdb_get");
    const auto* bytes = static_cast<const unsigned char*>(v.mv_data);
    sink += bytes[0] + bytes[v.mv_size - 1];  // touch the value's first and last page
    if (out.value_bytes == 0) out.value_bytes = v.mv_size;
    ::mdb_txn_abort(txn);
    out.micros.push_back(seconds_since(start) * 1e6);
  }
  if (sink == 1) progress("");  // keeps the reads from being optimized away
  return out;
}

}  // namespace bench
