// Fault injection (docs/RELIABILITY.md §3–§5): the map grows instead of failing
// (from a 64 KiB start, and when another process grew it); a map that may not
// grow any further, a file-size limit (EFBIG) and a full file system (ENOSPC)
// fail the write with ErrorCode::storage, keep the store usable and lose
// nothing committed before; stores that cannot be opened (read-only, not a
// directory, not an LMDB file, truncated, unknown format version) are refused
// with an error naming the path or both format versions — never a crash.
//
// Faults that need a process of their own (resource limits, mount namespaces,
// a possible SIGBUS) run in a forked child that opens its own SessionManager and
// reports through a pipe; the parent never has the store open across fork().
#include <planning/planning.hpp>

#include <sched.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <grp.h>
#include <sys/stat.h>
#include <fcntl.h>
#include <unistd.h>

#include <cstring>
#include <fstream>
#include <map>

#include <catch2/catch.hpp>

#include "reliability/reliability_support.hpp"
#include "support/raw_lmdb.hpp"
#include "support/temp_store.hpp"
#include "support/test_helpers.hpp"

using namespace planning;
using namespace planning::test;
using namespace planning::reliability;
using namespace std::chrono_literals;
using Catch::Matchers::Contains;

namespace {

// Distinct content of `size` bytes (so every update really changes the document):
// pseudo-random printable ASCII lines, which compact version storage (FORMAT.md
// §2.1) cannot shrink below ~85%, so the bytes stored follow the bytes written.
std::string big_content(std::size_t size, std::uint64_t tag) {
  std::string text = "# big document " + std::to_string(tag) + "\n";
  std::uint64_t state = 0x9e3779b97f4a7c15ULL * (tag + 1);
  while (text.size() < size) {
    state += 0x9e3779b97f4a7c15ULL;  // splitmix64
    std::uint64_t z = state;
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    z ^= z >> 31;
    for (int i = 0; i < 8; ++i, z >>= 8) {
      text.push_back(text.size() % 80 == 79 ? '\n' : static_cast<char>(' ' + (z & 0xff) % 95));
    }
  }
  text.resize(size);
  return text;
}

// "A <id> <stream_version> <content fingerprint>": an acknowledged write.
struct Acked {
  std::string id;
  std::uint32_t sv = 0;
  std::uint64_t content = 0;
};
std::string ack_line(const Session& s) {
  return "A " + s.id + " " + std::to_string(s.stream_version) + " " +
         std::to_string(fingerprint(s.content));
}

// Parses the child's lines: acknowledgements, and every other line by its tag.
struct ChildReport {
  std::vector<Acked> acks;
  std::map<std::string, std::vector<std::string>> tagged;  // tag -> rest of line
  bool has(const std::string& tag) const { return tagged.contains(tag); }
  std::string first(const std::string& tag) const {
    auto it = tagged.find(tag);
    return it == tagged.end() || it->second.empty() ? "" : it->second.front();
  }
};
ChildReport parse_report(const std::vector<std::string>& lines) {
  ChildReport r;
  for (const auto& line : lines) {
    const auto w = split_words(line);
    if (w.empty()) continue;
    if (w[0] == "A" && w.size() == 4) {
      r.acks.push_back(
          Acked{w[1], static_cast<std::uint32_t>(std::stoul(w[2])), std::stoull(w[3])});
    } else {
      r.tagged[w[0]].push_back(line.size() > w[0].size() ? line.substr(w[0].size() + 1) : "");
    }
  }
  return r;
}

// Checks that every acknowledged write is in the reopened store: the session's
// stream reached the acknowledged version, and the last acknowledged content
// of each session is its current content (or a later acknowledged one).
void require_acknowledged(const SessionManager& m, const std::vector<Acked>& acks) {
  std::map<std::string, Acked> last;
  for (const auto& a : acks) last[a.id] = a;  // in order: the last one wins
  for (const auto& [id, a] : last) {
    INFO("session " << id << " acknowledged at stream version " << a.sv);
    auto s = PLAN_OK(m.get(id));
    CHECK(s.stream_version == a.sv);
    CHECK(fingerprint(s.content) == a.content);
  }
}

// A child process that enters a private mount namespace; "" or why not.
std::string enter_private_mount_namespace() {
  if (::unshare(CLONE_NEWNS) != 0)
    return std::string("unshare(CLONE_NEWNS): ") + std::strerror(errno);
  if (::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0) {
    return std::string("mount --make-rprivate /: ") + std::strerror(errno);
  }
  return {};
}

}  // namespace

// --- The map grows -------------------------------------------------------------------

TEST_CASE("a store opened with a 64 KiB map grows it and loses nothing", "[fault][map]") {
  TempDir dir;
  LogCapture log;
  Options options = test_options(dir);
  options.initial_map_size = std::size_t{64} << 10;
  options.logger = log.as_logger();
  std::vector<std::string> contents;
  std::string id;
  {
    auto m = open_store(options);
    CreateRequest r;
    r.title = "grows";
    r.initial_content = big_content(100 << 10, 0);
    auto s = PLAN_OK(m->create(r));
    id = s.id;
    contents.push_back(*r.initial_content);
    for (std::uint64_t i = 1; i <= 50; ++i) {  // ~5 MB of content, ~4.3 MB stored
      UpdateRequest u;
      u.content = big_content(100 << 10, i);
      s = PLAN_OK(m->update(id, u));
      REQUIRE(s.current_version == i + 1);
      contents.push_back(*u.content);
    }
    const auto info = PLAN_OK(m->info());
    INFO("map size " << info.map_size << ", file size " << info.file_size);
    CHECK(info.map_size > options.initial_map_size);
    CHECK(info.map_size >= info.file_size);
    CHECK(info.file_size >= 4u << 20);
    bool grew_logged = false;
    for (const auto& message : log.at_level(LogLevel::info)) {
      if (message.find("grew map") != std::string::npos) grew_logged = true;
    }
    CHECK(grew_logged);
    require_verified(*m);
  }
  // Reopened with the same (too small) initial size: the map covers the file.
  auto m = open_store(options);
  const auto versions = PLAN_OK(m->get_versions(id));
  REQUIRE(versions.size() == contents.size());
  for (std::size_t i = 0; i < contents.size(); ++i) CHECK(versions[i].content == contents[i]);
  UpdateRequest u;
  u.content = big_content(200 << 10, 99);
  PLAN_OK(m->update(id, u));
  require_verified(*m);
}

TEST_CASE("a map at max_map_size fails writes with storage and loses nothing", "[fault][map]") {
  TempDir dir;
  Options options = test_options(dir);
  options.initial_map_size = std::size_t{256} << 10;
  options.max_map_size = std::size_t{1} << 20;
  std::string id;
  std::uint32_t acked_sv = 0;
  std::uint64_t acked_content = 0;
  std::uint64_t head = 0;
  {
    auto m = open_store(options);
    auto s = PLAN_OK(m->create({.title = "bounded", .initial_content = "v1"}));
    id = s.id;
    acked_sv = s.stream_version;
    acked_content = fingerprint(s.content);
    Error error{ErrorCode::not_found, ""};
    bool failed = false;
    for (std::uint64_t i = 0; i < 100 && !failed; ++i) {
      UpdateRequest u;
      u.content = big_content(64 << 10, i);
      auto r = m->update(id, u);
      if (r) {
        acked_sv = r->stream_version;
        acked_content = fingerprint(r->content);
      } else {
        error = r.error();
        failed = true;
      }
    }
    REQUIRE(failed);
    INFO("error: " << error.message);
    CHECK(error.code == ErrorCode::storage);
    CHECK_FALSE(error.message.empty());
    // Still usable for reads; the failed write changed nothing.
    auto s2 = PLAN_OK(m->get(id));
    CHECK(s2.stream_version == acked_sv);
    CHECK(fingerprint(s2.content) == acked_content);
    head = head_of(*m);
    CHECK(head == acked_sv);
    require_verified(*m);
    // A second attempt fails the same way, no crash (the map-full path twice).
    UpdateRequest u;
    u.content = big_content(64 << 10, 1000);
    REQUIRE_ERROR_CODE(ErrorCode::storage, m->update(id, u));
    CHECK(head_of(*m) == head);
  }
  // With room to grow, the same store takes the write.
  options.max_map_size = std::size_t{64} << 20;
  auto m = open_store(options);
  CHECK(head_of(*m) == head);
  auto s = PLAN_OK(m->get(id));
  CHECK(s.stream_version == acked_sv);
  CHECK(fingerprint(s.content) == acked_content);
  UpdateRequest u;
  u.content = big_content(64 << 10, 2000);
  PLAN_OK(m->update(id, u));
  require_verified(*m);
}

TEST_CASE("a map grown by another process is adopted by a process that has the store open",
          "[fault][map][processes]") {
  TempDir dir;
  Options options = test_options(dir);
  options.initial_map_size = std::size_t{256} << 10;
  // Forked before this process opens the store.
  ChildProcess child([&](int out, int in) {
    char go = 0;
    if (::read(in, &go, 1) != 1) return 20;
    auto opened = SessionManager::open(options);
    if (!opened) {
      send_line(out, "E open " + opened.error().message);
      return 21;
    }
    auto& m = **opened;
    auto s = m.create({.title = "from the child", .initial_content = "c0"});
    if (!s) return 22;
    send_line(out, ack_line(*s));
    for (std::uint64_t i = 1; i <= 30; ++i) {  // ~3 MB: several doublings of the map
      UpdateRequest u;
      u.content = big_content(100 << 10, i);
      auto r = m.update(s->id, u);
      if (!r) {
        send_line(out, "E update " + r.error().message);
        return 23;
      }
      send_line(out, ack_line(*r));
    }
    auto info = m.info();
    send_line(out, "M " + std::to_string(info ? info->map_size : 0));
    send_line(out, "DONE");
    // Keep the environment open until the parent has read and written.
    char c;
    while (::read(in, &c, 1) > 0) {
    }
    return 0;
  });

  auto m = open_store(options);
  auto mine = PLAN_OK(m->create({.title = "from the parent", .initial_content = "p0"}));
  const auto map_before = PLAN_OK(m->info()).map_size;
  child.send("go");
  std::vector<std::string> lines;
  while (auto line = child.read_line(120s)) {
    lines.push_back(*line);
    if (*line == "DONE" || line->starts_with("E ")) break;
  }
  const ChildReport report = parse_report(lines);
  INFO("child: " << report.first("E"));
  REQUIRE_FALSE(report.has("E"));
  REQUIRE(report.has("DONE"));
  const std::uint64_t child_map = std::stoull(report.first("M"));
  INFO("parent map " << map_before << ", child grew it to " << child_map);
  REQUIRE(child_map > map_before);

  // Reads and writes in this process see the other process's larger map.
  require_acknowledged(*m, report.acks);
  UpdateRequest u;
  u.content = big_content(300 << 10, 77);
  PLAN_OK(m->update(mine.id, u));
  CHECK(PLAN_OK(m->info()).map_size >= child_map);
  require_verified(*m);

  child.close_input();
  CHECK(exited_ok(child.wait()));
}

// --- Disk full / I/O errors on commit --------------------------------------------------

TEST_CASE("a commit beyond the file size limit returns storage and loses nothing committed",
          "[fault][disk]") {
  TempDir dir;
  ManualClock clock;
  Options options = test_options(dir, &clock);
  StoreState baseline;
  {
    auto m = open_store(options);
    populate_every_kind(*m, clock, 8);
    baseline = capture_state(*m);
  }
  options.clock = {};
  const std::uintmax_t limit = data_file_size(options.path) + (std::uintmax_t{512} << 10);

  ChildProcess child([&](int out, int) {
    // The limit applies to this process only; SIGXFSZ would kill it instead of
    // letting write() fail with EFBIG.
    ::signal(SIGXFSZ, SIG_IGN);
    rlimit rl{limit, limit};
    if (::setrlimit(RLIMIT_FSIZE, &rl) != 0) return 30;
    auto opened = SessionManager::open(options);
    if (!opened) {
      send_line(out, "E open " + opened.error().message);
      return 31;
    }
    auto& m = **opened;
    auto s = m.create({.title = "victim", .initial_content = "v0"});
    if (!s) {
      send_line(out, "E create " + s.error().message);
      return 32;
    }
    send_line(out, ack_line(*s));
    std::optional<Error> failure;
    for (std::uint64_t i = 1; i <= 200 && !failure; ++i) {
      UpdateRequest u;
      u.content = big_content(64 << 10, i);
      auto r = m.update(s->id, u);
      if (r) {
        send_line(out, ack_line(*r));
        s = r;
      } else {
        failure = r.error();
      }
    }
    if (!failure) {
      send_line(out, "E no write failed under the file size limit");
      return 33;
    }
    send_line(out, "F " + std::string(to_string(failure->code)) + " " + failure->message);
    // The store stays usable: reads see the last committed state.
    auto again = m.get(s->id);
    if (!again || again->stream_version != s->stream_version ||
        fingerprint(again->content) != fingerprint(s->content)) {
      send_line(out, "E get after the failure: " +
                         (again ? std::string("stale state") : again.error().message));
      return 34;
    }
    auto all = m.list();
    if (!all) {
      send_line(out, "E list after the failure: " + all.error().message);
      return 35;
    }
    auto versions = m.get_versions(s->id);
    if (!versions || versions->size() != s->current_version) {
      send_line(out, "E get_versions after the failure");
      return 36;
    }
    // The same large write fails again, cleanly.
    UpdateRequest u;
    u.content = big_content(64 << 10, 9999);
    auto second = m.update(s->id, u);
    if (second) {
      send_line(out, ack_line(*second));
      send_line(out, "S ok");
    } else {
      send_line(out, "S " + std::string(to_string(second.error().code)));
    }
    send_line(out, "DONE");
    return 0;
  });
  const ChildReport report = parse_report(child.drain());
  const int status = child.wait();
  INFO("child " << describe_status(status) << "; error line: " << report.first("E"));
  REQUIRE_FALSE(report.has("E"));
  REQUIRE(exited_ok(status));
  REQUIRE(report.has("F"));
  INFO("failure: " << report.first("F"));
  CHECK(report.first("F").starts_with("storage "));
  CHECK((report.first("S") == "storage" || report.first("S") == "ok"));
  REQUIRE(report.acks.size() >= 2);

  // Reopened without the limit: everything acknowledged is there, nothing else.
  auto m = open_store(options);
  CHECK(head_of(*m) == baseline.head + report.acks.size());
  require_acknowledged(*m, report.acks);
  for (const auto& s : baseline.sessions) CHECK(PLAN_OK(m->get(s.id)) == s);
  require_verified(*m);
  UpdateRequest u;
  u.content = big_content(256 << 10, 4242);
  PLAN_OK(m->update(report.acks.back().id, u));
  require_verified(*m);
}

TEST_CASE("a full file system returns storage and loses nothing committed", "[fault][disk]") {
  TempDir dir;
  const auto mount_point = dir.path() / "tmpfs";
  std::filesystem::create_directories(mount_point);
  ChildProcess child([&](int out, int) {
    if (auto why = enter_private_mount_namespace(); !why.empty()) {
      send_line(out, "SKIP " + why);
      return 0;
    }
    if (::mount("tmpfs", mount_point.c_str(), "tmpfs", 0, "size=3m") != 0) {
      send_line(out, "SKIP mount tmpfs: " + std::string(std::strerror(errno)));
      return 0;
    }
    Options options;
    options.path = mount_point / "store";
    options.initial_map_size = std::size_t{1} << 20;
    std::vector<std::string> acks;
    std::string id;
    std::uint32_t sv = 0;
    std::uint64_t content = 0;
    std::uint64_t head = 0;
    {
      auto opened = SessionManager::open(options);
      if (!opened) {
        send_line(out, "E open " + opened.error().message);
        return 40;
      }
      auto& m = **opened;
      auto s = m.create({.title = "on tmpfs", .initial_content = "t0"});
      if (!s) return 41;
      id = s->id;
      sv = s->stream_version;
      content = fingerprint(s->content);
      std::optional<Error> failure;
      for (std::uint64_t i = 1; i <= 500 && !failure; ++i) {
        UpdateRequest u;
        u.content = big_content(48 << 10, i);
        auto r = m.update(id, u);
        if (r) {
          sv = r->stream_version;
          content = fingerprint(r->content);
        } else {
          failure = r.error();
        }
      }
      if (!failure) {
        send_line(out, "E the file system never filled up");
        return 42;
      }
      send_line(out, "F " + std::string(to_string(failure->code)) + " " + failure->message);
      auto again = m.get(id);
      if (!again || again->stream_version != sv || fingerprint(again->content) != content) {
        send_line(out, "E get after ENOSPC");
        return 43;
      }
      auto h = m.head_sequence();
      head = h ? *h : 0;
    }
    // Reopen (the first manager is closed): the same state, verified.
    auto reopened = SessionManager::open(options);
    if (!reopened) {
      send_line(out, "E reopen after ENOSPC: " + reopened.error().message);
      return 44;
    }
    auto s = (*reopened)->get(id);
    if (!s || s->stream_version != sv || fingerprint(s->content) != content) {
      send_line(out, "E acknowledged state lost after ENOSPC");
      return 45;
    }
    auto h = (*reopened)->head_sequence();
    if (!h || *h != head || head != sv) {
      send_line(out, "E head moved: " + std::to_string(h ? *h : 0) + " vs " + std::to_string(head));
      return 46;
    }
    auto report = (*reopened)->verify();
    if (!report || !report->ok()) {
      send_line(out, "E verify after ENOSPC: " +
                         (report ? (report->issues.empty() ? "" : report->issues[0].what)
                                 : report.error().message));
      return 47;
    }
    send_line(out, "OK " + std::to_string(sv));
    return 0;
  });
  const ChildReport report = parse_report(child.drain());
  const int status = child.wait();
  if (report.has("SKIP")) {
    PLANNING_SKIP("no tmpfs in a private mount namespace here ("
                  << report.first("SKIP") << "): ENOSPC is checked only through RLIMIT_FSIZE");
  }
  INFO("child " << describe_status(status) << "; error line: " << report.first("E"));
  REQUIRE_FALSE(report.has("E"));
  REQUIRE(exited_ok(status));
  INFO("failure: " << report.first("F"));
  CHECK(report.first("F").starts_with("storage "));
  // LMDB turns a short write into EIO, so a full disk may read "I/O error".
  CHECK_THAT(report.first("F"), Contains("no space left on device") || Contains("I/O error"));
  CHECK(report.has("OK"));
}

// --- Stores that cannot be opened ------------------------------------------------------

TEST_CASE("a path that cannot hold a store is refused with an error naming it", "[fault][open]") {
  TempDir dir;
  auto open_error = [](const std::filesystem::path& path) {
    Options options;
    options.path = path;
    auto r = SessionManager::open(options);
    REQUIRE_FALSE(r.has_value());
    return r.error();
  };
  SECTION("the path is a regular file") {
    const auto file = dir.path() / "not-a-dir";
    std::ofstream(file) << "hello";
    const Error e = open_error(file);
    CHECK(e.code == ErrorCode::storage);
    CHECK_THAT(e.message, Contains(file.string()));
  }
  SECTION("the path lies under a regular file") {
    const auto file = dir.path() / "plain";
    std::ofstream(file) << "hello";
    const Error e = open_error(file / "store");
    CHECK(e.code == ErrorCode::storage);
    CHECK_THAT(e.message, Contains((file / "store").string()));
  }
  SECTION("data.mdb is a directory") {
    const auto store = dir.path() / "store";
    std::filesystem::create_directories(store / "data.mdb");
    const Error e = open_error(store);
    CHECK(e.code == ErrorCode::storage);
    CHECK_THAT(e.message, Contains(store.string()));
  }
  SECTION("data.mdb is not an LMDB file") {
    const auto store = dir.path() / "store";
    std::filesystem::create_directories(store);
    {
      std::ofstream garbage(store / "data.mdb", std::ios::binary);
      std::mt19937_64 rng(7);
      for (int i = 0; i < 64 * 1024 / 8; ++i) {
        const std::uint64_t v = rng();
        garbage.write(reinterpret_cast<const char*>(&v), sizeof v);
      }
    }
    const Error e = open_error(store);
    CHECK((e.code == ErrorCode::storage || e.code == ErrorCode::corruption));
    CHECK_THAT(e.message, Contains(store.string()));
  }
}

TEST_CASE("a truncated data file is reported, never a crash",
          "[fault][open][corruption]") {
  TempDir dir;
  ManualClock clock;
  Options options = test_options(dir, &clock);
  {
    auto m = open_store(options);
    populate_every_kind(*m, clock, 12);
    CreateRequest r;
    r.title = "big";
    r.initial_content = big_content(400 << 10, 1);  // pages far from the start
    PLAN_OK(m->create(r));
  }
  options.clock = {};
  const auto size = data_file_size(options.path);
  const auto cut = GENERATE(as<double>{}, 0.5, 0.9);
  const auto new_size = static_cast<std::uintmax_t>(static_cast<double>(size) * cut) / 4096 * 4096;
  INFO("data.mdb cut from " << size << " to " << new_size << " bytes");
  std::filesystem::resize_file(options.path / "data.mdb", new_size);

  // In a child: LMDB maps the file, and touching a page past its end would be
  // SIGBUS — the test must survive to report it.
  ChildProcess child([&](int out, int) {
    auto opened = SessionManager::open(options);
    if (!opened) {
      send_line(out, "OPEN " + std::string(to_string(opened.error().code)) + " " +
                         opened.error().message);
      return 0;
    }
    auto& m = **opened;
    auto all = m.list();
    send_line(out, "LIST " + (all ? std::string("ok") : std::string(to_string(all.error().code))));
    auto events = m.events({});
    send_line(out, "EVENTS " +
                       (events ? std::string("ok") : std::string(to_string(events.error().code))));
    auto report = m.verify();
    send_line(out, "VERIFY " + (report ? (report->ok() ? std::string("ok") : std::string("issues"))
                                       : std::string(to_string(report.error().code))));
    return 0;
  });
  const auto lines = child.drain();
  const int status = child.wait();
  std::string all_lines;
  for (const auto& l : lines) all_lines += l + "; ";
  INFO("child " << describe_status(status) << ": " << all_lines);
  // Never a crash: the child exits normally, whatever it could read.
  REQUIRE(exited_ok(status));
  const ChildReport report = parse_report(lines);
  if (report.has("OPEN")) {
    CHECK((report.first("OPEN").starts_with("corruption") ||
           report.first("OPEN").starts_with("storage")));
    CHECK_THAT(report.first("OPEN"), Contains(options.path.string()));
  } else {
    // Opened: the damage must not pass as a healthy store.
    CHECK(report.first("VERIFY") != "ok");
  }
}

namespace {

// A store with one session, closed again.
Options store_with_one_session(const TempDir& dir) {
  Options options = test_options(dir);
  auto m = open_store(options);
  PLAN_OK(m->create({.title = "read me"}));
  return options;
}

// In a child: opens the store and reports "OPENED", or "R <code> <message>".
int report_open(int out, const Options& options) {
  auto r = SessionManager::open(options);
  if (r) {
    send_line(out, "OPENED");
  } else {
    send_line(out, "R " + std::string(to_string(r.error().code)) + " " + r.error().message);
  }
  return 0;
}

// The store is still whole after a refused open.
void require_store_unharmed(const Options& options) {
  auto m = open_store(options);
  CHECK(PLAN_OK(m->list()).size() == 1);
  require_verified(*m);
}

}  // namespace

// G8 by file modes. As root (how CI runs) modes do not bind root, so a child
// process drops to the unprivileged uid/gid 65534 (nobody) and opens a store
// it may read but not write; otherwise this process opens a store whose write
// bits it removed. Either way the check runs: nothing here is skipped.
TEST_CASE("a read-only store is refused with an error naming its path", "[fault][open]") {
  TempDir dir;
  const Options options = store_with_one_session(dir);
  const auto data = options.path / "data.mdb";
  const auto lock = options.path / "lock.mdb";
  const FileSnapshot before = snapshot_file(data);
  if (::geteuid() == 0) {
    ChildProcess child([&](int out, int) {
      // Readable by everyone, writable by the owner (root) only.
      if (::chmod(dir.path().c_str(), 0711) != 0 || ::chmod(options.path.c_str(), 0755) != 0 ||
          ::chmod(data.c_str(), 0644) != 0 || ::chmod(lock.c_str(), 0644) != 0) {
        send_line(out, "E chmod: " + std::string(std::strerror(errno)));
        return 1;
      }
      if (::setgroups(0, nullptr) != 0 || ::setgid(65534) != 0 || ::setuid(65534) != 0) {
        send_line(out, "E cannot drop to uid 65534: " + std::string(std::strerror(errno)));
        return 1;
      }
      if (const int probe = ::open(data.c_str(), O_RDWR); probe >= 0) {
        send_line(out, "E uid 65534 can still write data.mdb");
        return 1;
      }
      if (const int probe = ::open(data.c_str(), O_RDONLY); probe < 0) {
        send_line(out, "E uid 65534 cannot even read data.mdb");
        return 1;
      } else {
        ::close(probe);
      }
      return report_open(out, options);
    });
    const ChildReport report = parse_report(child.drain());
    const int status = child.wait();
    ::chmod(dir.path().c_str(), 0700);
    ::chmod(options.path.c_str(), 0700);
    ::chmod(data.c_str(), 0600);
    ::chmod(lock.c_str(), 0600);
    INFO("child " << describe_status(status) << "; error line: " << report.first("E"));
    REQUIRE_FALSE(report.has("E"));
    REQUIRE(exited_ok(status));
    REQUIRE_FALSE(report.has("OPENED"));
    INFO("error: " << report.first("R"));
    CHECK(report.first("R").starts_with("storage "));
    CHECK_THAT(report.first("R"), Contains(options.path.string()));
  } else {
    std::filesystem::permissions(data, std::filesystem::perms::owner_read);
    std::filesystem::permissions(lock, std::filesystem::perms::owner_read);
    std::filesystem::permissions(
        options.path, std::filesystem::perms::owner_read | std::filesystem::perms::owner_exec);
    auto r = SessionManager::open(options);
    std::filesystem::permissions(options.path, std::filesystem::perms::owner_all);
    std::filesystem::permissions(
        data, std::filesystem::perms::owner_read | std::filesystem::perms::owner_write);
    std::filesystem::permissions(
        lock, std::filesystem::perms::owner_read | std::filesystem::perms::owner_write);
    REQUIRE_FALSE(r.has_value());
    CHECK(r.error().code == ErrorCode::storage);
    CHECK_THAT(r.error().message, Contains(options.path.string()));
  }
  CHECK(snapshot_file(data) == before);  // the refused open wrote nothing
  require_store_unharmed(options);
}

// G8 on a read-only file system: a read-only bind mount in a private mount
// namespace (works as root). Where namespaces are denied the case is reported
// as skipped by CTest, not passed.
TEST_CASE("a store on a read-only mount is refused with an error naming its path",
          "[fault][open]") {
  TempDir dir;
  const Options options = store_with_one_session(dir);
  const FileSnapshot before = snapshot_file(options.path / "data.mdb");
  ChildProcess child([&](int out, int) {
    if (auto why = enter_private_mount_namespace(); !why.empty()) {
      send_line(out, "SKIP " + why);
      return 0;
    }
    const char* p = options.path.c_str();
    if (::mount(p, p, nullptr, MS_BIND, nullptr) != 0 ||
        ::mount(p, p, nullptr, MS_BIND | MS_REMOUNT | MS_RDONLY, nullptr) != 0) {
      send_line(out, "SKIP read-only bind mount: " + std::string(std::strerror(errno)));
      return 0;
    }
    return report_open(out, options);
  });
  const ChildReport report = parse_report(child.drain());
  const int status = child.wait();
  if (report.has("SKIP")) PLANNING_SKIP("read-only mount not available here: " << report.first("SKIP"));
  INFO("child " << describe_status(status));
  REQUIRE(exited_ok(status));
  REQUIRE_FALSE(report.has("OPENED"));
  INFO("error: " << report.first("R"));
  CHECK(report.first("R").starts_with("storage "));
  CHECK_THAT(report.first("R"), Contains(options.path.string()));
  CHECK(snapshot_file(options.path / "data.mdb") == before);
  require_store_unharmed(options);
}

// --- Format version ---------------------------------------------------------------------

TEST_CASE("an unknown format version is refused as corruption naming both versions",
          "[fault][format]") {
  TempDir dir;
  ManualClock clock;
  Options options = test_options(dir, &clock);
  StoreState before;
  {
    auto m = open_store(options);
    populate_every_kind(*m, clock, 6);
    before = capture_state(*m);
  }
  auto be32 = [](std::uint32_t v) {
    std::string s(4, '\0');
    for (int i = 0; i < 4; ++i)
      s[static_cast<std::size_t>(i)] = static_cast<char>(v >> (24 - 8 * i));
    return s;
  };
  std::optional<std::string> original;
  REQUIRE(raw::get(options.path, "meta", "format", original).empty());
  REQUIRE(original == be32(kFormatVersion));

  SECTION("a different version number") {
    for (const std::uint32_t other : {0u, kFormatVersion + 1, 7u, 0xFFFFFFFFu}) {
      INFO("stored format " << other);
      REQUIRE(raw::put(options.path, "meta", "format", be32(other)).empty());
      const FileSnapshot data_before = snapshot_file(options.path / "data.mdb");
      auto r = SessionManager::open(options);
      REQUIRE_FALSE(r.has_value());
      // The refused open did not touch the store: same bytes, same mtime.
      CHECK(snapshot_file(options.path / "data.mdb") == data_before);
      INFO("message: " << r.error().message);
      CHECK(r.error().code == ErrorCode::corruption);
      CHECK_THAT(r.error().message, Contains("version " + std::to_string(other)));
      CHECK_THAT(r.error().message, Contains("version " + std::to_string(kFormatVersion)));
      std::optional<std::string> after;
      REQUIRE(raw::get(options.path, "meta", "format", after).empty());
      CHECK(after == be32(other));
    }
  }
  SECTION("a format record of the wrong size") {
    REQUIRE(raw::put(options.path, "meta", "format", std::string("\x00\x01\x00", 3)).empty());
    const FileSnapshot data_before = snapshot_file(options.path / "data.mdb");
    auto r = SessionManager::open(options);
    CHECK(snapshot_file(options.path / "data.mdb") == data_before);
    REQUIRE_FALSE(r.has_value());
    INFO("message: " << r.error().message);
    CHECK(r.error().code == ErrorCode::corruption);
  }
  SECTION("no format record in a store that has events") {
    REQUIRE(raw::del(options.path, "meta", "format").empty());
    const FileSnapshot data_before = snapshot_file(options.path / "data.mdb");
    auto r = SessionManager::open(options);
    CHECK(snapshot_file(options.path / "data.mdb") == data_before);
    REQUIRE_FALSE(r.has_value());
    INFO("message: " << r.error().message);
    CHECK(r.error().code == ErrorCode::corruption);
    CHECK_THAT(r.error().message, Contains("version " + std::to_string(kFormatVersion)));
  }
  // Putting the right version back: the store opens with everything intact.
  REQUIRE(raw::put(options.path, "meta", "format", *original).empty());
  auto m = open_store(options);
  CHECK_SAME_STATE(before, capture_state(*m));
  require_verified(*m);
}
