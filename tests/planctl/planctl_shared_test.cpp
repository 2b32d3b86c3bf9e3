// planctl in shared mode (docs/SCALING.md, docs/planctl.md): --shared-log and
// $PLANCTL_SHARED_LOG, `share` moving an embedded store in, `info` reporting
// the shared head, two nodes seeing each other's writes, `log --follow` on one
// node printing what another appends.
#include <fmt/format.h>
#include <csignal>

#include <catch2/catch.hpp>

#include "planctl/planctl_runner.hpp"
#include "support/pg_cluster.hpp"
#include "support/test_helpers.hpp"

using planctl::test::run_planctl;
using planctl::test::RunOptions;
using planning::test::TempDir;

namespace {

std::string created_id(const planctl::test::RunResult& r) {
  INFO(r.out << r.err);
  REQUIRE(r.code == 0);
  return nlohmann::json::parse(r.out).at("id").get<std::string>();
}

}  // namespace

TEST_CASE("share moves an embedded store onto an empty shared log, and nodes follow each other") {
  PLANNING_REQUIRE_POSTGRES();
  const std::string url = planning::test::process_cluster().create_database();
  TempDir dir;
  const std::string a = (dir.path() / "a").string();
  const std::string b = (dir.path() / "b").string();
  const std::string id =
      created_id(run_planctl({"--db", a, "--json", "create", "--title", "before sharing"}));
  REQUIRE(run_planctl({"--db", a, "update", id, "--description", "still embedded"}).code == 0);

  // Without a shared log named, share is a usage error.
  auto unnamed = run_planctl({"--db", a, "share"});
  CHECK(unnamed.code == 2);
  CHECK_THAT(unnamed.err, Catch::Contains("--shared-log"));

  // Opening the embedded store as a node before moving it in is refused.
  auto early = run_planctl({"--db", a, "--shared-log", url, "list"});
  CHECK(early.code == 5);
  CHECK_THAT(early.err, Catch::Contains("planctl share"));

  auto shared = run_planctl({"--db", a, "--shared-log", url, "--json", "share"});
  INFO(shared.err);
  REQUIRE(shared.code == 0);
  CHECK(nlohmann::json::parse(shared.out).at("uploaded") == 2);

  // A second node, named through the environment, builds its replica.
  RunOptions env_b;
  env_b.env = {{"PLANCTL_SHARED_LOG", url}};
  auto shown = run_planctl({"--db", b, "--json", "show", id}, env_b);
  INFO(shown.err);
  REQUIRE(shown.code == 0);
  CHECK(nlohmann::json::parse(shown.out).at("description") == "still embedded");

  // B writes; A, as a node, reads it.
  REQUIRE(run_planctl({"--db", b, "update", id, "--description", "from b"}, env_b).code == 0);
  auto on_a = run_planctl({"--db", a, "--shared-log", url, "--json", "show", id});
  REQUIRE(on_a.code == 0);
  CHECK(nlohmann::json::parse(on_a.out).at("description") == "from b");

  auto info = run_planctl({"--db", a, "--shared-log", url, "--json", "info"});
  REQUIRE(info.code == 0);
  const auto j = nlohmann::json::parse(info.out);
  CHECK(j.at("head_sequence") == 3);
  CHECK(j.at("shared_head_sequence") == 3);
  CHECK(j.at("lag") == 0);
  CHECK_THAT(j.at("shared_log").get<std::string>(), Catch::Contains("dbname="));
  auto human = run_planctl({"--db", a, "--shared-log", url, "info"});
  CHECK_THAT(human.out, Catch::Contains("shared_head"));

  // A share of a store whose whole log is there already moves nothing.
  auto again = run_planctl({"--db", a, "--shared-log", url, "--json", "share"});
  REQUIRE(again.code == 0);
  CHECK(nlohmann::json::parse(again.out).at("uploaded") == 0);
  // A store with other events is refused.
  TempDir other;
  const std::string c = (other.path() / "c").string();
  created_id(run_planctl({"--db", c, "--json", "create", "--title", "elsewhere"}));
  auto refused = run_planctl({"--db", c, "--shared-log", url, "share"});
  CHECK(refused.code == 5);
  CHECK_THAT(refused.err, Catch::Contains("only onto an empty shared log"));

  auto verify = run_planctl({"--db", b, "verify"}, env_b);
  CHECK(verify.code == 0);

  // `log --follow` on node B prints an event node A appends.
  planctl::test::Background follower({"--db", b, "--json", "log", "--follow"}, env_b);
  CHECK_THAT(follower.read_until("from b", std::chrono::seconds(20)), Catch::Contains("from b"));
  REQUIRE(run_planctl(
              {"--db", a, "--shared-log", url, "update", id, "--description", "followed from a"})
              .code == 0);
  CHECK_THAT(follower.read_until("followed from a", std::chrono::seconds(20)),
             Catch::Contains("followed from a"));
  CHECK(follower.stop(SIGINT) == 0);
}
