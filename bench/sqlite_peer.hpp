// The same-work SQLite peer: what a competent C++ developer would write instead
// of this engine. An event store on SQLite (WAL, synchronous=FULL, prepared
// statements) with an `events` table plus `sessions`, `versions` (full copies
// of every version's content) and index tables, doing the engine's work for the
// benchmark's workloads: each operation reads and validates the session first
// (exists, status active, stream version, content changed) and writes its
// event and every projection in the same transaction. A rebuild replays the
// events table into empty projection tables. docs/PERFORMANCE.md lists what it
// does and does not do next to the engine (no checksums, hash chain,
// compression or statistics).
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

struct sqlite3;
struct sqlite3_stmt;

namespace bench {

class SqlitePeer {
 public:
  // Opens (creating) the database at `file`; one connection, for one thread.
  explicit SqlitePeer(const std::filesystem::path& file);
  ~SqlitePeer();
  SqlitePeer(const SqlitePeer&) = delete;
  SqlitePeer& operator=(const SqlitePeer&) = delete;

  // Each in its own durable transaction. create returns the new session's id.
  std::string create(const std::string& title, const std::string& repository_path,
                     const std::string& content);
  void update(const std::string& id, const std::string& content);

  // Many operations in one transaction (BEGIN IMMEDIATE ... COMMIT).
  void begin();
  void commit();
  std::string create_in_txn(const std::string& title, const std::string& repository_path,
                            const std::string& content);
  void update_in_txn(const std::string& id, const std::string& content);

  // Every version's content of one session, oldest first (one SELECT).
  std::vector<std::string> history(const std::string& id);

  // What get_versions returns, as this schema has it: in one read transaction,
  // the session read (empty when it does not exist), then every version's
  // number, content, summary, time and event, oldest first.
  struct Version {
    std::int64_t number = 0;
    std::string content;
    std::string change_summary;
    std::int64_t created_at = 0;
    std::int64_t event_seq = 0;
  };
  std::vector<Version> versions(const std::string& id);

  // Empties sessions, versions and the indexes, and replays the events table
  // into them in one transaction. Returns the events replayed.
  std::uint64_t rebuild();

  // Bytes of the database and its WAL.
  std::uint64_t file_bytes() const;

 private:
  struct Current {
    int status = 0;
    std::string content;
    std::int64_t current_version = 0;
    std::int64_t stream_version = 0;
  };
  sqlite3_stmt* prepare(const char* sql);
  void exec(const char* sql);
  bool load(const std::string& id, Current& out);
  std::int64_t append_event(const std::string& id, std::int64_t stream_version, int type,
                            std::int64_t now, const std::string& payload);
  void apply_create(const std::string& id, const std::string& title,
                    const std::string& repository_path, const std::string& content,
                    std::int64_t now, std::int64_t seq);
  void apply_update(const std::string& id, const std::string& content, std::int64_t version,
                    std::int64_t stream_version, std::int64_t now, std::int64_t seq);

  std::filesystem::path file_;
  sqlite3* db_ = nullptr;
  std::vector<sqlite3_stmt*> statements_;
  sqlite3_stmt* select_session_ = nullptr;
  sqlite3_stmt* insert_event_ = nullptr;
  sqlite3_stmt* insert_session_ = nullptr;
  sqlite3_stmt* update_session_ = nullptr;
  sqlite3_stmt* insert_version_ = nullptr;
  sqlite3_stmt* select_history_ = nullptr;
  sqlite3_stmt* select_versions_ = nullptr;
  sqlite3_stmt* begin_read_ = nullptr;
  sqlite3_stmt* select_events_ = nullptr;
  sqlite3_stmt* begin_ = nullptr;
  sqlite3_stmt* commit_ = nullptr;
  std::uint64_t next_id_ = 0;
};

}  // namespace bench
