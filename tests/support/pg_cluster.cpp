#include "support/pg_cluster.hpp"

#include <fmt/format.h>
#include <catch2/catch.hpp>

namespace planning::test {

PgCluster::PgCluster() : server_(dir_.path()) {
  const std::string init = server_.init(/*durable=*/false);
  INFO(init);
  REQUIRE(init.empty());
  start();
}

void PgCluster::start() {
  const std::string started = server_.start();
  INFO(started);
  REQUIRE(started.empty());
}

void PgCluster::stop(bool immediate) { server_.stop(immediate); }

std::string PgCluster::create_database() {
  const std::string name = fmt::format("db{}", ++databases_);
  const std::string created = server_.create_database(name);
  INFO(created);
  REQUIRE(created.empty());
  return conninfo(name);
}

PgCluster& process_cluster() {
  static PgCluster server;
  return server;
}

}  // namespace planning::test
