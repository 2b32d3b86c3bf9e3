// planctl failure paths: every exit code, a one-line message on stderr naming
// what was wrong, nothing on stdout, and nothing appended to the store.
#include <algorithm>

#include <catch2/catch.hpp>

#include "planctl_runner.hpp"

using nlohmann::json;
using planctl::test::RunResult;
using planctl::test::Store;

namespace {

// Checks the shape of every failure: exit `code`, stdout empty, one stderr line
// "planctl: error: ..." containing `mentions`.
void check_failure(const RunResult& r, int code, const std::string& mentions) {
  INFO("stdout: " << r.out << "\nstderr: " << r.err);
  CHECK(r.code == code);
  CHECK(r.out.empty());
  CHECK(r.err.starts_with("planctl: error: "));
  CHECK(std::count(r.err.begin(), r.err.end(), '\n') == 1);
  CHECK(r.err.find(mentions) != std::string::npos);
}

std::uint64_t head(const Store& store) {
  return store.json({"info"})["head_sequence"].get<std::uint64_t>();
}

}  // namespace

TEST_CASE("usage errors exit 2", "[errors]") {
  Store store;
  const auto id = store.create("Target");
  const auto before = head(store);
  check_failure(store.run({}), 2, "subcommand");
  check_failure(store.run({"frobnicate"}), 2, "unknown verb 'frobnicate'");
  check_failure(store.run({"list", "--bogus"}), 2, "--bogus");
  check_failure(store.run({"create"}), 2, "--title");
  check_failure(store.run({"diff", id, "1"}), 2, "b");
  check_failure(store.run({"list", "--limit", "abc"}), 2, "--limit");
  check_failure(store.run({"list", "--limit", "010x"}), 2, "--limit");
  check_failure(store.run({"update", id, "--title", "x", "--expect-version", "-1"}), 2, "");
  check_failure(store.run({"log", "--from", "99999999999999999999999"}), 2, "--from");
  check_failure(store.run({"replay"}), 2, "--to");
  check_failure(store.run({"replay", "--to", "1", "--at", "2025-01-01"}), 2, "excludes");
  check_failure(store.run({"list", "--has-content", "--no-content"}), 2, "excludes");
  check_failure(store.run({"show"}), 2, "id");
  CHECK(head(store) == before);
}

TEST_CASE("not found exits 3", "[errors]") {
  Store store;
  const auto id = store.create("Exists");
  const auto before = head(store);
  const std::string unknown = "01890a5d-ac96-774b-bcce-b302099a8057";
  check_failure(store.run({"show", unknown}), 3, unknown);
  check_failure(store.run({"update", unknown, "--title", "x"}), 3, unknown);
  check_failure(store.run({"pause", unknown}), 3, unknown);
  check_failure(store.run({"history", unknown}), 3, unknown);
  check_failure(store.run({"show", id, "--version", "1"}), 3, "");
  check_failure(store.run({"diff", id, "1", "2"}), 3, "");
  check_failure(store.run({"replay", "--to", "1", "--session", unknown}), 3, "");
  CHECK(head(store) == before);

  SECTION("read verbs do not create a missing store") {
    planning::test::TempDir dir;
    const auto missing = (dir.path() / "nowhere").string();
    for (const auto& verb : std::vector<std::vector<std::string>>{
             {"list"}, {"show", id}, {"log"}, {"verify"}, {"info"}, {"stats"}, {"export", "-"}}) {
      std::vector<std::string> args = {"--db", missing};
      args.insert(args.end(), verb.begin(), verb.end());
      check_failure(planctl::test::run_planctl(args), 3, "no planning store");
    }
    CHECK_FALSE(std::filesystem::exists(missing));
  }
}

TEST_CASE("invalid arguments exit 4", "[errors]") {
  Store store;
  const auto id = store.create("Target");
  const auto before = head(store);
  check_failure(store.run({"create", "--title", "   "}), 4, "title");
  check_failure(store.run({"create", "--title", "T", "--metadata", "{bad"}), 4, "--metadata");
  check_failure(store.run({"create", "--title", "T", "--metadata", "[1,2]"}), 4, "metadata");
  check_failure(store.run({"create", "--title", "T", "--content", "/no/such/file.md"}), 4,
                "/no/such/file.md");
  check_failure(store.run({"update", id}), 4, "no field");
  check_failure(store.run({"list", "--created-after", "yesterday"}), 4, "--created-after");
  check_failure(store.run({"list", "--status", "sleeping"}), 4, "--status");
  check_failure(store.run({"list", "--order-by", "colour"}), 4, "--order-by");
  check_failure(store.run({"log", "--type", "exploded"}), 4, "--type");
  check_failure(store.run({"log", "--since", "2025-13-45"}), 4, "--since");
  check_failure(store.run({"stale", "--inactive-for", "forever"}), 4, "--inactive-for");
  check_failure(store.run({"stale", "--inactive-for", "2d", "--archive-after", "1d"}), 4, "");
  check_failure(store.run({"show", id, "--version", "0"}), 4, "");
  check_failure(store.run({"convert", id, "--project", ""}), 4, "project");
  check_failure(store.run({"replay", "--at", "noon"}), 4, "--at");
  check_failure(store.run({"import", (store.dir() / "absent.jsonl").string()}), 4, "absent.jsonl");
  CHECK(head(store) == before);
}

TEST_CASE("invalid transitions and states exit 5", "[errors]") {
  Store store;
  const auto id = store.create("Machine");
  check_failure(store.run({"resume", id}), 5, "active");
  store.json({"pause", id});
  const auto before = head(store);
  check_failure(store.run({"pause", id}), 5, "paused");
  check_failure(store.run({"update", id, "--title", "x"}), 5, "");
  check_failure(store.run({"convert", id, "--project", "P"}), 5, "");
  check_failure(store.run({"restore", id, "1"}), 5, "");
  store.json({"archive", id});
  check_failure(store.run({"resume", id}), 5, "archived");
  check_failure(store.run({"archive", id}), 5, "archived");
  CHECK(head(store) == before + 1);
}

TEST_CASE("a stale --expect-version is a conflict, exit 6", "[errors]") {
  Store store;
  const auto id = store.create("Concurrent");
  store.json({"update", id, "--title", "Changed"});
  const auto before = head(store);
  check_failure(store.run({"update", id, "--title", "Mine", "--expect-version", "1"}), 6, "");
  CHECK(head(store) == before);
  CHECK(store.json({"show", id})["title"] == "Changed");
}

TEST_CASE("storage failures exit 8", "[errors]") {
  Store store;
  store.create("Something");
  check_failure(store.run({"export", "/nonexistent-dir/for/planctl/out.jsonl"}), 8, "export");
  CHECK_FALSE(std::filesystem::exists("/nonexistent-dir"));

  SECTION("a store path that cannot be a directory") {
    planctl::test::write_file(store.dir() / "plain-file", "not a directory");
    const auto r = planctl::test::run_planctl(
        {"--db", (store.dir() / "plain-file" / "store").string(), "create", "--title", "X"});
    check_failure(r, 8, "plain-file");
  }
}

TEST_CASE("a failed export leaves no partial file", "[errors]") {
  Store store;
  store.create("Something");
  const auto target = store.dir() / "out.jsonl";
  REQUIRE(store.run({"export", target.string()}).code == 0);
  for (const auto& entry : std::filesystem::directory_iterator(store.dir()))
    CHECK(entry.path().filename().string().find(".tmp") == std::string::npos);
}

TEST_CASE("a failed first write leaves no store behind", "[errors]") {
  planning::test::TempDir dir;
  const auto path = dir.path() / "new-store";
  const auto r = planctl::test::run_planctl({"--db", path.string(), "create", "--title", "  "});
  check_failure(r, 4, "title");
  CHECK_FALSE(std::filesystem::exists(path));

  SECTION("an existing store is never removed, even when empty") {
    std::filesystem::create_directories(path);
    REQUIRE(planctl::test::run_planctl({"--db", path.string(), "create", "--title", " "}).code ==
            4);
    CHECK(std::filesystem::exists(path));
  }
}
