// planctl log --follow: a follower in one process sees events that other
// processes append, and stops cleanly on SIGINT.
#include <csignal>
#include <sstream>

#include <catch2/catch.hpp>

#include "planctl_runner.hpp"

using nlohmann::json;
using planctl::test::Background;
using planctl::test::Store;

TEST_CASE("log --follow prints events appended by another process", "[audit][follow]") {
  Store store;
  const auto first = store.create("Before follow");
  Background follower({"--db", store.path().string(), "--json", "log", "--follow"});
  // The backlog comes first.
  auto out = follower.read_until(first, std::chrono::seconds(20));
  REQUIRE(out.find(first) != std::string::npos);

  const auto second = store.create("Written by another process");
  out = follower.read_until(second, std::chrono::seconds(20));
  INFO(out);
  REQUIRE(out.find(second) != std::string::npos);

  store.json({"pause", second, "--reason", "follow me"});
  out = follower.read_until("follow me", std::chrono::seconds(20));
  REQUIRE(out.find("follow me") != std::string::npos);

  // SIGINT ends the follower cleanly (exit 0) with every line complete.
  CHECK(follower.stop(SIGINT) == 0);
  std::vector<json> events;
  std::istringstream lines(out);
  for (std::string line; std::getline(lines, line);) events.push_back(json::parse(line));
  REQUIRE(events.size() == 3);
  CHECK(events[0]["sequence"] == 1);
  CHECK(events[1]["sequence"] == 2);
  CHECK(events[1]["session_id"] == second);
  CHECK(events[2]["type"] == "session_paused");
}

TEST_CASE("log --follow applies filters and stops at --limit", "[audit][follow]") {
  Store store;
  const auto a = store.create("A");
  Background follower({"--db", store.path().string(), "--json", "log", "--follow", "--type",
                       "paused", "--limit", "1"});
  store.create("B");
  store.json({"pause", a});
  const auto out = follower.read_until("session_paused", std::chrono::seconds(20));
  INFO(out);
  REQUIRE(out.find("session_paused") != std::string::npos);
  CHECK(out.find("session_created") == std::string::npos);
  // With its one event printed the follower exits on its own.
  follower.read_until("never printed", std::chrono::seconds(5));
  CHECK(follower.stop(SIGKILL) == 0);
}

TEST_CASE("log --follow in human form prints a header and one line per event", "[audit][follow]") {
  Store store;
  store.create("Human follow");
  Background follower({"--db", store.path().string(), "log", "-f"});
  auto out = follower.read_until("session_created", std::chrono::seconds(20));
  REQUIRE(out.starts_with("   SEQ  TIME"));
  const auto id = store.create("Second");
  out = follower.read_until(id, std::chrono::seconds(20));
  CHECK(out.find(id) != std::string::npos);
  CHECK(follower.stop(SIGTERM) == 0);
}
