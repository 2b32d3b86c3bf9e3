#include "support/pg_cluster.hpp"

#include <pwd.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>

#include <fmt/format.h>
#include <catch2/catch.hpp>

namespace planning::test {

namespace {

// The directory of initdb and pg_ctl: pg_config's answer (libpq-dev), else
// Debian's versioned directories.
std::optional<std::string> server_bindir() {
  std::vector<std::string> candidates;
  if (FILE* p = ::popen("pg_config --bindir 2>/dev/null", "r")) {
    char line[4096];
    if (std::fgets(line, sizeof line, p)) {
      std::string dir = line;
      while (!dir.empty() && (dir.back() == '\n' || dir.back() == ' ')) dir.pop_back();
      candidates.push_back(dir);
    }
    ::pclose(p);
  }
  std::error_code ec;
  for (std::filesystem::directory_iterator it("/usr/lib/postgresql", ec), end; !ec && it != end;
       it.increment(ec)) {
    candidates.push_back((it->path() / "bin").string());
  }
  for (const auto& dir : candidates) {
    if (::access((dir + "/initdb").c_str(), X_OK) == 0 &&
        ::access((dir + "/pg_ctl").c_str(), X_OK) == 0) {
      return dir;
    }
  }
  return std::nullopt;
}

}  // namespace

std::optional<std::string> PgCluster::unavailable() {
  if (!server_bindir()) {
    return "no PostgreSQL server binaries (initdb, pg_ctl): install Debian's postgresql "
           "(.ci/setup.sh does)";
  }
  if (::geteuid() == 0 && ::getpwnam("postgres") == nullptr) {
    return "running as root without a postgres user to run the server as";
  }
  return std::nullopt;
}

PgCluster::PgCluster() {
  auto why = unavailable();
  REQUIRE_FALSE(why.has_value());
  bindir_ = *server_bindir();
  if (::geteuid() == 0) {
    const passwd* pg = ::getpwnam("postgres");
    REQUIRE(::chown(dir_.path().c_str(), pg->pw_uid, pg->pw_gid) == 0);
  }
  REQUIRE(
      run(fmt::format("'{}/initdb' -D '{}/data' -A trust -U planning -E UTF8 --locale=C "
                      "--no-sync >'{}/initdb.log' 2>&1",
                      bindir_, dir_.path().string(), dir_.path().string())));
  // No TCP (listen_addresses empty); the socket lives in our directory. fsync
  // off: an immediate stop is a crash of the server, not of the machine.
  std::ofstream conf(dir_.path() / "data" / "postgresql.conf", std::ios::app);
  conf << "listen_addresses = ''\n"
       << "unix_socket_directories = '" << dir_.path().string() << "'\n"
       << "fsync = off\nmax_connections = 100\n";
  conf.close();
  REQUIRE(conf);
  start();
}

PgCluster::~PgCluster() {
  if (running_) stop(false);
}

bool PgCluster::run(const std::string& command) const {
  const std::string line =
      ::geteuid() == 0 ? fmt::format("runuser -u postgres -- sh -c \"{}\"", command) : command;
  return std::system(line.c_str()) == 0;
}

void PgCluster::start() {
  const std::string dir = dir_.path().string();
  REQUIRE(run(fmt::format("'{}/pg_ctl' -D '{}/data' -l '{}/server.log' -w -t 60 start >/dev/null",
                          bindir_, dir, dir)));
  running_ = true;
}

void PgCluster::stop(bool immediate) {
  const std::string dir = dir_.path().string();
  run(fmt::format("'{}/pg_ctl' -D '{}/data' -m {} -w -t 60 stop >/dev/null", bindir_, dir,
                  immediate ? "immediate" : "fast"));
  running_ = false;
}

std::string PgCluster::conninfo(std::string_view database) const {
  return fmt::format("host={} dbname={} user=planning", dir_.path().string(), database);
}

std::string PgCluster::create_database() {
  const std::string name = fmt::format("db{}", ++databases_);
  REQUIRE(run(
      fmt::format("'{}/createdb' -h '{}' -U planning {}", bindir_, dir_.path().string(), name)));
  return conninfo(name);
}

}  // namespace planning::test
