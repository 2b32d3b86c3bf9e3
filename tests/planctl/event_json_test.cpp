// JSON forms of events, sessions and versions (events/src/event_json.cpp): the
// round trip of every event type, and event_from_json's validation — every bad
// field is an invalid_argument naming it, never an exception.
#include <catch2/catch.hpp>

#include <planning/planning.hpp>

using nlohmann::json;
using namespace planning;

namespace {

Event envelope(EventPayload payload) {
  Event e;
  e.sequence = 42;
  e.session_id = "01890a5d-ac96-774b-bcce-b302099a8057";
  e.stream_version = 3;
  e.type = event_type_of(payload);
  e.schema_version = 1;
  e.timestamp = Timestamp{std::chrono::nanoseconds{1735732800123456789}};
  e.actor = "alice";
  e.payload_checksum = 0x0123456789abcdefULL;
  for (std::size_t i = 0; i < e.prev_hash.size(); ++i)
    e.prev_hash[i] = static_cast<std::uint8_t>(i * 7);
  e.payload = std::move(payload);
  return e;
}

std::vector<Event> one_of_each() {
  SessionUpdated updated;
  updated.title = "New";
  updated.content = "";
  updated.metadata_json = R"({"b":1,"a":2})";
  updated.change_summary = "sum";
  updated.changed_fields = {"title", "content", "metadata"};
  updated.version_number = 4;
  return {envelope(SessionCreated{"T", "D", "/p", "u", "/w", "# c\n", R"({"z": 1, "a": [1]})"}),
          envelope(SessionCreated{"T", "", "", "", "", std::nullopt, "{}"}),
          envelope(updated),
          envelope(SessionUpdated{}),
          envelope(SessionPaused{"why"}),
          envelope(SessionResumed{}),
          envelope(SessionConverted{"P", {"w1", "w2"}}),
          envelope(SessionArchived{}),
          envelope(VersionRestored{1, 5, "old"}),
          envelope(VersionCreated{6, "snap", 17}),
          envelope(SessionRemoved{})};
}

void check_rejected(const json& j, const std::string& field) {
  std::optional<Result<Event>> result;
  REQUIRE_NOTHROW(result.emplace(event_from_json(j)));
  const auto& r = *result;
  INFO(j.dump());
  REQUIRE_FALSE(r.has_value());
  CHECK(r.error().code == ErrorCode::invalid_argument);
  INFO(r.error().message);
  CHECK(r.error().message.find(field) != std::string::npos);
}

}  // namespace

TEST_CASE("every event type survives to_json then event_from_json", "[event_json]") {
  for (const auto& event : one_of_each()) {
    const auto j = to_json(event);
    INFO(j.dump());
    CHECK(j["type"] == std::string(to_string(event.type)));
    CHECK(j["payload_checksum"] == "0123456789abcdef");
    CHECK(j["timestamp_ns"] == 1735732800123456789);
    CHECK(j["timestamp"].get<std::string>().starts_with("2025-01-01T12:00:00.12345"));
    CHECK(j["prev_hash"] == to_hex(event.prev_hash));
    const auto back = event_from_json(json::parse(j.dump()));
    REQUIRE(back.has_value());
    CHECK(*back == event);
  }
}

TEST_CASE("optional payload fields are omitted and metadata_json stays the exact string",
          "[event_json]") {
  const auto events = one_of_each();
  const auto created = to_json(events[0]);
  CHECK(created["payload"]["metadata_json"] == R"({"z": 1, "a": [1]})");
  CHECK(created["payload"]["initial_content"] == "# c\n");
  CHECK_FALSE(to_json(events[1])["payload"].contains("initial_content"));
  const auto updated = to_json(events[2])["payload"];
  CHECK(updated["title"] == "New");
  CHECK(updated["content"] == "");  // present but empty is kept
  CHECK_FALSE(updated.contains("description"));
  CHECK_FALSE(updated.contains("repository_path"));
  CHECK(to_json(events[5])["payload"] == json::object());
}

TEST_CASE("event_from_json names the bad field and never throws", "[event_json]") {
  const auto good = to_json(one_of_each()[0]);
  auto with = [&](const std::string& key, json value) {
    auto j = good;
    j[key] = std::move(value);
    return j;
  };
  auto without = [&](const std::string& key) {
    auto j = good;
    j.erase(key);
    return j;
  };
  for (const auto& key :
       {"sequence", "session_id", "stream_version", "type", "schema_version", "timestamp",
        "timestamp_ns", "actor", "payload_checksum", "prev_hash", "payload"})
    check_rejected(without(key), key);

  check_rejected(with("sequence", 0), "sequence");
  check_rejected(with("sequence", -5), "sequence");
  check_rejected(with("sequence", 1.5), "sequence");
  check_rejected(with("sequence", "7"), "sequence");
  check_rejected(with("session_id", ""), "session_id");
  check_rejected(with("session_id", 12), "session_id");
  check_rejected(with("stream_version", 0), "stream_version");
  check_rejected(with("stream_version", 4294967296ULL), "stream_version");
  check_rejected(with("type", "session_exploded"), "type");
  check_rejected(with("type", 1), "type");
  check_rejected(with("schema_version", 65536), "schema_version");
  check_rejected(with("schema_version", 0), "schema_version");
  check_rejected(with("timestamp_ns", "now"), "timestamp_ns");
  check_rejected(with("timestamp_ns", 18446744073709551615ULL), "timestamp_ns");
  check_rejected(with("timestamp", "2025-01-01T12:00:01.123456Z"), "timestamp");
  check_rejected(with("actor", nullptr), "actor");
  check_rejected(with("payload_checksum", "0123"), "payload_checksum");
  check_rejected(with("payload_checksum", "0123456789abcdeg"), "payload_checksum");
  check_rejected(with("payload_checksum", 12345), "payload_checksum");
  check_rejected(with("prev_hash", std::string(63, 'a')), "prev_hash");
  check_rejected(with("prev_hash", std::string(63, 'a') + "x"), "prev_hash");
  check_rejected(with("payload", json::array()), "payload");
  check_rejected(with("surprise", true), "surprise");

  auto payload = [&](const std::string& key, json value) {
    auto j = good;
    j["payload"][key] = std::move(value);
    return j;
  };
  check_rejected(payload("title", 5), "payload.title");
  check_rejected(payload("initial_content", nullptr), "payload.initial_content");
  check_rejected(payload("colour", "red"), "payload.colour");
  auto no_title = good;
  no_title["payload"].erase("title");
  check_rejected(no_title, "payload.title");

  auto converted = to_json(one_of_each()[6]);
  converted["payload"]["work_item_ids"][1] = 3;
  check_rejected(converted, "payload.work_item_ids[1]");
  auto restored = to_json(one_of_each()[8]);
  restored["payload"]["version_number"] = -1;
  check_rejected(restored, "payload.version_number");

  for (const auto& odd : {json(nullptr), json::array(), json(3), json("event")})
    check_rejected(odd, "object");
}

TEST_CASE("sessions and versions serialize every member", "[event_json]") {
  Session s;
  s.id = "id-1";
  s.title = "T";
  s.status = Status::paused;
  s.paused_at = Timestamp{std::chrono::seconds{1735689600}};
  s.metadata = json{{"k", "v"}};
  s.work_item_ids = {"a"};
  const auto j = to_json(s);
  CHECK(j.size() == 23);
  CHECK(j["status"] == "paused");
  CHECK(j["paused_at"] == "2025-01-01T00:00:00.000000Z");
  CHECK(j["archived_at"].is_null());
  CHECK(j["converted_at"].is_null());
  CHECK(j["metadata"] == json{{"k", "v"}});
  CHECK(j["work_item_ids"] == json::array({"a"}));
  CHECK(j["created_at"] == "1970-01-01T00:00:00.000000Z");

  Version v;
  v.session_id = "id-1";
  v.version_number = 2;
  v.content = "c";
  v.change_summary = "s";
  v.changed_fields = {"content"};
  v.created_by = "me";
  v.event_seq = 9;
  const auto vj = to_json(v);
  CHECK(vj == json{{"session_id", "id-1"},
                   {"version_number", 2},
                   {"content", "c"},
                   {"change_summary", "s"},
                   {"changed_fields", {"content"}},
                   {"created_at", "1970-01-01T00:00:00.000000Z"},
                   {"created_by", "me"},
                   {"event_seq", 9}});
}
