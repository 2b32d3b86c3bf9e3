// verify() judges one snapshot of a store another process is writing to (no
// false alarm), and its scratch store never outlives it, even when the
// verifying process is killed (docs/RELIABILITY.md G26–G27).
#include <fcntl.h>

#include <cstdlib>
#include <fstream>

#include "reliability/reliability_support.hpp"

namespace planning::reliability {
namespace {

using test::ManualClock;
using test::TempDir;

std::vector<std::string> scratch_entries(const std::filesystem::path& dir) {
  std::vector<std::string> out;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    const auto name = entry.path().filename().string();
    if (name.starts_with("planning-verify-")) out.push_back(name);
  }
  return out;
}

}  // namespace

TEST_CASE("verify reports no false corruption while another process writes", "[verify][concurrency]") {
  TempDir dir;
  Options options = test::test_options(dir);
  options.durability = Durability::no_sync;
  {
    auto m = test::open_store(options);
    for (int i = 0; i < 200; ++i) PLAN_OK(m->create({.title = "seed " + std::to_string(i)}));
  }
  // The writer: creates and updates as fast as it can until told to stop.
  ChildProcess writer([&](int out, int in) {
    auto opened = SessionManager::open(options);
    if (!opened) return 1;
    auto& m = **opened;
    ::fcntl(in, F_SETFL, O_NONBLOCK);
    send_line(out, "READY");
    for (int i = 0;; ++i) {
      char c = 0;
      if (::read(in, &c, 1) >= 0) break;  // a line or EOF: stop
      auto s = m.create({.title = "w" + std::to_string(i)});
      if (!s) return 2;
      UpdateRequest u;
      u.content = "v" + std::to_string(i);
      if (!m.update(s->id, u)) return 3;
    }
    return 0;
  });
  REQUIRE(writer.read_line(std::chrono::seconds(30)) == std::optional<std::string>("READY"));
  auto m = test::open_store(options);
  int runs = 0;
  std::uint64_t first_head = PLAN_OK(m->head_sequence());
  for (; runs < 12; ++runs) {
    auto report = PLAN_OK(m->verify());
    INFO("run " << runs << ": " << (report.ok() ? "" : report.issues.front().what));
    REQUIRE(report.ok());
  }
  const std::uint64_t last_head = PLAN_OK(m->head_sequence());
  writer.close_input();
  const int status = writer.wait();
  INFO(describe_status(status));
  REQUIRE(exited_ok(status));
  // The writer really wrote during the verifies.
  CHECK(last_head > first_head);
}

TEST_CASE("a verify killed midway leaves no scratch store behind", "[verify]") {
  TempDir dir;
  TempDir tmp;
  ManualClock clock;
  Options options = test::test_options(dir, &clock);
  {
    auto m = test::open_store(options);
    populate_every_kind(*m, clock, 6);
  }
  options.clock = {};
  ChildProcess child([&](int out, int) {
    ::setenv("TMPDIR", tmp.path().c_str(), 1);
    auto m = SessionManager::open(options);
    if (!m) return 1;
    auto report = (*m)->verify([&](std::uint64_t, std::uint64_t) {
      send_line(out, "VERIFYING");
      ::pause();  // killed here, inside verify, with its scratch store open
    });
    return 0;
  });
  REQUIRE(child.read_line(std::chrono::seconds(30)) == std::optional<std::string>("VERIFYING"));
  // While verify runs, its scratch store has no name in $TMPDIR already.
  CHECK(scratch_entries(tmp.path()).empty());
  ::kill(child.pid(), SIGKILL);
  const int status = child.wait();
  REQUIRE(killed_by_sigkill(status));
  CHECK(scratch_entries(tmp.path()).empty());
}

TEST_CASE("verify's scratch-store errors name the scratch location", "[verify]") {
  TempDir dir;
  TempDir tmp;
  Options options = test::test_options(dir);
  {
    auto m = test::open_store(options);
    PLAN_OK(m->create({.title = "one"}));
  }
  // $TMPDIR is a file: the scratch store cannot be made there.
  const auto not_a_dir = tmp.path() / "file";
  std::ofstream(not_a_dir) << "x";
  ChildProcess child([&](int out, int) {
    ::setenv("TMPDIR", not_a_dir.c_str(), 1);
    auto m = SessionManager::open(options);
    if (!m) return 1;
    auto report = (*m)->verify();
    send_line(out, report ? std::string("OK") : std::string(to_string(report.error().code)) + " " +
                                                    report.error().message);
    return 0;
  });
  const auto lines = child.drain();
  const int status = child.wait();
  REQUIRE(exited_ok(status));
  REQUIRE(lines.size() == 1);
  CHECK(lines[0].starts_with("storage"));
  CHECK_THAT(lines[0], Catch::Matchers::Contains(not_a_dir.string()));
  CHECK_THAT(lines[0], Catch::Matchers::Contains("scratch"));
}

}  // namespace planning::reliability
