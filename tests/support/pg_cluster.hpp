// A throwaway PostgreSQL server for the shared-log tests: initdb in a fresh
// temporary directory, listening only on a Unix socket in that directory (no
// TCP port at all), stopped and removed with the object. PostgreSQL refuses to
// run as root; as root the server runs as the `postgres` user (Debian's
// package creates it). Needs the server binaries (Debian's `postgresql`,
// installed by .ci/setup.sh): unavailable() names what is missing, for
// PLANNING_SKIP.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "support/temp_store.hpp"

namespace planning::test {

class PgCluster {
 public:
  // Why no cluster can start here, or nullopt when one can.
  static std::optional<std::string> unavailable();

  PgCluster();  // initdb + start; fails the test (REQUIRE) when it cannot
  ~PgCluster();
  PgCluster(const PgCluster&) = delete;
  PgCluster& operator=(const PgCluster&) = delete;

  // A libpq connection string for `database` on this server.
  std::string conninfo(std::string_view database = "postgres") const;
  // A new empty database; returns its connection string.
  std::string create_database();

  // pg_ctl stop: `immediate` is a crash (recovered at the next start).
  void stop(bool immediate = false);
  void start();
  bool running() const { return running_; }

 private:
  // Runs a server binary (as `postgres` when we are root); true on exit 0.
  bool run(const std::string& command) const;

  TempDir dir_;
  std::string bindir_;
  bool running_ = false;
  int databases_ = 0;
};

}  // namespace planning::test
