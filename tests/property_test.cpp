// Seeded random operations against a model of the contract (docs/BEHAVIOUR.md,
// docs/BEHAVIOUR.md). Every call's result is predicted and asserted; afterwards
// the projections are rebuilt and must be identical, and time travel must give
// back recorded states.
//
// The seed is fixed and printed; override it with PLANNING_PROPERTY_SEED.
#include <planning/planning.hpp>

#include <cstdlib>
#include <iostream>
#include <random>

#include <catch2/catch.hpp>

#include "support/temp_store.hpp"
#include "support/test_helpers.hpp"

using namespace planning;
using namespace planning::test;

namespace {

struct ModelSession {
  std::string id;
  Status status = Status::active;
  std::string title, description, content, repository_path;
  nlohmann::json metadata = nlohmann::json::object();
  std::vector<std::string> version_contents;
  std::vector<std::string> version_summaries;
  std::string pause_reason;
  std::string project_id;
  std::uint32_t stream_version = 0;
  bool removed = false;
};

struct Recorded {
  std::string id;
  std::uint64_t sequence;
  Session state;
};

class PropertyRun {
 public:
  PropertyRun(std::uint32_t seed, bool auto_version, int operations, int target_sessions)
      : rng_(seed), auto_version_(auto_version), ops_(operations), target_(target_sessions) {
    Options options = test_options(dir_, &clock_);
    options.auto_version = auto_version;
    options.durability = Durability::no_sync;  // process crashes lose nothing; speed
    options_ = options;
    m_ = open_store(options);
  }

  void run() {
    for (int i = 0; i < ops_; ++i) {
      op_index_ = i;
      step();
      if (i % 500 == 499) check_statistics();
    }
    check_everything();
  }

  std::size_t sessions_made() const { return sessions_.size(); }
  std::size_t live_sessions() const { return live().size(); }
  std::uint64_t head() const { return head_; }
  std::uint64_t rejections() const { return rejected_; }

 private:
  // --- helpers --------------------------------------------------------------
  int pct() { return static_cast<int>(rng_() % 100); }
  std::size_t below(std::size_t n) { return static_cast<std::size_t>(rng_() % n); }

  std::vector<std::size_t> live() const {
    std::vector<std::size_t> out;
    for (std::size_t i = 0; i < sessions_.size(); ++i) {
      if (!sessions_[i].removed) out.push_back(i);
    }
    return out;
  }
  std::size_t working_count() const {
    std::size_t n = 0;
    for (const auto& s : sessions_) {
      if (!s.removed && (s.status == Status::active || s.status == Status::paused)) ++n;
    }
    return n;
  }

  // A target: mostly live sessions (biased to working ones), sometimes a removed
  // or unknown id (returns nullptr with `id` set).
  // With `preferred`, usually a session in that status, so that most calls are
  // valid and the store keeps changing.
  ModelSession* pick(std::string& id, std::optional<Status> preferred) {
    if (preferred && pct() < 75) {
      std::vector<std::size_t> match;
      for (auto i : live()) {
        if (sessions_[i].status == *preferred) match.push_back(i);
      }
      if (!match.empty()) {
        ModelSession* s = &sessions_[match[below(match.size())]];
        id = s->id;
        return s;
      }
    }
    const int roll = pct();
    auto l = live();
    if (roll < 5 || l.empty()) {
      id = "0190a000-0000-7000-8000-" + std::to_string(100000000000 + below(899999999999));
      return nullptr;
    }
    if (roll < 12) {
      std::vector<std::size_t> gone;
      for (std::size_t i = 0; i < sessions_.size(); ++i) {
        if (sessions_[i].removed) gone.push_back(i);
      }
      if (!gone.empty()) {
        id = sessions_[gone[below(gone.size())]].id;
        return nullptr;
      }
    }
    std::vector<std::size_t> working;
    for (auto i : l) {
      if (sessions_[i].status == Status::active || sessions_[i].status == Status::paused) {
        working.push_back(i);
      }
    }
    const auto& pool = (!working.empty() && pct() < 90) ? working : l;
    ModelSession* s = &sessions_[pool[below(pool.size())]];
    id = s->id;
    return s;
  }

  ModelSession* pick_active() {
    std::vector<std::size_t> a;
    for (auto i : live()) {
      if (sessions_[i].status == Status::active) a.push_back(i);
    }
    return a.empty() ? nullptr : &sessions_[a[below(a.size())]];
  }

  std::string random_text(const char* prefix) {
    return std::string(prefix) + std::to_string(below(12));  // small space: collisions happen
  }

  std::string random_content() {
    std::string c;
    const auto lines = below(6);
    for (std::size_t i = 0; i < lines; ++i) c += "line " + std::to_string(below(8)) + "\n";
    return c + "end";
  }

  // Asserts the result of an operation expected to succeed and matching `model`.
  void expect_ok(const Result<Session>& r, const ModelSession& model, const char* what) {
    INFO("op #" << op_index_ << " " << what << " on " << model.id);
    if (!r) FAIL("unexpected error " << to_string(r.error().code) << ": " << r.error().message);
    check_session(*r, model);
  }

  void check_session(const Session& s, const ModelSession& model) {
    CHECK(s.id == model.id);
    CHECK(s.status == model.status);
    CHECK(s.title == model.title);
    CHECK(s.description == model.description);
    CHECK(s.content == model.content);
    CHECK(s.repository_path == model.repository_path);
    CHECK(s.metadata == model.metadata);
    CHECK(s.current_version == model.version_contents.size());
    CHECK(s.stream_version == model.stream_version);
    CHECK(s.project_id == model.project_id);
    // What archive does to pause data is not specified; check it while it matters.
    if (model.status == Status::active || model.status == Status::paused) {
      CHECK(s.pause_reason == model.pause_reason);
      CHECK(s.paused_at.has_value() == (model.status == Status::paused));
    }
  }

  template <typename T>
  void expect_err(const Result<T>& r, ErrorCode code, const std::string& id, const char* what) {
    INFO("op #" << op_index_ << " " << what << " on " << id);
    if (r) FAIL("succeeded; expected " << to_string(code));
    INFO("message: " << r.error().message);
    CHECK(r.error().code == code);
    ++rejected_;
  }

  void expect_head() {
    INFO("op #" << op_index_);
    REQUIRE(head_of(*m_) == head_);
  }

  void appended(ModelSession& s) {
    ++head_;
    ++s.stream_version;
    if (pct() < 10) record(s);
  }

  void record(const ModelSession& s) {
    recorded_.push_back({s.id, head_, PLAN_OK(m_->get(s.id))});
  }

  void new_version(ModelSession& s, std::string content, std::string summary) {
    s.version_contents.push_back(std::move(content));
    s.version_summaries.push_back(std::move(summary));
  }

  // --- operations -------------------------------------------------------------
  void step() {
    const int roll = pct();
    if (roll < 8) return op_create();
    if (roll < 45) return op_update();
    if (roll < 55) return op_pause();
    if (roll < 69) return op_resume();
    if (roll < 70) return op_convert();
    if (roll < 71) return op_archive();
    if (roll < 74) return op_remove();
    if (roll < 82) return op_create_version();
    if (roll < 94) return op_restore();
    return op_get();
  }

  void op_create() {
    if (working_count() >= static_cast<std::size_t>(target_) && pct() < 90) return op_update();
    CreateRequest r;
    if (pct() < 5) {
      r.title = pct() < 50 ? "" : "   ";
      expect_err(m_->create(r), ErrorCode::invalid_argument, "-", "create blank");
      expect_head();
      return;
    }
    r.title = random_text("title ");
    r.description = random_text("desc ");
    r.repository_path = random_text("/repo/");
    if (pct() < 70) r.initial_content = random_content();
    if (pct() < 30) r.metadata = {{"k", below(3)}};
    auto res = m_->create(r);
    INFO("op #" << op_index_ << " create");
    if (!res) FAIL("create failed: " << res.error().message);
    ModelSession s;
    s.id = res->id;
    s.title = r.title;
    s.description = r.description;
    s.repository_path = r.repository_path;
    s.metadata = r.metadata;
    if (r.initial_content) {
      s.content = *r.initial_content;
      new_version(s, s.content, "Initial version");
    }
    sessions_.push_back(s);
    appended(sessions_.back());
    check_session(*res, sessions_.back());
    expect_head();
  }

  void op_update() {
    std::string id;
    ModelSession* s = pick(id, Status::active);
    UpdateRequest u;
    // Malformed requests only against active sessions: the precedence between
    // invalid_argument / conflict and not_found / invalid_state is not specified.
    if (s != nullptr && s->status == Status::active && pct() < 8) {
      const int kind = pct();
      ErrorCode code = ErrorCode::invalid_argument;
      if (kind < 35) {
        // no field set
      } else if (kind < 70) {
        u.title = "  ";
      } else {
        u.content = s->content + " (conflicting edit)";
        u.expected_stream_version = s->stream_version + 1 + static_cast<std::uint32_t>(below(3));
        if (pct() < 50) u.expected_stream_version = s->stream_version - 1;
        code = ErrorCode::conflict;
      }
      expect_err(m_->update(id, u), code, id, "malformed update");
      expect_head();
      return;
    }
    bool any = false;
    if (pct() < 30) { u.title = random_text("title "); any = true; }
    if (pct() < 20) { u.description = random_text("desc "); any = true; }
    if (pct() < 60) { u.content = pct() < 15 && s ? s->content : random_content(); any = true; }
    if (pct() < 15) { u.repository_path = random_text("/repo/"); any = true; }
    if (pct() < 15) { u.metadata = nlohmann::json{{"k", below(3)}}; any = true; }
    if (!any) u.title = random_text("title ");
    u.change_summary = random_text("summary ");
    u.updated_by = "prop";
    if (s != nullptr && pct() < 20) u.expected_stream_version = s->stream_version;

    auto res = m_->update(id, u);
    if (s == nullptr) {
      expect_err(res, ErrorCode::not_found, id, "update");
    } else if (s->status != Status::active) {
      expect_err(res, ErrorCode::invalid_state, id, "update");
    } else {
      bool changed = false;
      bool content_changed = false;
      if (u.title && *u.title != s->title) { s->title = *u.title; changed = true; }
      if (u.description && *u.description != s->description) {
        s->description = *u.description;
        changed = true;
      }
      if (u.content && *u.content != s->content) {
        s->content = *u.content;
        changed = content_changed = true;
      }
      if (u.repository_path && *u.repository_path != s->repository_path) {
        s->repository_path = *u.repository_path;
        changed = true;
      }
      if (u.metadata && *u.metadata != s->metadata) { s->metadata = *u.metadata; changed = true; }
      if (changed) {
        if (content_changed && auto_version_) new_version(*s, s->content, u.change_summary);
        appended(*s);
      }
      expect_ok(res, *s, changed ? "update" : "no-op update");
    }
    expect_head();
  }

  void op_pause() {
    std::string id;
    ModelSession* s = pick(id, Status::active);
    const std::string reason = random_text("reason ");
    auto res = m_->pause(id, reason, "prop");
    if (s == nullptr) {
      expect_err(res, ErrorCode::not_found, id, "pause");
    } else if (s->status != Status::active) {
      expect_err(res, ErrorCode::invalid_transition, id, "pause");
    } else {
      s->status = Status::paused;
      s->pause_reason = reason;
      appended(*s);
      expect_ok(res, *s, "pause");
    }
    expect_head();
  }

  void op_resume() {
    std::string id;
    ModelSession* s = pick(id, Status::paused);
    auto res = m_->resume(id, "prop");
    if (s == nullptr) {
      expect_err(res, ErrorCode::not_found, id, "resume");
    } else if (s->status != Status::paused) {
      expect_err(res, ErrorCode::invalid_transition, id, "resume");
    } else {
      s->status = Status::active;
      s->pause_reason.clear();
      appended(*s);
      expect_ok(res, *s, "resume");
    }
    expect_head();
  }

  void op_convert() {
    std::string id;
    ModelSession* s = pick(id, Status::active);
    ConvertRequest c;
    c.project_id = random_text("project-");
    c.work_item_ids = {"wi-" + std::to_string(below(100))};
    auto res = m_->mark_converted(id, c);
    if (s == nullptr) {
      expect_err(res, ErrorCode::not_found, id, "convert");
    } else if (s->status != Status::active) {
      expect_err(res, ErrorCode::invalid_state, id, "convert");
    } else {
      s->status = Status::converted;
      s->project_id = c.project_id;
      appended(*s);
      expect_ok(res, *s, "convert");
    }
    expect_head();
  }

  void op_archive() {
    std::string id;
    ModelSession* s = pick(id, std::nullopt);
    auto res = m_->archive(id, "prop");
    if (s == nullptr) {
      expect_err(res, ErrorCode::not_found, id, "archive");
    } else if (s->status == Status::archived) {
      expect_err(res, ErrorCode::invalid_transition, id, "archive");
    } else {
      s->status = Status::archived;
      appended(*s);
      expect_ok(res, *s, "archive");
    }
    expect_head();
  }

  void op_remove() {
    std::string id;
    ModelSession* s = pick(id, std::nullopt);
    if (s != nullptr && pct() < 70) {
      std::vector<std::size_t> finished;
      for (auto i : live()) {
        const Status st = sessions_[i].status;
        if (st == Status::converted || st == Status::archived) finished.push_back(i);
      }
      if (!finished.empty()) {
        s = &sessions_[finished[below(finished.size())]];
        id = s->id;
      }
    }
    if (s != nullptr && pct() < 50) record(*s);  // state just before the tombstone
    auto res = m_->remove(id, "prop");
    if (s == nullptr) {
      expect_err(res, ErrorCode::not_found, id, "remove");
    } else {
      INFO("op #" << op_index_ << " remove");
      REQUIRE(res.has_value());
      CHECK(res->id == id);
      s->removed = true;
      ++head_;
      REQUIRE_ERROR_CODE(ErrorCode::not_found, m_->get(id));
    }
    expect_head();
  }

  void op_create_version() {
    std::string id;
    ModelSession* s = pick(id, Status::active);
    const std::string summary = random_text("snap ");
    auto res = m_->create_version(id, summary, "prop");
    if (s == nullptr) {
      expect_err(res, ErrorCode::not_found, id, "create_version");
    } else if (s->status != Status::active) {
      expect_err(res, ErrorCode::invalid_state, id, "create_version");
    } else {
      INFO("op #" << op_index_ << " create_version");
      if (!res) FAIL(res.error().message);
      new_version(*s, s->content, summary);
      appended(*s);
      CHECK(res->version_number == s->version_contents.size());
      CHECK(res->content == s->content);
      CHECK(res->change_summary == summary);
      CHECK(res->event_seq == head_);
      check_session(PLAN_OK(m_->get(id)), *s);
    }
    expect_head();
  }

  void op_restore() {
    std::string id;
    ModelSession* s = pick(id, Status::active);
    if (s != nullptr && s->status == Status::active) {
      const std::size_t latest = s->version_contents.size();
      const std::uint32_t n = static_cast<std::uint32_t>(below(latest + 2));  // 0..latest+1
      auto res = m_->restore_version(id, n, "prop");
      if (n == 0) {
        expect_err(res, ErrorCode::invalid_argument, id, "restore 0");
      } else if (n > latest) {
        expect_err(res, ErrorCode::not_found, id, "restore beyond latest");
      } else {
        s->content = s->version_contents[n - 1];
        new_version(*s, s->content, "Restored from version " + std::to_string(n));
        appended(*s);
        expect_ok(res, *s, "restore");
      }
    } else if (s != nullptr) {
      if (s->version_contents.empty()) return;  // not_found vs invalid_state: unspecified
      const auto n = static_cast<std::uint32_t>(1 + below(s->version_contents.size()));
      expect_err(m_->restore_version(id, n, "prop"), ErrorCode::invalid_state, id, "restore");
    } else {
      expect_err(m_->restore_version(id, 1, "prop"), ErrorCode::not_found, id, "restore");
    }
    expect_head();
  }

  void op_get() {
    std::string id;
    ModelSession* s = pick(id, std::nullopt);
    auto res = m_->get(id);
    if (s == nullptr) {
      expect_err(res, ErrorCode::not_found, id, "get");
    } else {
      expect_ok(res, *s, "get");
    }
  }

  // --- whole-store checks -----------------------------------------------------
  void check_statistics() {
    Statistics want;
    for (const auto& s : sessions_) {
      if (s.removed) {
        ++want.removed_sessions;
        continue;
      }
      ++want.total_sessions;
      switch (s.status) {
        case Status::active: ++want.active_sessions; break;
        case Status::paused: ++want.paused_sessions; break;
        case Status::converted: ++want.converted_sessions; break;
        case Status::archived: ++want.archived_sessions; break;
      }
      if (!s.content.empty()) ++want.sessions_with_content;
      want.total_versions += s.version_contents.size();
    }
    want.average_versions_per_session =
        want.total_sessions == 0 ? 0.0
                                 : static_cast<double>(want.total_versions) /
                                       static_cast<double>(want.total_sessions);
    want.total_events = head_;
    INFO("after op #" << op_index_);
    CHECK(PLAN_OK(m_->get_statistics()) == want);
  }

  void check_everything() {
    check_statistics();

    // list() is every live session, in creation order.
    std::vector<std::string> want_ids;
    for (const auto& s : sessions_) {
      if (!s.removed) want_ids.push_back(s.id);
    }
    CHECK(ids_of(PLAN_OK(m_->list())) == want_ids);

    // Every version history matches the model.
    for (const auto& s : sessions_) {
      if (s.removed) continue;
      INFO("versions of " << s.id);
      auto versions = PLAN_OK(m_->get_versions(s.id));
      REQUIRE(versions.size() == s.version_contents.size());
      for (std::size_t i = 0; i < versions.size(); ++i) {
        CHECK(versions[i].version_number == i + 1);
        CHECK(versions[i].content == s.version_contents[i]);
        CHECK(versions[i].change_summary == s.version_summaries[i]);
      }
      check_session(PLAN_OK(m_->get(s.id)), s);
    }

    // Stream versions equal the number of events in each stream.
    for (std::size_t i = 0; i < sessions_.size(); i += 7) {
      const auto& s = sessions_[i];
      EventQuery q;
      q.session_id = s.id;
      auto events = PLAN_OK(m_->events(q));
      const std::size_t expected = s.stream_version + (s.removed ? 1 : 0);
      CHECK(events.size() == expected);
      for (std::size_t k = 0; k < events.size(); ++k) CHECK(events[k].stream_version == k + 1);
    }

    // A full rebuild reproduces every projection exactly.
    const StoreState before = capture_state(*m_);
    PLAN_OK(m_->rebuild_projections());
    REQUIRE_SAME_STATE(before, capture_state(*m_));
    require_verified(*m_);

    // Time travel gives back the recorded states.
    std::shuffle(recorded_.begin(), recorded_.end(), rng_);
    const std::size_t sample = std::min<std::size_t>(recorded_.size(), 300);
    for (std::size_t i = 0; i < sample; ++i) {
      const auto& rec = recorded_[i];
      INFO("session_at(" << rec.id << ", " << rec.sequence << ")");
      CHECK(PLAN_OK(m_->session_at(rec.id, rec.sequence)) == rec.state);
      CHECK(PLAN_OK(m_->session_at_time(rec.id, rec.state.updated_at)) == rec.state);
    }

    // And so does a reopened store.
    m_.reset();
    m_ = open_store(options_);
    REQUIRE_SAME_STATE(before, capture_state(*m_));
  }

  TempDir dir_;
  ManualClock clock_;
  Options options_;
  std::unique_ptr<SessionManager> m_;
  std::mt19937_64 rng_;
  bool auto_version_;
  int ops_;
  int target_;
  int op_index_ = 0;
  std::uint64_t head_ = 0;
  std::uint64_t rejected_ = 0;
  std::vector<ModelSession> sessions_;
  std::vector<Recorded> recorded_;
};

std::uint32_t property_seed() {
  if (const char* env = std::getenv("PLANNING_PROPERTY_SEED")) {
    return static_cast<std::uint32_t>(std::strtoul(env, nullptr, 10));
  }
  return 20250101u;
}

}  // namespace

TEST_CASE("5000 random operations agree with the model", "[property]") {
  const bool auto_version = GENERATE(true, false);
  const std::uint32_t seed = property_seed() + (auto_version ? 0 : 1);
  std::cout << "property seed: " << seed << " (auto_version=" << auto_version << ")\n";
  INFO("seed " << seed << ", auto_version " << auto_version);
  PropertyRun run(seed, auto_version, 5000, 50);
  run.run();
  std::cout << "  sessions made " << run.sessions_made() << ", live " << run.live_sessions()
            << ", events " << run.head() << ", rejected calls " << run.rejections() << "\n";
  CHECK(run.sessions_made() >= 50);
  CHECK(run.head() >= 2500);       // most operations did something
  CHECK(run.rejections() > 100);  // invalid operations were exercised
}

TEST_CASE("50000 random operations agree with the model", "[property][slow]") {
  const std::uint32_t seed = property_seed() + 7;
  std::cout << "property seed: " << seed << "\n";
  INFO("seed " << seed);
  PropertyRun run(seed, true, 50000, 300);
  run.run();
  CHECK(run.sessions_made() >= 300);
}
