// Read-only opens (Options::read_only, used by planctl's read verbs): they
// change no byte of the store, work for a user who can only read it, refuse an
// empty or truncated data.mdb instead of initialising or extending it, and
// keep a store readable whose projections are behind (a failed rebuild).
// docs/RELIABILITY.md G23–G25.
#include <sys/stat.h>

#include <fstream>
#include <sstream>

#include "reliability/reliability_support.hpp"
#include "support/raw_lmdb.hpp"

namespace planning::reliability {
namespace {

// Waits for a child that reported line by line, gives the store directory its
// mode back (so TempDir can clean up), and requires a normal exit. Returns the
// child's lines.
std::vector<std::string> finish_child(ChildProcess& child, const Options& options) {
  auto lines = child.drain();
  const int status = child.wait();
  ::chmod(options.path.c_str(), 0700);
  std::string all;
  for (const auto& l : lines) all += l + "; ";
  INFO(describe_status(status) << ": " << all);
  REQUIRE(exited_ok(status));
  return lines;
}

using test::ManualClock;
using test::TempDir;
using test::open_store;

std::string file_bytes(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

std::vector<std::string> names_in(const std::filesystem::path& dir) {
  std::vector<std::string> out;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    out.push_back(entry.path().filename().string());
  }
  std::sort(out.begin(), out.end());
  return out;
}

// A closed store with every kind of event.
Options make_store(const TempDir& dir) {
  ManualClock clock;
  Options options = test::test_options(dir, &clock);
  {
    auto m = test::open_store(options);
    populate_every_kind(*m, clock, 8);
  }
  options.clock = {};
  return options;
}

// Makes `store` readable and not writable by anyone but root: directory
// 0555, files 0444.
void make_read_only_for_others(const std::filesystem::path& store) {
  for (const auto& entry : std::filesystem::directory_iterator(store)) {
    ::chmod(entry.path().c_str(), 0444);
  }
  ::chmod(store.c_str(), 0555);
  ::chmod(store.parent_path().c_str(), 0755);
}

// In a child: drops to an unprivileged user when running as root (permission
// bits do not bind root), then runs `body`.
int as_reader(const std::function<int()>& body) {
  if (::geteuid() == 0) {
    if (::setgid(65534) != 0 || ::setuid(65534) != 0) return 90;
  }
  return body();
}

}  // namespace

TEST_CASE("a read-only open works for a user who can only read the store and changes no byte",
          "[read_only]") {
  TempDir dir;
  Options options = make_store(dir);
  std::filesystem::remove(options.path / "lock.mdb");  // read-only media: no lock file either
  const std::string before = file_bytes(options.path / "data.mdb");
  const auto names_before = names_in(options.path);
  make_read_only_for_others(options.path);
  TempDir out;
  ::chmod(out.path().c_str(), 0777);

  ChildProcess child([&](int fd, int) {
    return as_reader([&] {
      {
        Options writable = options;  // the old way: needs write access
        auto refused = SessionManager::open(writable);
        send_line(fd, "WRITABLE " + std::string(refused ? "opened" : to_string(refused.error().code)));
      }
      Options o = options;
      o.read_only = true;
      o.structure_check = StructureCheck::full;
      auto opened = SessionManager::open(o);
      if (!opened) {
        send_line(fd, "OPEN " + opened.error().message);
        return 0;
      }
      auto& m = **opened;
      send_line(fd, "LIST " + std::to_string(m.list() ? m.list()->size() : 999));
      auto report = m.verify();
      send_line(fd, "VERIFY " + std::string(report && report->ok() ? "ok"
                                            : report ? report->issues.front().what
                                                     : report.error().message));
      std::ostringstream exported;
      send_line(fd, "EXPORT " + std::string(m.export_events(exported) ? "ok" : "failed"));
      send_line(fd, "INFO " + std::string(m.info() ? "ok" : "failed"));
      auto backup = m.backup(out.path() / "backup");
      send_line(fd, "BACKUP " + std::string(backup ? "ok" : backup.error().message));
      auto write = m.create({.title = "must not land"});
      send_line(fd, "WRITE " + std::string(write ? "written" : to_string(write.error().code)));
      return 0;
    });
  });
  const auto lines = finish_child(child, options);
  const auto has = [&](const std::string& line) {
    return std::find(lines.begin(), lines.end(), line) != lines.end();
  };
  CHECK(has("WRITABLE storage"));
  CHECK(has("LIST 7"));  // 8 created, 1 removed
  CHECK(has("VERIFY ok"));
  CHECK(has("EXPORT ok"));
  CHECK(has("INFO ok"));
  CHECK(has("BACKUP ok"));
  CHECK(has("WRITE storage"));
  // Not a byte changed, nothing created.
  CHECK(file_bytes(options.path / "data.mdb") == before);
  CHECK(names_in(options.path) == names_before);
}

TEST_CASE("every write to a read-only open says the store is read-only and changes nothing",
          "[read_only]") {
  TempDir dir;
  Options options = test_options(dir);
  std::string id;
  {
    auto m = open_store(options);
    id = PLAN_OK(m->create({.title = "kept"})).id;
  }
  const auto before = file_bytes(options.path / "data.mdb");
  options.read_only = true;
  auto m = open_store(options);
  auto check = [](const Error& e) {
    CHECK(e.code == ErrorCode::storage);
    CHECK_THAT(e.message, Catch::Contains("opened read-only"));
  };
  check(PLAN_ERR(m->create({.title = "must not land"})));
  check(PLAN_ERR(m->update(id, {.content = "no"})));
  WriteBatch batch;
  batch.archive(id);
  check(PLAN_ERR(m->apply_batch(batch)));
  std::istringstream empty_import("{}\n");
  CHECK_FALSE(m->import_events(empty_import).has_value());
  check(PLAN_ERR(m->rebuild_projections()));
  CHECK(PLAN_OK(m->get(id)).title == "kept");
  CHECK(file_bytes(options.path / "data.mdb") == before);
}

TEST_CASE("a read-only open reports an empty data.mdb and leaves it empty", "[read_only]") {
  TempDir dir;
  Options options = make_store(dir);
  std::filesystem::resize_file(options.path / "data.mdb", 0);
  std::filesystem::remove(options.path / "lock.mdb");
  options.read_only = true;
  auto opened = SessionManager::open(options);
  REQUIRE_FALSE(opened.has_value());
  CHECK(opened.error().code == ErrorCode::corruption);
  CHECK_THAT(opened.error().message, Catch::Matchers::Contains("empty"));
  CHECK(std::filesystem::file_size(options.path / "data.mdb") == 0);
  CHECK_FALSE(std::filesystem::exists(options.path / "lock.mdb"));
}

TEST_CASE("a read-only open reports a truncated data.mdb and does not extend it", "[read_only]") {
  TempDir dir;
  ManualClock clock;
  Options options = test::test_options(dir, &clock);
  {
    auto m = test::open_store(options);
    populate_every_kind(*m, clock, 12);
    CreateRequest r;
    r.title = "big";
    std::string big;
    for (int i = 0; big.size() < (300u << 10); ++i) big += "line " + std::to_string(i * 7919) + "\n";
    r.initial_content = big;
    PLAN_OK(m->create(r));
  }
  options.clock = {};
  const auto size = data_file_size(options.path);
  const auto cut = size / 2 / 4096 * 4096;
  std::filesystem::resize_file(options.path / "data.mdb", cut);
  options.read_only = true;
  ChildProcess child([&](int fd, int) {
    auto opened = SessionManager::open(options);
    if (!opened) {
      send_line(fd, std::string(to_string(opened.error().code)));
      return 0;
    }
    auto report = (*opened)->verify();
    send_line(fd, report && report->ok() ? "ok" : "reported");
    return 0;
  });
  const auto lines = child.drain();
  const int status = child.wait();
  INFO(describe_status(status));
  REQUIRE(exited_ok(status));
  REQUIRE(lines.size() == 1);
  CHECK((lines[0] == "corruption" || lines[0] == "reported"));
  CHECK(data_file_size(options.path) == cut);
}

TEST_CASE("a store whose projections are behind (a failed rebuild) stays readable read-only",
          "[read_only]") {
  TempDir dir;
  Options options = make_store(dir);
  // What a rebuild that failed after clearing leaves: checkpoints behind the head.
  REQUIRE(test::raw::with_txn(options.path, true, [](MDB_txn* txn) -> std::string {
            MDB_dbi dbi = 0;
            if (auto e = test::raw::open_dbi(txn, "checkpoints", dbi); !e.empty()) return e;
            std::string zero(12, '\0');
            zero[11] = 1;  // schema version 1 of whatever projection: behind either way
            for (const char* name : {"sessions", "statistics"}) {
              MDB_val k = test::raw::val(name);
              MDB_val v{};
              if (mdb_get(txn, dbi, &k, &v) != 0) return std::string("no checkpoint ") + name;
              std::string record(static_cast<const char*>(v.mv_data), v.mv_size);
              for (int i = 0; i < 8; ++i) record[static_cast<std::size_t>(i)] = 0;
              MDB_val nv = test::raw::val(record);
              if (int rc = mdb_put(txn, dbi, &k, &nv, 0); rc != 0) return mdb_strerror(rc);
            }
            return {};
          }) == "");
  make_read_only_for_others(options.path);
  ChildProcess child([&](int fd, int) {
    return as_reader([&] {
      Options o = options;
      o.read_only = true;
      std::vector<std::string> warnings;
      o.logger = [&](LogLevel level, std::string_view message) {
        if (level == LogLevel::warning && message.find("is at event 0") != std::string_view::npos) {
          warnings.emplace_back(message);
        }
      };
      auto opened = SessionManager::open(o);
      if (!opened) {
        send_line(fd, "OPEN " + opened.error().message);
        return 0;
      }
      send_line(fd, "INFO " + std::string((*opened)->info() ? "ok" : "failed"));
      std::ostringstream exported;
      send_line(fd, "EXPORT " + std::string((*opened)->export_events(exported) ? "ok" : "failed"));
      send_line(fd, "WARNINGS " + std::to_string(warnings.size()));
      return 0;
    });
  });
  const auto lines = finish_child(child, options);
  const auto has = [&](const std::string& line) {
    return std::find(lines.begin(), lines.end(), line) != lines.end();
  };
  CHECK(has("INFO ok"));
  CHECK(has("EXPORT ok"));
  CHECK(has("WARNINGS 2"));  // one per projection behind, naming it
}

}  // namespace planning::reliability
