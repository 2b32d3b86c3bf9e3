// planctl under hostile or unlucky input (issue "Hostile input, damaged disks"):
// deeply nested JSON, output that cannot be written, imported times out of
// range, terminal escapes in stored text, exports to things that are not
// regular files, file modes, and the smaller defects found with them; the last
// case drives the library directly (deep metadata through create, update and
// apply_batch). Each case failed (or crashed) before its fix.
#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include <fcntl.h>
#include <lmdb.h>
#include <sys/stat.h>
#include <unistd.h>
#include <catch2/catch.hpp>

#include "planctl_runner.hpp"

using nlohmann::json;
using planctl::test::read_file;
using planctl::test::RunOptions;
using planctl::test::RunResult;
using planctl::test::Store;
using planctl::test::write_file;
namespace fs = std::filesystem;

namespace {

std::string describe(const RunResult& r) {
  return "exit " + std::to_string(r.code) + "\nstdout: " + r.out.substr(0, 2000) +
         "\nstderr: " + r.err.substr(0, 2000);
}

// `{"a":[[...]]}`: the object plus `arrays` nested arrays.
std::string nested_metadata(std::size_t arrays) {
  return "{\"a\":" + std::string(arrays, '[') + std::string(arrays, ']') + "}";
}

mode_t mode_of(const fs::path& path) {
  struct stat st {};
  REQUIRE(::lstat(path.c_str(), &st) == 0);
  return st.st_mode;
}

// The export of a store as JSON Lines, one parsed document per event.
std::vector<json> exported(const Store& store) { return store.json_lines({"log"}); }

std::string lines_of(const std::vector<json>& events) {
  std::string text;
  for (const auto& e : events) text += e.dump() + "\n";
  return text;
}

// LMDB's id of the last committed write transaction: one per commit.
std::uint64_t last_txnid(const fs::path& store) {
  MDB_env* env = nullptr;
  REQUIRE(mdb_env_create(&env) == 0);
  REQUIRE(mdb_env_set_maxdbs(env, 64) == 0);
  const int rc = mdb_env_open(env, store.c_str(), MDB_RDONLY, 0600);
  MDB_envinfo info{};
  if (rc == 0) mdb_env_info(env, &info);
  mdb_env_close(env);
  REQUIRE(rc == 0);
  return info.me_last_txnid;
}

}  // namespace

// --- 1. Deeply nested JSON ------------------------------------------------------

TEST_CASE("create --metadata nested deeper than 64 levels is rejected with exit 4, not a crash",
          "[hostile][json]") {
  Store store;
  // 65,000 levels: a stack overflow (SIGSEGV) in metadata validation before.
  const auto deep = store.run({"create", "--title", "t", "--metadata", nested_metadata(65000)});
  INFO(describe(deep));
  CHECK(deep.code == 4);
  CHECK(deep.err.find("64") != std::string::npos);
  CHECK_FALSE(fs::exists(store.path()));  // the failed first write left no store
  // The limit itself: the object and 63 arrays are 64 levels.
  const auto at_limit = store.json({"create", "--title", "t", "--metadata", nested_metadata(63)});
  CHECK(at_limit.at("metadata").at("a").is_array());
  const auto over = store.run({"create", "--title", "t", "--metadata", nested_metadata(64)});
  CHECK(over.code == 4);
}

TEST_CASE("an import line whose metadata_json nests 60,000 deep is rejected, not a crash",
          "[hostile][json]") {
  Store source;
  source.create("Shallow");
  auto events = exported(source);
  REQUIRE(events.size() == 1);
  // Checksums no longer match: the depth must be refused before they are checked.
  events[0]["payload"]["metadata_json"] = nested_metadata(60000);
  Store target;
  const auto r = target.run({"import", "-"}, {.input = lines_of(events)});
  INFO(describe(r));
  CHECK(r.code == 4);
  CHECK(r.err.find("metadata_json nests deeper than the limit of 64 levels") != std::string::npos);
  // And a whole line nested that deep.
  const auto line = target.run({"import", "-"},
                               {.input = std::string(60000, '[') + std::string(60000, ']') + "\n"});
  INFO(describe(line));
  CHECK(line.code == 4);
  CHECK(line.err.find("line 1") != std::string::npos);
}

// --- 5. Output that cannot be written ---------------------------------------------

TEST_CASE("output that cannot be written exits 8 naming stdout", "[hostile][output]") {
  Store store;
  for (int i = 0; i < 3; ++i) store.create("Session " + std::to_string(i));
  for (const std::vector<std::string>& args : {std::vector<std::string>{"list"},
                                               {"--json", "list"},
                                               {"stats"},
                                               {"log"},
                                               {"export", "-"},
                                               {"--json", "log"}}) {
    const auto full = store.run(args, {.stdout_file = "/dev/full"});
    INFO(args.back() << ": " << describe(full));
    CHECK(full.code == 8);
    CHECK(full.err.find("stdout") != std::string::npos);
    const auto closed = store.run(args, {.close_stdout = true});
    INFO(describe(closed));
    CHECK(closed.code == 8);
    CHECK(closed.err.find("stdout") != std::string::npos);
  }
}

TEST_CASE("a --json list larger than the space left exits 8, not 0 with a cut document",
          "[hostile][output]") {
  Store store;
  const std::string description(2000, 'd');
  for (int i = 0; i < 12; ++i)
    store.create("S" + std::to_string(i), {"--description", description});
  const auto out = store.dir() / "list.json";
  // 8 KB of room: the first buffer is written, a later one fails (EFBIG).
  const auto r = store.run({"--json", "list"}, {.stdout_file = out, .file_size_limit = 8192});
  INFO(describe(r));
  CHECK(r.code == 8);
  CHECK(r.err.find("stdout") != std::string::npos);
  // export FILE under the same limit fails and leaves nothing behind.
  const auto file = store.dir() / "events.jsonl";
  const auto e = store.run({"export", file.string()}, {.file_size_limit = 8192});
  INFO(describe(e));
  CHECK(e.code == 8);
  CHECK(e.err.find(file.string()) != std::string::npos);
  CHECK_FALSE(fs::exists(file));
  for (const auto& entry : fs::directory_iterator(store.dir()))
    CHECK(entry.path().filename().string().find(".tmp") == std::string::npos);
}

// --- 8. Imported times ---------------------------------------------------------------

TEST_CASE("import rejects times far ahead of the clock or outside 1678-2261", "[hostile][import]") {
  Store source;
  source.create("Only");
  const auto events = exported(source);
  REQUIRE(events.size() == 1);
  // One event: its time is covered by no later prev_hash, so only the checks
  // under test can refuse it.
  auto dated = [&](const std::string& text, std::int64_t ns) {
    auto copy = events;
    copy[0]["timestamp"] = text;
    copy[0]["timestamp_ns"] = ns;
    return lines_of(copy);
  };
  Store target;
  const auto future = target.run(
      {"import", "-"}, {.input = dated("2100-01-01T00:00:00.000000Z", 4102444800000000000)});
  INFO(describe(future));
  CHECK(future.code == 4);
  CHECK(future.err.find("ahead of the clock") != std::string::npos);
  const auto edge = target.run(
      {"import", "-"}, {.input = dated("1677-09-21T00:12:43.145225Z", -9223372036854775000)});
  INFO(describe(edge));
  CHECK(edge.code == 4);
  CHECK(edge.err.find("outside the supported years 1678 to 2261") != std::string::npos);
  CHECK_FALSE(fs::exists(target.path()));
  // 1678 itself is accepted, and shown without overflowing relative times
  // (list printed a garbage age for it before).
  const auto old = target.run(
      {"import", "-"}, {.input = dated("1678-01-02T00:00:00.000000Z", -9214473600000000000)});
  INFO(describe(old));
  REQUIRE(old.code == 0);
  const auto list = target.run({"list"});
  INFO(describe(list));
  CHECK(list.code == 0);
  CHECK(list.out.find(" years ago") != std::string::npos);
  CHECK(list.out.find("in ") == std::string::npos);
}

TEST_CASE("import error messages count blank lines", "[hostile][import]") {
  Store source;
  source.create("A");
  auto events = exported(source);
  REQUIRE(events.size() == 1);
  events[0]["sequence"] = 5;  // does not continue the head: refused at the store stage
  Store target;
  const auto r = target.run({"import", "-"}, {.input = "\n\n" + lines_of(events)});
  INFO(describe(r));
  CHECK(r.code == 4);
  CHECK(r.err.find("(line 3)") != std::string::npos);
}

// --- 9. Terminal escapes ---------------------------------------------------------------

TEST_CASE("human output escapes terminal controls in stored text", "[hostile][terminal]") {
  Store store;
  const std::string evil =
      "\x1b[2J\x1b]0;pwned\x07\rFake\xc2\x9b"
      "31m";
  write_file(store.dir() / "content.md", "# Title\n\tindented\n\x1b[31mred\x1b[0m\r\n");
  const auto id = store.create(
      evil, {"--by", "\x1b[1mroot", "--content", (store.dir() / "content.md").string()});
  REQUIRE(
      store.run({"update", id, "--content", "-", "--summary", "\x1b[Kcut"}, {.input = "plain\n"})
          .code == 0);
  for (const std::vector<std::string>& args : {std::vector<std::string>{"list"},
                                               {"show", id},
                                               {"log"},
                                               {"history", id},
                                               {"show", id, "--version", "1"},
                                               {"diff", id, "1", "2"},
                                               {"replay", "--to", "1"},
                                               {"stale", "--inactive-for", "0s"}}) {
    const auto r = store.run(args);
    INFO(args.front() << ": " << describe(r));
    CHECK(r.code == 0);
    CHECK(r.out.find('\x1b') == std::string::npos);
    CHECK(r.out.find('\r') == std::string::npos);
    CHECK(r.out.find('\x07') == std::string::npos);
    CHECK(r.out.find("\xc2\x9b") == std::string::npos);
  }
  const auto show = store.run({"show", id, "--version", "1"});
  // Content keeps its newlines and tabs; the controls are visible escapes.
  CHECK(show.out.find("# Title\n\tindented\n\\x1b[31mred\\x1b[0m\\r\n") != std::string::npos);
  const auto list = store.run({"list"});
  CHECK(list.out.find("\\x1b[2J\\x1b]0;pwned\\x07") != std::string::npos);
  CHECK(list.out.find("\\u009b31m") != std::string::npos);
  // JSON keeps the exact text (escaped by JSON itself).
  CHECK(store.json({"show", id}).at("title") == evil);
}

// --- 10. Export targets and file modes -----------------------------------------------

TEST_CASE("export writes into FIFOs and through symlinks instead of renaming over them",
          "[hostile][export]") {
  Store store;
  store.create("Exported");
  // A symlink: the link stays, its target gets the events.
  const auto real = store.dir() / "real.jsonl";
  const auto link = store.dir() / "link.jsonl";
  write_file(real, "old\n");
  fs::create_symlink(real, link);
  const auto via_link = store.run({"export", link.string()});
  INFO(describe(via_link));
  CHECK(via_link.code == 0);
  CHECK(fs::is_symlink(link));
  CHECK(read_file(real).starts_with("{\"actor\""));
  // A FIFO: opened read-write here so planctl's open never blocks; the events
  // arrive through it and it is still a FIFO afterwards.
  const auto fifo = store.dir() / "pipe";
  REQUIRE(::mkfifo(fifo.c_str(), 0600) == 0);
  const int fd = ::open(fifo.c_str(), O_RDWR | O_NONBLOCK);
  REQUIRE(fd >= 0);
  const auto via_fifo = store.run({"export", fifo.string()});
  char buffer[65536];
  const auto n = ::read(fd, buffer, sizeof buffer);
  ::close(fd);
  INFO(describe(via_fifo));
  CHECK(via_fifo.code == 0);
  CHECK(S_ISFIFO(mode_of(fifo)));
  CHECK(n > 0);
  CHECK(std::string(buffer, n > 0 ? static_cast<std::size_t>(n) : 0).starts_with("{\"actor\""));
  // A directory is an error naming it, and is left alone.
  const auto dir = store.dir() / "a-dir";
  fs::create_directories(dir);
  const auto into_dir = store.run({"export", dir.string()});
  CHECK(into_dir.code == 8);
  CHECK(fs::is_directory(dir));
}

TEST_CASE("exports and backups get the store's modes (0600 files, 0700 directories)",
          "[hostile][export]") {
  Store store;
  store.create("Private");
  const auto file = store.dir() / "events.jsonl";
  REQUIRE(store.run({"export", file.string()}).code == 0);
  CHECK((mode_of(file) & 0777) == 0600);
  // Replacing an existing regular file keeps that file's permissions.
  ::chmod(file.c_str(), 0640);
  REQUIRE(store.run({"export", file.string()}).code == 0);
  CHECK((mode_of(file) & 0777) == 0640);
  // Every directory a backup makes is 0700, its file 0600.
  const auto backup = store.dir() / "b1" / "b2" / "copy";
  const auto made = store.run({"backup", backup.string()});
  INFO(describe(made));
  REQUIRE(made.code == 0);
  CHECK((mode_of(store.dir() / "b1") & 0777) == 0700);
  CHECK((mode_of(store.dir() / "b1" / "b2") & 0777) == 0700);
  CHECK((mode_of(backup) & 0777) == 0700);
  CHECK((mode_of(backup / "data.mdb") & 0777) == 0600);
}

TEST_CASE("a failed backup removes the directories and file it made", "[hostile][export]") {
  Store store;
  const std::string description(4000, 'd');
  for (int i = 0; i < 8; ++i) store.create("S" + std::to_string(i), {"--description", description});
  const auto backup = store.dir() / "new" / "copy";
  // Room for 8 KB only: the copy of a store of several pages fails.
  const auto r = store.run({"backup", backup.string()}, {.file_size_limit = 8192});
  INFO(describe(r));
  CHECK(r.code == 8);
  CHECK_FALSE(fs::exists(store.dir() / "new"));
}

// --- Smaller defects -------------------------------------------------------------------

TEST_CASE("dates: a UTC offset beyond 23:59 is exit 4, like any malformed date",
          "[hostile][small]") {
  Store store;
  store.create("x");
  for (const std::string bad : {"2025-01-31T12:00+99:99", "2025-01-31T12:00:00-24:00",
                                "2025-01-31T12:00+05:60", "yesterday"}) {
    const auto r = store.run({"list", "--created-after", bad});
    INFO(bad << ": " << describe(r));
    CHECK(r.code == 4);
  }
  CHECK(store.run({"list", "--created-after", "2025-01-31T12:00+14:00"}).code == 0);
  CHECK(store.run({"list", "--created-after", "2025-01-31T12:00-23:59"}).code == 0);
}

TEST_CASE("titles and work item ids of only Unicode white space are exit 4", "[hostile][small]") {
  Store store;
  const auto title = store.run({"create", "--title", "\u00a0\u3000\u200b"});
  INFO(describe(title));
  CHECK(title.code == 4);
  const auto id = store.create("Real");
  const auto update = store.run({"update", id, "--title", "\u2003"});
  CHECK(update.code == 4);
  const auto convert = store.run({"convert", id, "--project", "p", "--work-item", "  "});
  INFO(describe(convert));
  CHECK(convert.code == 4);
  const auto project = store.run({"convert", id, "--project", "\u00a0"});
  CHECK(project.code == 4);
}

TEST_CASE("create --content of a directory or a closed stdin is exit 4, never empty content",
          "[hostile][small]") {
  Store store;
  const auto dir = store.run({"create", "--title", "t", "--content", store.dir().string()});
  INFO(describe(dir));
  CHECK(dir.code == 4);
  CHECK(dir.err.find("is a directory") != std::string::npos);
  const auto closed =
      store.run({"create", "--title", "t", "--content", "-"}, {.close_stdin = true});
  INFO(describe(closed));
  CHECK(closed.code == 4);
  CHECK(closed.err.find("stdin is closed") != std::string::npos);
  const auto import = store.run({"import", "-"}, {.close_stdin = true});
  CHECK(import.code == 4);
  const auto import_dir = store.run({"import", store.dir().string()});
  CHECK(import_dir.code == 4);
  CHECK_FALSE(fs::exists(store.path()));
}

TEST_CASE("planctl --db with an empty path is exit 4, not ./.planning", "[hostile][small]") {
  planning::test::TempDir cwd;
  const auto r =
      planctl::test::run_planctl({"--db", "", "create", "--title", "t"}, {.cwd = cwd.path()});
  INFO(describe(r));
  CHECK(r.code == 4);
  CHECK(r.err.find("--db") != std::string::npos);
  CHECK_FALSE(fs::exists(cwd.path() / ".planning"));
}

TEST_CASE("stale: --apply never creates a store, and --inactive-for beyond 7d works",
          "[hostile][small]") {
  Store store;
  const auto missing = store.run({"stale", "--apply"});
  INFO(describe(missing));
  CHECK(missing.code == 3);
  CHECK_FALSE(fs::exists(store.path()));
  store.create("Fresh");
  const auto long_idle = store.run({"stale", "--inactive-for", "8d"});
  INFO(describe(long_idle));
  CHECK(long_idle.code == 0);
  CHECK(long_idle.out == "No stale sessions.\n");
  // A session idle 9 days is paused, not archived: the default --archive-after
  // grows with a longer --inactive-for (7 x), so nothing is archived by surprise.
  Store idle;
  {
    auto events = exported(store);
    REQUIRE(events.size() == 1);
    const auto nine_days_ago =
        std::chrono::time_point_cast<std::chrono::nanoseconds>(std::chrono::system_clock::now()) -
        std::chrono::hours(24 * 9);
    events[0]["timestamp"] = planning::format_timestamp(nine_days_ago);
    events[0]["timestamp_ns"] = nine_days_ago.time_since_epoch().count();
    REQUIRE(idle.run({"import", "-"}, {.input = lines_of(events)}).code == 0);
  }
  const auto report = idle.json({"stale", "--inactive-for", "8d"});
  REQUIRE(report.at("stale_sessions").size() == 1);
  CHECK(report.at("recommendations").begin().value() == "pause");
  const auto both = store.run({"stale", "--inactive-for", "8d", "--archive-after", "7d"});
  INFO(describe(both));
  CHECK(both.code == 4);
  CHECK(both.err.find("--archive-after") != std::string::npos);
  CHECK(both.err.find("StaleOptions") == std::string::npos);
}

TEST_CASE("stale --apply commits in batches, not once per session", "[hostile][small]") {
  Store store;
  // 2,500 sessions, made through the library in one batch (one planctl create
  // each would be slow).
  {
    planning::Options options;
    options.path = store.path();
    options.durability = planning::Durability::no_sync;
    auto m = planning::SessionManager::open(options);
    REQUIRE(m.has_value());
    planning::WriteBatch batch;
    for (int i = 0; i < 2500; ++i) batch.create({.title = "S" + std::to_string(i)});
    auto results = (*m)->apply_batch(batch);
    REQUIRE(results.has_value());
  }
  const auto before = last_txnid(store.path());
  const auto r = store.run({"--json", "stale", "--inactive-for", "0s", "--apply"});
  INFO(describe(r));
  REQUIRE(r.code == 0);
  CHECK(json::parse(r.out).at("applied") == 2500);
  // Before: 2,500 commits. Now: 3 batches (and nothing else writes).
  CHECK(last_txnid(store.path()) - before <= 5);
}

TEST_CASE("planctl --version prints the version", "[hostile][small]") {
  const auto r = planctl::test::run_planctl({"--version"});
  INFO(describe(r));
  CHECK(r.code == 0);
  CHECK(r.out.starts_with("planctl 0."));
}

TEST_CASE("an update that changes nothing says so", "[hostile][small]") {
  Store store;
  const auto id = store.create("Same");
  const auto r = store.run({"update", id, "--title", "Same"});
  INFO(describe(r));
  CHECK(r.code == 0);
  CHECK(r.out.starts_with("No change: session " + id));
  CHECK(store.run({"update", id, "--title", "Other"}).out.starts_with("Updated session"));
}

TEST_CASE("errors under --json are a JSON document on stderr", "[hostile][small]") {
  Store store;
  store.create("x");
  const auto r = store.run({"--json", "show", "01890a5d-ac96-774b-bcce-b302099a8057"});
  INFO(describe(r));
  CHECK(r.code == 3);
  CHECK(r.out.empty());
  const auto error = json::parse(r.err, nullptr, false);
  REQUIRE_FALSE(error.is_discarded());
  CHECK(error.at("error").at("code") == "not_found");
  CHECK(error.at("error").at("exit") == 3);
  CHECK(error.at("error").at("message").get<std::string>().find("not found") != std::string::npos);
  // Usage errors too, with --json after the verb.
  const auto usage = store.run({"list", "--bogus", "--json"});
  CHECK(usage.code == 2);
  const auto usage_error = json::parse(usage.err, nullptr, false);
  REQUIRE_FALSE(usage_error.is_discarded());
  CHECK(usage_error.at("error").at("code") == "usage");
}

TEST_CASE("upper-case session ids name the same session everywhere", "[hostile][small]") {
  Store store;
  const auto id = store.create("Case");
  std::string upper = id;
  std::transform(upper.begin(), upper.end(), upper.begin(),
                 [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
  REQUIRE(upper != id);
  CHECK(store.json({"show", upper}).at("id") == id);
  CHECK(store.json({"update", upper, "--title", "Changed"}).at("title") == "Changed");
  CHECK(store.json({"history", upper}).is_array());
  CHECK(store.json_lines({"log", "--session", upper}).size() == 2);
  CHECK(store.json({"replay", "--to", "2", "--session", upper}).at("id") == id);
  CHECK(store.json({"pause", upper}).at("status") == "paused");
}

TEST_CASE("library calls refuse metadata nested 200,000 deep before copying or dumping it",
          "[hostile][json]") {
  planning::test::TempDir dir;
  planning::Options options;
  options.path = dir.path() / "store";
  options.durability = planning::Durability::no_sync;
  auto opened = planning::SessionManager::open(options);
  REQUIRE(opened.has_value());
  auto& m = **opened;
  // Built and destroyed without recursion (nlohmann 3.11 destroys iteratively).
  auto deep = [] {
    json value = json::array();
    for (int i = 0; i < 200000; ++i) {
      json outer = json::array();
      outer.push_back(std::move(value));
      value = std::move(outer);
    }
    return json{{"a", std::move(value)}};
  };
  planning::CreateRequest create;
  create.title = "t";
  create.metadata = deep();
  const auto created = m.create(create);
  REQUIRE_FALSE(created.has_value());
  CHECK(created.error().code == planning::ErrorCode::invalid_argument);
  CHECK(created.error().message.find("64") != std::string::npos);

  const auto id = m.create({.title = "shallow"});
  REQUIRE(id.has_value());
  planning::UpdateRequest update;
  update.metadata = deep();
  const auto updated = m.update(id->id, update);
  REQUIRE_FALSE(updated.has_value());
  CHECK(updated.error().code == planning::ErrorCode::invalid_argument);

  planning::WriteBatch batch;
  batch.create(std::move(create));
  batch.update(id->id, std::move(update));
  const auto results = m.apply_batch(batch);
  REQUIRE(results.has_value());
  REQUIRE(results->size() == 2);
  for (const auto& r : *results) {
    REQUIRE_FALSE(r.has_value());
    CHECK(r.error().code == planning::ErrorCode::invalid_argument);
  }
  CHECK(m.head_sequence().value() == 1);
}
