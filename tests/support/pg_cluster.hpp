// The throwaway PostgreSQL server of a shared-log test (pg_server.hpp) in a
// fresh temporary directory, fsync off, stopped and removed with the object;
// a failure to start or stop fails the test. unavailable() names what is
// missing, for PLANNING_SKIP.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "support/pg_server.hpp"
#include "support/temp_store.hpp"

namespace planning::test {

class PgCluster {
 public:
  static std::optional<std::string> unavailable() { return PgServer::unavailable(); }

  PgCluster();  // initdb + start; fails the test (REQUIRE) when it cannot
  PgCluster(const PgCluster&) = delete;
  PgCluster& operator=(const PgCluster&) = delete;

  std::string conninfo(std::string_view database = "postgres") const {
    return server_.conninfo(database);
  }
  // A new empty database; returns its connection string.
  std::string create_database();
  // pg_ctl stop: `immediate` is a crash (recovered at the next start).
  void stop(bool immediate = false);
  void start();
  bool running() const { return server_.running(); }

 private:
  TempDir dir_;  // declared first: destroyed after the server stops
  PgServer server_;
  int databases_ = 0;
};

// The server of this test process, started on first use (under CTest each
// case is a process of its own).
PgCluster& process_cluster();

}  // namespace planning::test

// Ends the current case as skipped (PLANNING_SKIP, support/test_helpers.hpp)
// where no PostgreSQL server can start.
#define PLANNING_REQUIRE_POSTGRES()                                         \
  do {                                                                      \
    if (auto planning_pg_why_ = ::planning::test::PgCluster::unavailable()) \
      PLANNING_SKIP(*planning_pg_why_);                                     \
  } while (false)
