// User projections (planning/projection.hpp): apply order, the ProjectionStore
// operations, transactional failure, checkpoints, persistence.
#include <planning/planning.hpp>

#include <cstdio>
#include <filesystem>

#include <catch2/catch.hpp>

#include "support/temp_store.hpp"
#include "support/test_helpers.hpp"

using namespace planning;
using namespace planning::test;

namespace {

std::string seq_key(std::uint64_t seq) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "e:%020llu", static_cast<unsigned long long>(seq));
  return buf;
}

std::string describe(const Event& e) {
  return std::string(to_string(e.type)) + "|" + e.session_id + "|" +
         std::to_string(e.stream_version);
}

// Journals every event under its sequence and notes any gap in the order.
class Journal : public Projection {
 public:
  explicit Journal(std::string name = "journal") : name_(std::move(name)) {}
  std::string name() const override { return name_; }
  std::uint32_t schema_version() const override { return 1; }
  void apply(const Event& event, ProjectionStore& store) override {
    applied.push_back(event.sequence);
    const auto last = store.get("last");
    const std::uint64_t last_seq = last ? std::stoull(*last) : 0;
    if (event.sequence != last_seq + 1) store.put("gap", std::to_string(event.sequence));
    store.put("last", std::to_string(event.sequence));
    store.put(seq_key(event.sequence), describe(event));
    if (store.get("never-written").has_value()) store.put("phantom", "1");
    store.put("k", name_);  // same key in every projection: key spaces are separate
  }
  std::vector<std::uint64_t> applied;  // in-memory, for observation

 private:
  std::string name_;
};

// Tracks live sessions under "s:<id>" (erased on removal) and summarizes them
// with scan(): "count", "order" (keys in visit order) and "first" (early stop).
class StatusBook : public Projection {
 public:
  std::string name() const override { return "status-book"; }
  std::uint32_t schema_version() const override { return 1; }
  void apply(const Event& event, ProjectionStore& store) override {
    const std::string key = "s:" + event.session_id;
    switch (event.type) {
      case EventType::session_created: store.put(key, "active"); break;
      case EventType::session_paused: store.put(key, "paused"); break;
      case EventType::session_resumed: store.put(key, "active"); break;
      case EventType::session_converted: store.put(key, "converted"); break;
      case EventType::session_archived: store.put(key, "archived"); break;
      case EventType::session_removed: store.erase(key); break;
      default: break;
    }
    store.put("t:" + event.session_id, "other prefix");  // must not show in scan("s:")
    std::size_t count = 0;
    std::string order;
    store.scan("s:", [&](std::string_view k, std::string_view v) {
      ++count;
      order += std::string(k) + "=" + std::string(v) + ";";
      return true;
    });
    std::string first;
    store.scan("s:", [&](std::string_view k, std::string_view) {
      first = std::string(k);
      return false;
    });
    store.put("count", std::to_string(count));
    store.put("order", order);
    store.put("first", first);
    store.erase("never-written");  // erasing a missing key is harmless
  }
};

// Throws on a chosen event.
class Bomb : public Projection {
 public:
  std::string name() const override { return "bomb"; }
  std::uint32_t schema_version() const override { return 1; }
  void apply(const Event& event, ProjectionStore& store) override {
    if (const auto* p = std::get_if<SessionPaused>(&event.payload); p && p->reason == "explode") {
      throw std::runtime_error("bomb went off");
    }
    if (const auto* c = std::get_if<SessionCreated>(&event.payload)) {
      if (c->title == "explode") throw std::runtime_error("bomb went off at creation");
      if (c->title == "bigkey") store.put(std::string(401, 'k'), "too long a key");
      if (c->title == "maxkey") store.put(std::string(400, 'k'), "longest key");
    }
    const auto v = store.get("seen");
    store.put("seen", std::to_string((v ? std::stoull(*v) : 0) + 1));
  }
};

std::optional<std::string> value(const SessionManager& m, std::string_view projection,
                                 std::string_view key) {
  return PLAN_OK(m.projection_value(projection, key));
}

void make_some_events(SessionManager& m) {
  CreateRequest r;
  r.title = "one";
  r.initial_content = "x";
  const auto a = PLAN_OK(m.create(r)).id;
  r.title = "two";
  const auto b = PLAN_OK(m.create(r)).id;
  PLAN_OK(m.update(a, UpdateRequest{.content = "y"}));
  PLAN_OK(m.pause(b));
  PLAN_OK(m.resume(b));
  PLAN_OK(m.archive(a));
  PLAN_OK(m.remove(b));
}

}  // namespace

TEST_CASE("apply is called once per committed event, in log order", "[user_projection]") {
  TempDir dir;
  ManualClock clock;
  Options options = test_options(dir, &clock);
  auto journal = std::make_shared<Journal>();
  options.projections = {journal};
  auto m = open_store(options);
  make_some_events(*m);

  const auto events = PLAN_OK(m->events());
  REQUIRE(events.size() == 7);
  CHECK(journal->applied == std::vector<std::uint64_t>{1, 2, 3, 4, 5, 6, 7});
  for (const auto& e : events) {
    INFO("sequence " << e.sequence);
    CHECK(value(*m, "journal", seq_key(e.sequence)) == std::optional<std::string>(describe(e)));
  }
  CHECK_FALSE(value(*m, "journal", "gap").has_value());
  CHECK_FALSE(value(*m, "journal", "phantom").has_value());
  CHECK(value(*m, "journal", "last") == std::optional<std::string>("7"));
  CHECK_FALSE(value(*m, "journal", "no such key").has_value());

  SECTION("rejected operations are not applied") {
    CHECK_FALSE(m->resume(events[0].session_id).has_value());
    CHECK(journal->applied.size() == 7);
  }
  SECTION("after reopening, old events are not applied again") {
    m.reset();
    auto fresh = std::make_shared<Journal>();
    options.projections = {fresh};
    m = open_store(options);
    CHECK(fresh->applied.empty());
    CHECK(value(*m, "journal", "last") == std::optional<std::string>("7"));
    CreateRequest r;
    r.title = "three";
    PLAN_OK(m->create(r));
    CHECK(fresh->applied == std::vector<std::uint64_t>{8});
  }
  SECTION("rebuild_projections clears and replays user projections") {
    journal->applied.clear();
    PLAN_OK(m->rebuild_projections());
    CHECK(journal->applied == std::vector<std::uint64_t>{1, 2, 3, 4, 5, 6, 7});
    CHECK_FALSE(value(*m, "journal", "gap").has_value());
    CHECK(value(*m, "journal", "last") == std::optional<std::string>("7"));
  }
}

TEST_CASE("the projection store supports get, put, erase and prefix scan", "[user_projection]") {
  TempDir dir;
  ManualClock clock;
  Options options = test_options(dir, &clock);
  options.projections = {std::make_shared<StatusBook>()};
  auto m = open_store(options);

  std::vector<std::string> ids;
  for (int i = 0; i < 4; ++i) {
    CreateRequest r;
    r.title = "s" + std::to_string(i);
    ids.push_back(PLAN_OK(m->create(r)).id);
  }
  PLAN_OK(m->pause(ids[1]));
  ConvertRequest c;
  c.project_id = "p";
  PLAN_OK(m->mark_converted(ids[2], c));
  PLAN_OK(m->remove(ids[3]));

  CHECK(value(*m, "status-book", "s:" + ids[0]) == std::optional<std::string>("active"));
  CHECK(value(*m, "status-book", "s:" + ids[1]) == std::optional<std::string>("paused"));
  CHECK(value(*m, "status-book", "s:" + ids[2]) == std::optional<std::string>("converted"));
  CHECK_FALSE(value(*m, "status-book", "s:" + ids[3]).has_value());  // erased
  CHECK(value(*m, "status-book", "t:" + ids[3]) == std::optional<std::string>("other prefix"));
  CHECK(value(*m, "status-book", "count") == std::optional<std::string>("3"));

  // Byte order of keys, values as stored, stopping after the first.
  std::vector<std::string> live(ids.begin(), ids.begin() + 3);
  std::sort(live.begin(), live.end());
  std::map<std::string, std::string> status{{ids[0], "active"}, {ids[1], "paused"},
                                            {ids[2], "converted"}};
  std::string order;
  for (const auto& id : live) order += "s:" + id + "=" + status[id] + ";";
  CHECK(value(*m, "status-book", "order") == std::optional<std::string>(order));
  CHECK(value(*m, "status-book", "first") == std::optional<std::string>("s:" + live[0]));
}

TEST_CASE("user projections have separate key spaces", "[user_projection]") {
  TempDir dir;
  Options options = test_options(dir);
  options.projections = {std::make_shared<Journal>("left"), std::make_shared<Journal>("right")};
  auto m = open_store(options);
  make_some_events(*m);
  CHECK(value(*m, "left", "k") == std::optional<std::string>("left"));
  CHECK(value(*m, "right", "k") == std::optional<std::string>("right"));
}

TEST_CASE("a throwing projection makes the operation fail with storage and appends nothing",
          "[user_projection][failure]") {
  TempDir dir;
  ManualClock clock;
  Options options = test_options(dir, &clock);
  auto journal = std::make_shared<Journal>();
  options.projections = {journal, std::make_shared<Bomb>()};
  auto m = open_store(options);
  CreateRequest r;
  r.title = "victim";
  r.initial_content = "body";
  const auto id = PLAN_OK(m->create(r)).id;

  std::vector<Event> signalled;
  m->signals().any.connect([&](const Event& e) { signalled.push_back(e); });
  const StoreState before = capture_state(*m);

  SECTION("on an update of state") {
    REQUIRE_ERROR_CODE(ErrorCode::storage, m->pause(id, "explode"));
  }
  SECTION("on a creation") {
    CreateRequest boom;
    boom.title = "explode";
    REQUIRE_ERROR_CODE(ErrorCode::storage, m->create(boom));
  }
  SECTION("on a key longer than 400 bytes") {
    CreateRequest big;
    big.title = "bigkey";
    REQUIRE_ERROR_CODE(ErrorCode::storage, m->create(big));
  }

  CHECK_SAME_STATE(before, capture_state(*m));
  CHECK(signalled.empty());
  CHECK(value(*m, "bomb", "seen") == std::optional<std::string>("1"));
  CHECK(value(*m, "journal", "last") == std::optional<std::string>("1"));
  CHECK_FALSE(value(*m, "journal", seq_key(2)).has_value());
  require_verified(*m);

  // The engine is still usable; the next event gets the next sequence number.
  auto paused = PLAN_OK(m->pause(id, "calm"));
  CHECK(paused.status == Status::paused);
  CHECK(head_of(*m) == 2);
  CHECK(value(*m, "bomb", "seen") == std::optional<std::string>("2"));
  CHECK(value(*m, "journal", "last") == std::optional<std::string>("2"));
  CHECK_FALSE(value(*m, "journal", "gap").has_value());
  REQUIRE(signalled.size() == 1);
  CHECK(signalled[0].sequence == 2);
}

TEST_CASE("a key of exactly 400 bytes is accepted", "[user_projection]") {
  TempDir dir;
  Options options = test_options(dir);
  options.projections = {std::make_shared<Bomb>()};
  auto m = open_store(options);
  CreateRequest r;
  r.title = "maxkey";
  PLAN_OK(m->create(r));
  CHECK(value(*m, "bomb", std::string(400, 'k')) == std::optional<std::string>("longest key"));
}

TEST_CASE("a projection that throws while catching up is refused", "[user_projection][failure]") {
  TempDir dir;
  auto m = open_store(test_options(dir));
  CreateRequest r;
  r.title = "t";
  const auto id = PLAN_OK(m->create(r)).id;
  PLAN_OK(m->pause(id, "explode"));  // no bomb registered yet: fine
  const StoreState before = capture_state(*m);

  auto reg = m->register_projection(std::make_shared<Bomb>());
  CHECK_FALSE(reg.has_value());
  CHECK_SAME_STATE(before, capture_state(*m));
  // The manager stays usable.
  PLAN_OK(m->resume(id));
  require_verified(*m);
}

TEST_CASE("projections() reports user projections and their checkpoints", "[user_projection]") {
  TempDir dir;
  Options options = test_options(dir);
  options.projections = {std::make_shared<Journal>()};
  auto m = open_store(options);
  make_some_events(*m);
  auto infos = PLAN_OK(m->projections());
  bool found = false;
  for (const auto& p : infos) {
    INFO(p.name);
    CHECK(p.checkpoint == 7);
    if (p.name == "journal") {
      found = true;
      CHECK_FALSE(p.built_in);
      CHECK(p.schema_version == 1);
    }
  }
  CHECK(found);
  auto info = PLAN_OK(m->info());
  CHECK(info.head_sequence == 7);
  CHECK(info.projections.size() == infos.size());
}

namespace {

// Writes a 3 KiB record per event, so that catching up over a long log needs
// far more pages than the store has free: the map grows during the catch-up.
class Bulky : public Projection {
 public:
  std::string name() const override { return "bulky"; }
  std::uint32_t schema_version() const override { return 1; }
  void apply(const Event& event, ProjectionStore& store) override {
    const auto last = store.get("last");
    const std::uint64_t last_seq = last ? std::stoull(*last) : 0;
    if (event.sequence != last_seq + 1) store.put("gap", std::to_string(event.sequence));
    store.put("last", std::to_string(event.sequence));
    store.put(seq_key(event.sequence),
              std::string(3000, static_cast<char>('a' + event.sequence % 26)));
  }
};

}  // namespace

TEST_CASE("a projection added to a long log catches up on open, also while the map grows",
          "[user_projection][recovery]") {
  TempDir dir;
  Options options = test_options(dir);  // a 1 MiB map to start with
  std::uint64_t head = 0;
  {
    auto m = open_store(options);
    for (int s = 0; s < 40; ++s) {
      const Session created = PLAN_OK(m->create({.title = "s" + std::to_string(s)}));
      for (int u = 0; u < 20; ++u) {
        PLAN_OK(m->update(created.id, {.content = "v" + std::to_string(u) + "\n"}));
      }
    }
    head = PLAN_OK(m->head_sequence());
  }
  const std::uint64_t map_before = std::filesystem::file_size(options.path / "data.mdb");
  options.projections = {std::make_shared<Bulky>()};
  auto m = open_store(options);  // catches "bulky" up over 840 events: ~2.5 MB of records
  INFO("data.mdb " << map_before << " -> "
                   << std::filesystem::file_size(options.path / "data.mdb"));
  CHECK(std::filesystem::file_size(options.path / "data.mdb") > map_before + (1u << 20));
  CHECK_FALSE(value(*m, "bulky", "gap").has_value());
  CHECK(value(*m, "bulky", "last") == std::optional<std::string>(std::to_string(head)));
  for (std::uint64_t seq = 1; seq <= head; ++seq) {
    INFO("sequence " << seq);
    REQUIRE(value(*m, "bulky", seq_key(seq)) ==
            std::optional<std::string>(std::string(3000, static_cast<char>('a' + seq % 26))));
  }
  bool found = false;
  for (const auto& p : PLAN_OK(m->projections())) {
    if (p.name == "bulky") {
      found = true;
      CHECK(p.checkpoint == head);
    }
  }
  CHECK(found);
  require_verified(*m);
}
