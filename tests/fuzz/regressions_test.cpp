// Deterministic regression tests for defects found by fuzzing (docs/FUZZING.md,
// "Findings"). Each case names the fuzz target and property that found it, the
// defect, and the commit that fixed it; the raw inputs are kept under
// tests/fuzz/regressions/<target>/. Each case failed before its fix (some only
// under UBSan, as noted).
#include <algorithm>
#include <chrono>
#include <cstdint>
#include <limits>
#include <sstream>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include <planning/planning.hpp>

#include "fuzz/event_chain.hpp"
#include "support/record_sample.hpp"
#include "support/temp_store.hpp"
#include "support/test_helpers.hpp"

using namespace planning;
using namespace planning::test;
using std::chrono::nanoseconds;

namespace {

nlohmann::json created_event_json(std::int64_t timestamp_ns, const std::string& text) {
  return {{"sequence", 1},
          {"session_id", "0193f5a2-7c00-7000-8000-000000000001"},
          {"stream_version", 1},
          {"type", "session_created"},
          {"schema_version", 1},
          {"timestamp", text},
          {"timestamp_ns", timestamp_ns},
          {"actor", "alice"},
          {"payload_checksum", "0000000000000000"},
          {"prev_hash", std::string(64, '0')},
          {"payload",
           {{"title", "t"},
            {"description", ""},
            {"repository_path", ""},
            {"repository_url", ""},
            {"working_directory", ""},
            {"metadata_json", "{}"}}}};
}

Event event_of(std::string id, std::uint32_t stream_version, std::int64_t ns, EventPayload payload) {
  Event e;
  e.session_id = std::move(id);
  e.stream_version = stream_version;
  e.timestamp = Timestamp{nanoseconds{ns}};
  e.actor = "importer";
  e.payload = std::move(payload);
  return e;
}

}  // namespace

// fuzz_import, sealed mode (UBSan: "signed integer overflow" in
// std::chrono::floor<days> under date::format). event_from_json formats every
// timestamp_ns it reads; below -9223286400000000000 ns (1677-09-22) the
// formatting overflowed int64. Only a UBSan build could see it: a plain build
// happened to print the right text. Fixed in 86ef9e0 (events/src/timestamps.cpp
// formats whole seconds and the fraction separately).
TEST_CASE("event_from_json reads the earliest representable timestamps without overflow",
          "[fuzz][regression][import]") {
  const std::int64_t min = std::numeric_limits<std::int64_t>::min();
  for (std::int64_t ns : {min, min + 1, std::int64_t{-9223286400000000001}}) {
    INFO("timestamp_ns " << ns);
    const Timestamp t{nanoseconds{ns}};
    const std::string text = format_timestamp(t);
    CHECK(text.starts_with("1677-09-21T"));
    auto event = event_from_json(created_event_json(ns, text));
    if (event) {
      CHECK(event->timestamp == t);
    } else {
      CHECK(event.error().code == ErrorCode::invalid_argument);
    }
  }
}

// fuzz_import, property "find_stale works after an import" (UBSan: signed
// integer overflow in `now - s.last_activity_at`, engine/src/recovery.cpp).
// Timestamps may lie anywhere in the int64 nanosecond range (import accepts any
// non-decreasing timestamp_ns, and Options::clock is the caller's), but the idle
// time of a session whose last activity is more than ~292 years before `now`
// did not fit in int64 nanoseconds: it wrapped to a negative duration and the
// session was reported as not stale at all. Fixed in 5b30281 (thresholds).
TEST_CASE("find_stale reports a session whose last activity is centuries old",
          "[fuzz][regression][recovery]") {
  TempDir dir;
  SetClock clock(date_utc(1716, 1, 1));
  auto m = open_store(options_with(dir, clock.as_clock()));
  auto s = PLAN_OK(m->create({.title = "left alone since 1716"}));

  StaleOptions options;
  options.now = date_utc(2025, 1, 1);
  auto report = PLAN_OK(SessionRecovery::find_stale(*m, options));
  REQUIRE(report.stale_sessions.size() == 1);
  CHECK(report.stale_sessions[0].id == s.id);
  CHECK(report.recommendations.at(s.id) == Recommendation::archive);
}

// Follow-up of the previous case, after its fix (commit 5b30281) moved the
// arithmetic to `now - archive_after` / `now - inactive_for`
// (engine/src/recovery.cpp:32-33): that overflows instead when `now` lies more
// than the threshold after the earliest Timestamp — e.g. "never archive"
// (archive_after = nanoseconds::max()) with a clock before 1970. The wrapped
// threshold landed in the far future, so every session was recommended for
// archiving. Fixed in 24a329a (saturating thresholds).
TEST_CASE("find_stale with 'never archive' and a clock before 1970 pauses, never archives",
          "[fuzz][regression][recovery]") {
  TempDir dir;
  SetClock clock(date_utc(1950, 1, 1));
  auto m = open_store(options_with(dir, clock.as_clock()));
  auto s = PLAN_OK(m->create({.title = "idle since 1950"}));

  StaleOptions options;
  options.now = date_utc(1960, 1, 1);
  options.inactive_for = std::chrono::hours(24);
  options.archive_after = nanoseconds::max();  // never archive
  auto report = PLAN_OK(SessionRecovery::find_stale(*m, options));
  REQUIRE(report.stale_sessions.size() == 1);
  CHECK(report.recommendations.at(s.id) == Recommendation::pause);
}

// fuzz_import, property "get_versions() of an imported session works". An
// imported session_updated event could claim a version (version_number =
// current + 1) without carrying content; import accepted it, and the versions
// projection then pointed that version at an event with no content, so every
// later get_versions / get_version / compare_versions of the session failed
// with `corruption` on an intact store (engine/src/manager_impl.cpp content_at).
// Fixed in 5b30281 (check_event refuses such an update).
// Either outcome is acceptable here: the import rejects the event, or the store
// it leaves reads back without errors.
TEST_CASE("an imported update claiming a version without content leaves a readable store",
          "[fuzz][regression][import]") {
  TempDir dir;
  auto m = open_store(test_options(dir));
  const std::string id = "0193f5a2-7c00-7000-8000-000000000001";
  SessionUpdated claims_version;
  claims_version.title = "renamed";
  claims_version.changed_fields = {"title"};
  claims_version.version_number = 2;  // but no content
  SessionCreated created;
  created.title = "t";
  created.initial_content = "v1";
  created.metadata_json = "{}";
  std::vector<Event> events;
  events.push_back(event_of(id, 1, 1735689600000000000, created));
  events.push_back(event_of(id, 2, 1735689600000001000, claims_version));
  std::istringstream in(fuzz::sealed_json_lines(events, {}));

  auto imported = m->import_events(in);
  if (!imported) {
    CHECK(imported.error().code == ErrorCode::invalid_argument);
    CHECK(head_of(*m) == 0);
    return;
  }
  CHECK(*imported == 2);
  auto session = PLAN_OK(m->get(id));
  auto versions = m->get_versions(id);
  INFO("get_versions: " << (versions ? std::string("ok") : versions.error().message));
  REQUIRE(versions.has_value());
  CHECK(versions->size() == session.current_version);
  require_verified(*m);
}

// fuzz_import, property "session_at(head) == get()" (and events(session) in log
// order). create() never reuses an id, not even a removed one; import accepted
// a session_created for a removed id (check_event only asked that the session
// not exist now). The streams projection is keyed by (id, stream version), so
// the second life's events overwrote the first life's entries
// (streams_projection.cpp apply: kv_put) and the rest of the first life stayed:
// the stream index mixed both lives, time travel folded the wrong events, and
// events(session) came back out of log order. verify() could not see it: a
// replay builds the same index. Fixed in 5b30281 (import refuses a used id). Either the import rejects the event, or every read agrees.
TEST_CASE("an imported session_created for a removed id leaves every read consistent",
          "[fuzz][regression][import]") {
  TempDir dir;
  auto m = open_store(test_options(dir));
  const std::string id = "0193f5a2-7c00-7000-8000-000000000001";
  SessionCreated first;
  first.title = "first life";
  first.metadata_json = "{}";
  SessionCreated second = first;
  second.title = "second life";
  std::vector<Event> events;
  events.push_back(event_of(id, 1, 1735689600000000000, first));
  events.push_back(event_of(id, 2, 1735689600000001000, SessionRemoved{}));
  events.push_back(event_of(id, 1, 1735689600000002000, second));
  std::istringstream in(fuzz::sealed_json_lines(events, {}));

  auto imported = m->import_events(in);
  if (!imported) {
    CHECK(imported.error().code == ErrorCode::invalid_argument);
    CHECK(head_of(*m) == 0);
    return;
  }
  const auto now = PLAN_OK(m->get(id));
  CHECK(now.title == "second life");
  auto replayed = m->session_at(id, head_of(*m));
  INFO("session_at: " << (replayed ? replayed->title : replayed.error().message));
  REQUIRE(replayed.has_value());
  CHECK(*replayed == now);
  EventQuery stream;
  stream.session_id = id;
  const auto listed = PLAN_OK(m->events(stream));
  std::vector<std::uint64_t> sequences;
  for (const auto& e : listed) sequences.push_back(e.sequence);
  CHECK(std::is_sorted(sequences.begin(), sequences.end()));
}

// fuzz_import, property "export reproduces the imported events". event_from_json
// accepts any schema_version >= 1 (events/src/event_json.cpp:333), import did
// not compare it with what this build writes, and encode_event stores every
// event under kCurrentSchemaVersion (events/src/event_codec.cpp). An event
// claiming a schema version newer than this build's — a format it cannot read
// (decode_event refuses it as corruption) — was accepted and silently rewritten
// as the current version; the payload checksum does not cover the header, so
// nothing noticed unless a later line's prev_hash did. Fixed in 86ef9e0 (import
// rejects it). Found with version 2 when 1 was current; the future version is
// now kCurrentSchemaVersion + 1 (3). Either the import rejects it, or what it
// stored exports back unchanged.
TEST_CASE("an imported event claiming a future schema version is rejected or kept as is",
          "[fuzz][regression][import]") {
  TempDir dir;
  auto m = open_store(test_options(dir));
  SessionCreated created;
  created.title = "from a newer build";
  created.metadata_json = "{}";
  auto json = nlohmann::json::parse(fuzz::sealed_json_lines(
      {event_of("0193f5a2-7c00-7000-8000-000000000001", 1, 1735689600000000000, created)}, {}));
  json["schema_version"] = detail::kCurrentSchemaVersion + 1;
  const std::string line = json.dump() + "\n";
  std::istringstream in(line);

  auto imported = m->import_events(in);
  if (!imported) {
    CHECK(imported.error().code == ErrorCode::invalid_argument);
    CHECK(head_of(*m) == 0);
    return;
  }
  std::ostringstream exported;
  PLAN_OK(m->export_events(exported));
  CHECK(exported.str() == line);
}

// F6 (fuzz_record_reader, property "throws nothing but DecodeError"): the
// checked string helper bounded a length n by `8 + n <= bytes left`, which
// wraps for n near 2^64 and passed; std::string::resize then threw
// std::length_error — a payload reported "malformed payload:
// basic_string::_M_replace_aux", a projection record a `storage` error
// instead of corruption. Both readers now refuse it as a record too short.
TEST_CASE("a record whose string length wraps the bound is refused as too short",
          "[fuzz][regression][record_reader]") {
  std::string bytes("\x01\x07\x00\x00\x00", 5);         // little-endian archive, class version 7
  bytes.append("\xf9\xff\xff\xff\xff\xff\xff\xff", 8);  // text's length 2^64 - 7: 8 + n wraps to 1
  bytes.append("x");
  CHECK_THROWS_MATCHES(test_records::read_with_reader(bytes), detail::DecodeError,
                       Catch::Matchers::Predicate<detail::DecodeError>([](const auto& e) {
                         return std::string(e.what()).find("exceeds the record") !=
                                std::string::npos;
                       }));
  CHECK_THROWS_AS(test_records::read_with_cereal(bytes), detail::DecodeError);
}
