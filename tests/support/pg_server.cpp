#include "support/pg_server.hpp"

#include <pwd.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <vector>

#include <fmt/format.h>

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

std::optional<std::string> PgServer::unavailable() {
  if (!server_bindir()) {
    return "no PostgreSQL server binaries (initdb, pg_ctl): install Debian's postgresql "
           "(.ci/setup.sh does)";
  }
  if (::geteuid() == 0 && ::getpwnam("postgres") == nullptr) {
    return "running as root without a postgres user to run the server as";
  }
  return std::nullopt;
}

PgServer::~PgServer() {
  if (running_) stop(false);
}

bool PgServer::run(const std::string& command) const {
  const std::string line =
      ::geteuid() == 0 ? fmt::format("runuser -u postgres -- sh -c \"{}\"", command) : command;
  return std::system(line.c_str()) == 0;
}

std::string PgServer::init(bool durable) {
  if (auto why = unavailable()) return *why;
  bindir_ = *server_bindir();
  if (::geteuid() == 0) {
    const passwd* pg = ::getpwnam("postgres");
    if (::chown(dir_.c_str(), pg->pw_uid, pg->pw_gid) != 0) return "cannot chown " + dir_.string();
  }
  const std::string dir = dir_.string();
  if (!run(fmt::format("'{}/initdb' -D '{}/data' -A trust -U planning -E UTF8 --locale=C "
                       "--no-sync >'{}/initdb.log' 2>&1",
                       bindir_, dir, dir))) {
    return "initdb failed: see " + dir + "/initdb.log";
  }
  std::ofstream conf(dir_ / "data" / "postgresql.conf", std::ios::app);
  conf << "listen_addresses = ''\n"
       << "unix_socket_directories = '" << dir << "'\n"
       << "max_connections = 100\n"
       << (durable ? "" : "fsync = off\n");
  conf.close();
  return conf ? "" : "cannot write postgresql.conf";
}

std::string PgServer::start() {
  const std::string dir = dir_.string();
  if (!run(fmt::format("'{}/pg_ctl' -D '{}/data' -l '{}/server.log' -w -t 60 start >/dev/null",
                       bindir_, dir, dir))) {
    return "pg_ctl start failed: see " + dir + "/server.log";
  }
  running_ = true;
  return "";
}

std::string PgServer::stop(bool immediate) {
  const std::string dir = dir_.string();
  const bool ok = run(fmt::format("'{}/pg_ctl' -D '{}/data' -m {} -w -t 60 stop >/dev/null",
                                  bindir_, dir, immediate ? "immediate" : "fast"));
  running_ = false;
  return ok ? "" : "pg_ctl stop failed";
}

std::string PgServer::conninfo(std::string_view database) const {
  return fmt::format("host={} dbname={} user=planning", dir_.string(), database);
}

std::string PgServer::create_database(std::string_view name) {
  return run(fmt::format("'{}/createdb' -h '{}' -U planning {}", bindir_, dir_.string(), name))
             ? ""
             : fmt::format("createdb {} failed", name);
}

}  // namespace planning::test
