// The event frame codec (events/src/event_codec.hpp, docs/FORMAT.md "Event
// frame"): round trips of every payload, the documented header layout, and
// checked decoding — any damaged frame is ErrorCode::corruption, never a throw
// or a crash.
#include "events/src/event_codec.hpp"

#include <planning/planning.hpp>

#include <functional>
#include <random>

#include <catch2/catch.hpp>

#include "events/src/bytes.hpp"
#include "events/src/hashing.hpp"
#include "support/raw_lmdb.hpp"
#include "support/temp_store.hpp"
#include "support/test_helpers.hpp"

using namespace planning;
using namespace planning::detail;
using namespace planning::test;

namespace {

Event make_event(EventPayload payload, std::uint64_t seq = 42) {
  Event e;
  e.sequence = seq;
  e.session_id = "0190a000-0000-7000-8000-0000000000aa";
  e.stream_version = 3;
  e.timestamp = date_utc(2025, 6, 1) + std::chrono::nanoseconds(123456789);
  e.actor = "agent:planner";
  for (std::size_t i = 0; i < e.prev_hash.size(); ++i) {
    e.prev_hash[i] = static_cast<std::uint8_t>(i * 7 + 1);
  }
  e.payload = std::move(payload);
  return e;
}

std::vector<EventPayload> every_payload() {
  SessionCreated created;
  created.title = "Auth \xe2\x80\x94 plan";
  created.description = "d";
  created.repository_path = "/p";
  created.repository_url = "https://u";
  created.working_directory = "/w";
  created.initial_content = "# c\n";
  created.metadata_json = R"({"k":1})";
  SessionCreated created_empty;  // every field empty, no content
  created_empty.title = "t";
  created_empty.metadata_json = "{}";
  SessionCreated created_empty_content = created_empty;
  created_empty_content.initial_content = "";  // present but empty differs from absent

  SessionUpdated updated;
  updated.title = "new";
  updated.content = std::string(100000, 'x');
  updated.metadata_json = "{}";
  updated.change_summary = "s";
  updated.changed_fields = {"title", "content", "metadata"};
  updated.version_number = 7;
  SessionUpdated updated_min;
  updated_min.description = "";
  updated_min.changed_fields = {"description"};

  return {created,
          created_empty,
          created_empty_content,
          updated,
          updated_min,
          SessionPaused{"waiting"},
          SessionPaused{""},
          SessionResumed{},
          SessionConverted{"proj", {"w1", "w2", ""}},
          SessionConverted{"proj", {}},
          SessionArchived{},
          VersionRestored{2, 5, "restored body"},
          VersionCreated{6, "snap", 17},
          SessionRemoved{}};
}

// Rewrites both checksums so that a deliberately altered frame passes them
// (docs/FORMAT.md: payload checksum over the body, header checksum over [0, 76)).
void reseal(std::string& frame) {
  const auto body = checksum64(std::string_view(frame).substr(kFrameHeaderSize));
  for (int i = 0; i < 8; ++i) frame[36 + i] = static_cast<char>(body >> (56 - 8 * i));
  const auto head = checksum64(std::string_view(frame).substr(0, 76));
  for (int i = 0; i < 8; ++i) frame[76 + i] = static_cast<char>(head >> (56 - 8 * i));
}

void put_u16(std::string& frame, std::size_t at, std::uint16_t v) {
  frame[at] = static_cast<char>(v >> 8);
  frame[at + 1] = static_cast<char>(v & 0xFF);
}

std::uint64_t read_be(const std::string& s, std::size_t at, std::size_t n) {
  std::uint64_t v = 0;
  for (std::size_t i = 0; i < n; ++i) v = (v << 8) | static_cast<unsigned char>(s[at + i]);
  return v;
}

void require_corruption(std::uint64_t seq, std::string_view frame, const char* what) {
  INFO(what);
  Result<Event> r = [&]() -> Result<Event> {
    try {
      return decode_event(seq, frame);
    } catch (...) {
      FAIL("decode_event threw");
    }
    return fail(ErrorCode::storage, "unreachable");
  }();
  REQUIRE_FALSE(r.has_value());
  CHECK(r.error().code == ErrorCode::corruption);
  CHECK_THAT(r.error().message, Catch::Contains(std::to_string(seq)));
}

}  // namespace

TEST_CASE("every payload type round-trips through a frame", "[codec]") {
  for (const auto& payload : every_payload()) {
    Event e = make_event(payload);
    const std::string frame = encode_event(e);
    INFO("type " << to_string(event_type_of(payload)));
    CHECK(e.type == event_type_of(payload));
    CHECK(e.schema_version == kCurrentSchemaVersion);
    auto decoded = decode_event(e.sequence, frame);
    if (!decoded) FAIL(decoded.error().message);
    CHECK(*decoded == e);
    CHECK(decoded->payload_checksum == e.payload_checksum);

    auto header = peek_header(e.sequence, frame);
    REQUIRE(header.has_value());
    CHECK(header->sequence == e.sequence);
    CHECK(header->stream_version == e.stream_version);
    CHECK(header->type == e.type);
    CHECK(header->schema_version == e.schema_version);
    CHECK(header->timestamp_ns == e.timestamp.time_since_epoch().count());
    CHECK(header->session_id == e.session_id);
  }
}

// The decoder locates a payload's content field with last_occurrence; a wrong
// answer would only send it to the slower full check, so compare it with rfind.
TEST_CASE("last_occurrence answers what rfind answers", "[codec]") {
  std::mt19937 random(7);
  auto text = [&](std::size_t n) {
    std::string s(n, '\0');
    for (char& c : s) c = static_cast<char>("ab\0\x02"[random() % 4]);
    return s;
  };
  std::size_t found = 0;
  for (int round = 0; round < 20000; ++round) {
    const std::string haystack = text(random() % 40);
    std::string needle = text(1 + random() % 5);
    if (round % 2 == 0 && !haystack.empty()) {  // often a piece of the haystack
      const std::size_t at = random() % haystack.size();
      needle = haystack.substr(at, 1 + random() % 5);
    }
    const std::size_t expected = std::string_view(haystack).rfind(needle);
    INFO("haystack size " << haystack.size() << ", needle size " << needle.size());
    REQUIRE(detail::last_occurrence(haystack, needle) == expected);
    if (expected != std::string_view::npos) ++found;
  }
  CHECK(found > 5000);
  CHECK(detail::last_occurrence("abc", "") == std::string_view::npos);
  CHECK(detail::last_occurrence("", "a") == std::string_view::npos);
  CHECK(detail::last_occurrence("abcabc", "abc") == 3);
}

TEST_CASE("encoding is deterministic", "[codec]") {
  for (const auto& payload : every_payload()) {
    Event a = make_event(payload);
    Event b = make_event(payload);
    CHECK(encode_event(a) == encode_event(b));
  }
}

TEST_CASE("the frame header follows the documented layout", "[codec][format]") {
  Event e = make_event(SessionPaused{"why"}, 0x0102030405060708ULL);
  const std::string frame = encode_event(e);
  REQUIRE(frame.size() > kFrameHeaderSize);
  CHECK(frame.substr(0, 4) == "PSE1");
  CHECK(read_be(frame, 4, 8) == 0x0102030405060708ULL);
  CHECK(read_be(frame, 12, 4) == e.stream_version);
  CHECK(read_be(frame, 16, 2) == static_cast<std::uint16_t>(EventType::session_paused));
  CHECK(read_be(frame, 18, 2) == kCurrentSchemaVersion);
  CHECK(static_cast<std::int64_t>(read_be(frame, 20, 8)) == e.timestamp.time_since_epoch().count());
  CHECK(read_be(frame, 28, 2) == e.session_id.size());
  CHECK(read_be(frame, 30, 2) == e.actor.size());
  const auto payload_len = read_be(frame, 32, 4);
  CHECK(frame.size() == kFrameHeaderSize + e.session_id.size() + e.actor.size() + payload_len);
  CHECK(read_be(frame, 36, 8) == e.payload_checksum);
  CHECK(std::equal(e.prev_hash.begin(), e.prev_hash.end(),
                   reinterpret_cast<const std::uint8_t*>(frame.data() + 44)));
  CHECK(frame.substr(kFrameHeaderSize, e.session_id.size()) == e.session_id);
  CHECK(frame.substr(kFrameHeaderSize + e.session_id.size(), e.actor.size()) == e.actor);
}

TEST_CASE("event type ids are frozen", "[codec][format]") {
  CHECK(static_cast<int>(EventType::session_created) == 1);
  CHECK(static_cast<int>(EventType::session_updated) == 2);
  CHECK(static_cast<int>(EventType::session_paused) == 3);
  CHECK(static_cast<int>(EventType::session_resumed) == 4);
  CHECK(static_cast<int>(EventType::session_converted) == 5);
  CHECK(static_cast<int>(EventType::session_archived) == 6);
  CHECK(static_cast<int>(EventType::version_restored) == 7);
  CHECK(static_cast<int>(EventType::version_created) == 8);
  CHECK(static_cast<int>(EventType::session_removed) == 9);
  for (int t = 1; t <= 9; ++t) {
    const auto type = static_cast<EventType>(t);
    CHECK(PLAN_OK(parse_event_type(to_string(type))) == type);
  }
}

TEST_CASE("any single damaged byte is detected as corruption", "[codec][corruption]") {
  for (const auto& payload : every_payload()) {
    Event e = make_event(payload);
    const std::string frame = encode_event(e);
    if (frame.size() > 4096) continue;  // the 100 kB update: covered by the others
    INFO("type " << to_string(e.type) << ", frame size " << frame.size());
    for (std::size_t i = 0; i < frame.size(); ++i) {
      for (unsigned char mask : {0x01, 0x80, 0xFF}) {
        std::string damaged = frame;
        damaged[i] = static_cast<char>(damaged[i] ^ mask);
        INFO("byte " << i << " ^ " << int(mask));
        auto r = decode_event(e.sequence, damaged);
        REQUIRE_FALSE(r.has_value());
        REQUIRE(r.error().code == ErrorCode::corruption);
      }
    }
  }
}

TEST_CASE("truncated, padded and empty frames are corruption", "[codec][corruption]") {
  Event e = make_event(SessionConverted{"project", {"a", "b"}});
  const std::string frame = encode_event(e);
  for (std::size_t n = 0; n < frame.size(); ++n) {
    require_corruption(e.sequence, std::string_view(frame).substr(0, n), "truncated");
  }
  require_corruption(e.sequence, frame + "x", "padded");
  require_corruption(e.sequence, frame + std::string(100, '\0'), "zero padded");
  require_corruption(e.sequence, "", "empty");
  require_corruption(e.sequence, std::string(kFrameHeaderSize, '\0'), "zeros");
}

TEST_CASE("a frame stored under another sequence is corruption", "[codec][corruption]") {
  Event e = make_event(SessionResumed{}, 10);
  const std::string frame = encode_event(e);
  for (std::uint64_t key : {9ULL, 11ULL, 0ULL, 1ULL << 40}) {
    INFO("key " << key);
    require_corruption(key, frame, "moved");
    auto h = peek_header(key, frame);
    REQUIRE_FALSE(h.has_value());
    CHECK(h.error().code == ErrorCode::corruption);
  }
}

TEST_CASE("well-sealed frames with impossible contents are corruption", "[codec][corruption]") {
  Event e = make_event(SessionPaused{"reason"});
  const std::string frame = encode_event(e);

  SECTION("unknown event types") {
    for (std::uint16_t type : {0, 10, 0xFFFF}) {
      std::string f = frame;
      put_u16(f, 16, type);
      reseal(f);
      require_corruption(e.sequence, f, "unknown type");
    }
  }
  SECTION("unsupported schema versions") {
    for (std::uint16_t version : {0, kCurrentSchemaVersion + 1, 0xFFFF}) {
      std::string f = frame;
      put_u16(f, 18, version);
      reseal(f);
      require_corruption(e.sequence, f, "schema version");
    }
  }
  SECTION("a payload decoded as another type") {
    std::string f = frame;
    put_u16(f, 16, static_cast<std::uint16_t>(EventType::version_created));
    reseal(f);
    require_corruption(e.sequence, f, "type confusion");
  }
  SECTION("a huge string length inside the payload") {
    // The payload ends with the reason: [length u64][bytes]. Make the length absurd.
    std::string f = frame;
    const std::size_t reason_len_at = f.size() - std::string("reason").size() - 8;
    REQUIRE(f.substr(reason_len_at + 8) == "reason");
    for (int i = 0; i < 8; ++i) f[reason_len_at + i] = '\x7f';  // huge in either byte order
    reseal(f);
    require_corruption(e.sequence, f, "huge length");
  }
  SECTION("trailing bytes after the payload") {
    std::string f = frame + "zz";
    const auto len = read_be(f, 32, 4) + 2;
    for (int i = 0; i < 4; ++i) f[32 + i] = static_cast<char>(len >> (24 - 8 * i));
    reseal(f);
    require_corruption(e.sequence, f, "trailing bytes");
  }
}

TEST_CASE("random garbage never throws and is corruption", "[codec][corruption]") {
  std::mt19937 rng(7);
  Event e = make_event(VersionRestored{1, 2, "content"});
  const std::string good = encode_event(e);
  for (int i = 0; i < 2000; ++i) {
    std::string f;
    if (i % 2 == 0) {
      f.resize(rng() % 300);
      for (auto& c : f) c = static_cast<char>(rng());
    } else {
      // A valid header prefix with a random tail.
      f = good.substr(0, rng() % good.size());
      const auto extra = rng() % 64;
      for (std::size_t k = 0; k < extra; ++k) f.push_back(static_cast<char>(rng()));
      if (f == good) continue;
    }
    INFO("iteration " << i);
    require_corruption(e.sequence, f, "garbage");
  }
}

TEST_CASE("content_of names the content an event carries", "[codec]") {
  SessionCreated with;
  with.initial_content = "c";
  SessionCreated without;
  SessionUpdated u_with;
  u_with.content = "u";
  SessionUpdated u_without;
  u_without.title = "t";
  CHECK(*content_of(make_event(with)) == "c");
  CHECK(content_of(make_event(without)) == nullptr);
  CHECK(*content_of(make_event(u_with)) == "u");
  CHECK(content_of(make_event(u_without)) == nullptr);
  CHECK(*content_of(make_event(VersionRestored{1, 2, "r"})) == "r");
  CHECK(content_of(make_event(VersionCreated{2, "s", 1})) == nullptr);
  CHECK(content_of(make_event(SessionPaused{"x"})) == nullptr);
}

TEST_CASE("events round-trip through their JSON form", "[codec][json]") {
  for (const auto& payload : every_payload()) {
    Event e = make_event(payload);
    encode_event(e);  // fills checksum and schema version
    INFO("type " << to_string(e.type));
    auto back = event_from_json(to_json(e));
    if (!back) FAIL(back.error().message);
    CHECK(*back == e);
  }
  REQUIRE_ERROR_CODE(ErrorCode::invalid_argument, event_from_json(nlohmann::json::array()));
  auto j = to_json(make_event(SessionPaused{"x"}));
  j["type"] = "exploded";
  CHECK_FALSE(event_from_json(j).has_value());
}

// --- Golden frames (format version 1) -----------------------------------------
//
// Frozen bytes of one event of every type, as written by format version 1. They
// must keep decoding to the same events forever (docs/FORMAT.md §7), and the
// encoder must keep producing them. Never regenerate these to make a test pass:
// a difference means the on-disk format changed.

namespace {

std::string unhex(std::string_view hex) {
  std::string out;
  for (std::size_t i = 0; i + 1 < hex.size(); i += 2) {
    out.push_back(static_cast<char>(std::stoi(std::string(hex.substr(i, 2)), nullptr, 16)));
  }
  return out;
}

std::string hex_of(std::string_view bytes) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  for (unsigned char c : bytes) {
    out.push_back(kDigits[c >> 4]);
    out.push_back(kDigits[c & 0xF]);
  }
  return out;
}

std::vector<EventPayload> golden_payloads() {
  SessionCreated c;
  c.title = "Golden plan";
  c.description = "desc";
  c.repository_path = "/repo";
  c.repository_url = "https://example.com/r.git";
  c.working_directory = "/repo/wd";
  c.initial_content = "# Golden\n- item";
  c.metadata_json = R"({"priority":"high"})";
  SessionUpdated u;
  u.title = "Golden plan 2";
  u.content = "# Golden\n- item\n- more";
  u.metadata_json = "{}";
  u.change_summary = "more";
  u.changed_fields = {"title", "content", "metadata"};
  u.version_number = 2;
  return {c,
          u,
          SessionPaused{"lunch"},
          SessionResumed{},
          SessionConverted{"project-1", {"wi-1", "wi-2"}},
          SessionArchived{},
          VersionRestored{1, 3, "# Golden\n- item"},
          VersionCreated{4, "snapshot", 7},
          SessionRemoved{}};
}

Event golden_event(std::uint64_t seq, EventPayload payload) {
  Event e;
  e.sequence = seq;
  e.session_id = "0193f5a2-7c00-7000-8000-000000000001";
  e.stream_version = static_cast<std::uint32_t>(seq);
  e.timestamp = Timestamp{std::chrono::nanoseconds{1735689600000000000LL +
                                                   static_cast<long long>(seq) * 1000}};
  e.actor = "alice";
  for (std::size_t i = 0; i < e.prev_hash.size(); ++i) {
    e.prev_hash[i] = static_cast<std::uint8_t>(seq * 31 + i);
  }
  e.payload = std::move(payload);
  return e;
}

struct Golden {
  std::uint64_t sequence;
  const char* hex;
};

const Golden kGoldenV1[] = {
    {1,
     "50534531000000000000000100000001000100011816687ec05703e80024000500000095b8fdd922"
     "f9dbbbc21f202122232425262728292a2b2c2d2e2f303132333435363738393a3b3c3d3ea139b81c"
     "ca58b53d30313933663561322d376330302d373030302d383030302d303030303030303030303031"
     "616c69636501010000000b00000000000000476f6c64656e20706c616e0400000000000000646573"
     "6305000000000000002f7265706f190000000000000068747470733a2f2f6578616d706c652e636f"
     "6d2f722e67697408000000000000002f7265706f2f7764010f000000000000002320476f6c64656e"
     "0a2d206974656d13000000000000007b227072696f72697479223a2268696768227d"},
    {2,
     "50534531000000000000000200000002000200011816687ec05707d0002400050000008d89adeec0"
     "accb7d9e3e3f404142434445464748494a4b4c4d4e4f505152535455565758595a5b5c5d739a3787"
     "45ab6eb530313933663561322d376330302d373030302d383030302d303030303030303030303031"
     "616c6963650101000000010d00000000000000476f6c64656e20706c616e20320000000001020000"
     "00000000007b7d0116000000000000002320476f6c64656e0a2d206974656d0a2d206d6f72650400"
     "0000000000006d6f7265030000000000000005000000000000007469746c65070000000000000063"
     "6f6e74656e7408000000000000006d6574616461746102000000"},
    {3,
     "50534531000000000000000300000003000300011816687ec0570bb800240005000000129b7207e9"
     "4f0c8d1b5d5e5f606162636465666768696a6b6c6d6e6f707172737475767778797a7b7c863768d9"
     "762fb1e030313933663561322d376330302d373030302d383030302d303030303030303030303031"
     "616c696365010100000005000000000000006c756e6368"},
    {4,
     "50534531000000000000000400000004000400011816687ec0570fa00024000500000005c671f09b"
     "c09af8f57c7d7e7f808182838485868788898a8b8c8d8e8f909192939495969798999a9bad6a41d8"
     "9fbf8daf30313933663561322d376330302d373030302d383030302d303030303030303030303031"
     "616c6963650101000000"},
    {5,
     "50534531000000000000000500000005000500011816687ec0571388002400050000003695fc3ea0"
     "901361509b9c9d9e9fa0a1a2a3a4a5a6a7a8a9aaabacadaeafb0b1b2b3b4b5b6b7b8b9ba10c27f07"
     "a1749b1630313933663561322d376330302d373030302d383030302d303030303030303030303031"
     "616c6963650101000000090000000000000070726f6a6563742d3102000000000000000400000000"
     "00000077692d31040000000000000077692d32"},
    {6,
     "50534531000000000000000600000006000600011816687ec05717700024000500000005c671f09b"
     "c09af8f5babbbcbdbebfc0c1c2c3c4c5c6c7c8c9cacbcccdcecfd0d1d2d3d4d5d6d7d8d9bb8e8043"
     "a2de7e3a30313933663561322d376330302d373030302d383030302d303030303030303030303031"
     "616c6963650101000000"},
    {7,
     "50534531000000000000000700000007000700011816687ec0571b5800240005000000244d86a2c6"
     "dfd1bbccd9dadbdcdddedfe0e1e2e3e4e5e6e7e8e9eaebecedeeeff0f1f2f3f4f5f6f7f81f2a45ce"
     "5d2e2eaa30313933663561322d376330302d373030302d383030302d303030303030303030303031"
     "616c696365010100000001000000030000000f000000000000002320476f6c64656e0a2d20697465"
     "6d"},
    {8,
     "50534531000000000000000800000008000800011816687ec0571f400024000500000021f9d30260"
     "eb6f7daaf8f9fafbfcfdfeff000102030405060708090a0b0c0d0e0f1011121314151617fcbbea41"
     "e40df10c30313933663561322d376330302d373030302d383030302d303030303030303030303031"
     "616c6963650101000000040000000800000000000000736e617073686f740700000000000000"},
    {9,
     "50534531000000000000000900000009000900011816687ec05723280024000500000005c671f09b"
     "c09af8f51718191a1b1c1d1e1f202122232425262728292a2b2c2d2e2f303132333435362ffc952f"
     "519711f230313933663561322d376330302d373030302d383030302d303030303030303030303031"
     "616c6963650101000000"},
};

}  // namespace

TEST_CASE("golden frames of every event type decode and re-encode byte for byte",
          "[codec][golden]") {
  const auto payloads = golden_payloads();
  REQUIRE(std::size(kGoldenV1) == payloads.size());
  for (std::size_t i = 0; i < payloads.size(); ++i) {
    const Golden& g = kGoldenV1[i];
    const std::string frame = unhex(g.hex);
    Event expected = golden_event(g.sequence, payloads[i]);
    INFO("golden #" << g.sequence << " " << to_string(event_type_of(payloads[i])));
    auto decoded = decode_event(g.sequence, frame);
    if (!decoded) FAIL(decoded.error().message);
    // These frames are schema 1 (full content), as the first release wrote them.
    const std::string reencoded =
        encode_event(expected, {.schema_version = kFullContentSchemaVersion});
    CHECK(*decoded == expected);
    CHECK(decoded->schema_version == 1);
    CHECK(hex_of(reencoded) == g.hex);
  }
}

TEST_CASE("the worked example of docs/FORMAT.md encodes as documented", "[codec][golden]") {
  Event e;
  e.sequence = 1;
  e.session_id = "0193f5a2-7c00-7000-8000-000000000001";
  e.stream_version = 1;
  e.timestamp = Timestamp{std::chrono::nanoseconds{1735689600000000000LL}};
  e.actor = "alice";
  e.payload = SessionPaused{"lunch"};
  const std::string frame = encode_event(e, {.schema_version = kFullContentSchemaVersion});
  CHECK(frame.size() == 143);
  const std::string hex = hex_of(frame);
  CHECK(hex.substr(0, 8) == "50534531");
  CHECK(hex.substr(8, 16) == "0000000000000001");
  CHECK(hex.substr(24, 8) == "00000001");
  CHECK(hex.substr(32, 4) == "0003");
  CHECK(hex.substr(36, 4) == "0001");
  CHECK(hex.substr(40, 16) == "1816687ec0570000");
  CHECK(hex.substr(56, 4) == "0024");
  CHECK(hex.substr(60, 4) == "0005");
  CHECK(hex.substr(64, 8) == "00000012");
  CHECK(hex.substr(72, 16) == "9b7207e94f0c8d1b");
  CHECK(hex.substr(88, 64) == std::string(64, '0'));
  CHECK(hex.substr(152, 16) == "4948380fd8835cff");
  CHECK(frame.substr(84, 36) == e.session_id);
  CHECK(frame.substr(120, 5) == "alice");
  CHECK(hex.substr(250) == "01" "01000000" "0500000000000000" "6c756e6368");
  const std::string sha = to_hex(sha256(frame));
  CHECK(sha.substr(0, 8) == "2a8f3c8c");
  CHECK(sha.substr(56) == "1bcf043a");
}

// --- Tampering with a stored log (hash chain, docs/FORMAT.md §5) ----------------

namespace {

struct TamperStore {
  TempDir dir;
  Options options;
  std::string id;
  TamperStore() {
    options = test_options(dir);
    auto m = open_store(options);
    CreateRequest r;
    r.title = "tamper";
    id = PLAN_OK(m->create(r)).id;  // 1
    for (int i = 0; i < 4; ++i) {
      PLAN_OK(m->pause(id, "reason " + std::to_string(i)));  // 2, 4, 6, 8
      PLAN_OK(m->resume(id));                                // 3, 5, 7, 9
    }
    PLAN_OK(m->pause(id, "last"));  // 10
  }
  // Decodes event `seq`, lets `edit` change it, re-encodes it with valid
  // checksums (its prev_hash kept) and stores it back.
  void reseal(std::uint64_t seq, const std::function<void(Event&)>& edit) {
    std::optional<std::string> frame;
    REQUIRE(raw::get(options.path, "log", raw::seq_key(seq), frame).empty());
    REQUIRE(frame.has_value());
    auto event = decode_event(seq, *frame);
    REQUIRE(event.has_value());
    edit(*event);
    const std::string bytes = encode_event(*event);
    REQUIRE(decode_event(seq, bytes).has_value());  // individually a valid frame
    REQUIRE(raw::put(options.path, "log", raw::seq_key(seq), bytes).empty());
  }
};

std::string issues_of(const VerifyReport& r) {
  std::string out;
  for (const auto& i : r.issues) out += "[" + std::to_string(i.sequence) + "] " + i.what + "; ";
  return out;
}

}  // namespace

TEST_CASE("an edited event with recomputed checksums breaks the hash chain", "[codec][tamper]") {
  TamperStore store;
  store.reseal(4, [](Event& e) { std::get<SessionPaused>(e.payload).reason = "forged"; });
  auto m = open_store(store.options);
  auto report = PLAN_OK(m->verify());
  INFO("issues: " << issues_of(report));
  CHECK_FALSE(report.ok());
  bool at_next = false;
  for (const auto& i : report.issues) at_next = at_next || i.sequence == 5;
  CHECK(at_next);
}

TEST_CASE("an edited last event is caught by the head record", "[codec][tamper]") {
  TamperStore store;
  store.reseal(10, [](Event& e) { e.actor = "mallory"; });
  auto opened = SessionManager::open(store.options);
  if (!opened) {
    CHECK(opened.error().code == ErrorCode::corruption);
    return;
  }
  auto report = PLAN_OK((*opened)->verify());
  INFO("issues: " << issues_of(report));
  CHECK_FALSE(report.ok());
}

TEST_CASE("verify passes on an untouched log and counts what it checked", "[codec][tamper]") {
  TamperStore store;
  auto m = open_store(store.options);
  auto report = PLAN_OK(m->verify());
  INFO("issues: " << issues_of(report));
  CHECK(report.ok());
  CHECK(report.events_checked == 10);
  CHECK(report.sessions_checked == 1);
}
