// Direct access to a store's LMDB environment with the C API, to inject faults
// (lost projections, damaged or missing events). The store must NOT be open in
// this process (LMDB forbids opening one environment twice in a process).
//
// Every function returns "" on success or a message naming what failed.
#pragma once

#include <lmdb.h>

#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace planning::test::raw {

// Runs `body` inside one write (or read-only) transaction over `path`.
inline std::string with_txn(const std::filesystem::path& path, bool write,
                            const std::function<std::string(MDB_txn*)>& body) {
  MDB_env* env = nullptr;
  if (int rc = mdb_env_create(&env); rc != 0) return std::string("mdb_env_create: ") + mdb_strerror(rc);
  struct Closer {
    MDB_env* e;
    ~Closer() { mdb_env_close(e); }
  } closer{env};
  mdb_env_set_maxdbs(env, 64);
  if (int rc = mdb_env_open(env, path.c_str(), write ? 0 : MDB_RDONLY, 0600); rc != 0) {
    return std::string("mdb_env_open: ") + mdb_strerror(rc);
  }
  MDB_txn* txn = nullptr;
  if (int rc = mdb_txn_begin(env, nullptr, write ? 0 : MDB_RDONLY, &txn); rc != 0) {
    return std::string("mdb_txn_begin: ") + mdb_strerror(rc);
  }
  std::string err = body(txn);
  if (!err.empty() || !write) {
    mdb_txn_abort(txn);
    return err;
  }
  if (int rc = mdb_txn_commit(txn); rc != 0) return std::string("mdb_txn_commit: ") + mdb_strerror(rc);
  return {};
}

inline std::string open_dbi(MDB_txn* txn, const std::string& name, MDB_dbi& dbi) {
  if (int rc = mdb_dbi_open(txn, name.c_str(), 0, &dbi); rc != 0) {
    return "mdb_dbi_open(" + name + "): " + mdb_strerror(rc);
  }
  return {};
}

inline MDB_val val(std::string_view s) {
  return MDB_val{s.size(), const_cast<char*>(s.data())};
}

// Names of the named databases (keys of the main database).
inline std::vector<std::string> named_databases(const std::filesystem::path& path) {
  std::vector<std::string> names;
  with_txn(path, false, [&](MDB_txn* txn) -> std::string {
    MDB_dbi main_dbi;
    if (int rc = mdb_dbi_open(txn, nullptr, 0, &main_dbi); rc != 0) return mdb_strerror(rc);
    MDB_cursor* cur = nullptr;
    if (int rc = mdb_cursor_open(txn, main_dbi, &cur); rc != 0) return mdb_strerror(rc);
    MDB_val k, v;
    for (int rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); rc == 0;
         rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
      names.emplace_back(static_cast<const char*>(k.mv_data), k.mv_size);
    }
    mdb_cursor_close(cur);
    return {};
  });
  return names;
}

// Deletes the named database (delete_db) or only empties it.
inline std::string drop_database(const std::filesystem::path& path, const std::string& name,
                                 bool delete_db) {
  return with_txn(path, true, [&](MDB_txn* txn) -> std::string {
    MDB_dbi dbi;
    if (auto err = open_dbi(txn, name, dbi); !err.empty()) return err;
    if (int rc = mdb_drop(txn, dbi, delete_db ? 1 : 0); rc != 0) {
      return std::string("mdb_drop: ") + mdb_strerror(rc);
    }
    return {};
  });
}

inline std::string get(const std::filesystem::path& path, const std::string& db,
                       std::string_view key, std::optional<std::string>& out) {
  out.reset();
  return with_txn(path, false, [&](MDB_txn* txn) -> std::string {
    MDB_dbi dbi;
    if (auto err = open_dbi(txn, db, dbi); !err.empty()) return err;
    MDB_val k = val(key), v;
    int rc = mdb_get(txn, dbi, &k, &v);
    if (rc == MDB_NOTFOUND) return {};
    if (rc != 0) return std::string("mdb_get: ") + mdb_strerror(rc);
    out.emplace(static_cast<const char*>(v.mv_data), v.mv_size);
    return {};
  });
}

inline std::string put(const std::filesystem::path& path, const std::string& db,
                       std::string_view key, std::string_view value) {
  return with_txn(path, true, [&](MDB_txn* txn) -> std::string {
    MDB_dbi dbi;
    if (auto err = open_dbi(txn, db, dbi); !err.empty()) return err;
    MDB_val k = val(key), v = val(value);
    if (int rc = mdb_put(txn, dbi, &k, &v, 0); rc != 0) return std::string("mdb_put: ") + mdb_strerror(rc);
    return {};
  });
}

inline std::string del(const std::filesystem::path& path, const std::string& db,
                       std::string_view key) {
  return with_txn(path, true, [&](MDB_txn* txn) -> std::string {
    MDB_dbi dbi;
    if (auto err = open_dbi(txn, db, dbi); !err.empty()) return err;
    MDB_val k = val(key);
    if (int rc = mdb_del(txn, dbi, &k, nullptr); rc != 0) return std::string("mdb_del: ") + mdb_strerror(rc);
    return {};
  });
}

// Visits every record of database `db` in key order.
inline std::string scan(const std::filesystem::path& path, const std::string& db,
                        const std::function<void(std::string_view, std::string_view)>& visit) {
  return with_txn(path, false, [&](MDB_txn* txn) -> std::string {
    MDB_dbi dbi;
    if (auto err = open_dbi(txn, db, dbi); !err.empty()) return err;
    MDB_cursor* cur = nullptr;
    if (int rc = mdb_cursor_open(txn, dbi, &cur); rc != 0) return mdb_strerror(rc);
    MDB_val k, v;
    for (int rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); rc == 0;
         rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
      visit({static_cast<const char*>(k.mv_data), k.mv_size},
            {static_cast<const char*>(v.mv_data), v.mv_size});
    }
    mdb_cursor_close(cur);
    return {};
  });
}

// Log keys are big-endian sequence numbers (docs/FORMAT.md §1).
inline std::string seq_key(std::uint64_t seq) {
  std::string k(8, '\0');
  for (int i = 0; i < 8; ++i) k[static_cast<std::size_t>(i)] = static_cast<char>(seq >> (56 - 8 * i));
  return k;
}

}  // namespace planning::test::raw
