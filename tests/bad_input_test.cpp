// Bad input (docs/BAD_INPUT.md, docs/BEHAVIOUR.md "Limits"): every entry point rejects
// it with the documented ErrorCode, appends nothing and changes nothing.
#include <planning/planning.hpp>

#include <catch2/catch.hpp>

#include "support/temp_store.hpp"
#include "support/test_helpers.hpp"

using namespace planning;
using namespace planning::test;

namespace {

const std::string kUnknownId = "0190a000-0000-7000-8000-000000000000";

// A small store with a session in every status and a removed one.
struct Fixture {
  TempDir dir;
  ManualClock clock;
  std::unique_ptr<SessionManager> m;
  std::string active, paused, converted, archived, removed, empty;

  Fixture() {
    m = open_store(test_options(dir, &clock));
    active = make("active", "v1");
    PLAN_OK(m->update(active, UpdateRequest{.content = "v2"}));
    paused = make("paused", "p");
    PLAN_OK(m->pause(paused, "hold"));
    converted = make("converted", "c");
    ConvertRequest c;
    c.project_id = "proj";
    PLAN_OK(m->mark_converted(converted, c));
    archived = make("archived", std::nullopt);
    PLAN_OK(m->archive(archived));
    removed = make("removed", "r");
    PLAN_OK(m->remove(removed));
    empty = make("no content", std::nullopt);
  }

  std::string make(std::string title, std::optional<std::string> content) {
    CreateRequest r;
    r.title = std::move(title);
    r.initial_content = std::move(content);
    r.repository_path = "/repo";
    return PLAN_OK(m->create(r)).id;
  }
};

// Runs `op`, which must fail with `code`, and checks that nothing observable
// changed (head, sessions, versions, statistics, indexed queries).
template <typename F>
void check_rejected(Fixture& fx, ErrorCode code, F&& op) {
  const StoreState before = capture_state(*fx.m);
  auto result = op();
  if (result.has_value()) {
    FAIL_CHECK("the operation succeeded; expected " << to_string(code));
  } else {
    INFO("message: " << result.error().message);
    CHECK(result.error().code == code);
    CHECK_FALSE(result.error().message.empty());
    CHECK(result.error().message.find('\n') == std::string::npos);
  }
  CHECK_SAME_STATE(before, capture_state(*fx.m));
}

std::string bytes(std::size_t n, char c = 'x') { return std::string(n, c); }

}  // namespace

TEST_CASE("unknown and removed ids are not_found for every call", "[bad_input][ids]") {
  Fixture fx;
  auto& m = *fx.m;
  // Generators persist across runs while the fixture does not: pick by index.
  const int which = GENERATE(0, 1, 2, 3);
  const std::string id = which == 0   ? kUnknownId
                         : which == 1 ? fx.removed
                         : which == 2 ? std::string("not-a-uuid")
                                      : std::string();
  INFO("id '" << id << "'");
  const auto code = ErrorCode::not_found;

  check_rejected(fx, code, [&] { return m.get(id); });
  check_rejected(fx, code, [&] { return m.update(id, UpdateRequest{.title = "x"}); });
  check_rejected(fx, code, [&] { return m.pause(id, "r"); });
  check_rejected(fx, code, [&] { return m.resume(id); });
  check_rejected(fx, code, [&] { return m.archive(id); });
  check_rejected(fx, code, [&] { return m.mark_converted(id, ConvertRequest{.project_id = "p"}); });
  check_rejected(fx, code, [&] { return m.remove(id); });
  check_rejected(fx, code, [&] { return m.create_version(id, "s"); });
  check_rejected(fx, code, [&] { return m.get_versions(id); });
  check_rejected(fx, code, [&] { return m.get_version(id, 1); });
  check_rejected(fx, code, [&] { return m.compare_versions(id, 1, 1); });
  check_rejected(fx, code, [&] { return m.restore_version(id, 1); });
  check_rejected(fx, code, [&] { return SessionRecovery::restore_from_history(id, m); });
  if (id != fx.removed) {
    check_rejected(fx, code, [&] { return m.session_at(id, UINT64_MAX); });
    check_rejected(fx, code, [&] { return m.session_at_time(id, fx.clock.now()); });
  }
}

TEST_CASE("an empty or blank title is invalid_argument", "[bad_input][title]") {
  Fixture fx;
  auto& m = *fx.m;
  const std::string title = GENERATE(as<std::string>{}, "", " ", "   \t\n ", "\r\n");
  check_rejected(fx, ErrorCode::invalid_argument, [&] { return m.create({.title = title}); });
  check_rejected(fx, ErrorCode::invalid_argument,
                 [&] { return m.update(fx.active, UpdateRequest{.title = title}); });
}

TEST_CASE("an update that sets no field is invalid_argument", "[bad_input][update]") {
  Fixture fx;
  auto& m = *fx.m;
  check_rejected(fx, ErrorCode::invalid_argument, [&] { return m.update(fx.active, {}); });
  check_rejected(fx, ErrorCode::invalid_argument, [&] {
    UpdateRequest u;
    u.change_summary = "only a summary";
    u.updated_by = "someone";
    u.expected_stream_version = 2;
    return m.update(fx.active, u);
  });
}

TEST_CASE("invalid transitions and states are rejected", "[bad_input][state]") {
  Fixture fx;
  auto& m = *fx.m;
  check_rejected(fx, ErrorCode::invalid_transition, [&] { return m.resume(fx.active); });
  check_rejected(fx, ErrorCode::invalid_transition, [&] { return m.pause(fx.paused); });
  check_rejected(fx, ErrorCode::invalid_transition, [&] { return m.archive(fx.archived); });
  check_rejected(fx, ErrorCode::invalid_state,
                 [&] { return m.update(fx.converted, UpdateRequest{.title = "x"}); });
  check_rejected(fx, ErrorCode::invalid_state,
                 [&] { return m.mark_converted(fx.paused, ConvertRequest{.project_id = "p"}); });
}

TEST_CASE("version 0 is invalid_argument and versions out of range are not_found",
          "[bad_input][versions]") {
  Fixture fx;
  auto& m = *fx.m;
  check_rejected(fx, ErrorCode::invalid_argument, [&] { return m.get_version(fx.active, 0); });
  check_rejected(fx, ErrorCode::invalid_argument,
                 [&] { return m.compare_versions(fx.active, 0, 1); });
  check_rejected(fx, ErrorCode::invalid_argument,
                 [&] { return m.compare_versions(fx.active, 2, 0); });
  check_rejected(fx, ErrorCode::invalid_argument,
                 [&] { return m.restore_version(fx.active, 0); });
  check_rejected(fx, ErrorCode::not_found, [&] { return m.get_version(fx.active, 3); });
  check_rejected(fx, ErrorCode::not_found, [&] { return m.compare_versions(fx.active, 1, 3); });
  check_rejected(fx, ErrorCode::not_found, [&] { return m.restore_version(fx.active, 3); });
  check_rejected(fx, ErrorCode::not_found,
                 [&] { return m.restore_version(fx.active, UINT32_MAX); });
  check_rejected(fx, ErrorCode::not_found, [&] { return m.restore_version(fx.empty, 1); });
  check_rejected(fx, ErrorCode::not_found, [&] { return m.get_version(fx.empty, 1); });
}

TEST_CASE("a stale expected_stream_version is a conflict", "[bad_input][conflict]") {
  Fixture fx;
  auto& m = *fx.m;
  const auto current = PLAN_OK(m.get(fx.active)).stream_version;
  const int which = GENERATE(0, 1, 2, 3);
  const std::uint32_t expected = which == 0   ? current - 1
                                 : which == 1 ? current + 1
                                 : which == 2 ? 0u
                                              : UINT32_MAX;
  check_rejected(fx, ErrorCode::conflict, [&] {
    UpdateRequest u;
    u.content = "new";
    u.expected_stream_version = expected;
    return m.update(fx.active, u);
  });
}

TEST_CASE("each field over its limit is invalid_argument, and at the limit it is accepted",
          "[bad_input][limits]") {
  Fixture fx;
  auto& m = *fx.m;
  const auto bad = ErrorCode::invalid_argument;

  SECTION("create") {
    auto over = [&](auto set) {
      check_rejected(fx, bad, [&] {
        CreateRequest r;
        r.title = "t";
        set(r);
        return m.create(r);
      });
    };
    over([](CreateRequest& r) { r.title = bytes(limits::title + 1); });
    over([](CreateRequest& r) { r.description = bytes(limits::description + 1); });
    over([](CreateRequest& r) { r.repository_path = bytes(limits::repository_field + 1); });
    over([](CreateRequest& r) { r.repository_url = bytes(limits::repository_field + 1); });
    over([](CreateRequest& r) { r.working_directory = bytes(limits::repository_field + 1); });
    over([](CreateRequest& r) { r.initial_content = bytes(limits::content + 1); });
    over([](CreateRequest& r) { r.created_by = bytes(limits::actor + 1); });
    over([](CreateRequest& r) {
      r.metadata = {{"big", bytes(limits::metadata)}};
    });

    CreateRequest ok;
    ok.title = bytes(limits::title, 't');
    ok.description = bytes(limits::description, 'd');
    ok.repository_path = bytes(limits::repository_field, 'p');
    ok.repository_url = bytes(limits::repository_field, 'u');
    ok.working_directory = bytes(limits::repository_field, 'w');
    ok.created_by = bytes(limits::actor, 'a');
    ok.metadata = {{"big", bytes(limits::metadata - 1024)}};
    auto s = PLAN_OK(m.create(ok));
    CHECK(s.title == ok.title);
    CHECK(s.description == ok.description);
    CHECK(s.created_by == ok.created_by);
    CHECK(s.metadata == ok.metadata);
    CHECK(PLAN_OK(m.get(s.id)) == s);
  }
  SECTION("update") {
    auto over = [&](auto set) {
      check_rejected(fx, bad, [&] {
        UpdateRequest u;
        set(u);
        return m.update(fx.active, u);
      });
    };
    over([](UpdateRequest& u) { u.title = bytes(limits::title + 1); });
    over([](UpdateRequest& u) { u.description = bytes(limits::description + 1); });
    over([](UpdateRequest& u) { u.content = bytes(limits::content + 1); });
    over([](UpdateRequest& u) { u.repository_path = bytes(limits::repository_field + 1); });
    over([](UpdateRequest& u) { u.repository_url = bytes(limits::repository_field + 1); });
    over([](UpdateRequest& u) { u.working_directory = bytes(limits::repository_field + 1); });
    over([](UpdateRequest& u) { u.metadata = nlohmann::json{{"big", bytes(limits::metadata)}}; });
    over([](UpdateRequest& u) {
      u.content = "fine";
      u.change_summary = bytes(limits::change_summary + 1);
    });
    over([](UpdateRequest& u) {
      u.content = "fine";
      u.updated_by = bytes(limits::actor + 1);
    });

    UpdateRequest ok;
    ok.content = "fine";
    ok.change_summary = bytes(limits::change_summary, 's');
    ok.updated_by = bytes(limits::actor, 'b');
    auto s = PLAN_OK(m.update(fx.active, ok));
    CHECK(s.updated_by == ok.updated_by);
    CHECK(PLAN_OK(m.get_version(fx.active, 3)).change_summary == ok.change_summary);
  }
  SECTION("status changes") {
    check_rejected(fx, bad, [&] { return m.pause(fx.active, bytes(limits::pause_reason + 1)); });
    check_rejected(fx, bad, [&] { return m.pause(fx.active, "r", bytes(limits::actor + 1)); });
    check_rejected(fx, bad, [&] { return m.resume(fx.paused, bytes(limits::actor + 1)); });
    check_rejected(fx, bad, [&] { return m.archive(fx.active, bytes(limits::actor + 1)); });
    check_rejected(fx, bad, [&] { return m.remove(fx.active, bytes(limits::actor + 1)); });
    auto s = PLAN_OK(m.pause(fx.active, bytes(limits::pause_reason, 'r'), bytes(limits::actor)));
    CHECK(s.pause_reason.size() == limits::pause_reason);
  }
  SECTION("versions") {
    check_rejected(fx, bad, [&] {
      return m.create_version(fx.active, bytes(limits::change_summary + 1));
    });
    check_rejected(fx, bad,
                   [&] { return m.create_version(fx.active, "s", bytes(limits::actor + 1)); });
    check_rejected(fx, bad,
                   [&] { return m.restore_version(fx.active, 1, bytes(limits::actor + 1)); });
    PLAN_OK(m.create_version(fx.active, bytes(limits::change_summary, 's'), bytes(limits::actor)));
  }
  SECTION("conversion") {
    auto convert = [&](ConvertRequest c) {
      check_rejected(fx, bad, [&] { return m.mark_converted(fx.active, c); });
    };
    convert({.project_id = ""});
    convert({.project_id = bytes(limits::project_id + 1)});
    convert({.project_id = "p", .work_item_ids = {"ok", ""}});
    convert({.project_id = "p", .work_item_ids = {bytes(limits::work_item_id + 1)}});
    convert({.project_id = "p",
             .work_item_ids = std::vector<std::string>(limits::work_item_count + 1, "w")});
    convert({.project_id = "p", .converted_by = bytes(limits::actor + 1)});

    ConvertRequest ok;
    ok.project_id = bytes(limits::project_id, 'p');
    ok.work_item_ids.assign(limits::work_item_count, bytes(limits::work_item_id, 'w'));
    ok.converted_by = bytes(limits::actor, 'c');
    auto s = PLAN_OK(m.mark_converted(fx.active, ok));
    CHECK(s.work_item_ids.size() == limits::work_item_count);
    CHECK(PLAN_OK(m.get(fx.active)) == s);
  }
}

TEST_CASE("limits count bytes, not characters", "[bad_input][limits]") {
  Fixture fx;
  auto& m = *fx.m;
  std::string at_limit, over_limit;
  for (std::size_t i = 0; i < limits::title / 2; ++i) at_limit += "\xc3\xa9";  // é
  over_limit = at_limit + "\xc3\xa9";
  check_rejected(fx, ErrorCode::invalid_argument, [&] { return m.create({.title = over_limit}); });
  auto s = PLAN_OK(m.create({.title = at_limit}));
  CHECK(s.title == at_limit);
}

TEST_CASE("content at the 16 MiB limit is accepted", "[bad_input][limits][slow]") {
  Fixture fx;
  auto& m = *fx.m;
  CreateRequest r;
  r.title = "huge";
  r.initial_content = bytes(limits::content, 'z');
  auto s = PLAN_OK(m.create(r));
  CHECK(s.content.size() == limits::content);
  CHECK(PLAN_OK(m.get_version(s.id, 1)).content.size() == limits::content);
  require_verified(m);
}

TEST_CASE("metadata that is not a JSON object is invalid_argument", "[bad_input][metadata]") {
  Fixture fx;
  auto& m = *fx.m;
  const nlohmann::json value =
      GENERATE(nlohmann::json::array({1, 2}), nlohmann::json(42), nlohmann::json(1.5),
               nlohmann::json("text"), nlohmann::json(true), nlohmann::json(nullptr));
  INFO("metadata " << value.dump());
  check_rejected(fx, ErrorCode::invalid_argument, [&] {
    CreateRequest r;
    r.title = "t";
    r.metadata = value;
    return m.create(r);
  });
  check_rejected(fx, ErrorCode::invalid_argument,
                 [&] { return m.update(fx.active, UpdateRequest{.metadata = value}); });
}

TEST_CASE("invalid UTF-8 in any text field is invalid_argument", "[bad_input][utf8]") {
  Fixture fx;
  auto& m = *fx.m;
  const std::string bad_text = GENERATE(as<std::string>{}, "\xff", "abc\xc3", "\xc0\xaf",
                                        "\xed\xa0\x80", "ok\x80ok", "\xf4\x90\x80\x80");
  INFO("bytes of length " << bad_text.size());
  const auto bad = ErrorCode::invalid_argument;

  auto create_with = [&](auto set) {
    check_rejected(fx, bad, [&] {
      CreateRequest r;
      r.title = "t";
      set(r);
      return m.create(r);
    });
  };
  create_with([&](CreateRequest& r) { r.title = bad_text; });
  create_with([&](CreateRequest& r) { r.description = bad_text; });
  create_with([&](CreateRequest& r) { r.repository_path = bad_text; });
  create_with([&](CreateRequest& r) { r.repository_url = bad_text; });
  create_with([&](CreateRequest& r) { r.working_directory = bad_text; });
  create_with([&](CreateRequest& r) { r.initial_content = bad_text; });
  create_with([&](CreateRequest& r) { r.created_by = bad_text; });
  create_with([&](CreateRequest& r) { r.metadata = {{"k", bad_text}}; });
  create_with([&](CreateRequest& r) { r.metadata = {{bad_text, "v"}}; });

  check_rejected(fx, bad, [&] { return m.update(fx.active, UpdateRequest{.content = bad_text}); });
  check_rejected(fx, bad, [&] { return m.update(fx.active, UpdateRequest{.title = bad_text}); });
  check_rejected(fx, bad, [&] {
    UpdateRequest u;
    u.content = "fine";
    u.change_summary = bad_text;
    return m.update(fx.active, u);
  });
  check_rejected(fx, bad, [&] { return m.pause(fx.active, bad_text); });
  check_rejected(fx, bad, [&] { return m.pause(fx.active, "r", bad_text); });
  check_rejected(fx, bad,
                 [&] { return m.mark_converted(fx.active, ConvertRequest{.project_id = bad_text}); });
  check_rejected(fx, bad, [&] {
    return m.mark_converted(fx.active,
                            ConvertRequest{.project_id = "p", .work_item_ids = {bad_text}});
  });
  check_rejected(fx, bad, [&] { return m.create_version(fx.active, bad_text); });
}

TEST_CASE("valid multi-byte UTF-8 round-trips", "[bad_input][utf8]") {
  Fixture fx;
  auto& m = *fx.m;
  CreateRequest r;
  r.title = "Plan \xe2\x80\x94 caf\xc3\xa9 \xf0\x9f\x9a\x80";
  r.initial_content = "# \xe6\x97\xa5\xe6\x9c\xac\n";
  r.metadata = {{"\xc3\xa9t\xc3\xa9", "\xf0\x9f\x98\x80"}};
  auto s = PLAN_OK(m.create(r));
  CHECK(PLAN_OK(m.get(s.id)) == s);
  CHECK(s.title == r.title);
  CHECK(s.metadata == r.metadata);
}

TEST_CASE("text parsers reject malformed input", "[bad_input][parse]") {
  for (const char* text : {"", "not a date", "2025-13-01", "2025-02-30", "2025-01-01T25:00Z",
                           "2025/01/01", "20250101", "9999-12-31", "0001-01-01T00:00:00Z",
                           "1677-12-31", "2262-01-01T00:00Z", "+2025-01-01", "-001-01-01"}) {
    INFO("'" << text << "'");
    auto r = parse_timestamp(text);
    REQUIRE_FALSE(r.has_value());
    CHECK(r.error().code == ErrorCode::invalid_argument);
  }
  CHECK(PLAN_OK(parse_timestamp("2025-01-01")) == date_utc(2025, 1, 1));
  CHECK(PLAN_OK(parse_timestamp("2025-01-01T01:00:00Z")) ==
        date_utc(2025, 1, 1) + std::chrono::hours(1));
  CHECK(PLAN_OK(parse_timestamp("2025-01-01T02:00:00+01:00")) ==
        date_utc(2025, 1, 1) + std::chrono::hours(1));
  const auto t = date_utc(2025, 3, 4) + std::chrono::microseconds(123456);
  CHECK(PLAN_OK(parse_timestamp(format_timestamp(t))) == t);
  // The ends of the supported years (int64 nanoseconds since 1970).
  CHECK(PLAN_OK(parse_timestamp("1678-01-01")) == date_utc(1678, 1, 1));
  CHECK(PLAN_OK(parse_timestamp("2261-12-31T23:59:59.999999999Z")) ==
        date_utc(2262, 1, 1) - std::chrono::nanoseconds(1));
  CHECK_THAT(parse_timestamp("9999-12-31").error().message,
             Catch::Matchers::Contains("supported years 1678 to 2261"));

  REQUIRE_ERROR_CODE(ErrorCode::invalid_argument, parse_status("Active"));
  REQUIRE_ERROR_CODE(ErrorCode::invalid_argument, parse_status(""));
  CHECK(PLAN_OK(parse_status("converted")) == Status::converted);
  REQUIRE_ERROR_CODE(ErrorCode::invalid_argument, parse_event_type("exploded"));
  CHECK(PLAN_OK(parse_event_type("paused")) == EventType::session_paused);
  CHECK(PLAN_OK(parse_event_type("version_restored")) == EventType::version_restored);
  REQUIRE_ERROR_CODE(ErrorCode::invalid_argument, parse_order_by("size"));
  CHECK(PLAN_OK(parse_order_by("title")) == OrderBy::title);
}

TEST_CASE("projection names and lookups are validated", "[bad_input][projections]") {
  Fixture fx;
  auto& m = *fx.m;
  struct Named : Projection {
    explicit Named(std::string n) : n_(std::move(n)) {}
    std::string name() const override { return n_; }
    std::uint32_t schema_version() const override { return 1; }
    void apply(const Event&, ProjectionStore&) override {}
    std::string n_;
  };
  const std::string name = GENERATE(as<std::string>{}, "", "Upper", "has space", "a/b",
                                    "user:x", std::string(65, 'a'));
  INFO("name '" << name << "'");
  check_rejected(fx, ErrorCode::invalid_argument,
                 [&] { return m.register_projection(std::make_shared<Named>(name)); });
  check_rejected(fx, ErrorCode::not_found, [&] { return m.projection_value("nope", "key"); });
}

TEST_CASE("opening a missing store without create_if_missing fails", "[bad_input][open]") {
  TempDir dir;
  Options options = test_options(dir);
  options.create_if_missing = false;
  auto r = SessionManager::open(options);
  REQUIRE_FALSE(r.has_value());
  CHECK(r.error().code == ErrorCode::storage);
  CHECK_FALSE(std::filesystem::exists(options.path));
}

TEST_CASE("store files are created with owner-only permissions", "[bad_input][open]") {
  TempDir dir;
  Options options = test_options(dir);
  { auto m = open_store(options); }
  {
    using P = std::filesystem::perms;
    const auto perms = std::filesystem::status(options.path).permissions();
    CHECK((perms & (P::group_all | P::others_all)) == P::none);  // directory 0700
  }
  for (const char* file : {"data.mdb", "lock.mdb"}) {
    INFO(file);
    const auto perms = std::filesystem::status(options.path / file).permissions();
    using P = std::filesystem::perms;
    CHECK((perms & (P::group_all | P::others_all)) == P::none);
  }
}

TEST_CASE("metadata is limited by its serialized size", "[bad_input][limits]") {
  Fixture fx;
  auto& m = *fx.m;
  // {"k":"<n bytes>"} serializes to n + 8 bytes.
  const nlohmann::json at_limit = {{"k", bytes(limits::metadata - 8)}};
  REQUIRE(at_limit.dump().size() == limits::metadata);
  const nlohmann::json over = {{"k", bytes(limits::metadata - 7)}};
  check_rejected(fx, ErrorCode::invalid_argument,
                 [&] { return m.update(fx.active, UpdateRequest{.metadata = over}); });
  auto s = PLAN_OK(m.update(fx.active, UpdateRequest{.metadata = at_limit}));
  CHECK(s.metadata == at_limit);
}

TEST_CASE("a write that cannot fit under max_map_size fails with storage and changes nothing",
          "[bad_input][faults]") {
  TempDir dir;
  Options options = test_options(dir);
  options.initial_map_size = std::size_t{1} << 20;
  options.max_map_size = std::size_t{4} << 20;
  auto m = open_store(options);
  const auto id = PLAN_OK(m->create({.title = "small"})).id;

  // Each create logs ~1.5 MiB; the 4 MiB ceiling stops it after a couple.
  Error failure{};
  bool failed = false;
  for (int i = 0; i < 8 && !failed; ++i) {
    const StoreState before = capture_state(*m);
    CreateRequest r;
    r.title = "big " + std::to_string(i);
    r.initial_content = std::string(std::size_t{3} << 19, static_cast<char>('a' + i));
    auto res = m->create(r);
    if (!res) {
      failed = true;
      failure = res.error();
      CHECK_SAME_STATE(before, capture_state(*m));
    }
  }
  REQUIRE(failed);
  INFO(failure.message);
  CHECK(failure.code == ErrorCode::storage);
  // Reads still work and the log is intact.
  CHECK(PLAN_OK(m->get(id)).title == "small");
  require_verified(*m);
  m.reset();
  auto reopened = open_store(options);
  CHECK(PLAN_OK(reopened->get(id)).title == "small");
}
