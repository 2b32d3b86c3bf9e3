// Statistics (docs/BEHAVIOUR.md "Queries"): counts by status, versions,
// averages; removed sessions are excluded and counted apart.
#include <planning/planning.hpp>

#include <catch2/catch.hpp>

#include "support/temp_store.hpp"
#include "support/test_helpers.hpp"

using namespace planning;
using namespace planning::test;

namespace {

// Statistics recomputed from list() and get_versions().
Statistics expected_from_queries(const SessionManager& m, std::uint64_t removed) {
  Statistics st;
  for (const auto& s : PLAN_OK(m.list())) {
    ++st.total_sessions;
    switch (s.status) {
      case Status::active: ++st.active_sessions; break;
      case Status::paused: ++st.paused_sessions; break;
      case Status::converted: ++st.converted_sessions; break;
      case Status::archived: ++st.archived_sessions; break;
    }
    if (!s.content.empty()) ++st.sessions_with_content;
    st.total_versions += PLAN_OK(m.get_versions(s.id)).size();
  }
  st.removed_sessions = removed;
  st.average_versions_per_session =
      st.total_sessions == 0 ? 0.0
                             : static_cast<double>(st.total_versions) /
                                   static_cast<double>(st.total_sessions);
  st.total_events = PLAN_OK(m.head_sequence());
  return st;
}

std::string make(SessionManager& m, std::optional<std::string> content) {
  CreateRequest r;
  r.title = "stats";
  r.initial_content = std::move(content);
  return PLAN_OK(m.create(r)).id;
}

void set_content(SessionManager& m, const std::string& id, std::string content) {
  UpdateRequest u;
  u.content = std::move(content);
  PLAN_OK(m.update(id, u));
}

}  // namespace

TEST_CASE("an empty store has all-zero statistics", "[statistics]") {
  TempDir dir;
  auto manager = open_store(test_options(dir));
  auto st = PLAN_OK(manager->get_statistics());
  CHECK(st == Statistics{});
  CHECK(st.average_versions_per_session == 0.0);
}

TEST_CASE("statistics after mixed operations including remove", "[statistics]") {
  TempDir dir;
  ManualClock clock;
  auto manager = open_store(test_options(dir, &clock));

  const auto a = make(*manager, "a1");  // active, 3 versions
  set_content(*manager, a, "a2");
  set_content(*manager, a, "a3");
  const auto b = make(*manager, std::nullopt);  // paused, no content, 0 versions
  PLAN_OK(manager->pause(b));
  const auto c = make(*manager, "c1");  // converted, 2 versions
  PLAN_OK(manager->create_version(c, "snap"));
  ConvertRequest conv;
  conv.project_id = "p";
  PLAN_OK(manager->mark_converted(c, conv));
  const auto d = make(*manager, "d1");  // archived, 1 version
  PLAN_OK(manager->archive(d));
  const auto e = make(*manager, "e1");  // removed, 4 versions (excluded)
  set_content(*manager, e, "e2");
  set_content(*manager, e, "e3");
  PLAN_OK(manager->restore_version(e, 1));
  const auto f = make(*manager, "f1");  // paused then resumed: active, 2 versions
  PLAN_OK(manager->pause(f));
  PLAN_OK(manager->resume(f));
  PLAN_OK(manager->restore_version(f, 1));

  auto before_remove = PLAN_OK(manager->get_statistics());
  CHECK(before_remove.total_sessions == 6);
  CHECK(before_remove.total_versions == 3 + 0 + 2 + 1 + 4 + 2);
  CHECK(before_remove.removed_sessions == 0);

  PLAN_OK(manager->remove(e));

  auto st = PLAN_OK(manager->get_statistics());
  CHECK(st.total_sessions == 5);
  CHECK(st.active_sessions == 2);  // a, f
  CHECK(st.paused_sessions == 1);  // b
  CHECK(st.converted_sessions == 1);
  CHECK(st.archived_sessions == 1);
  CHECK(st.removed_sessions == 1);
  CHECK(st.sessions_with_content == 4);  // a, c, d, f
  CHECK(st.total_versions == 3 + 0 + 2 + 1 + 2);
  CHECK(st.average_versions_per_session == Approx(8.0 / 5.0));
  CHECK(st.total_events == head_of(*manager));
  CHECK(st == expected_from_queries(*manager, 1));

  SECTION("removing a paused session lowers the paused count") {
    PLAN_OK(manager->remove(b));
    auto st2 = PLAN_OK(manager->get_statistics());
    CHECK(st2.paused_sessions == 0);
    CHECK(st2.total_sessions == 4);
    CHECK(st2.removed_sessions == 2);
    CHECK(st2.total_versions == 8);
    CHECK(st2.average_versions_per_session == Approx(2.0));
    CHECK(st2 == expected_from_queries(*manager, 2));
  }
  SECTION("removing every session gives an average of 0") {
    for (const auto& id : {a, b, c, d, f}) PLAN_OK(manager->remove(id));
    auto st2 = PLAN_OK(manager->get_statistics());
    CHECK(st2.total_sessions == 0);
    CHECK(st2.active_sessions == 0);
    CHECK(st2.total_versions == 0);
    CHECK(st2.sessions_with_content == 0);
    CHECK(st2.removed_sessions == 6);
    CHECK(st2.average_versions_per_session == 0.0);
  }
  SECTION("status transitions move counts between buckets") {
    PLAN_OK(manager->pause(a));
    auto st2 = PLAN_OK(manager->get_statistics());
    CHECK(st2.active_sessions == 1);
    CHECK(st2.paused_sessions == 2);
    PLAN_OK(manager->archive(a));
    st2 = PLAN_OK(manager->get_statistics());
    CHECK(st2.paused_sessions == 1);
    CHECK(st2.archived_sessions == 2);
    CHECK(st2.total_sessions == 5);
    CHECK(st2 == expected_from_queries(*manager, 1));
  }
  SECTION("clearing content lowers sessions_with_content but keeps versions") {
    set_content(*manager, a, "");
    auto st2 = PLAN_OK(manager->get_statistics());
    CHECK(st2.sessions_with_content == 3);
    CHECK(st2.total_versions == 9);  // the empty content is version 4 of a
    CHECK(st2 == expected_from_queries(*manager, 1));
  }
  SECTION("statistics persist across reopen and equal a rebuild") {
    const Options options = manager->options();
    manager.reset();
    manager = open_store(options);
    CHECK(PLAN_OK(manager->get_statistics()) == st);
    PLAN_OK(manager->rebuild_projections());
    CHECK(PLAN_OK(manager->get_statistics()) == st);
  }
  SECTION("a rejected operation leaves statistics unchanged") {
    CHECK_FALSE(manager->resume(a).has_value());
    CHECK_FALSE(manager->update(c, UpdateRequest{.content = "no"}).has_value());
    CHECK_FALSE(manager->create(CreateRequest{.title = "  "}).has_value());
    CHECK(PLAN_OK(manager->get_statistics()) == st);
  }
}

TEST_CASE("non-content updates do not change version statistics", "[statistics]") {
  TempDir dir;
  auto manager = open_store(test_options(dir));
  const auto a = make(*manager, "x");
  auto st = PLAN_OK(manager->get_statistics());
  PLAN_OK(manager->update(a, UpdateRequest{.title = "other"}));
  auto st2 = PLAN_OK(manager->get_statistics());
  CHECK(st2.total_versions == st.total_versions);
  CHECK(st2.total_events == st.total_events + 1);
}

TEST_CASE("statistics agree with the queries over many sessions", "[statistics]") {
  TempDir dir;
  ManualClock clock;
  auto manager = open_store(test_options(dir, &clock));
  std::uint64_t removed = 0;
  for (int i = 0; i < 60; ++i) {
    const auto id = make(*manager, i % 4 ? std::optional<std::string>("c" + std::to_string(i))
                                         : std::nullopt);
    if (i % 3 == 0) set_content(*manager, id, "more " + std::to_string(i));
    switch (i % 7) {
      case 1: PLAN_OK(manager->pause(id)); break;
      case 2: PLAN_OK(manager->archive(id)); break;
      case 3: {
        ConvertRequest c;
        c.project_id = "p" + std::to_string(i);
        PLAN_OK(manager->mark_converted(id, c));
        break;
      }
      case 4:
        PLAN_OK(manager->remove(id));
        ++removed;
        break;
      default: break;
    }
  }
  CHECK(PLAN_OK(manager->get_statistics()) == expected_from_queries(*manager, removed));
}
