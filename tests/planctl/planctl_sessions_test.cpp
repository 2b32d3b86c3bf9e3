// planctl session verbs end to end: create, update, pause, resume, convert,
// archive, remove, show, list (every filter), stats, stale; store location;
// --help on every verb.
#include <set>
#include <sstream>
#include <thread>

#include <catch2/catch.hpp>

#include "planctl_runner.hpp"

using nlohmann::json;
using planctl::test::RunOptions;
using planctl::test::Store;

namespace {

// "name<padding>value" as Fields renders it, names padded to `width` + 2.
std::string field_line(const std::string& name, const std::string& value, std::size_t width) {
  return name + std::string(width + 2 - name.size(), ' ') + value + "\n";
}

// An ISO timestamp moved by `ms` milliseconds.
std::string shifted(const json& iso, int ms) {
  auto t = planning::parse_timestamp(iso.get<std::string>());
  REQUIRE(t.has_value());
  return planning::format_timestamp(*t + std::chrono::milliseconds(ms));
}

std::vector<std::string> ids_of(const json& sessions) {
  std::vector<std::string> ids;
  for (const auto& s : sessions) ids.push_back(s.at("id").get<std::string>());
  return ids;
}

}  // namespace

TEST_CASE("create prints the session as JSON with the data model's field names", "[sessions]") {
  Store store;
  planctl::test::write_file(store.dir() / "plan.md", "# Auth\n\n- tokens\n");
  const auto s =
      store.json({"create", "--title", "Auth System", "--description", "OAuth2", "--repo-path",
                  "/projects/auth", "--repo-url", "https://example.com/auth.git", "--workdir",
                  "/projects/auth/src", "--content", (store.dir() / "plan.md").string(), "--by",
                  "alice", "--metadata", R"({"priority":"high","n":2})"});
  const std::set<std::string> expected_keys = {"id",
                                               "title",
                                               "description",
                                               "repository_url",
                                               "repository_path",
                                               "working_directory",
                                               "status",
                                               "content",
                                               "current_version",
                                               "pause_reason",
                                               "paused_at",
                                               "archived_at",
                                               "project_id",
                                               "work_item_ids",
                                               "converted_by",
                                               "converted_at",
                                               "metadata",
                                               "created_at",
                                               "updated_at",
                                               "last_activity_at",
                                               "created_by",
                                               "updated_by",
                                               "stream_version"};
  std::set<std::string> keys;
  for (const auto& item : s.items()) keys.insert(item.key());
  CHECK(keys == expected_keys);
  CHECK(s["id"].get<std::string>().size() == 36);
  CHECK(s["title"] == "Auth System");
  CHECK(s["description"] == "OAuth2");
  CHECK(s["repository_path"] == "/projects/auth");
  CHECK(s["repository_url"] == "https://example.com/auth.git");
  CHECK(s["working_directory"] == "/projects/auth/src");
  CHECK(s["status"] == "active");
  CHECK(s["content"] == "# Auth\n\n- tokens\n");
  CHECK(s["current_version"] == 1);
  CHECK(s["created_by"] == "alice");
  CHECK(s["metadata"] == json{{"priority", "high"}, {"n", 2}});
  CHECK(s["paused_at"].is_null());
  CHECK(s["archived_at"].is_null());
  CHECK(s["converted_at"].is_null());
  CHECK(s["work_item_ids"] == json::array());
  CHECK(s["stream_version"] == 1);
  CHECK(s["created_at"].get<std::string>().ends_with("Z"));

  SECTION("show returns the same session") { CHECK(store.json({"show", s["id"]}) == s); }
}

TEST_CASE("create without content makes no version, and --content - reads stdin", "[sessions]") {
  Store store;
  const auto empty = store.json({"create", "--title", "Empty"});
  CHECK(empty["current_version"] == 0);
  CHECK(empty["content"] == "");

  RunOptions stdin_content;
  stdin_content.input = "# From stdin\n";
  const auto piped = store.json({"create", "--title", "Piped", "--content", "-"}, stdin_content);
  CHECK(piped["content"] == "# From stdin\n");
  CHECK(piped["current_version"] == 1);
}

TEST_CASE("create prints one confirming line naming the new id", "[sessions][human]") {
  Store store;
  const auto r = store.run({"create", "--title", "Human"});
  REQUIRE(r.code == 0);
  CHECK(r.out.starts_with("Created session "));
  CHECK(r.out.find("\x1b[") == std::string::npos);  // never colour off a terminal
  CHECK(r.err.empty());
}

TEST_CASE("update changes fields and makes a version only when content changes", "[sessions]") {
  Store store;
  RunOptions v1;
  v1.input = "one\n";
  const auto created = store.json({"create", "--title", "Plan B", "--content", "-"}, v1);
  const std::string sid = created["id"];

  SECTION("content from stdin with a summary makes version 2") {
    RunOptions v2;
    v2.input = "one\ntwo\n";
    const auto s =
        store.json({"update", sid, "--content", "-", "--summary", "second", "--by", "bob"}, v2);
    CHECK(s["current_version"] == 2);
    CHECK(s["content"] == "one\ntwo\n");
    CHECK(s["updated_by"] == "bob");
    CHECK(s["stream_version"] == 2);
    const auto v = store.json({"show", sid, "--version", "2"});
    CHECK(v["change_summary"] == "second");
    CHECK(v["changed_fields"] == json::array({"content"}));
  }
  SECTION("content from a file") {
    planctl::test::write_file(store.dir() / "c.md", "from file\n");
    const auto s = store.json({"update", sid, "--content", (store.dir() / "c.md").string()});
    CHECK(s["content"] == "from file\n");
    CHECK(s["current_version"] == 2);
  }
  SECTION("non-content fields make no version") {
    const auto s =
        store.json({"update", sid, "--title", "Renamed", "--description", "d", "--repo-path", "/r",
                    "--repo-url", "u", "--workdir", "/w", "--metadata", R"({"k":1})"});
    CHECK(s["title"] == "Renamed");
    CHECK(s["description"] == "d");
    CHECK(s["repository_path"] == "/r");
    CHECK(s["repository_url"] == "u");
    CHECK(s["working_directory"] == "/w");
    CHECK(s["metadata"] == json{{"k", 1}});
    CHECK(s["current_version"] == 1);
    CHECK(s["stream_version"] == 2);
  }
  SECTION("--expect-version equal to the stream version applies") {
    const auto s = store.json({"update", sid, "--title", "T2", "--expect-version", "1"});
    CHECK(s["title"] == "T2");
  }
  SECTION("--description \"\" clears the field") {
    store.json({"update", sid, "--description", "something"});
    const auto s = store.json({"update", sid, "--description", ""});
    CHECK(s["description"] == "");
  }
}

TEST_CASE("status verbs follow the state machine", "[sessions]") {
  Store store;
  const auto id = store.create("Lifecycle");

  auto paused = store.json({"pause", id, "--reason", "waiting for review", "--by", "carol"});
  CHECK(paused["status"] == "paused");
  CHECK(paused["pause_reason"] == "waiting for review");
  CHECK(paused["paused_at"].is_string());
  CHECK(paused["updated_by"] == "carol");

  auto resumed = store.json({"resume", id});
  CHECK(resumed["status"] == "active");
  CHECK(resumed["pause_reason"] == "");
  CHECK(resumed["paused_at"].is_null());

  auto converted = store.json({"convert", id, "--project", "proj-1", "--work-item", "wi-1",
                               "--work-item", "wi-2", "--by", "dave"});
  CHECK(converted["status"] == "converted");
  CHECK(converted["project_id"] == "proj-1");
  CHECK(converted["work_item_ids"] == json::array({"wi-1", "wi-2"}));
  CHECK(converted["converted_by"] == "dave");
  CHECK(converted["converted_at"].is_string());

  auto archived = store.json({"archive", id});
  CHECK(archived["status"] == "archived");
  CHECK(archived["archived_at"].is_string());

  SECTION("human output of the status verbs is one line each") {
    const auto other = store.create("Other");
    for (const auto& [verb, word] :
         std::vector<std::pair<std::string, std::string>>{{"pause", "Paused"},
                                                          {"resume", "Resumed"},
                                                          {"archive", "Archived"},
                                                          {"remove", "Removed"}}) {
      const auto r = store.run({verb, other});
      INFO(verb << ": " << r.err);
      REQUIRE(r.code == 0);
      CHECK(r.out == word + " session " + other + "\n");
    }
  }
}

TEST_CASE("remove hides the session from show, list and stats", "[sessions]") {
  Store store;
  const auto keep = store.create("Keep");
  const auto gone = store.create("Gone");
  const auto removed = store.json({"remove", gone, "--by", "erin"});
  CHECK(removed["id"] == gone);
  CHECK(store.run({"show", gone}).code == 3);
  CHECK(ids_of(store.json({"list"})) == std::vector<std::string>{keep});
  const auto stats = store.json({"stats"});
  CHECK(stats["total_sessions"] == 1);
  CHECK(stats["removed_sessions"] == 1);
}

TEST_CASE("show prints fields and the content for humans", "[sessions][human]") {
  Store store;
  RunOptions content;
  content.input = "# Heading\nbody line\n";
  const auto id = store.create("Readable", {"--description", "Two\nlines"});
  store.json({"update", id, "--content", "-"}, content);
  const auto r = store.run({"show", id});
  REQUIRE(r.code == 0);
  // Names are padded to the longest one present, "last_activity_at".
  constexpr std::size_t width = 16;
  CHECK(r.out.starts_with(field_line("id", id, width)));
  CHECK(r.out.find(field_line("title", "Readable", width)) != std::string::npos);
  CHECK(r.out.find(field_line("status", "active", width)) != std::string::npos);
  CHECK(r.out.find(field_line("current_version", "1", width)) != std::string::npos);
  // Continuation lines of multi-line values align under the value column.
  CHECK(r.out.find(field_line("description", "Two", width) + std::string(width + 2, ' ') +
                   "lines\n") != std::string::npos);
  CHECK(r.out.find("(just now)") != std::string::npos);  // relative times
  CHECK(r.out.find("# Heading\nbody line\n") != std::string::npos);
}

TEST_CASE("list applies every filter of SessionFilters", "[sessions][list]") {
  Store store;
  const auto pause_ms = std::chrono::milliseconds(10);
  const auto a = store.create("Delta plan",
                              {"--repo-path", "/repo/a", "--repo-url", "url-a", "--by", "alice"});
  std::this_thread::sleep_for(pause_ms);
  const auto b = store.create("Beta PLAN", {"--repo-path", "/repo/b", "--by", "bob"});
  std::this_thread::sleep_for(pause_ms);
  RunOptions content;
  content.input = "x\n";
  const auto c = store
                     .json({"create", "--title", "Gamma", "--repo-path", "/repo/a", "--content",
                            "-", "--by", "alice"},
                           content)["id"]
                     .get<std::string>();
  std::this_thread::sleep_for(pause_ms);
  store.json({"pause", b});
  std::this_thread::sleep_for(pause_ms);
  store.json({"convert", c, "--project", "P1"});
  const auto a_session = store.json({"show", a});
  const auto b_session = store.json({"show", b});
  using ids = std::vector<std::string>;

  CHECK(ids_of(store.json({"list"})) == ids{a, b, c});
  CHECK(ids_of(store.json({"list", "--status", "paused"})) == ids{b});
  CHECK(ids_of(store.json({"list", "--status", "paused", "--status", "converted"})) == ids{b, c});
  CHECK(ids_of(store.json({"list", "--repo-path", "/repo/a"})) == ids{a, c});
  CHECK(ids_of(store.json({"list", "--repo-url", "url-a"})) == ids{a});
  CHECK(ids_of(store.json({"list", "--project", "P1"})) == ids{c});
  CHECK(ids_of(store.json({"list", "--created-by", "bob"})) == ids{b});
  // Bounds are exclusive; these fall between the creations (10 ms apart).
  CHECK(ids_of(store.json({"list", "--created-after", shifted(a_session["created_at"], 3)})) ==
        ids{b, c});
  CHECK(ids_of(store.json({"list", "--created-before", shifted(b_session["created_at"], 3)})) ==
        ids{a, b});
  CHECK(ids_of(store.json({"list", "--created-after", shifted(a_session["created_at"], 3),
                           "--created-before", shifted(b_session["created_at"], 3)})) == ids{b});
  CHECK(ids_of(store.json({"list", "--updated-after", shifted(b_session["updated_at"], 3)})) ==
        ids{c});
  CHECK(ids_of(store.json({"list", "--updated-before", shifted(b_session["updated_at"], -3)})) ==
        ids{a});
  CHECK(ids_of(store.json({"list", "--has-content"})) == ids{c});
  CHECK(ids_of(store.json({"list", "--no-content"})) == ids{a, b});
  CHECK(ids_of(store.json({"list", "--title-contains", "plan"})) == ids{a, b});
  CHECK(ids_of(store.json({"list", "--order-by", "title"})) == ids{b, a, c});
  CHECK(ids_of(store.json({"list", "--order-by", "created_at", "--desc"})) == ids{c, b, a});
  CHECK(ids_of(store.json({"list", "--order-by", "updated_at", "--desc", "--limit", "1"})) ==
        ids{c});
  CHECK(ids_of(store.json({"list", "--order-by", "last_activity_at"})) == ids{a, b, c});
  CHECK(ids_of(store.json({"list", "--offset", "1", "--limit", "1"})) == ids{b});
  CHECK(ids_of(store.json({"list", "--status", "archived"})).empty());

  SECTION("the human table is aligned, with relative times") {
    const auto r = store.run({"list"});
    REQUIRE(r.code == 0);
    std::istringstream lines(r.out);
    std::string header, row;
    std::getline(lines, header);
    CHECK(header.starts_with("ID"));
    const auto status_col = header.find("STATUS");
    const auto title_col = header.find("TITLE");
    REQUIRE(status_col != std::string::npos);
    int rows = 0;
    while (std::getline(lines, row)) {
      ++rows;
      CHECK(row.size() > title_col);
      CHECK(row[status_col - 1] == ' ');
      CHECK(row[status_col] != ' ');
    }
    CHECK(rows == 3);
    CHECK(r.out.find("just now") != std::string::npos);
  }
  SECTION("an empty answer says so") {
    CHECK(store.run({"list", "--status", "archived"}).out == "No sessions.\n");
  }
}

TEST_CASE("stats counts sessions by status and versions", "[sessions]") {
  Store store;
  RunOptions content;
  content.input = "v1\n";
  const auto a = store.json({"create", "--title", "A", "--content", "-"}, content)["id"];
  store.create("B");
  const auto c = store.create("C");
  store.json({"pause", c});
  content.input = "v2\n";
  store.json({"update", a, "--content", "-"}, content);

  const auto s = store.json({"stats"});
  CHECK(s["total_sessions"] == 3);
  CHECK(s["active_sessions"] == 2);
  CHECK(s["paused_sessions"] == 1);
  CHECK(s["converted_sessions"] == 0);
  CHECK(s["archived_sessions"] == 0);
  CHECK(s["total_versions"] == 2);
  CHECK(s["sessions_with_content"] == 1);
  CHECK(s["total_events"] == 5);
  CHECK(s["average_versions_per_session"].get<double>() == Approx(2.0 / 3.0));

  const auto r = store.run({"stats"});
  REQUIRE(r.code == 0);
  constexpr std::size_t width = 28;  // "average_versions_per_session"
  CHECK(r.out.starts_with(field_line("total_sessions", "3", width)));
  CHECK(r.out.find(field_line("average_versions_per_session", "0.67", width)) != std::string::npos);
}

TEST_CASE("stale finds idle sessions and --apply acts on them", "[sessions][stale]") {
  Store store;
  const auto active = store.create("Idle active");
  const auto paused = store.create("Idle paused");
  store.json({"pause", paused});
  std::this_thread::sleep_for(std::chrono::milliseconds(30));

  SECTION("default thresholds find nothing just created") {
    const auto report = store.json({"stale"});
    CHECK(report["stale_sessions"].empty());
    CHECK(report["recommendations"].empty());
    CHECK(report["applied"].is_null());
    CHECK(store.run({"stale"}).out == "No stale sessions.\n");
  }
  SECTION("short inactivity recommends pausing the active session") {
    const auto report = store.json({"stale", "--inactive-for", "10ms", "--archive-after", "1h"});
    REQUIRE(report["stale_sessions"].size() == 1);
    CHECK(report["stale_sessions"][0]["id"] == active);
    CHECK(report["recommendations"] == json{{active, "pause"}});

    const auto applied = store.json(
        {"stale", "--inactive-for", "10ms", "--archive-after", "1h", "--apply", "--by", "janitor"});
    CHECK(applied["applied"] == 1);
    const auto s = store.json({"show", active});
    CHECK(s["status"] == "paused");
    CHECK(s["updated_by"] == "janitor");
  }
  SECTION("past archive_after both are recommended for archiving") {
    const auto report = store.json({"stale", "--inactive-for", "5ms", "--archive-after", "10ms"});
    CHECK(report["recommendations"] == json{{active, "archive"}, {paused, "archive"}});
    const auto human = store.run({"stale", "--inactive-for", "5ms", "--archive-after", "10ms"});
    REQUIRE(human.code == 0);
    CHECK(human.out.find("RECOMMEND") != std::string::npos);
    CHECK(human.out.find("archive") != std::string::npos);
    CHECK(human.out.find("--apply") != std::string::npos);
    store.json({"stale", "--inactive-for", "5ms", "--archive-after", "10ms", "--apply"});
    CHECK(store.json({"show", active})["status"] == "archived");
    CHECK(store.json({"show", paused})["status"] == "archived");
  }
}

TEST_CASE("the store is --db, else $PLANCTL_DB, else ./.planning", "[sessions][location]") {
  planning::test::TempDir dir;
  SECTION("default ./.planning is created on first write") {
    RunOptions in_dir;
    in_dir.cwd = dir.path();
    const auto r = planctl::test::run_planctl({"--json", "create", "--title", "Here"}, in_dir);
    REQUIRE(r.code == 0);
    CHECK(std::filesystem::exists(dir.path() / ".planning" / "data.mdb"));
    const auto list = planctl::test::run_planctl({"--json", "list"}, in_dir);
    REQUIRE(list.code == 0);
    CHECK(json::parse(list.out).size() == 1);
  }
  SECTION("$PLANCTL_DB when no --db") {
    RunOptions env;
    env.env = {{"PLANCTL_DB", (dir.path() / "envdb").string()}};
    env.cwd = dir.path();
    REQUIRE(planctl::test::run_planctl({"create", "--title", "Env"}, env).code == 0);
    CHECK(std::filesystem::exists(dir.path() / "envdb" / "data.mdb"));
    CHECK_FALSE(std::filesystem::exists(dir.path() / ".planning"));
    SECTION("--db wins over $PLANCTL_DB") {
      const auto r = planctl::test::run_planctl(
          {"--db", (dir.path() / "flagdb").string(), "--json", "list"}, env);
      CHECK(r.code == 3);  // flagdb does not exist: read verbs do not create it
      CHECK_FALSE(std::filesystem::exists(dir.path() / "flagdb"));
    }
  }
  SECTION("global options are accepted after the verb") {
    RunOptions in_dir;
    in_dir.cwd = dir.path();
    const auto r = planctl::test::run_planctl(
        {"create", "--title", "Late", "--json", "--db", (dir.path() / "late").string()}, in_dir);
    REQUIRE(r.code == 0);
    CHECK(json::parse(r.out)["title"] == "Late");
  }
}

TEST_CASE("every verb has --help", "[sessions][help]") {
  const std::vector<std::string> verbs = {
      "create", "update",  "pause", "resume",  "convert", "archive", "remove", "show",
      "list",   "stats",   "stale", "history", "diff",    "restore", "log",    "replay",
      "verify", "rebuild", "info",  "export",  "import",  "backup"};
  for (const auto& verb : verbs) {
    const auto r = planctl::test::run_planctl({verb, "--help"});
    INFO(verb);
    CHECK(r.code == 0);
    CHECK(r.out.find("Usage:") != std::string::npos);
    CHECK(r.out.find(verb) != std::string::npos);
  }
  const auto top = planctl::test::run_planctl({"--help"});
  CHECK(top.code == 0);
  for (const auto& verb : verbs) CHECK(top.out.find(verb) != std::string::npos);
}
