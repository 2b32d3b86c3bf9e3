#include "bench/sqlite_peer.hpp"

#include <sqlite3.h>

#include <chrono>
#include <fstream>
#include <random>
#include <string_view>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "bench/support.hpp"

namespace bench {

namespace {

constexpr int kActive = 0;
constexpr int kCreated = 1;  // event types, as the engine numbers them
constexpr int kUpdated = 2;

std::int64_t now_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

void bind_text(sqlite3_stmt* s, int index, const std::string& text) {
  sqlite3_bind_text(s, index, text.data(), static_cast<int>(text.size()), SQLITE_STATIC);
}

std::string column_text(sqlite3_stmt* s, int index) {
  const auto* bytes = sqlite3_column_text(s, index);
  return bytes == nullptr ? std::string()
                          : std::string(reinterpret_cast<const char*>(bytes),
                                        static_cast<std::size_t>(sqlite3_column_bytes(s, index)));
}

// Rowid tables throughout: rows hold ~1 KiB of content, and SQLite's own
// advice is that WITHOUT ROWID suits only rows well under 1/20 of a page.
constexpr const char* kSchema = R"sql(
CREATE TABLE IF NOT EXISTS events(
  seq INTEGER PRIMARY KEY,
  session_id TEXT NOT NULL,
  stream_version INTEGER NOT NULL,
  type INTEGER NOT NULL,
  ts INTEGER NOT NULL,
  actor TEXT NOT NULL,
  payload BLOB NOT NULL,
  UNIQUE(session_id, stream_version));
CREATE TABLE IF NOT EXISTS sessions(
  id TEXT PRIMARY KEY,
  title TEXT NOT NULL,
  status INTEGER NOT NULL,
  repository_path TEXT NOT NULL,
  content TEXT NOT NULL,
  current_version INTEGER NOT NULL,
  stream_version INTEGER NOT NULL,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL);
CREATE INDEX IF NOT EXISTS sessions_by_status ON sessions(status, created_at);
CREATE INDEX IF NOT EXISTS sessions_by_repository ON sessions(repository_path);
CREATE INDEX IF NOT EXISTS sessions_by_update ON sessions(updated_at);
CREATE TABLE IF NOT EXISTS versions(
  session_id TEXT NOT NULL,
  version_number INTEGER NOT NULL,
  content TEXT NOT NULL,
  change_summary TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  event_seq INTEGER NOT NULL,
  PRIMARY KEY(session_id, version_number));
)sql";

}  // namespace

SqlitePeer::SqlitePeer(const std::filesystem::path& file) : file_(file) {
  std::filesystem::create_directories(file.parent_path());
  if (sqlite3_open(file.c_str(), &db_) != SQLITE_OK) die("sqlite3_open " + file.string());
  sqlite3_busy_timeout(db_, 60000);  // writers of other connections: wait, never fail
  exec("PRAGMA journal_mode=WAL");
  exec("PRAGMA synchronous=FULL");
  exec(kSchema);
  select_session_ = prepare(
      "SELECT status, content, current_version, stream_version FROM sessions WHERE id = ?");
  insert_event_ = prepare(
      "INSERT INTO events(session_id, stream_version, type, ts, actor, payload) "
      "VALUES(?, ?, ?, ?, ?, ?)");
  insert_session_ = prepare(
      "INSERT INTO sessions(id, title, status, repository_path, content, current_version, "
      "stream_version, created_at, updated_at) VALUES(?, ?, 0, ?, ?, ?, 1, ?, ?)");
  update_session_ = prepare(
      "UPDATE sessions SET content = ?, current_version = ?, stream_version = ?, updated_at = ? "
      "WHERE id = ?");
  insert_version_ = prepare(
      "INSERT INTO versions(session_id, version_number, content, change_summary, created_at, "
      "event_seq) VALUES(?, ?, ?, 'autosave', ?, ?)");
  select_history_ =
      prepare("SELECT content FROM versions WHERE session_id = ? ORDER BY version_number");
  select_versions_ = prepare(
      "SELECT version_number, content, change_summary, created_at, event_seq FROM versions "
      "WHERE session_id = ? ORDER BY version_number");
  select_events_ =
      prepare("SELECT seq, session_id, stream_version, type, ts, payload FROM events ORDER BY seq");
  begin_ = prepare("BEGIN IMMEDIATE");
  begin_read_ = prepare("BEGIN");
  commit_ = prepare("COMMIT");
  std::random_device random;
  next_id_ = (static_cast<std::uint64_t>(random()) << 32 | random()) & 0xffffffff0000ULL;
}

SqlitePeer::~SqlitePeer() {
  for (sqlite3_stmt* s : statements_) sqlite3_finalize(s);
  sqlite3_close(db_);
}

sqlite3_stmt* SqlitePeer::prepare(const char* sql) {
  sqlite3_stmt* s = nullptr;
  if (sqlite3_prepare_v2(db_, sql, -1, &s, nullptr) != SQLITE_OK) {
    die(std::string("sqlite3_prepare_v2: ") + sqlite3_errmsg(db_) + " in " + sql);
  }
  statements_.push_back(s);
  return s;
}

void SqlitePeer::exec(const char* sql) {
  char* error = nullptr;
  if (sqlite3_exec(db_, sql, nullptr, nullptr, &error) != SQLITE_OK) {
    const std::string message = error ? error : "?";
    sqlite3_free(error);
    die("sqlite3_exec: " + message);
  }
}

namespace {
void step_done(sqlite3* db, sqlite3_stmt* s, std::string_view what) {
  if (sqlite3_step(s) != SQLITE_DONE) die(fmt::format("sqlite {}: {}", what, sqlite3_errmsg(db)));
  sqlite3_reset(s);
  sqlite3_clear_bindings(s);
}
}  // namespace

void SqlitePeer::begin() { step_done(db_, begin_, "BEGIN IMMEDIATE"); }
void SqlitePeer::commit() { step_done(db_, commit_, "COMMIT"); }

bool SqlitePeer::load(const std::string& id, Current& out) {
  bind_text(select_session_, 1, id);
  const int rc = sqlite3_step(select_session_);
  const bool found = rc == SQLITE_ROW;
  if (found) {
    out.status = sqlite3_column_int(select_session_, 0);
    out.content = column_text(select_session_, 1);
    out.current_version = sqlite3_column_int64(select_session_, 2);
    out.stream_version = sqlite3_column_int64(select_session_, 3);
  } else if (rc != SQLITE_DONE) {
    die(std::string("sqlite select session: ") + sqlite3_errmsg(db_));
  }
  sqlite3_reset(select_session_);
  sqlite3_clear_bindings(select_session_);
  return found;
}

std::int64_t SqlitePeer::append_event(const std::string& id, std::int64_t stream_version, int type,
                                      std::int64_t now, const std::string& payload) {
  bind_text(insert_event_, 1, id);
  sqlite3_bind_int64(insert_event_, 2, stream_version);
  sqlite3_bind_int(insert_event_, 3, type);
  sqlite3_bind_int64(insert_event_, 4, now);
  sqlite3_bind_text(insert_event_, 5, "bench", 5, SQLITE_STATIC);
  sqlite3_bind_blob(insert_event_, 6, payload.data(), static_cast<int>(payload.size()),
                    SQLITE_STATIC);
  step_done(db_, insert_event_, "insert event");
  return sqlite3_last_insert_rowid(db_);
}

void SqlitePeer::apply_create(const std::string& id, const std::string& title,
                              const std::string& repository_path, const std::string& content,
                              std::int64_t now, std::int64_t seq) {
  bind_text(insert_session_, 1, id);
  bind_text(insert_session_, 2, title);
  bind_text(insert_session_, 3, repository_path);
  bind_text(insert_session_, 4, content);
  sqlite3_bind_int64(insert_session_, 5, content.empty() ? 0 : 1);
  sqlite3_bind_int64(insert_session_, 6, now);
  sqlite3_bind_int64(insert_session_, 7, now);
  step_done(db_, insert_session_, "insert session");
  if (content.empty()) return;
  bind_text(insert_version_, 1, id);
  sqlite3_bind_int64(insert_version_, 2, 1);
  bind_text(insert_version_, 3, content);
  sqlite3_bind_int64(insert_version_, 4, now);
  sqlite3_bind_int64(insert_version_, 5, seq);
  step_done(db_, insert_version_, "insert version");
}

void SqlitePeer::apply_update(const std::string& id, const std::string& content,
                              std::int64_t version, std::int64_t stream_version, std::int64_t now,
                              std::int64_t seq) {
  bind_text(update_session_, 1, content);
  sqlite3_bind_int64(update_session_, 2, version);
  sqlite3_bind_int64(update_session_, 3, stream_version);
  sqlite3_bind_int64(update_session_, 4, now);
  bind_text(update_session_, 5, id);
  step_done(db_, update_session_, "update session");
  bind_text(insert_version_, 1, id);
  sqlite3_bind_int64(insert_version_, 2, version);
  bind_text(insert_version_, 3, content);
  sqlite3_bind_int64(insert_version_, 4, now);
  sqlite3_bind_int64(insert_version_, 5, seq);
  step_done(db_, insert_version_, "insert version");
}

std::string SqlitePeer::create_in_txn(const std::string& title, const std::string& repository_path,
                                      const std::string& content) {
  const std::uint64_t n = next_id_++;
  const std::string id = fmt::format("{:08x}-{:04x}-7000-8000-{:012x}", n >> 32,
                                     (n >> 16) & 0xffff, n & 0xffffffffffffULL);
  const std::int64_t now = now_ns();
  const std::string payload =
      nlohmann::json{{"title", title}, {"repository_path", repository_path}, {"content", content}}
          .dump();
  const std::int64_t seq = append_event(id, 1, kCreated, now, payload);
  apply_create(id, title, repository_path, content, now, seq);
  return id;
}

void SqlitePeer::update_in_txn(const std::string& id, const std::string& content) {
  Current current;
  if (!load(id, current)) die("sqlite peer: no session " + id);
  if (current.status != kActive) die("sqlite peer: session " + id + " is not active");
  if (current.content == content) return;  // an unchanged update appends nothing
  const std::int64_t now = now_ns();
  const std::int64_t version = current.current_version + 1;
  const std::int64_t stream_version = current.stream_version + 1;
  const std::string payload =
      nlohmann::json{{"content", content}, {"change_summary", "autosave"}, {"version", version}}
          .dump();
  const std::int64_t seq = append_event(id, stream_version, kUpdated, now, payload);
  apply_update(id, content, version, stream_version, now, seq);
}

std::string SqlitePeer::create(const std::string& title, const std::string& repository_path,
                               const std::string& content) {
  begin();
  std::string id = create_in_txn(title, repository_path, content);
  commit();
  return id;
}

void SqlitePeer::update(const std::string& id, const std::string& content) {
  begin();
  update_in_txn(id, content);
  commit();
}

std::vector<std::string> SqlitePeer::history(const std::string& id) {
  std::vector<std::string> out;
  bind_text(select_history_, 1, id);
  int rc = 0;
  while ((rc = sqlite3_step(select_history_)) == SQLITE_ROW) {
    out.push_back(column_text(select_history_, 0));
  }
  if (rc != SQLITE_DONE) die(std::string("sqlite history: ") + sqlite3_errmsg(db_));
  sqlite3_reset(select_history_);
  sqlite3_clear_bindings(select_history_);
  return out;
}

std::vector<SqlitePeer::Version> SqlitePeer::versions(const std::string& id) {
  std::vector<Version> out;
  step_done(db_, begin_read_, "BEGIN");
  Current session;
  if (load(id, session)) {
    out.reserve(static_cast<std::size_t>(session.current_version));
    bind_text(select_versions_, 1, id);
    int rc = 0;
    while ((rc = sqlite3_step(select_versions_)) == SQLITE_ROW) {
      out.push_back({.number = sqlite3_column_int64(select_versions_, 0),
                     .content = column_text(select_versions_, 1),
                     .change_summary = column_text(select_versions_, 2),
                     .created_at = sqlite3_column_int64(select_versions_, 3),
                     .event_seq = sqlite3_column_int64(select_versions_, 4)});
    }
    if (rc != SQLITE_DONE) die(std::string("sqlite versions: ") + sqlite3_errmsg(db_));
    sqlite3_reset(select_versions_);
    sqlite3_clear_bindings(select_versions_);
  }
  commit();
  return out;
}

std::uint64_t SqlitePeer::rebuild() {
  begin();
  exec("DELETE FROM sessions; DELETE FROM versions;");
  std::uint64_t replayed = 0;
  int rc = 0;
  while ((rc = sqlite3_step(select_events_)) == SQLITE_ROW) {
    const std::int64_t seq = sqlite3_column_int64(select_events_, 0);
    const std::string id = column_text(select_events_, 1);
    const std::int64_t stream_version = sqlite3_column_int64(select_events_, 2);
    const int type = sqlite3_column_int(select_events_, 3);
    const std::int64_t ts = sqlite3_column_int64(select_events_, 4);
    const auto* blob = static_cast<const char*>(sqlite3_column_blob(select_events_, 5));
    const auto payload = nlohmann::json::parse(
        std::string_view(blob, static_cast<std::size_t>(sqlite3_column_bytes(select_events_, 5))));
    if (type == kCreated) {
      apply_create(id, payload.at("title"), payload.at("repository_path"), payload.at("content"),
                   ts, seq);
    } else {
      apply_update(id, payload.at("content"), payload.at("version"), stream_version, ts, seq);
    }
    ++replayed;
  }
  if (rc != SQLITE_DONE) die(std::string("sqlite replay: ") + sqlite3_errmsg(db_));
  sqlite3_reset(select_events_);
  commit();
  return replayed;
}

std::uint64_t SqlitePeer::file_bytes() const {
  return file_size_or_zero(file_) + file_size_or_zero(file_.string() + "-wal");
}

}  // namespace bench
