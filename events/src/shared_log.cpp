#include "events/src/shared_log.hpp"

#include <poll.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <deque>

#include <fmt/format.h>
#include <libpq-fe.h>

namespace planning::detail {

namespace {

// Serializes schema creation between nodes starting together (any constant
// works; this one is "planning" in ASCII).
constexpr long long kSchemaLockKey = 0x706c616e6e696e67LL;
// Rows per INSERT statement (6 parameters each; PostgreSQL takes at most 65,535).
constexpr std::size_t kRowsPerInsert = 1000;
constexpr const char* kChannel = "planning_log";

struct ResultDeleter {
  void operator()(PGresult* result) const { PQclear(result); }
};
using PgResult = std::unique_ptr<PGresult, ResultDeleter>;

// libpq's messages end in newlines and may span lines; ours are one line.
std::string one_line(const char* message) {
  std::string text = message ? message : "";
  std::replace(text.begin(), text.end(), '\n', ' ');
  while (!text.empty() && text.back() == ' ') text.pop_back();
  return text.empty() ? "no message" : text;
}

// Big-endian binary parameters and results (PostgreSQL's binary format).
std::string be64(std::uint64_t value) {
  std::string out(8, '\0');
  for (int i = 7; i >= 0; --i, value >>= 8)
    out[static_cast<std::size_t>(i)] = static_cast<char>(value & 0xff);
  return out;
}
std::string be32(std::uint32_t value) {
  std::string out(4, '\0');
  for (int i = 3; i >= 0; --i, value >>= 8)
    out[static_cast<std::size_t>(i)] = static_cast<char>(value & 0xff);
  return out;
}
std::uint64_t read_be(const char* bytes, int length) {
  std::uint64_t value = 0;
  for (int i = 0; i < length; ++i) value = (value << 8) | static_cast<unsigned char>(bytes[i]);
  return value;
}

std::string_view hash_bytes(const Hash256& hash) {
  return {reinterpret_cast<const char*>(hash.data()), hash.size()};
}

// Binary parameters of one statement, each with its type (so that the server
// never guesses one); owns their bytes.
class Params {
 public:
  // PostgreSQL's type OIDs (pg_type.h).
  static constexpr Oid kBytea = 17, kInt8 = 20, kInt4 = 23, kText = 25;
  void int8(std::uint64_t value) { add(be64(value), kInt8); }
  void int4(std::uint32_t value) { add(be32(value), kInt4); }
  void text(std::string_view value) { add(std::string(value), kText); }
  void bytea(std::string_view value) { add(std::string(value), kBytea); }
  int size() const { return static_cast<int>(values_.size()); }
  const Oid* types() const { return types_.data(); }
  const char* const* values() const { return pointers_.data(); }
  const int* lengths() const { return lengths_.data(); }
  const int* formats() const { return formats_.data(); }

 private:
  void add(std::string bytes, Oid type) {
    values_.push_back(std::move(bytes));
    types_.push_back(type);
    lengths_.push_back(static_cast<int>(values_.back().size()));
    formats_.push_back(1);  // binary
    pointers_.push_back(values_.back().data());
  }
  std::deque<std::string> values_;  // a deque never moves its strings: pointers_ stay valid
  std::vector<Oid> types_;
  std::vector<const char*> pointers_;
  std::vector<int> lengths_;
  std::vector<int> formats_;
};

// The connection string's host, port, database and user (never its password).
Result<std::string> describe(std::string_view conninfo) {
  char* error = nullptr;
  const std::string text(conninfo);
  PQconninfoOption* options = PQconninfoParse(text.c_str(), &error);
  if (options == nullptr) {
    Error e{ErrorCode::invalid_argument,
            fmt::format("shared log connection string is malformed: {}", one_line(error))};
    PQfreemem(error);
    return std::unexpected(e);
  }
  std::string name;
  for (PQconninfoOption* o = options; o->keyword != nullptr; ++o) {
    if (o->val == nullptr || *o->val == '\0') continue;
    const std::string_view key = o->keyword;
    if (key == "host" || key == "hostaddr" || key == "port" || key == "dbname" || key == "user") {
      name += fmt::format("{}{}={}", name.empty() ? "" : " ", key, o->val);
    }
  }
  PQconninfoFree(options);
  return name.empty() ? std::string("(libpq defaults)") : name;
}

// The head row's sequence and hash from columns 0 and 1 of `rows`' only row.
Result<LogHead> parse_head(const PGresult* rows, const std::string& name) {
  if (PQntuples(rows) != 1 || PQgetlength(rows, 0, 0) != 8 || PQgetlength(rows, 0, 1) != 32) {
    return std::unexpected(
        Error{ErrorCode::corruption,
              fmt::format("shared log {}: the head row is missing or malformed", name)});
  }
  LogHead head;
  head.sequence = read_be(PQgetvalue(rows, 0, 0), 8);
  std::memcpy(head.hash.data(), PQgetvalue(rows, 0, 1), 32);
  return head;
}

}  // namespace

struct SharedLog::Connection {
  PGconn* conn = nullptr;
  bool listening = false;
  // Set when the connection was re-established: wake-ups may have been lost.
  bool reconnected = false;
  // lock_head() holds the head row (a transaction is open) until append() or
  // unlock_head().
  bool head_locked = false;
  LogHead locked_head;
  std::string name;

  ~Connection() {
    if (conn != nullptr) PQfinish(conn);
  }

  Error error(std::string_view what, const PGresult* result = nullptr) const {
    const char* state = result ? PQresultErrorField(result, PG_DIAG_SQLSTATE) : nullptr;
    const std::string detail =
        one_line(result ? PQresultErrorMessage(result) : PQerrorMessage(conn));
    // 23505: unique violation — a (session, stream version) already stored.
    const ErrorCode code =
        state && std::strcmp(state, "23505") == 0 ? ErrorCode::conflict : ErrorCode::storage;
    return Error{code, fmt::format("shared log {}: {}: {}", name, what, detail)};
  }

  // Reconnects when the connection was lost (PostgreSQL restarted, a network
  // cut); `storage` when it cannot.
  Result<void> ensure() {
    if (PQstatus(conn) == CONNECTION_OK) return {};
    PQreset(conn);
    if (PQstatus(conn) != CONNECTION_OK) return std::unexpected(error("cannot reconnect"));
    listening = false;
    reconnected = true;
    head_locked = false;  // its transaction died with the connection
    return {};
  }

  // Runs `sql`; `expected` is PGRES_COMMAND_OK or PGRES_TUPLES_OK.
  Result<PgResult> exec(std::string_view what, const char* sql, Params* params,
                        ExecStatusType expected) {
    PgResult result{params ? PQexecParams(conn, sql, params->size(), params->types(),
                                          params->values(), params->lengths(), params->formats(), 1)
                           : PQexecParams(conn, sql, 0, nullptr, nullptr, nullptr, nullptr, 1)};
    if (!result || PQresultStatus(result.get()) != expected) {
      return std::unexpected(error(what, result.get()));
    }
    return result;
  }

  // Ends a transaction that failed; the connection may be gone already.
  void rollback() {
    if (PQstatus(conn) == CONNECTION_OK) PgResult{PQexec(conn, "ROLLBACK")};
  }
};

SharedLog::SharedLog(std::unique_ptr<Connection> connection, std::string name)
    : connection_(std::move(connection)), name_(std::move(name)) {}

SharedLog::~SharedLog() = default;

Result<std::unique_ptr<SharedLog>> SharedLog::open(std::string_view conninfo) {
  auto name = describe(conninfo);
  if (!name) return std::unexpected(name.error());
  auto c = std::make_unique<Connection>();
  c->name = *name;
  c->conn = PQconnectdb(std::string(conninfo).c_str());
  if (c->conn == nullptr) {
    return std::unexpected(
        Error{ErrorCode::storage, fmt::format("shared log {}: out of memory", *name)});
  }
  if (PQstatus(c->conn) != CONNECTION_OK) return std::unexpected(c->error("cannot connect"));
  // A library prints nothing: the server's notices ("relation ... already
  // exists, skipping", shutdown warnings) are dropped, never sent to stderr.
  PQsetNoticeProcessor(
      c->conn, [](void*, const char*) {}, nullptr);

  // The schema, created once: the advisory lock serializes nodes starting together.
  const std::string before_check[] = {
      "BEGIN", fmt::format("SELECT pg_advisory_xact_lock({})", kSchemaLockKey),
      "CREATE TABLE IF NOT EXISTS planning_log_meta (key text PRIMARY KEY, value text NOT NULL)",
      fmt::format("INSERT INTO planning_log_meta (key, value) VALUES ('schema_version', '{}')"
                  " ON CONFLICT (key) DO NOTHING",
                  kSharedLogSchemaVersion)};
  const std::string after_check[] = {
      "CREATE TABLE IF NOT EXISTS planning_log_head ("
      " singleton boolean PRIMARY KEY DEFAULT true CHECK (singleton),"
      " sequence bigint NOT NULL CHECK (sequence >= 0),"
      " hash bytea NOT NULL CHECK (octet_length(hash) = 32))",
      "CREATE TABLE IF NOT EXISTS planning_log_events ("
      " sequence bigint PRIMARY KEY CHECK (sequence > 0),"
      " session_id text NOT NULL,"
      " stream_version integer NOT NULL CHECK (stream_version > 0),"
      " type text NOT NULL,"
      " hash bytea NOT NULL CHECK (octet_length(hash) = 32),"
      " frame bytea NOT NULL,"
      " UNIQUE (session_id, stream_version))",
      "INSERT INTO planning_log_head (singleton, sequence, hash)"
      " VALUES (true, 0, decode(repeat('00', 32), 'hex')) ON CONFLICT (singleton) DO NOTHING",
      "COMMIT"};
  // Each statement returns rows (the lock) or none; either is success.
  auto run_all = [&](std::span<const std::string> statements) -> Result<void> {
    for (const std::string& sql : statements) {
      PgResult r{PQexec(c->conn, sql.c_str())};
      const auto status = r ? PQresultStatus(r.get()) : PGRES_FATAL_ERROR;
      if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK) {
        Error e = c->error("creating the schema", r.get());
        c->rollback();
        return std::unexpected(e);
      }
    }
    return {};
  };
  if (auto done = run_all(before_check); !done) return std::unexpected(done.error());
  auto stored = c->exec("reading the schema version",
                        "SELECT value FROM planning_log_meta WHERE key = 'schema_version'", nullptr,
                        PGRES_TUPLES_OK);
  if (!stored) {
    c->rollback();
    return std::unexpected(stored.error());
  }
  const std::string stored_version =
      PQntuples(stored->get()) == 1
          ? std::string(PQgetvalue(stored->get(), 0, 0), PQgetlength(stored->get(), 0, 0))
          : std::string("(none)");
  if (stored_version != std::to_string(kSharedLogSchemaVersion)) {
    c->rollback();
    return std::unexpected(
        Error{ErrorCode::corruption,
              fmt::format("shared log {}: schema version {}; this build reads version {}", *name,
                          stored_version, kSharedLogSchemaVersion)});
  }
  if (auto done = run_all(after_check); !done) return std::unexpected(done.error());
  return std::unique_ptr<SharedLog>(new SharedLog(std::move(c), *name));
}

Result<LogHead> SharedLog::head() {
  Connection& c = *connection_;
  if (auto ok = c.ensure(); !ok) return std::unexpected(ok.error());
  auto r = c.exec("reading the head",
                  "SELECT h.sequence, h.hash, (SELECT max(sequence) FROM planning_log_events)"
                  " FROM planning_log_head h",
                  nullptr, PGRES_TUPLES_OK);
  if (!r) return std::unexpected(r.error());
  PGresult* rows = r->get();
  auto head = parse_head(rows, name_);
  if (!head) return head;
  const std::uint64_t last = PQgetisnull(rows, 0, 2) ? 0 : read_be(PQgetvalue(rows, 0, 2), 8);
  if (last != head->sequence) {
    return std::unexpected(Error{
        ErrorCode::corruption,
        fmt::format("shared log {}: the head row says sequence {} but the last stored event is {}",
                    name_, head->sequence, last)});
  }
  return head;
}

Result<LogHead> SharedLog::lock_head() {
  Connection& c = *connection_;
  if (c.head_locked) return c.locked_head;
  if (auto ok = c.ensure(); !ok) return std::unexpected(ok.error());
  auto fail = [&](Error e) -> Result<LogHead> {
    c.rollback();
    return std::unexpected(std::move(e));
  };
  if (auto r = c.exec("locking the head", "BEGIN", nullptr, PGRES_COMMAND_OK); !r) {
    return fail(r.error());
  }
  auto locked =
      c.exec("locking the head", "SELECT sequence, hash FROM planning_log_head FOR UPDATE", nullptr,
             PGRES_TUPLES_OK);
  if (!locked) return fail(locked.error());
  auto head = parse_head(locked->get(), name_);
  if (!head) return fail(head.error());
  c.locked_head = *head;
  c.head_locked = true;
  return c.locked_head;
}

void SharedLog::unlock_head() {
  Connection& c = *connection_;
  if (!c.head_locked) return;
  c.head_locked = false;
  c.rollback();
}

Result<SharedLog::AppendOutcome> SharedLog::append(const LogHead& expected,
                                                   std::span<const SharedEvent> events) {
  if (events.empty()) {
    return std::unexpected(
        Error{ErrorCode::invalid_argument, "shared log append: no events to append"});
  }
  for (std::size_t i = 0; i < events.size(); ++i) {
    if (events[i].sequence != expected.sequence + 1 + i) {
      return std::unexpected(
          Error{ErrorCode::invalid_argument,
                fmt::format("shared log append: event {} has sequence {}, expected {}", i,
                            events[i].sequence, expected.sequence + 1 + i)});
    }
  }
  Connection& c = *connection_;
  auto fail = [&](Error e) -> Result<AppendOutcome> {
    c.rollback();
    c.head_locked = false;
    return std::unexpected(std::move(e));
  };
  LogHead shared = c.locked_head;
  if (!c.head_locked) {  // optimistic: lock now, refuse if another node was first
    auto locked = lock_head();
    if (!locked) return std::unexpected(locked.error());
    shared = *locked;
  }
  if (shared.sequence != expected.sequence) {
    unlock_head();
    return AppendOutcome{false, shared};
  }
  if (shared.hash != expected.hash) {
    return fail(
        Error{ErrorCode::corruption,
              fmt::format(
                  "shared log {}: its event {} has hash {}, this node's has {}: the logs diverged",
                  name_, shared.sequence, to_hex(shared.hash), to_hex(expected.hash))});
  }
  for (std::size_t first = 0; first < events.size(); first += kRowsPerInsert) {
    const std::size_t count = std::min(kRowsPerInsert, events.size() - first);
    std::string sql =
        "INSERT INTO planning_log_events (sequence, session_id, stream_version, type, hash, frame)"
        " VALUES ";
    Params params;
    for (std::size_t i = 0; i < count; ++i) {
      const SharedEvent& e = events[first + i];
      const int n = static_cast<int>(i) * 6;
      sql += fmt::format("{}(${}, ${}, ${}, ${}, ${}, ${})", i ? ", " : "", n + 1, n + 2, n + 3,
                         n + 4, n + 5, n + 6);
      params.int8(e.sequence);
      params.text(e.session_id);
      params.int4(e.stream_version);
      params.text(e.type);
      params.bytea(hash_bytes(e.hash));
      params.bytea(e.frame);
    }
    if (auto r = c.exec("appending events", sql.c_str(), &params, PGRES_COMMAND_OK); !r) {
      return fail(r.error());
    }
  }
  LogHead next{events.back().sequence, events.back().hash};
  Params head_row;
  head_row.int8(next.sequence);
  head_row.bytea(hash_bytes(next.hash));
  if (auto r = c.exec("advancing the head", "UPDATE planning_log_head SET sequence = $1, hash = $2",
                      &head_row, PGRES_COMMAND_OK);
      !r) {
    return fail(r.error());
  }
  Params channel;
  channel.text(kChannel);
  if (auto r = c.exec("waking followers", "SELECT pg_notify($1, '')", &channel, PGRES_TUPLES_OK);
      !r) {
    return fail(r.error());
  }
  c.head_locked = false;
  if (auto r = c.exec("committing", "COMMIT", nullptr, PGRES_COMMAND_OK); !r) {
    // The COMMIT's answer was lost: it may have committed. Reconnect and look.
    if (PQstatus(c.conn) == CONNECTION_OK || !c.ensure()) return fail(r.error());
    auto now = head();
    if (now && now->sequence >= next.sequence) {
      auto mine = read(next.sequence - 1, 1);
      if (mine && mine->size() == 1 && mine->front().hash == next.hash) {
        return AppendOutcome{true, next};
      }
    }
    if (!now) return std::unexpected(now.error());
    return std::unexpected(r.error());
  }
  return AppendOutcome{true, next};
}

Result<std::vector<SharedEvent>> SharedLog::read(std::uint64_t after, std::size_t limit) {
  Connection& c = *connection_;
  if (auto ok = c.ensure(); !ok) return std::unexpected(ok.error());
  Params params;
  params.int8(after);
  params.int8(limit);
  auto r = c.exec("reading events",
                  "SELECT sequence, session_id, stream_version, type, hash, frame"
                  " FROM planning_log_events WHERE sequence > $1"
                  " ORDER BY sequence LIMIT $2",
                  &params, PGRES_TUPLES_OK);
  if (!r) return std::unexpected(r.error());
  PGresult* rows = r->get();
  std::vector<SharedEvent> events;
  events.reserve(static_cast<std::size_t>(PQntuples(rows)));
  for (int i = 0; i < PQntuples(rows); ++i) {
    const std::uint64_t wanted = after + 1 + static_cast<std::uint64_t>(i);
    if (PQgetlength(rows, i, 0) != 8 || PQgetlength(rows, i, 2) != 4 ||
        PQgetlength(rows, i, 4) != 32) {
      return std::unexpected(
          Error{ErrorCode::corruption,
                fmt::format("shared log {}: the row of event {} is malformed", name_, wanted)});
    }
    SharedEvent e;
    e.sequence = read_be(PQgetvalue(rows, i, 0), 8);
    if (e.sequence != wanted) {
      return std::unexpected(Error{
          ErrorCode::corruption, fmt::format("shared log {}: event {} is missing", name_, wanted)});
    }
    e.session_id.assign(PQgetvalue(rows, i, 1), static_cast<std::size_t>(PQgetlength(rows, i, 1)));
    e.stream_version = static_cast<std::uint32_t>(read_be(PQgetvalue(rows, i, 2), 4));
    e.type.assign(PQgetvalue(rows, i, 3), static_cast<std::size_t>(PQgetlength(rows, i, 3)));
    std::memcpy(e.hash.data(), PQgetvalue(rows, i, 4), 32);
    e.frame.assign(PQgetvalue(rows, i, 5), static_cast<std::size_t>(PQgetlength(rows, i, 5)));
    events.push_back(std::move(e));
  }
  return events;
}

Result<bool> SharedLog::wait_for_append(std::chrono::milliseconds timeout) {
  Connection& c = *connection_;
  if (auto ok = c.ensure(); !ok) return std::unexpected(ok.error());
  if (!c.listening) {
    if (auto r = c.exec("listening", "LISTEN planning_log", nullptr, PGRES_COMMAND_OK); !r) {
      return std::unexpected(r.error());
    }
    c.listening = true;
  }
  if (c.reconnected) {  // wake-ups sent while the connection was down are lost
    c.reconnected = false;
    return true;
  }
  auto drain = [&] {
    bool woken = false;
    while (PGnotify* n = PQnotifies(c.conn)) {
      woken = true;
      PQfreemem(n);
    }
    return woken;
  };
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    if (PQconsumeInput(c.conn) == 0) return std::unexpected(c.error("waiting for appends"));
    if (drain()) return true;
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) return false;
    pollfd fd{PQsocket(c.conn), POLLIN, 0};
    const int ready = ::poll(&fd, 1, static_cast<int>(std::min<long long>(left.count(), 1 << 30)));
    if (ready < 0 && errno != EINTR) {
      return std::unexpected(
          Error{ErrorCode::storage, fmt::format("shared log {}: waiting for appends: poll: {}",
                                                name_, std::strerror(errno))});
    }
  }
}

}  // namespace planning::detail
