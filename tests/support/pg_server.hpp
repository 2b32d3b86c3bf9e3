// A throwaway PostgreSQL server in a directory of its own: initdb, start and
// stop through pg_ctl, listening only on a Unix socket in that directory (no TCP
// port at all). PostgreSQL refuses to run as root; as root the server runs as
// the `postgres` user (Debian's package creates it). Free of any test framework:
// the shared-log tests (pg_cluster.hpp) and planning_bench both use it. Every
// call returns an error message, empty on success.
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

namespace planning::test {

class PgServer {
 public:
  // Why no server can start here (no server binaries, root without a postgres
  // user), or nullopt when one can.
  static std::optional<std::string> unavailable();

  // `dir` must exist and be empty; it holds the cluster, its log and socket.
  explicit PgServer(std::filesystem::path dir) : dir_(std::move(dir)) {}
  ~PgServer();  // stops a running server
  PgServer(const PgServer&) = delete;
  PgServer& operator=(const PgServer&) = delete;

  // initdb (superuser "planning", trust authentication) and the settings
  // above; `durable` false turns fsync off (tests: an immediate stop is a crash
  // of the server, not of the machine).
  std::string init(bool durable);
  std::string start();
  // pg_ctl stop: `immediate` is a crash (recovered at the next start).
  std::string stop(bool immediate = false);
  bool running() const { return running_; }

  // A libpq connection string for `database` on this server.
  std::string conninfo(std::string_view database = "postgres") const;
  // Creates the database `name`.
  std::string create_database(std::string_view name);

 private:
  // Runs `command` (as `postgres` when we are root); true on exit 0.
  bool run(const std::string& command) const;

  std::filesystem::path dir_;
  std::string bindir_;
  bool running_ = false;
};

}  // namespace planning::test
