// Shared assertions and state capture for the planning test suites.
//
//   auto s = PLAN_OK(manager->create({.title = "t"}));        // value or FAIL
//   auto e = PLAN_ERR(manager->get("nope"));                   // Error or FAIL
//   auto before = capture_state(*manager);  ...  CHECK_SAME_STATE(before, capture_state(*m));
//
// Header-only so that tests/CMakeLists.txt keeps its single support library.
#pragma once

#include <algorithm>
#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <iostream>
#include <map>
#include <mutex>
#include <set>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include <sys/stat.h>

#include <catch2/catch.hpp>

#include <planning/planning.hpp>

#include "support/temp_store.hpp"

// --- Skipping a case that cannot run here -----------------------------------
// PLANNING_SKIP(why) ends the current case as skipped: it prints
// "PLANNING-SKIPPED: <why>", which CTest's SKIP_REGULAR_EXPRESSION
// (tests/CMakeLists.txt) turns into a skipped test, never a pass. Use it only
// where the environment forbids the check (e.g. no mount namespace), and put
// it in a TEST_CASE of its own so that it hides no other check.
#define PLANNING_SKIP(why)                                                        \
  do {                                                                            \
    std::ostringstream planning_skip_reason_;                                     \
    planning_skip_reason_ << why;                                                 \
    std::cout << "PLANNING-SKIPPED: " << planning_skip_reason_.str() << std::endl; \
    SUCCEED("skipped: " << planning_skip_reason_.str());                          \
    return;                                                                       \
  } while (false)

// --- Readable failure output -------------------------------------------------
namespace Catch {
template <>
struct StringMaker<planning::ErrorCode> {
  static std::string convert(planning::ErrorCode c) { return std::string(planning::to_string(c)); }
};
template <>
struct StringMaker<planning::Status> {
  static std::string convert(planning::Status s) { return std::string(planning::to_string(s)); }
};
template <>
struct StringMaker<planning::EventType> {
  static std::string convert(planning::EventType t) { return std::string(planning::to_string(t)); }
};
template <>
struct StringMaker<planning::Timestamp> {
  static std::string convert(planning::Timestamp t) {
    return std::to_string(t.time_since_epoch().count()) + "ns";
  }
};
template <>
struct StringMaker<planning::Session> {
  static std::string convert(const planning::Session& s) {
    try {
      auto j = planning::to_json(s);
      if (j.contains("content") && j["content"].is_string() &&
          j["content"].get<std::string>().size() > 200) {
        j["content"] = j["content"].get<std::string>().substr(0, 200) + "...";
      }
      return j.dump();
    } catch (...) {
      return "Session{id=" + s.id + ", title=" + s.title + "}";
    }
  }
};
template <>
struct StringMaker<planning::Version> {
  static std::string convert(const planning::Version& v) {
    std::ostringstream out;
    out << "Version{" << v.session_id << " v" << v.version_number << " seq=" << v.event_seq
        << " summary='" << v.change_summary << "' content='" << v.content.substr(0, 80) << "'}";
    return out.str();
  }
};
template <>
struct StringMaker<planning::Statistics> {
  static std::string convert(const planning::Statistics& s) {
    std::ostringstream out;
    out << "Statistics{total=" << s.total_sessions << " active=" << s.active_sessions
        << " paused=" << s.paused_sessions << " converted=" << s.converted_sessions
        << " archived=" << s.archived_sessions << " removed=" << s.removed_sessions
        << " with_content=" << s.sessions_with_content << " versions=" << s.total_versions
        << " avg=" << s.average_versions_per_session << " events=" << s.total_events << "}";
    return out.str();
  }
};
}  // namespace Catch

namespace planning::test {

// --- Result unwrapping --------------------------------------------------------

template <typename T>
T unwrap_ok(Result<T> r, const char* expr) {
  if (!r) {
    FAIL(expr << " failed: " << to_string(r.error().code) << ": " << r.error().message);
  }
  return std::move(*r);
}
inline void unwrap_ok(Result<void> r, const char* expr) {
  if (!r) {
    FAIL(expr << " failed: " << to_string(r.error().code) << ": " << r.error().message);
  }
}
template <typename T>
Error unwrap_err(Result<T> r, const char* expr) {
  if (r) FAIL(expr << " succeeded but an error was expected");
  return std::move(r.error());
}

// Evaluates a Result expression: its value, or the test fails naming the error.
#define PLAN_OK(...) ::planning::test::unwrap_ok((__VA_ARGS__), #__VA_ARGS__)
// Evaluates a Result expression that must fail: its Error, or the test fails.
#define PLAN_ERR(...) ::planning::test::unwrap_err((__VA_ARGS__), #__VA_ARGS__)

// Fails the current test unless `expr` fails with `code_`.
#define REQUIRE_ERROR_CODE(code_, ...)                                      \
  do {                                                                      \
    auto plan_err_ = PLAN_ERR(__VA_ARGS__);                                 \
    INFO("message: " << plan_err_.message);                                 \
    REQUIRE(plan_err_.code == (code_));                                     \
  } while (false)

// --- Small utilities -------------------------------------------------------------

// A file's bytes and modification time: two snapshots compare equal only if
// nothing wrote to the file in between (an unchanged mtime alone could hide a
// write within the clock's resolution; unchanged bytes alone, a rewrite).
struct FileSnapshot {
  bool exists = false;
  std::string bytes;
  std::int64_t mtime_ns = 0;
  bool operator==(const FileSnapshot&) const = default;
};
inline std::ostream& operator<<(std::ostream& out, const FileSnapshot& f) {
  if (!f.exists) return out << "no file";
  return out << "file of " << f.bytes.size() << " bytes, mtime " << f.mtime_ns << "ns";
}
inline FileSnapshot snapshot_file(const std::filesystem::path& path) {
  FileSnapshot snap;
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return snap;
  snap.exists = true;
  snap.mtime_ns = static_cast<std::int64_t>(st.st_mtim.tv_sec) * 1'000'000'000 + st.st_mtim.tv_nsec;
  std::ifstream in(path, std::ios::binary);
  snap.bytes.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  return snap;
}

inline std::size_t count_occurrences(std::string_view haystack, std::string_view needle) {
  std::size_t n = 0;
  for (auto pos = haystack.find(needle); pos != std::string_view::npos;
       pos = haystack.find(needle, pos + needle.size())) {
    ++n;
  }
  return n;
}

inline std::vector<std::string> ids_of(const std::vector<Session>& sessions) {
  std::vector<std::string> ids;
  ids.reserve(sessions.size());
  for (const auto& s : sessions) ids.push_back(s.id);
  return ids;
}

inline std::uint64_t head_of(const SessionManager& m) { return PLAN_OK(m.head_sequence()); }

// A clock the test sets explicitly; never moves on its own (thread-safe).
class SetClock {
 public:
  explicit SetClock(Timestamp start) : ns_(start.time_since_epoch().count()) {}
  Timestamp now() const { return Timestamp{std::chrono::nanoseconds{ns_.load()}}; }
  void set(Timestamp t) { ns_.store(t.time_since_epoch().count()); }
  void advance(std::chrono::nanoseconds by) { ns_.fetch_add(by.count()); }
  Clock as_clock() {
    return [this] { return now(); };
  }

 private:
  std::atomic<std::int64_t> ns_;
};

inline Timestamp date_utc(int y, unsigned m, unsigned d) {
  return Timestamp{std::chrono::sys_days{
      std::chrono::year_month_day{std::chrono::year{y}, std::chrono::month{m}, std::chrono::day{d}}}};
}

// Collects every logger call (thread-safe).
class LogCapture {
 public:
  Logger as_logger() {
    return [this](LogLevel level, std::string_view message) {
      std::lock_guard lock(mu_);
      entries_.emplace_back(level, std::string(message));
    };
  }
  std::vector<std::pair<LogLevel, std::string>> entries() const {
    std::lock_guard lock(mu_);
    return entries_;
  }
  std::vector<std::string> at_level(LogLevel level) const {
    std::lock_guard lock(mu_);
    std::vector<std::string> out;
    for (const auto& [l, m] : entries_) {
      if (l == level) out.push_back(m);
    }
    return out;
  }

 private:
  mutable std::mutex mu_;
  std::vector<std::pair<LogLevel, std::string>> entries_;
};

// --- Whole-store state capture ---------------------------------------------------

// Everything a reader can observe through queries: the session list, statistics,
// every version history, and the answers of a battery of indexed queries (so a
// lost or stale index shows up, not just the primary records).
struct StoreState {
  std::uint64_t head = 0;
  std::vector<Session> sessions;  // list() in default order
  Statistics statistics;
  std::map<std::string, std::vector<Version>> versions;
  std::vector<std::pair<std::string, std::vector<std::string>>> queries;  // label -> ids

  bool operator==(const StoreState&) const = default;
};

inline StoreState capture_state(const SessionManager& m) {
  StoreState st;
  st.head = PLAN_OK(m.head_sequence());
  st.sessions = PLAN_OK(m.list());
  st.statistics = PLAN_OK(m.get_statistics());
  for (const auto& s : st.sessions) st.versions[s.id] = PLAN_OK(m.get_versions(s.id));

  auto add = [&](std::string label, const SessionFilters& f) {
    st.queries.emplace_back(std::move(label), ids_of(PLAN_OK(m.list(f))));
  };
  st.queries.emplace_back("find_active", ids_of(PLAN_OK(m.find_active())));
  std::set<std::string> paths, urls, projects, creators;
  for (const auto& s : st.sessions) {
    paths.insert(s.repository_path);
    urls.insert(s.repository_url);
    projects.insert(s.project_id);
    creators.insert(s.created_by);
  }
  for (const auto& p : paths) {
    st.queries.emplace_back("find_by_repository " + p, ids_of(PLAN_OK(m.find_by_repository(p))));
    SessionFilters f;
    f.repository_path = p;
    add("repository_path " + p, f);
  }
  for (const auto& u : urls) {
    SessionFilters f;
    f.repository_url = u;
    add("repository_url " + u, f);
  }
  for (const auto& p : projects) {
    SessionFilters f;
    f.project_id = p;
    add("project_id " + p, f);
  }
  for (const auto& c : creators) {
    SessionFilters f;
    f.created_by = c;
    add("created_by " + c, f);
  }
  for (Status s : {Status::active, Status::paused, Status::converted, Status::archived}) {
    SessionFilters f;
    f.status = {s};
    add("status " + std::string(to_string(s)), f);
  }
  for (bool b : {true, false}) {
    SessionFilters f;
    f.has_content = b;
    add(std::string("has_content ") + (b ? "true" : "false"), f);
  }
  for (OrderBy o : {OrderBy::created_at, OrderBy::updated_at, OrderBy::last_activity_at,
                    OrderBy::title}) {
    for (bool desc : {false, true}) {
      SessionFilters f;
      f.order_by = o;
      f.descending = desc;
      add("order " + std::string(to_string(o)) + (desc ? " desc" : " asc"), f);
    }
  }
  if (!st.sessions.empty()) {
    std::vector<Timestamp> created, updated;
    for (const auto& s : st.sessions) {
      created.push_back(s.created_at);
      updated.push_back(s.updated_at);
    }
    std::sort(created.begin(), created.end());
    std::sort(updated.begin(), updated.end());
    SessionFilters f;
    f.created_after = created[created.size() / 2];
    add("created_after median", f);
    f = {};
    f.created_before = created[created.size() / 2];
    add("created_before median", f);
    f = {};
    f.updated_after = updated[updated.size() / 2];
    add("updated_after median", f);
    f = {};
    f.updated_before = updated[updated.size() / 2];
    f.order_by = OrderBy::updated_at;
    add("updated_before median", f);
  }
  SessionFilters f;
  f.title_contains = "a";
  add("title_contains a", f);
  return st;
}

// First observable difference between two captures ("" when equal).
inline std::string describe_difference(const StoreState& a, const StoreState& b) {
  std::ostringstream out;
  if (a.head != b.head) out << "head " << a.head << " vs " << b.head << "; ";
  if (!(a.statistics == b.statistics)) {
    out << "statistics " << Catch::StringMaker<Statistics>::convert(a.statistics) << " vs "
        << Catch::StringMaker<Statistics>::convert(b.statistics) << "; ";
  }
  if (a.sessions.size() != b.sessions.size()) {
    out << "session count " << a.sessions.size() << " vs " << b.sessions.size() << "; ";
  } else {
    for (std::size_t i = 0; i < a.sessions.size(); ++i) {
      if (!(a.sessions[i] == b.sessions[i])) {
        out << "session #" << i << ": " << Catch::StringMaker<Session>::convert(a.sessions[i])
            << " vs " << Catch::StringMaker<Session>::convert(b.sessions[i]) << "; ";
        break;
      }
    }
  }
  if (a.versions != b.versions) {
    for (const auto& [id, v] : a.versions) {
      auto it = b.versions.find(id);
      if (it == b.versions.end()) {
        out << "versions of " << id << " missing; ";
        break;
      }
      if (it->second != v) {
        out << "versions of " << id << " differ (" << v.size() << " vs " << it->second.size()
            << "); ";
        break;
      }
    }
  }
  if (a.queries != b.queries) {
    for (std::size_t i = 0; i < std::min(a.queries.size(), b.queries.size()); ++i) {
      if (a.queries[i] != b.queries[i]) {
        out << "query '" << a.queries[i].first << "' differs: "
            << Catch::Detail::stringify(a.queries[i].second) << " vs "
            << Catch::Detail::stringify(b.queries[i].second) << "; ";
        break;
      }
    }
    if (a.queries.size() != b.queries.size()) out << "query battery sizes differ; ";
  }
  return out.str();
}

#define CHECK_SAME_STATE(a, b)                                                \
  do {                                                                        \
    INFO("difference: " << ::planning::test::describe_difference((a), (b))); \
    CHECK((a) == (b));                                                        \
  } while (false)
#define REQUIRE_SAME_STATE(a, b)                                              \
  do {                                                                        \
    INFO("difference: " << ::planning::test::describe_difference((a), (b))); \
    REQUIRE((a) == (b));                                                      \
  } while (false)

// Fails unless verify() succeeds with no issue (issues are printed).
inline void require_verified(const SessionManager& m) {
  auto report = PLAN_OK(m.verify());
  std::ostringstream issues;
  for (const auto& issue : report.issues) issues << "[" << issue.sequence << "] " << issue.what << "; ";
  INFO("verify issues: " << issues.str());
  REQUIRE(report.ok());
}

// Options for a test store with the given clock; durable defaults otherwise.
inline Options options_with(const TempDir& dir, Clock clock) {
  Options o = test_options(dir);
  o.clock = std::move(clock);
  return o;
}

}  // namespace planning::test
