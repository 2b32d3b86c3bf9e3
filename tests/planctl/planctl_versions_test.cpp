// planctl version verbs end to end: history, show --version, diff, restore.
#include <algorithm>

#include <catch2/catch.hpp>

#include "planctl_runner.hpp"

using nlohmann::json;
using planctl::test::RunOptions;
using planctl::test::Store;

namespace {

// A session with three versions: "a\nb\n", "a\nB\nc\n", "a\nB\n".
std::string three_versions(const Store& store) {
  RunOptions in;
  in.input = "a\nb\n";
  const std::string id = store.json(
      {"create", "--title", "Versioned", "--content", "-", "--by", "v1-author"}, in)["id"];
  in.input = "a\nB\nc\n";
  store.json({"update", id, "--content", "-", "--summary", "second", "--by", "v2-author"}, in);
  in.input = "a\nB\n";
  store.json({"update", id, "--content", "-", "--summary", "third"}, in);
  return id;
}

}  // namespace

TEST_CASE("history lists every version with the data model's fields", "[versions]") {
  Store store;
  const auto id = three_versions(store);
  const auto history = store.json({"history", id});
  REQUIRE(history.size() == 3);
  for (std::size_t i = 0; i < 3; ++i) {
    const auto& v = history[i];
    CHECK(v["session_id"] == id);
    CHECK(v["version_number"] == i + 1);
    CHECK(v["changed_fields"] == json::array({"content"}));
    CHECK(v["created_at"].is_string());
    CHECK(v["event_seq"] == i + 1);
    CHECK(v.size() == 8);  // session_id, version_number, content, change_summary,
                           // changed_fields, created_at, created_by, event_seq
  }
  CHECK(history[0]["content"] == "a\nb\n");
  CHECK(history[0]["change_summary"] == "Initial version");
  CHECK(history[0]["created_by"] == "v1-author");
  CHECK(history[1]["content"] == "a\nB\nc\n");
  CHECK(history[1]["change_summary"] == "second");
  CHECK(history[1]["created_by"] == "v2-author");
  CHECK(history[2]["change_summary"] == "third");

  SECTION("the human table lists one row per version") {
    const auto r = store.run({"history", id});
    REQUIRE(r.code == 0);
    CHECK(r.out.starts_with("VERSION"));
    CHECK(r.out.find("second") != std::string::npos);
    CHECK(r.out.find("Initial version") != std::string::npos);
    CHECK(std::count(r.out.begin(), r.out.end(), '\n') == 4);
  }
  SECTION("a session without content has no versions") {
    const auto empty = store.create("Empty");
    CHECK(store.json({"history", empty}) == json::array());
    CHECK(store.run({"history", empty}).out.find("no versions") != std::string::npos);
  }
}

TEST_CASE("show --version prints one version", "[versions]") {
  Store store;
  const auto id = three_versions(store);
  const auto v = store.json({"show", id, "--version", "2"});
  CHECK(v["version_number"] == 2);
  CHECK(v["content"] == "a\nB\nc\n");
  const auto r = store.run({"show", id, "--version", "1"});
  REQUIRE(r.code == 0);
  CHECK(r.out.find("version_number") != std::string::npos);
  CHECK(r.out.ends_with("a\nb\n"));
  CHECK(store.run({"show", id, "--version", "9"}).code == 3);
  CHECK(store.run({"show", id, "--version", "0"}).code == 4);
}

TEST_CASE("diff prints a unified diff, plain when not on a terminal", "[versions]") {
  Store store;
  const auto id = three_versions(store);
  const auto r = store.run({"diff", id, "1", "2"});
  REQUIRE(r.code == 0);
  CHECK(r.out.find("\x1b[") == std::string::npos);
  CHECK(r.out.find("--- version 1") != std::string::npos);
  CHECK(r.out.find("+++ version 2") != std::string::npos);
  CHECK(r.out.find("\n-b\n") != std::string::npos);
  CHECK(r.out.find("\n+B\n") != std::string::npos);
  CHECK(r.out.find("\n+c\n") != std::string::npos);
  CHECK(r.out.find("@@") != std::string::npos);

  const auto d = store.json({"diff", id, "1", "2"});
  CHECK(d["from_version"] == 1);
  CHECK(d["to_version"] == 2);
  CHECK(d["lines_added"] == 2);
  CHECK(d["lines_removed"] == 1);
  CHECK(d["lines_unchanged"] == 1);
  CHECK(d["unified"].get<std::string>().find("+B") != std::string::npos);

  SECTION("either order, and a version against itself") {
    const auto back = store.json({"diff", id, "2", "1"});
    CHECK(back["lines_added"] == 1);
    CHECK(back["lines_removed"] == 2);
    const auto same = store.json({"diff", id, "3", "3"});
    CHECK(same["lines_added"] == 0);
    CHECK(same["lines_removed"] == 0);
    CHECK(same["lines_unchanged"] == 2);
  }
}

TEST_CASE("restore makes a new version equal to the old one", "[versions]") {
  Store store;
  const auto id = three_versions(store);
  const auto s = store.json({"restore", id, "1", "--by", "restorer"});
  CHECK(s["current_version"] == 4);
  CHECK(s["content"] == "a\nb\n");
  const auto v = store.json({"show", id, "--version", "4"});
  CHECK(v["change_summary"] == "Restored from version 1");
  CHECK(v["content"] == "a\nb\n");
  CHECK(v["created_by"] == "restorer");
  CHECK(store.json({"history", id}).size() == 4);

  const auto r = store.run({"restore", id, "2"});
  REQUIRE(r.code == 0);
  CHECK(r.out == "Restored version 2 of session " + id + " as version 5\n");
}
