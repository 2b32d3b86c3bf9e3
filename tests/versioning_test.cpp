// Versioning rules: docs/BEHAVIOUR.md ("Sessions") and the README.
#include <planning/planning.hpp>

#include <atomic>
#include <thread>

#include <catch2/catch.hpp>

#include "support/temp_store.hpp"
#include "support/test_helpers.hpp"

using namespace planning;
using namespace planning::test;

namespace {

std::string create_session(SessionManager& m, std::optional<std::string> content,
                           std::string by = "author") {
  CreateRequest r;
  r.title = "versioned";
  r.initial_content = std::move(content);
  r.created_by = std::move(by);
  return PLAN_OK(m.create(r)).id;
}

Session set_content(SessionManager& m, const std::string& id, std::string content,
                    std::string summary = {}, std::string by = {}) {
  UpdateRequest u;
  u.content = std::move(content);
  u.change_summary = std::move(summary);
  u.updated_by = std::move(by);
  return PLAN_OK(m.update(id, u));
}

Event event_at(const SessionManager& m, std::uint64_t seq) {
  EventQuery q;
  q.from_sequence = seq;
  q.to_sequence = seq;
  auto events = PLAN_OK(m.events(q));
  REQUIRE(events.size() == 1);
  return events[0];
}

Event last_event(const SessionManager& m) { return event_at(m, head_of(m)); }

}  // namespace

TEST_CASE("create without initial content has no version", "[versions][create]") {
  TempDir dir;
  ManualClock clock;
  auto manager = open_store(test_options(dir, &clock));
  const auto id = create_session(*manager, std::nullopt);
  auto s = PLAN_OK(manager->get(id));
  CHECK(s.current_version == 0);
  CHECK(s.content.empty());
  CHECK(PLAN_OK(manager->get_versions(id)).empty());
  REQUIRE_ERROR_CODE(ErrorCode::not_found, manager->get_version(id, 1));
  REQUIRE_ERROR_CODE(ErrorCode::invalid_argument, manager->get_version(id, 0));
  auto created = std::get<SessionCreated>(last_event(*manager).payload);
  CHECK_FALSE(created.initial_content.has_value());
}

TEST_CASE("create with initial content makes version 1", "[versions][create]") {
  TempDir dir;
  ManualClock clock;
  auto manager = open_store(test_options(dir, &clock));

  SECTION("non-empty content") {
    const auto id = create_session(*manager, "# Plan\n- step", "alice");
    auto s = PLAN_OK(manager->get(id));
    CHECK(s.current_version == 1);
    CHECK(s.content == "# Plan\n- step");
    auto versions = PLAN_OK(manager->get_versions(id));
    REQUIRE(versions.size() == 1);
    const Version& v = versions[0];
    CHECK(v.session_id == id);
    CHECK(v.version_number == 1);
    CHECK(v.content == "# Plan\n- step");
    CHECK(v.change_summary == "Initial version");
    CHECK(v.changed_fields == std::vector<std::string>{"content"});
    CHECK(v.created_by == "alice");
    CHECK(v.created_at == s.created_at);
    CHECK(v.event_seq == 1);
    CHECK(PLAN_OK(manager->get_version(id, 1)) == v);
  }
  SECTION("present but empty content still makes version 1") {
    const auto id = create_session(*manager, std::string{});
    auto s = PLAN_OK(manager->get(id));
    CHECK(s.current_version == 1);
    auto versions = PLAN_OK(manager->get_versions(id));
    REQUIRE(versions.size() == 1);
    CHECK(versions[0].content.empty());
  }
  SECTION("version numbers are per session") {
    const auto a = create_session(*manager, "a1");
    const auto b = create_session(*manager, "b1");
    set_content(*manager, a, "a2");
    set_content(*manager, b, "b2");
    set_content(*manager, b, "b3");
    CHECK(PLAN_OK(manager->get(a)).current_version == 2);
    CHECK(PLAN_OK(manager->get(b)).current_version == 3);
    CHECK(PLAN_OK(manager->get_version(a, 2)).content == "a2");
    CHECK(PLAN_OK(manager->get_version(b, 2)).content == "b2");
    REQUIRE_ERROR_CODE(ErrorCode::not_found, manager->get_version(a, 3));
  }
}

TEST_CASE("with auto_version every content change makes the next version",
          "[versions][auto_version]") {
  TempDir dir;
  ManualClock clock;
  auto manager = open_store(test_options(dir, &clock));
  const auto id = create_session(*manager, "one");

  auto s2 = set_content(*manager, id, "two", "second draft", "bob");
  CHECK(s2.current_version == 2);
  CHECK(s2.content == "two");
  auto s3 = set_content(*manager, id, "three", "");  // an empty summary is allowed
  CHECK(s3.current_version == 3);

  auto versions = PLAN_OK(manager->get_versions(id));
  REQUIRE(versions.size() == 3);
  CHECK(versions[1].content == "two");
  CHECK(versions[1].change_summary == "second draft");
  CHECK(versions[1].created_by == "bob");
  CHECK(versions[1].created_at == s2.updated_at);
  CHECK(versions[2].content == "three");
  CHECK(versions[2].change_summary.empty());

  auto updated = std::get<SessionUpdated>(last_event(*manager).payload);
  CHECK(updated.version_number == 3);
  CHECK(updated.content == std::optional<std::string>("three"));

  SECTION("an update with identical content makes no version and appends nothing") {
    const auto head = head_of(*manager);
    const auto before = PLAN_OK(manager->get(id));
    auto same = PLAN_OK(manager->update(id, UpdateRequest{.content = "three"}));
    CHECK(same == before);
    CHECK(head_of(*manager) == head);
    CHECK(PLAN_OK(manager->get_versions(id)).size() == 3);
  }
  SECTION("identical content with a new title: an event, but no version") {
    const auto head = head_of(*manager);
    UpdateRequest u;
    u.content = "three";
    u.title = "new title";
    auto s = PLAN_OK(manager->update(id, u));
    CHECK(head_of(*manager) == head + 1);
    CHECK(s.current_version == 3);
    CHECK(s.title == "new title");
    CHECK(PLAN_OK(manager->get_versions(id)).size() == 3);
    auto ev = std::get<SessionUpdated>(last_event(*manager).payload);
    CHECK(ev.version_number == 0);
    CHECK(ev.changed_fields == std::vector<std::string>{"title"});
    CHECK_FALSE(ev.content.has_value());
  }
  SECTION("the first content of a session created empty is version 1") {
    const auto empty = create_session(*manager, std::nullopt);
    auto s = set_content(*manager, empty, "now with content", "first words");
    CHECK(s.current_version == 1);
    auto v = PLAN_OK(manager->get_version(empty, 1));
    CHECK(v.content == "now with content");
    CHECK(v.change_summary == "first words");
  }
}

TEST_CASE("changed_fields lists the fields that differ in the documented order",
          "[versions][changed_fields]") {
  TempDir dir;
  ManualClock clock;
  auto manager = open_store(test_options(dir, &clock));
  CreateRequest r;
  r.title = "t";
  r.description = "d";
  r.repository_path = "/p";
  r.initial_content = "c1";
  const auto id = PLAN_OK(manager->create(r)).id;

  SECTION("every field at once") {
    UpdateRequest u;
    u.metadata = nlohmann::json{{"k", 1}};
    u.working_directory = "/p/w";
    u.repository_url = "https://example.com/r";
    u.repository_path = "/p2";
    u.content = "c2";
    u.description = "d2";
    u.title = "t2";
    auto s = PLAN_OK(manager->update(id, u));
    const std::vector<std::string> all = {"title",           "description",    "content",
                                          "repository_path", "repository_url", "working_directory",
                                          "metadata"};
    CHECK(PLAN_OK(manager->get_version(id, 2)).changed_fields == all);
    CHECK(std::get<SessionUpdated>(last_event(*manager).payload).changed_fields == all);
    CHECK(s.title == "t2");
    CHECK(s.description == "d2");
    CHECK(s.content == "c2");
    CHECK(s.repository_path == "/p2");
    CHECK(s.repository_url == "https://example.com/r");
    CHECK(s.working_directory == "/p/w");
    CHECK(s.metadata == nlohmann::json{{"k", 1}});
  }
  SECTION("fields set to their current value are not listed") {
    UpdateRequest u;
    u.title = "t";        // unchanged
    u.description = "d";  // unchanged
    u.content = "c2";
    u.repository_path = "/p3";
    PLAN_OK(manager->update(id, u));
    CHECK(PLAN_OK(manager->get_version(id, 2)).changed_fields ==
          std::vector<std::string>{"content", "repository_path"});
    auto ev = std::get<SessionUpdated>(last_event(*manager).payload);
    CHECK_FALSE(ev.title.has_value());
    CHECK_FALSE(ev.description.has_value());
    CHECK(ev.repository_path == std::optional<std::string>("/p3"));
  }
}

TEST_CASE("non-content updates append an event and touch updated_at but make no version",
          "[versions][metadata]") {
  TempDir dir;
  ManualClock clock;
  auto manager = open_store(test_options(dir, &clock));
  const auto id = create_session(*manager, "body");
  const auto before = PLAN_OK(manager->get(id));
  const auto versions_before = PLAN_OK(manager->get_versions(id));
  const auto head = head_of(*manager);

  UpdateRequest u;
  u.updated_by = "editor";
  const std::string field = GENERATE(as<std::string>{}, "title", "description", "repository_path",
                                     "repository_url", "working_directory", "metadata");
  if (field == "title") u.title = "other title";
  if (field == "description") u.description = "other description";
  if (field == "repository_path") u.repository_path = "/elsewhere";
  if (field == "repository_url") u.repository_url = "https://example.com/x";
  if (field == "working_directory") u.working_directory = "/tmp/work";
  if (field == "metadata") u.metadata = nlohmann::json{{"priority", "high"}, {"nested", {{"a", 1}}}};

  auto after = PLAN_OK(manager->update(id, u));
  CHECK(head_of(*manager) == head + 1);
  CHECK(after.updated_at > before.updated_at);
  CHECK(after.updated_by == "editor");
  CHECK(after.current_version == before.current_version);
  CHECK(after.content == before.content);
  CHECK(after.stream_version == before.stream_version + 1);
  CHECK(PLAN_OK(manager->get_versions(id)) == versions_before);
  CHECK(PLAN_OK(manager->get(id)) == after);

  const Event ev = last_event(*manager);
  CHECK(ev.type == EventType::session_updated);
  CHECK(ev.session_id == id);
  CHECK(ev.actor == "editor");
  const auto& payload = std::get<SessionUpdated>(ev.payload);
  CHECK(payload.version_number == 0);
  CHECK(payload.changed_fields == std::vector<std::string>{field});
}

TEST_CASE("metadata updates replace the whole object", "[versions][metadata]") {
  TempDir dir;
  ManualClock clock;
  auto manager = open_store(test_options(dir, &clock));
  CreateRequest r;
  r.title = "meta";
  r.metadata = {{"a", 1}, {"b", 2}};
  const auto id = PLAN_OK(manager->create(r)).id;
  auto s = PLAN_OK(manager->update(id, UpdateRequest{.metadata = nlohmann::json{{"c", 3}}}));
  CHECK(s.metadata == nlohmann::json{{"c", 3}});
  s = PLAN_OK(manager->update(id, UpdateRequest{.metadata = nlohmann::json::object()}));
  CHECK(s.metadata == nlohmann::json::object());
}

TEST_CASE("last_activity_at moves only with work on the document", "[versions][timestamps]") {
  TempDir dir;
  ManualClock clock;
  auto manager = open_store(test_options(dir, &clock));
  const auto id = create_session(*manager, "doc");
  auto s = PLAN_OK(manager->get(id));
  CHECK(s.last_activity_at == s.created_at);

  auto u = set_content(*manager, id, "doc 2");
  CHECK(u.last_activity_at == u.updated_at);
  CHECK(u.last_activity_at > s.last_activity_at);

  auto p = PLAN_OK(manager->pause(id));
  CHECK(p.last_activity_at == u.last_activity_at);
  CHECK(p.updated_at > u.updated_at);

  auto r = PLAN_OK(manager->resume(id));
  CHECK(r.last_activity_at == r.updated_at);

  auto v = PLAN_OK(manager->create_version(id));
  auto after_cv = PLAN_OK(manager->get(id));
  CHECK(after_cv.last_activity_at == after_cv.updated_at);
  CHECK(after_cv.last_activity_at == v.created_at);

  auto rv = PLAN_OK(manager->restore_version(id, 1));
  CHECK(rv.last_activity_at == rv.updated_at);

  ConvertRequest c;
  c.project_id = "p";
  auto conv = PLAN_OK(manager->mark_converted(id, c));
  CHECK(conv.last_activity_at == rv.last_activity_at);
  auto arch = PLAN_OK(manager->archive(id));
  CHECK(arch.last_activity_at == rv.last_activity_at);
  CHECK(arch.created_at == s.created_at);
}

TEST_CASE("with auto_version off content changes make no version until create_version",
          "[versions][manual]") {
  TempDir dir;
  ManualClock clock;
  Options options = test_options(dir, &clock);
  options.auto_version = false;
  auto manager = open_store(options);

  const auto id = create_session(*manager, "draft 1");
  CHECK(PLAN_OK(manager->get(id)).current_version == 1);  // creation still makes v1

  auto s = set_content(*manager, id, "draft 2", "ignored summary");
  CHECK(s.content == "draft 2");
  CHECK(s.current_version == 1);
  s = set_content(*manager, id, "draft 3");
  CHECK(s.current_version == 1);
  CHECK(PLAN_OK(manager->get_versions(id)).size() == 1);
  CHECK(std::get<SessionUpdated>(last_event(*manager).payload).version_number == 0);

  const auto head = head_of(*manager);
  auto v = PLAN_OK(manager->create_version(id, "snapshot", "carol"));
  CHECK(head_of(*manager) == head + 1);
  CHECK(v.session_id == id);
  CHECK(v.version_number == 2);
  CHECK(v.content == "draft 3");
  CHECK(v.change_summary == "snapshot");
  CHECK(v.created_by == "carol");
  CHECK(v.event_seq == head + 1);
  CHECK(PLAN_OK(manager->get_version(id, 2)) == v);
  auto after = PLAN_OK(manager->get(id));
  CHECK(after.current_version == 2);
  CHECK(after.content == "draft 3");
  CHECK(after.updated_by == "carol");

  const Event ev = last_event(*manager);
  CHECK(ev.type == EventType::version_created);
  const auto& payload = std::get<VersionCreated>(ev.payload);
  CHECK(payload.version_number == 2);
  CHECK(payload.change_summary == "snapshot");

  SECTION("create_version of unchanged content still makes a version") {
    auto again = PLAN_OK(manager->create_version(id, "again"));
    CHECK(again.version_number == 3);
    CHECK(again.content == "draft 3");
  }
  SECTION("restore_version still makes a version") {
    auto r = PLAN_OK(manager->restore_version(id, 1));
    CHECK(r.current_version == 3);
    CHECK(r.content == "draft 1");
    CHECK(PLAN_OK(manager->get_version(id, 3)).change_summary == "Restored from version 1");
  }
  SECTION("create_version without any content snapshots the empty document") {
    const auto empty = create_session(*manager, std::nullopt);
    auto ev1 = PLAN_OK(manager->create_version(empty, "empty"));
    CHECK(ev1.version_number == 1);
    CHECK(ev1.content.empty());
    CHECK(PLAN_OK(manager->get(empty)).current_version == 1);
  }
  SECTION("the setting is per open: reopening with auto_version on versions again") {
    Options on = manager->options();
    on.auto_version = true;
    manager.reset();
    manager = open_store(on);
    auto s2 = set_content(*manager, id, "draft 4");
    CHECK(s2.current_version == 3);
  }
}

TEST_CASE("create_version with auto_version on snapshots the current content",
          "[versions][manual]") {
  TempDir dir;
  ManualClock clock;
  auto manager = open_store(test_options(dir, &clock));
  const auto id = create_session(*manager, "x");
  set_content(*manager, id, "y");
  auto v = PLAN_OK(manager->create_version(id, "checkpoint"));
  CHECK(v.version_number == 3);
  CHECK(v.content == "y");
  CHECK(PLAN_OK(manager->get_version(id, 2)).content == "y");
}

TEST_CASE("restoring a version appends a new version", "[versions][restore]") {
  TempDir dir;
  ManualClock clock;
  auto manager = open_store(test_options(dir, &clock));
  const auto id = create_session(*manager, "alpha");
  set_content(*manager, id, "beta", "b");
  set_content(*manager, id, "gamma", "c");
  const auto history = PLAN_OK(manager->get_versions(id));
  REQUIRE(history.size() == 3);

  const auto head = head_of(*manager);
  auto s = PLAN_OK(manager->restore_version(id, 1, "restorer"));
  CHECK(head_of(*manager) == head + 1);
  CHECK(s.current_version == 4);
  CHECK(s.content == "alpha");
  CHECK(s.updated_by == "restorer");
  CHECK(PLAN_OK(manager->get(id)) == s);

  auto versions = PLAN_OK(manager->get_versions(id));
  REQUIRE(versions.size() == 4);
  CHECK(std::vector<Version>(versions.begin(), versions.begin() + 3) == history);
  const Version& v4 = versions[3];
  CHECK(v4.version_number == 4);
  CHECK(v4.content == "alpha");
  CHECK(v4.change_summary == "Restored from version 1");
  CHECK(v4.changed_fields == std::vector<std::string>{"content"});
  CHECK(v4.created_by == "restorer");
  CHECK(v4.event_seq == head + 1);

  const Event ev = last_event(*manager);
  CHECK(ev.type == EventType::version_restored);
  const auto& payload = std::get<VersionRestored>(ev.payload);
  CHECK(payload.restored_from == 1);
  CHECK(payload.version_number == 4);
  CHECK(payload.content == "alpha");

  SECTION("restoring the latest version still makes a new one") {
    auto again = PLAN_OK(manager->restore_version(id, 4));
    CHECK(again.current_version == 5);
    CHECK(again.content == "alpha");
    CHECK(PLAN_OK(manager->get_version(id, 5)).change_summary == "Restored from version 4");
  }
  SECTION("a restored version can itself be restored and compared") {
    set_content(*manager, id, "delta");
    auto back = PLAN_OK(manager->restore_version(id, 4));
    CHECK(back.content == "alpha");
    CHECK(back.current_version == 6);
    auto diff = PLAN_OK(manager->compare_versions(id, 1, 6));
    CHECK(diff.lines_added == 0);
    CHECK(diff.lines_removed == 0);
  }
  SECTION("version 0 and versions beyond the latest are rejected") {
    const auto h = head_of(*manager);
    REQUIRE_ERROR_CODE(ErrorCode::invalid_argument, manager->restore_version(id, 0));
    REQUIRE_ERROR_CODE(ErrorCode::not_found, manager->restore_version(id, 5));
    CHECK(head_of(*manager) == h);
  }
}

TEST_CASE("compare_versions counts lines and renders a unified diff", "[versions][diff]") {
  TempDir dir;
  ManualClock clock;
  auto manager = open_store(test_options(dir, &clock));
  const auto id = create_session(*manager, "line1\nold line\nline3");
  set_content(*manager, id, "line1\nnew line\nline3\nline4");

  SECTION("older to newer") {
    auto d = PLAN_OK(manager->compare_versions(id, 1, 2));
    CHECK(d.from_version == 1);
    CHECK(d.to_version == 2);
    CHECK(d.lines_added == 2);
    CHECK(d.lines_removed == 1);
    CHECK(d.lines_unchanged == 2);
    CHECK_THAT(d.unified, Catch::Contains("-old line"));
    CHECK_THAT(d.unified, Catch::Contains("+new line"));
    CHECK_THAT(d.unified, Catch::Contains("+line4"));
    CHECK_THAT(d.unified, Catch::Contains("--- version 1"));
    CHECK_THAT(d.unified, Catch::Contains("+++ version 2"));
    CHECK_THAT(d.unified, !Catch::Contains("-line1"));
  }
  SECTION("newer to older") {
    auto d = PLAN_OK(manager->compare_versions(id, 2, 1));
    CHECK(d.from_version == 2);
    CHECK(d.to_version == 1);
    CHECK(d.lines_added == 1);
    CHECK(d.lines_removed == 2);
    CHECK(d.lines_unchanged == 2);
    CHECK_THAT(d.unified, Catch::Contains("-new line"));
    CHECK_THAT(d.unified, Catch::Contains("+old line"));
    CHECK_THAT(d.unified, Catch::Contains("-line4"));
    CHECK_THAT(d.unified, Catch::Contains("--- version 2"));
    CHECK_THAT(d.unified, Catch::Contains("+++ version 1"));
  }
  SECTION("a version with itself") {
    auto d = PLAN_OK(manager->compare_versions(id, 2, 2));
    CHECK(d.lines_added == 0);
    CHECK(d.lines_removed == 0);
    CHECK(d.lines_unchanged == 4);
    CHECK_THAT(d.unified, !Catch::Contains("+new line"));
    CHECK_THAT(d.unified, !Catch::Contains("-new line"));
  }
  SECTION("bad version numbers") {
    REQUIRE_ERROR_CODE(ErrorCode::invalid_argument, manager->compare_versions(id, 0, 1));
    REQUIRE_ERROR_CODE(ErrorCode::invalid_argument, manager->compare_versions(id, 1, 0));
    REQUIRE_ERROR_CODE(ErrorCode::not_found, manager->compare_versions(id, 1, 3));
    REQUIRE_ERROR_CODE(ErrorCode::not_found, manager->compare_versions(id, 3, 1));
  }
  SECTION("comparing is a read: nothing is appended") {
    const auto h = head_of(*manager);
    PLAN_OK(manager->compare_versions(id, 1, 2));
    CHECK(head_of(*manager) == h);
  }
}

TEST_CASE("compare_versions with a completely rewritten document", "[versions][diff]") {
  TempDir dir;
  ManualClock clock;
  auto manager = open_store(test_options(dir, &clock));
  const auto id = create_session(*manager, "a\nb\nc");
  set_content(*manager, id, "x\ny");
  auto d = PLAN_OK(manager->compare_versions(id, 1, 2));
  CHECK(d.lines_added == 2);
  CHECK(d.lines_removed == 3);
  CHECK(d.lines_unchanged == 0);
  for (const char* line : {"-a", "-b", "-c", "+x", "+y"}) {
    CHECK_THAT(d.unified, Catch::Contains(line));
  }
}

TEST_CASE("the event_seq of every version is the log position of the event that made it",
          "[versions][log]") {
  TempDir dir;
  ManualClock clock;
  auto manager = open_store(test_options(dir, &clock));
  const auto a = create_session(*manager, "a1");
  const auto b = create_session(*manager, std::nullopt);
  set_content(*manager, a, "a2");
  set_content(*manager, b, "b1");
  PLAN_OK(manager->pause(a));
  PLAN_OK(manager->resume(a));
  PLAN_OK(manager->update(a, UpdateRequest{.title = "no version"}));
  PLAN_OK(manager->restore_version(a, 1));
  PLAN_OK(manager->create_version(b, "snap"));
  set_content(*manager, a, "a4");

  for (const auto& id : {a, b}) {
    for (const Version& v : PLAN_OK(manager->get_versions(id))) {
      INFO("session " << id << " version " << v.version_number);
      const Event ev = event_at(*manager, v.event_seq);
      CHECK(ev.session_id == id);
      CHECK(ev.timestamp == v.created_at);
      CHECK(ev.actor == v.created_by);
      std::visit(
          [&](const auto& p) {
            using T = std::decay_t<decltype(p)>;
            if constexpr (std::is_same_v<T, SessionCreated>) {
              CHECK(v.version_number == 1);
              CHECK(p.initial_content == std::optional<std::string>(v.content));
            } else if constexpr (std::is_same_v<T, SessionUpdated>) {
              CHECK(p.version_number == v.version_number);
              CHECK(p.content == std::optional<std::string>(v.content));
            } else if constexpr (std::is_same_v<T, VersionRestored>) {
              CHECK(p.version_number == v.version_number);
              CHECK(p.content == v.content);
            } else if constexpr (std::is_same_v<T, VersionCreated>) {
              CHECK(p.version_number == v.version_number);
              CHECK(p.change_summary == v.change_summary);
            } else {
              FAIL("version made by an event of type " << to_string(ev.type));
            }
          },
          ev.payload);
    }
  }
  // Versions in order, dense from 1.
  auto av = PLAN_OK(manager->get_versions(a));
  REQUIRE(av.size() == 4);
  for (std::size_t i = 0; i < av.size(); ++i) CHECK(av[i].version_number == i + 1);
  for (std::size_t i = 1; i < av.size(); ++i) CHECK(av[i - 1].event_seq < av[i].event_seq);
}

TEST_CASE("optimistic concurrency on update", "[versions][concurrency]") {
  TempDir dir;
  ManualClock clock;
  auto manager = open_store(test_options(dir, &clock));
  const auto id = create_session(*manager, "v1");
  auto s = PLAN_OK(manager->get(id));

  UpdateRequest u;
  u.content = "v2";
  u.expected_stream_version = s.stream_version;
  auto s2 = PLAN_OK(manager->update(id, u));
  CHECK(s2.stream_version == s.stream_version + 1);

  // The same request again is now stale.
  const auto head = head_of(*manager);
  u.content = "v3";
  REQUIRE_ERROR_CODE(ErrorCode::conflict, manager->update(id, u));
  CHECK(head_of(*manager) == head);
  CHECK(PLAN_OK(manager->get(id)) == s2);
  CHECK(PLAN_OK(manager->get_versions(id)).size() == 2);
}

TEST_CASE("concurrent updates expecting the same stream version: exactly one wins",
          "[versions][concurrency][threads]") {
  TempDir dir;
  auto manager = open_store(test_options(dir));
  const auto id = create_session(*manager, "base");
  constexpr int kThreads = 6;
  for (int round = 0; round < 8; ++round) {
    const auto s = PLAN_OK(manager->get(id));
    std::atomic<int> ok{0}, conflicts{0}, other{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t) {
      threads.emplace_back([&, t] {
        UpdateRequest u;
        u.content = "round " + std::to_string(round) + " writer " + std::to_string(t);
        u.expected_stream_version = s.stream_version;
        auto r = manager->update(id, u);
        if (r) {
          ++ok;
        } else if (r.error().code == ErrorCode::conflict) {
          ++conflicts;
        } else {
          ++other;
        }
      });
    }
    for (auto& th : threads) th.join();
    INFO("round " << round);
    CHECK(ok == 1);
    CHECK(conflicts == kThreads - 1);
    CHECK(other == 0);
    const auto after = PLAN_OK(manager->get(id));
    CHECK(after.stream_version == s.stream_version + 1);
    CHECK(after.current_version == s.current_version + 1);
  }
  CHECK(PLAN_OK(manager->get_versions(id)).size() == 9);
  require_verified(*manager);
}

TEST_CASE("readers see consistent snapshots while a writer works", "[versions][threads]") {
  TempDir dir;
  auto manager = open_store(test_options(dir));
  const auto id = create_session(*manager, "0");
  std::atomic<bool> done{false};
  std::atomic<int> errors{0}, regressions{0};
  std::vector<std::thread> readers;
  for (int t = 0; t < 2; ++t) {
    readers.emplace_back([&] {
      std::uint32_t last = 0;
      while (!done) {
        auto s = manager->get(id);
        auto v = manager->get_versions(id);
        if (!s || !v) {
          ++errors;
          continue;
        }
        if (s->stream_version < last) ++regressions;
        last = s->stream_version;
        if (s->current_version == 0 || v->empty()) ++errors;
      }
    });
  }
  for (int i = 1; i <= 150; ++i) set_content(*manager, id, std::to_string(i));
  done = true;
  for (auto& th : readers) th.join();
  CHECK(errors == 0);
  CHECK(regressions == 0);
  CHECK(PLAN_OK(manager->get(id)).current_version == 151);
}
