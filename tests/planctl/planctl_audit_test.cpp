// planctl audit verbs end to end: log (filters), replay, verify, rebuild, info,
// export / import (round trip, all-or-nothing), backup.
#include <algorithm>
#include <chrono>
#include <set>
#include <sstream>
#include <thread>

#include <catch2/catch.hpp>

#include <planning/version.hpp>

#include "planctl_runner.hpp"

using nlohmann::json;
using planctl::test::RunOptions;
using planctl::test::Store;

namespace {

// Six events over two sessions:
//   1 created A (content)   2 created B   3 updated A (content -> v2)
//   4 paused B              5 created C   6 removed C
struct Fixture {
  Store store;
  std::string a, b, c;
  Fixture() {
    RunOptions in;
    in.input = "first\n";
    a = store.json({"create", "--title", "A", "--content", "-", "--by", "ann"}, in)["id"];
    b = store.create("B");
    in.input = "second\n";
    store.json({"update", a, "--content", "-", "--summary", "more"}, in);
    store.json({"pause", b, "--reason", "later"});
    c = store.create("C");
    store.json({"remove", c});
  }
};

std::vector<std::uint64_t> sequences(const std::vector<json>& events) {
  std::vector<std::uint64_t> out;
  for (const auto& e : events) out.push_back(e.at("sequence").get<std::uint64_t>());
  return out;
}

using seqs = std::vector<std::uint64_t>;

}  // namespace

TEST_CASE("log prints every event as JSON Lines with the envelope fields", "[audit][log]") {
  Fixture f;
  const auto events = f.store.json_lines({"log"});
  REQUIRE(events.size() == 6);
  CHECK(sequences(events) == seqs{1, 2, 3, 4, 5, 6});
  const std::set<std::string> keys = {"sequence",         "session_id", "stream_version", "type",
                                      "schema_version",   "timestamp",  "timestamp_ns",   "actor",
                                      "payload_checksum", "prev_hash",  "payload"};
  for (const auto& e : events) {
    std::set<std::string> got;
    for (const auto& item : e.items()) got.insert(item.key());
    CHECK(got == keys);
    CHECK(e["payload_checksum"].get<std::string>().size() == 16);
    CHECK(e["prev_hash"].get<std::string>().size() == 64);
    CHECK(e["timestamp_ns"].is_number_integer());
  }
  CHECK(events[0]["prev_hash"] == std::string(64, '0'));
  CHECK(events[0]["type"] == "session_created");
  CHECK(events[0]["actor"] == "ann");
  CHECK(events[0]["payload"]["title"] == "A");
  CHECK(events[0]["payload"]["initial_content"] == "first\n");
  CHECK(events[0]["payload"]["metadata_json"].is_string());
  CHECK_FALSE(events[1]["payload"].contains("initial_content"));  // optional, absent
  CHECK(events[2]["type"] == "session_updated");
  CHECK(events[2]["stream_version"] == 2);
  CHECK(events[2]["payload"]["content"] == "second\n");
  CHECK(events[2]["payload"]["version_number"] == 2);
  CHECK_FALSE(events[2]["payload"].contains("title"));
  CHECK(events[3]["payload"] == json{{"reason", "later"}});
  CHECK(events[5]["type"] == "session_removed");
}

TEST_CASE("log filters by session, type, sequence range, time and limit", "[audit][log]") {
  Fixture f;
  CHECK(sequences(f.store.json_lines({"log", "--session", f.a})) == seqs{1, 3});
  CHECK(sequences(f.store.json_lines({"log", "--type", "created"})) == seqs{1, 2, 5});
  CHECK(sequences(f.store.json_lines({"log", "--type", "paused", "--type", "session_removed"})) ==
        seqs{4, 6});
  CHECK(sequences(f.store.json_lines({"log", "--from", "2", "--to", "4"})) == seqs{2, 3, 4});
  CHECK(sequences(f.store.json_lines({"log", "--limit", "2"})) == seqs{1, 2});
  CHECK(sequences(f.store.json_lines({"log", "--session", f.b, "--type", "paused"})) == seqs{4});

  const auto all = f.store.json_lines({"log"});
  const std::string t3 = all[2]["timestamp"], t4 = all[3]["timestamp"];
  // Time bounds are inclusive; text timestamps have microsecond precision, so
  // the bounds are taken from events at least a process start apart.
  CHECK(sequences(f.store.json_lines({"log", "--until", t3})).back() <= 3);
  CHECK(sequences(f.store.json_lines({"log", "--since", t4})).front() >= 4);
  CHECK(sequences(f.store.json_lines({"log", "--since", t4})).back() == 6);

  SECTION("human lines are aligned under one header") {
    const auto r = f.store.run({"log"});
    REQUIRE(r.code == 0);
    std::istringstream lines(r.out);
    std::string header;
    std::getline(lines, header);
    CHECK(header.find("SEQ") != std::string::npos);
    const auto type_col = header.find("TYPE");
    int n = 0;
    for (std::string line; std::getline(lines, line); ++n) {
      CHECK(line.compare(type_col, 8, "session_") == 0);
    }
    CHECK(n == 6);
    CHECK(r.out.find("by ann") != std::string::npos);
    CHECK(r.out.find("reason \"later\"") != std::string::npos);
  }
  SECTION("no match says so") {
    CHECK(f.store.run({"log", "--type", "archived"}).out == "No events.\n");
  }
}

TEST_CASE("replay shows state as of a sequence number or a time", "[audit][replay]") {
  Fixture f;
  SECTION("one session as of a sequence") {
    const auto s = f.store.json({"replay", "--to", "2", "--session", f.a});
    CHECK(s["content"] == "first\n");
    CHECK(s["current_version"] == 1);
    CHECK(s["stream_version"] == 1);
    CHECK(f.store.json({"replay", "--to", "3", "--session", f.a})["current_version"] == 2);
    CHECK(f.store.run({"replay", "--to", "1", "--session", f.b}).code == 3);  // not yet created
  }
  SECTION("all sessions as of a sequence, removed ones included before removal") {
    const auto at5 = f.store.json({"replay", "--to", "5"});
    REQUIRE(at5.size() == 3);
    CHECK(at5[0]["id"] == f.a);
    CHECK(at5[1]["status"] == "paused");
    CHECK(at5[2]["id"] == f.c);
    const auto at3 = f.store.json({"replay", "--to", "3"});
    REQUIRE(at3.size() == 2);
    CHECK(at3[1]["status"] == "active");
    CHECK(f.store.json({"replay", "--to", "6"}).size() == 2);  // C removed at 6
  }
  SECTION("as of a time") {
    const auto events = f.store.json_lines({"log"});
    const auto s = f.store.json({"replay", "--at", events[3]["timestamp"], "--session", f.b});
    CHECK(s["status"] == "paused");
    const auto before = f.store.json({"replay", "--at", events[0]["timestamp"], "--session", f.a});
    CHECK(before["content"] == "first\n");
    const auto r = f.store.run({"replay", "--at", "2000-01-01"});
    REQUIRE(r.code == 0);
    CHECK(r.out == "0 sessions as of 2000-01-01T00:00:00.000000Z\n");
  }
  SECTION("human output names the point in time") {
    const auto r = f.store.run({"replay", "--to", "4"});
    REQUIRE(r.code == 0);
    CHECK(r.out.starts_with("2 sessions as of sequence 4\n"));
    const auto one = f.store.run({"replay", "--to", "4", "--session", f.b});
    CHECK(one.out.starts_with("Session " + f.b + " as of sequence 4\n"));
  }
}

TEST_CASE("verify passes on a healthy store", "[audit][verify]") {
  Fixture f;
  const auto r = f.store.run({"verify"});
  CHECK(r.code == 0);
  CHECK(r.out.starts_with("OK: 6 events"));
  const auto report = f.store.json({"verify"});
  CHECK(report["ok"] == true);
  CHECK(report["events_checked"] == 6);
  CHECK(report["issues"] == json::array());
}

TEST_CASE("rebuild replays the log into identical projections", "[audit][rebuild]") {
  Fixture f;
  const auto before = f.store.json({"list"});
  const auto stats_before = f.store.json({"stats"});
  const auto r = f.store.run({"rebuild"});
  REQUIRE(r.code == 0);
  CHECK(r.out == "Rebuilt projections from 6 events.\n");
  CHECK(r.err.empty());  // no progress bar off a terminal
  CHECK(f.store.json({"list"}) == before);
  CHECK(f.store.json({"stats"}) == stats_before);
  const auto j = f.store.json({"rebuild"});
  CHECK(j["head_sequence"] == 6);
  for (const auto& p : j["projections"]) CHECK(p["checkpoint"] == 6);
  CHECK(f.store.run({"verify"}).code == 0);
}

TEST_CASE("info reports head, counts, checkpoints and sizes", "[audit][info]") {
  Fixture f;
  const auto i = f.store.json({"info"});
  CHECK(i["head_sequence"] == 6);
  CHECK(i["head_hash"].get<std::string>().size() == 64);
  CHECK(i["sessions"] == 2);
  CHECK(i["versions"] == 2);
  CHECK(i["format_version"] == planning::kFormatVersion);
  CHECK(i["map_size"].get<std::uint64_t>() >= i["map_used"].get<std::uint64_t>());
  CHECK(i["file_size"].get<std::uint64_t>() > 0);
  CHECK(i["page_size"].get<std::uint64_t>() > 0);
  CHECK(i["max_readers"].get<std::uint64_t>() > 0);
  REQUIRE(i["projections"].is_array());
  REQUIRE_FALSE(i["projections"].empty());
  for (const auto& p : i["projections"]) {
    CHECK(p["checkpoint"] == 6);
    CHECK(p["built_in"] == true);
    CHECK(p["name"].is_string());
  }
  const auto r = f.store.run({"info"});
  REQUIRE(r.code == 0);
  CHECK(r.out.find("head_sequence") != std::string::npos);
  CHECK(r.out.find("PROJECTION") != std::string::npos);
  CHECK(r.out.find("MiB") != std::string::npos);
}

TEST_CASE("export then import into a fresh store gives an identical, verified store",
          "[audit][export]") {
  Fixture f;
  const auto file = f.store.dir() / "events.jsonl";
  const auto exported = f.store.run({"export", file.string()});
  REQUIRE(exported.code == 0);
  CHECK(exported.out == "Exported 6 events to " + file.string() + "\n");
  const auto text = planctl::test::read_file(file);
  CHECK(std::count(text.begin(), text.end(), '\n') == 6);

  SECTION("stdout export equals the file") {
    const auto r = f.store.run({"export", "-"});
    REQUIRE(r.code == 0);
    CHECK(r.out == text);
  }
  SECTION("import into a fresh store") {
    Store fresh;
    const auto imported = fresh.json({"import", file.string()});
    CHECK(imported["imported"] == 6);
    CHECK(imported["head_sequence"] == 6);
    CHECK(fresh.run({"verify"}).code == 0);
    CHECK(fresh.json_lines({"log"}) == f.store.json_lines({"log"}));
    CHECK(fresh.json({"list"}) == f.store.json({"list"}));
    CHECK(fresh.json({"stats"}) == f.store.json({"stats"}));
    CHECK(fresh.json({"history", f.a}) == f.store.json({"history", f.a}));
    CHECK(fresh.json({"info"})["head_hash"] == f.store.json({"info"})["head_hash"]);
  }
  SECTION("import from stdin") {
    Store fresh;
    RunOptions in;
    in.input = text;
    const auto r = fresh.run({"import", "-"}, in);
    REQUIRE(r.code == 0);
    CHECK(r.out == "Imported 6 events (head sequence 6)\n");
    CHECK(fresh.json({"list"}) == f.store.json({"list"}));
  }
  SECTION("import is all or nothing") {
    Store fresh;
    // Break the last line's payload: the first five lines are valid alone.
    auto lines = text;
    const std::string removed_type = "\"type\":\"session_removed\"";
    const auto last = lines.rfind(removed_type);
    REQUIRE(last != std::string::npos);
    lines.replace(last, removed_type.size(), "\"type\":\"session_exploded\"");
    planctl::test::write_file(fresh.dir() / "bad.jsonl", lines);
    const auto r = fresh.run({"import", (fresh.dir() / "bad.jsonl").string()});
    CHECK(r.code == 4);
    CHECK(r.out.empty());
    CHECK(r.err.find("type") != std::string::npos);
    // The store this failed import would have created is gone again.
    CHECK(fresh.run({"info"}).code == 3);
    CHECK_FALSE(std::filesystem::exists(fresh.path()));

    SECTION("a tampered hash chain is refused too") {
      auto chained = text;
      const std::string actor = "\"actor\":\"ann\"";
      const auto first = chained.find(actor);
      REQUIRE(first != std::string::npos);
      chained.replace(first, actor.size(), "\"actor\":\"eve\"");
      planctl::test::write_file(fresh.dir() / "chain.jsonl", chained);
      const auto bad = fresh.run({"import", (fresh.dir() / "chain.jsonl").string()});
      CHECK(bad.code != 0);
      CHECK(bad.out.empty());
      CHECK(fresh.run({"log"}).out.find("session_created") == std::string::npos);
    }
  }
  SECTION("importing the same events twice is refused (sequences must continue the head)") {
    const auto r = f.store.run({"import", file.string()});
    CHECK(r.code != 0);
    CHECK(f.store.json({"info"})["head_sequence"] == 6);
  }
}

TEST_CASE("backup makes a usable copy, optionally compacted", "[audit][backup]") {
  Fixture f;
  for (const bool compact : {false, true}) {
    const auto dest = f.store.dir() / (compact ? "compact" : "plain");
    std::vector<std::string> args = {"backup", dest.string()};
    if (compact) args.push_back("--compact");
    const auto r = f.store.run(args);
    INFO("compact " << compact << ": " << r.err);
    REQUIRE(r.code == 0);
    CHECK(r.out.find(dest.string()) != std::string::npos);
    CHECK(std::filesystem::exists(dest / "data.mdb"));
    const auto copy = planctl::test::run_planctl({"--db", dest.string(), "--json", "list"});
    REQUIRE(copy.code == 0);
    CHECK(json::parse(copy.out) == f.store.json({"list"}));
    CHECK(planctl::test::run_planctl({"--db", dest.string(), "verify"}).code == 0);
  }
  const auto j = f.store.json({"backup", (f.store.dir() / "j").string(), "--compact"});
  CHECK(j["compact"] == true);
  CHECK(j["destination"] == (f.store.dir() / "j").string());
}
