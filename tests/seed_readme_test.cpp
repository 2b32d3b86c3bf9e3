// Every code example of the seed README (planning-session-core), ported to the
// public C++ API and asserted. Section names follow the README's headings.
#include <planning/planning.hpp>

#include <catch2/catch.hpp>

#include "support/temp_store.hpp"
#include "support/test_helpers.hpp"

using namespace planning;
using namespace planning::test;
using namespace std::chrono_literals;

namespace {

// "Creating Sessions" request of the README.
CreateRequest ecommerce_request() {
  CreateRequest r;
  r.title = "E-commerce Platform Planning";
  r.description = "Design shopping cart and checkout flow";
  r.repository_path = "/projects/ecommerce";
  r.repository_url = "https://github.com/company/ecommerce";
  r.initial_content = "# Shopping Cart\n\n## Requirements";
  r.created_by = "agent:planning-assistant";
  r.metadata = {{"priority", "high"}};
  return r;
}

}  // namespace

TEST_CASE("quick start: a manager with auto_version and a logger creates a session", "[readme]") {
  TempDir dir;
  ManualClock clock;
  LogCapture log;
  Options options = test_options(dir, &clock);
  options.auto_version = true;  // Auto-create versions on content changes
  options.logger = log.as_logger();
  auto manager = open_store(options);

  CreateRequest request;
  request.title = "Authentication System Planning";
  request.description = "Design OAuth2 implementation";
  request.repository_path = "/projects/auth-service";
  request.initial_content = "# Auth System\n\n## Requirements\n...";
  auto result = manager->create(request);

  REQUIRE(result.has_value());  // result.success
  const Session& s = *result;
  CHECK(s.id.size() == 36);  // UUIDv7 text
  CHECK(s.title == "Authentication System Planning");
  CHECK(s.description == "Design OAuth2 implementation");
  CHECK(s.repository_path == "/projects/auth-service");
  CHECK(s.content == "# Auth System\n\n## Requirements\n...");
  CHECK(s.status == Status::active);
  CHECK(s.current_version == 1);
  CHECK(s.stream_version == 1);
  CHECK(s.metadata == nlohmann::json::object());
  CHECK(PLAN_OK(manager->get(s.id)) == s);
}

TEST_CASE("creating a session stores every field of the request", "[readme][create]") {
  TempDir dir;
  ManualClock clock;
  auto manager = open_store(test_options(dir, &clock));

  auto s = PLAN_OK(manager->create(ecommerce_request()));
  CHECK(s.title == "E-commerce Platform Planning");
  CHECK(s.description == "Design shopping cart and checkout flow");
  CHECK(s.repository_path == "/projects/ecommerce");
  CHECK(s.repository_url == "https://github.com/company/ecommerce");
  CHECK(s.content == "# Shopping Cart\n\n## Requirements");
  CHECK(s.created_by == "agent:planning-assistant");
  CHECK(s.updated_by == "agent:planning-assistant");  // every event sets updated_by
  CHECK(s.metadata == nlohmann::json{{"priority", "high"}});
  CHECK(s.status == Status::active);
  CHECK(s.current_version == 1);
  CHECK(s.created_at == s.updated_at);
  CHECK(s.last_activity_at == s.created_at);
  CHECK(s.pause_reason.empty());
  CHECK_FALSE(s.paused_at.has_value());
  CHECK_FALSE(s.archived_at.has_value());
  CHECK_FALSE(s.converted_at.has_value());
  CHECK(s.project_id.empty());
  CHECK(s.work_item_ids.empty());

  SECTION("the stored session equals the returned one") {
    CHECK(PLAN_OK(manager->get(s.id)) == s);
  }
  SECTION("the initial content is version 1") {
    auto versions = PLAN_OK(manager->get_versions(s.id));
    REQUIRE(versions.size() == 1);
    CHECK(versions[0].session_id == s.id);
    CHECK(versions[0].version_number == 1);
    CHECK(versions[0].content == "# Shopping Cart\n\n## Requirements");
    CHECK(versions[0].change_summary == "Initial version");
    CHECK(versions[0].changed_fields == std::vector<std::string>{"content"});
    CHECK(versions[0].created_by == "agent:planning-assistant");
    CHECK(versions[0].created_at == s.created_at);
  }
  SECTION("the session survives closing and reopening the store") {
    const Options options = manager->options();
    manager.reset();
    auto reopened = open_store(options);
    CHECK(PLAN_OK(reopened->get(s.id)) == s);
  }
}

TEST_CASE("updating content creates a new version automatically", "[readme][update]") {
  TempDir dir;
  ManualClock clock;
  auto manager = open_store(test_options(dir, &clock));
  auto created = PLAN_OK(manager->create(ecommerce_request()));
  const std::string session_id = created.id;

  const std::string updated_markdown =
      "# Shopping Cart\n\n## Requirements\n\n## Payment processing\n- Stripe";
  UpdateRequest update;
  update.content = updated_markdown;
  update.change_summary = "Added payment processing requirements";
  update.updated_by = "agent:planning-assistant";
  auto update_result = manager->update(session_id, update);

  REQUIRE(update_result.has_value());
  CHECK(update_result->current_version == 2);  // "New version: 2"
  CHECK(update_result->content == updated_markdown);
  CHECK(update_result->updated_by == "agent:planning-assistant");
  CHECK(update_result->updated_at > created.updated_at);
  CHECK(update_result->stream_version == 2);

  auto versions = PLAN_OK(manager->get_versions(session_id));
  REQUIRE(versions.size() == 2);
  CHECK(versions[0].content == *ecommerce_request().initial_content);
  CHECK(versions[1].version_number == 2);
  CHECK(versions[1].content == updated_markdown);
  CHECK(versions[1].change_summary == "Added payment processing requirements");
  CHECK(versions[1].changed_fields == std::vector<std::string>{"content"});
  CHECK(versions[1].created_by == "agent:planning-assistant");
}

TEST_CASE("status management: pause, resume, mark converted, archive", "[readme][status]") {
  TempDir dir;
  ManualClock clock;
  auto manager = open_store(test_options(dir, &clock));
  const std::string session_id = PLAN_OK(manager->create(ecommerce_request())).id;

  // Pause session
  auto paused = PLAN_OK(manager->pause(session_id, "Waiting for stakeholder feedback"));
  CHECK(paused.status == Status::paused);
  CHECK(paused.pause_reason == "Waiting for stakeholder feedback");
  REQUIRE(paused.paused_at.has_value());
  CHECK(*paused.paused_at == paused.updated_at);

  // Resume session
  auto resumed = PLAN_OK(manager->resume(session_id));
  CHECK(resumed.status == Status::active);
  CHECK(resumed.pause_reason.empty());
  CHECK_FALSE(resumed.paused_at.has_value());

  // Convert session to work items
  ConvertRequest convert;
  convert.project_id = "project-123";
  convert.work_item_ids = {"wi-1", "wi-2", "wi-3"};
  convert.converted_by = "agent:work-item-creator";
  auto converted = PLAN_OK(manager->mark_converted(session_id, convert));
  CHECK(converted.status == Status::converted);
  CHECK(converted.project_id == "project-123");
  CHECK(converted.work_item_ids == std::vector<std::string>{"wi-1", "wi-2", "wi-3"});
  CHECK(converted.converted_by == "agent:work-item-creator");
  REQUIRE(converted.converted_at.has_value());
  CHECK(*converted.converted_at == converted.updated_at);
  CHECK(converted.updated_by == "agent:work-item-creator");

  // Archive session
  auto archived = PLAN_OK(manager->archive(session_id));
  CHECK(archived.status == Status::archived);
  REQUIRE(archived.archived_at.has_value());
  CHECK(*archived.archived_at == archived.updated_at);
  // Conversion data stays after archiving.
  CHECK(archived.project_id == "project-123");
  CHECK(archived.work_item_ids == converted.work_item_ids);

  CHECK(archived.stream_version == 5);
  CHECK(PLAN_OK(manager->get(session_id)) == archived);
  // The content and its version are untouched by status changes.
  CHECK(archived.current_version == 1);
  CHECK(PLAN_OK(manager->get_versions(session_id)).size() == 1);
}

TEST_CASE("version history: list, compare and restore", "[readme][versions]") {
  TempDir dir;
  ManualClock clock;
  auto manager = open_store(test_options(dir, &clock));
  CreateRequest request = ecommerce_request();
  request.initial_content = "# Cart\nitems\ntotals";
  const std::string session_id = PLAN_OK(manager->create(request)).id;

  UpdateRequest u2;
  u2.content = "# Cart\nitems\ntotals\ncoupons";
  u2.change_summary = "Added coupons";
  PLAN_OK(manager->update(session_id, u2));
  UpdateRequest u3;
  u3.content = "# Cart\nline items\ntotals\ncoupons\ngift cards";
  u3.change_summary = "Gift cards";
  PLAN_OK(manager->update(session_id, u3));

  // Get all versions: "v1: Initial version", "v2: Added coupons", "v3: Gift cards".
  auto versions = PLAN_OK(manager->get_versions(session_id));
  std::vector<std::string> lines;
  for (const auto& version : versions) {
    lines.push_back("v" + std::to_string(version.version_number) + ": " + version.change_summary);
  }
  CHECK(lines == std::vector<std::string>{"v1: Initial version", "v2: Added coupons",
                                          "v3: Gift cards"});

  // Compare versions 1 and 3: "items" -> "line items", + "coupons", + "gift cards".
  auto diff = PLAN_OK(manager->compare_versions(session_id, 1, 3));
  CHECK(diff.from_version == 1);
  CHECK(diff.to_version == 3);
  CHECK(diff.lines_added == 3);
  CHECK(diff.lines_removed == 1);
  CHECK(diff.lines_unchanged == 2);
  CHECK_THAT(diff.unified, Catch::Contains("-items"));
  CHECK_THAT(diff.unified, Catch::Contains("+line items"));
  CHECK_THAT(diff.unified, Catch::Contains("+gift cards"));

  // Restore to a previous version.
  auto restored = PLAN_OK(manager->restore_version(session_id, 2, "user:john"));
  CHECK(restored.current_version == 4);
  CHECK(restored.content == *u2.content);
  CHECK(restored.updated_by == "user:john");
  auto after = PLAN_OK(manager->get_versions(session_id));
  REQUIRE(after.size() == 4);
  CHECK(after[3].version_number == 4);
  CHECK(after[3].content == *u2.content);
  CHECK(after[3].change_summary == "Restored from version 2");
  CHECK(after[3].created_by == "user:john");
  // History is never rewritten.
  CHECK(std::vector<Version>(after.begin(), after.begin() + 3) == versions);
}

TEST_CASE("querying sessions: find_active, find_by_repository and list with filters",
          "[readme][queries]") {
  TempDir dir;
  // Start before 2025 so that `created_after 2025-01-01` excludes something.
  SetClock clock(date_utc(2024, 12, 1));
  auto manager = open_store(options_with(dir, clock.as_clock()));

  auto make = [&](std::string title, std::string path, std::optional<std::string> content) {
    clock.advance(1h);
    CreateRequest r;
    r.title = std::move(title);
    r.repository_path = std::move(path);
    r.initial_content = std::move(content);
    return PLAN_OK(manager->create(r));
  };
  // Created in December 2024: excluded by created_after.
  auto old_app = make("old app plan", "/projects/app", "# old");
  clock.set(date_utc(2025, 1, 5));
  auto auth = make("Authentication System Planning", "/projects/auth-service", "# Auth");
  auto app_active = make("app active", "/projects/app", "# active");
  auto app_paused = make("app paused", "/projects/app", "# paused");
  auto app_empty = make("app no content", "/projects/app", std::nullopt);
  auto app_archived = make("app archived", "/projects/app", "# archived");
  auto auth_paused = make("auth paused", "/projects/auth-service", std::nullopt);
  auto other = make("other", "/projects/other", "# other");
  clock.advance(1h);
  PLAN_OK(manager->pause(app_paused.id, "later"));
  PLAN_OK(manager->archive(app_archived.id));
  PLAN_OK(manager->pause(auth_paused.id));

  // Get active sessions (oldest first).
  auto active = PLAN_OK(manager->find_active());
  CHECK(ids_of(active) == std::vector<std::string>{old_app.id, auth.id, app_active.id,
                                                   app_empty.id, other.id});
  for (const auto& s : active) CHECK(s.status == Status::active);

  // Find sessions by repository (any status, oldest first).
  auto repo_sessions = PLAN_OK(manager->find_by_repository("/projects/auth-service"));
  CHECK(ids_of(repo_sessions) == std::vector<std::string>{auth.id, auth_paused.id});

  // Query with filters.
  SessionFilters filters;
  filters.status = {Status::active, Status::paused};
  filters.created_after = date_utc(2025, 1, 1);
  filters.has_content = true;
  filters.repository_path = "/projects/app";
  auto filtered = PLAN_OK(manager->list(filters));
  CHECK(ids_of(filtered) == std::vector<std::string>{app_active.id, app_paused.id});
  for (const auto& s : filtered) CHECK(PLAN_OK(manager->get(s.id)) == s);
}

TEST_CASE("crash recovery: stale sessions are paused or archived as recommended",
          "[readme][recovery]") {
  TempDir dir;
  ManualClock clock;
  auto manager = open_store(test_options(dir, &clock));
  auto create = [&](std::string title) {
    CreateRequest r;
    r.title = std::move(title);
    r.initial_content = "# " + r.title;
    return PLAN_OK(manager->create(r)).id;
  };

  // Now (T) will be t0 + 8 days.
  const std::string very_old = create("inactive 8 days");          // archive
  const std::string very_old_paused = create("paused 8 days ago");  // archive
  PLAN_OK(manager->pause(very_old_paused, "blocked"));
  clock.advance(8 * 24h - 30h);
  const std::string old = create("inactive 30 hours");  // pause
  const std::string old_paused = create("paused 30 hours ago");  // not stale: already paused
  PLAN_OK(manager->pause(old_paused, "blocked"));
  clock.advance(29h);
  const std::string fresh = create("inactive 1 hour");  // not stale
  clock.advance(1h);

  // Find stale sessions (inactive for 24+ hours).
  auto stale = PLAN_OK(SessionRecovery::find_stale(*manager));
  std::set<std::string> stale_ids;
  for (const auto& s : stale.stale_sessions) stale_ids.insert(s.id);
  CHECK(stale_ids == std::set<std::string>{very_old, very_old_paused, old});
  CHECK(stale.recommendations.size() == 3);
  CHECK(stale.recommendations.at(old) == Recommendation::pause);
  CHECK(stale.recommendations.at(very_old) == Recommendation::archive);
  CHECK(stale.recommendations.at(very_old_paused) == Recommendation::archive);
  // Oldest activity first.
  for (std::size_t i = 1; i < stale.stale_sessions.size(); ++i) {
    CHECK(stale.stale_sessions[i - 1].last_activity_at <= stale.stale_sessions[i].last_activity_at);
  }
  REQUIRE(stale.stale_sessions.size() == 3);
  CHECK(stale.stale_sessions.back().id == old);

  for (const auto& session : stale.stale_sessions) {
    const Recommendation action = stale.recommendations.at(session.id);
    if (action == Recommendation::pause) {
      PLAN_OK(manager->pause(session.id, "Auto-paused: inactive for 24+ hours"));
    } else if (action == Recommendation::archive) {
      PLAN_OK(manager->archive(session.id));
    }
  }

  auto old_now = PLAN_OK(manager->get(old));
  CHECK(old_now.status == Status::paused);
  CHECK(old_now.pause_reason == "Auto-paused: inactive for 24+ hours");
  CHECK(PLAN_OK(manager->get(very_old)).status == Status::archived);
  CHECK(PLAN_OK(manager->get(very_old_paused)).status == Status::archived);
  CHECK(PLAN_OK(manager->get(old_paused)).status == Status::paused);
  CHECK(PLAN_OK(manager->get(fresh)).status == Status::active);

  // Pausing is not activity, but a paused session is not stale until archive_after.
  auto again = PLAN_OK(SessionRecovery::find_stale(*manager));
  CHECK(again.stale_sessions.empty());
  CHECK(again.recommendations.empty());
}

TEST_CASE("restore from history rebuilds the session from its event stream",
          "[readme][recovery]") {
  TempDir dir;
  ManualClock clock;
  auto manager = open_store(test_options(dir, &clock));
  const std::string session_id = PLAN_OK(manager->create(ecommerce_request())).id;
  UpdateRequest u;
  u.content = "# v2";
  u.title = "Renamed";
  u.metadata = nlohmann::json{{"priority", "low"}, {"tags", {"a", "b"}}};
  PLAN_OK(manager->update(session_id, u));
  PLAN_OK(manager->pause(session_id, "waiting"));
  PLAN_OK(manager->resume(session_id));
  PLAN_OK(manager->restore_version(session_id, 1));

  const std::uint64_t head = head_of(*manager);
  auto restored = SessionRecovery::restore_from_history(session_id, *manager);
  REQUIRE(restored.has_value());
  CHECK(*restored == PLAN_OK(manager->get(session_id)));
  CHECK(restored->content == *ecommerce_request().initial_content);
  CHECK(restored->current_version == 3);
  // Restoring is a repair, not an operation: nothing is appended.
  CHECK(head_of(*manager) == head);
}

TEST_CASE("statistics count sessions by status and average versions", "[readme][statistics]") {
  TempDir dir;
  ManualClock clock;
  auto manager = open_store(test_options(dir, &clock));
  std::vector<std::string> ids;
  for (int i = 0; i < 6; ++i) {
    CreateRequest r;
    r.title = "session " + std::to_string(i);
    r.initial_content = "v1 of " + std::to_string(i);
    ids.push_back(PLAN_OK(manager->create(r)).id);
  }
  UpdateRequest u;
  u.content = "v2";
  PLAN_OK(manager->update(ids[0], u));
  u.content = "v3";
  PLAN_OK(manager->update(ids[0], u));
  PLAN_OK(manager->pause(ids[1]));
  PLAN_OK(manager->pause(ids[2]));
  ConvertRequest c;
  c.project_id = "project-1";
  PLAN_OK(manager->mark_converted(ids[3], c));
  PLAN_OK(manager->archive(ids[4]));

  auto stats = PLAN_OK(manager->get_statistics());
  CHECK(stats.total_sessions == 6);
  CHECK(stats.active_sessions == 2);  // ids[0], ids[5]
  CHECK(stats.paused_sessions == 2);
  CHECK(stats.converted_sessions == 1);
  CHECK(stats.archived_sessions == 1);
  CHECK(stats.total_versions == 8);
  CHECK(stats.average_versions_per_session == Approx(8.0 / 6.0));
  CHECK(stats.total_events == head_of(*manager));
}

TEST_CASE("session ids are lower-case UUIDv7 text in creation order", "[readme][create]") {
  TempDir dir;
  auto manager = open_store(test_options(dir));
  std::vector<std::string> ids;
  for (int i = 0; i < 300; ++i) ids.push_back(PLAN_OK(manager->create({.title = "id"})).id);
  for (const auto& id : ids) {
    INFO(id);
    REQUIRE(id.size() == 36);
    for (std::size_t i = 0; i < id.size(); ++i) {
      if (i == 8 || i == 13 || i == 18 || i == 23) {
        CHECK(id[i] == '-');
      } else {
        CHECK(((id[i] >= '0' && id[i] <= '9') || (id[i] >= 'a' && id[i] <= 'f')));
      }
    }
    CHECK(id[14] == '7');                                           // version 7
    CHECK(std::string("89ab").find(id[19]) != std::string::npos);  // RFC variant
  }
  CHECK(std::is_sorted(ids.begin(), ids.end()));
  CHECK(std::set<std::string>(ids.begin(), ids.end()).size() == ids.size());
}
