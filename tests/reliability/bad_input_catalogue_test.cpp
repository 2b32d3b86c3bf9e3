// The bad-input catalogue (docs/BAD_INPUT.md): every input the API rejects, one
// row each, in the same order as the document's table. For each row the call
// must fail with the documented ErrorCode, and afterwards the log head, the
// session list, the statistics, every version history, the indexed queries and
// the signals are exactly as before: a rejected call changes nothing.
//
// The test also reads docs/BAD_INPUT.md and checks that its table lists exactly
// these rows (number, call, input, ErrorCode, planctl exit code), so the
// document and the test cannot drift apart.
#include <planning/planning.hpp>

#include <atomic>
#include <cctype>
#include <fstream>
#include <sstream>

#include <catch2/catch.hpp>

#include "events/src/event_codec.hpp"
#include "reliability/reliability_support.hpp"
#include "support/raw_lmdb.hpp"
#include "support/temp_store.hpp"
#include "support/test_helpers.hpp"

using namespace planning;
using namespace planning::test;
using namespace std::chrono_literals;

#ifndef BAD_INPUT_DOC
#error "BAD_INPUT_DOC must name docs/BAD_INPUT.md (set in tests/reliability/CMakeLists.txt)"
#endif

namespace {

const std::string kUnknownId = "0190a000-0000-7000-8000-000000000000";

// A trivial user projection, registered at open (for the "already registered" row).
struct Counter : Projection {
  std::string name() const override { return "counter"; }
  std::uint32_t schema_version() const override { return 1; }
  void apply(const Event&, ProjectionStore& store) override {
    const auto v = store.get("n");
    store.put("n", std::to_string((v ? std::stoull(*v) : 0) + 1));
  }
};

struct Named : Projection {
  explicit Named(std::string n) : n_(std::move(n)) {}
  std::string name() const override { return n_; }
  std::uint32_t schema_version() const override { return 1; }
  void apply(const Event&, ProjectionStore&) override {}
  std::string n_;
};

// A store with a session in every status, one without content, a removed one.
struct Fixture {
  TempDir dir;
  TempDir scratch;  // other paths used by open / backup rows
  ManualClock clock;
  Options options;
  std::unique_ptr<SessionManager> m;
  std::string active, paused, converted, archived, removed, empty;
  std::atomic<int> signalled{0};
  int scratch_count = 0;

  Fixture() {
    options = test_options(dir, &clock);
    options.durability = Durability::no_sync;  // setup speed; not under test
    options.projections = {std::make_shared<Counter>()};
    m = open_store(options);
    active = make("active", "v1");
    PLAN_OK(m->update(active, UpdateRequest{.content = "v2"}));
    paused = make("paused", "p");
    PLAN_OK(m->pause(paused, "hold"));
    converted = make("converted", "c");
    PLAN_OK(m->mark_converted(converted, ConvertRequest{.project_id = "proj"}));
    archived = make("archived", std::nullopt);
    PLAN_OK(m->archive(archived));
    removed = make("removed", "r");
    PLAN_OK(m->remove(removed));
    empty = make("no content", std::nullopt);
    m->signals().any.connect([this](const Event&) { signalled.fetch_add(1); });
  }

  std::string make(std::string title, std::optional<std::string> content) {
    CreateRequest r;
    r.title = std::move(title);
    r.initial_content = std::move(content);
    r.repository_path = "/repo";
    return PLAN_OK(m->create(r)).id;
  }

  // A fresh path for rows that open or write elsewhere.
  std::filesystem::path fresh_path() {
    return scratch.path() / ("p" + std::to_string(scratch_count++));
  }

  // The next event a client could import: continues the log head (sequence,
  // prev_hash, timestamp) with `payload` on `session` at `stream_version`.
  Event next_event(const std::string& session, std::uint32_t stream_version, EventPayload payload) {
    const auto info = PLAN_OK(m->info());
    EventQuery q;
    q.from_sequence = info.head_sequence;
    const auto last = PLAN_OK(m->events(q));
    REQUIRE(last.size() == 1);
    Event e;
    e.sequence = info.head_sequence + 1;
    e.session_id = session;
    e.stream_version = stream_version;
    e.timestamp = last[0].timestamp + 1s;
    e.actor = "importer";
    e.prev_hash = info.head_hash;
    e.payload = std::move(payload);
    Event sealed = e;
    (void)detail::encode_event(sealed);  // computes type, schema and checksum
    return sealed;
  }
  std::uint32_t sv(const std::string& id) { return PLAN_OK(m->get(id)).stream_version; }
};

template <typename T>
std::optional<Error> error_of(const Result<T>& r) {
  if (r) return std::nullopt;
  return r.error();
}

std::optional<Error> import_lines(SessionManager& m, const std::vector<nlohmann::json>& lines) {
  std::stringstream in;
  for (const auto& l : lines) in << l.dump() << '\n';
  return error_of(m.import_events(in));
}

std::string bytes(std::size_t n, char c = 'x') { return std::string(n, c); }

// `depth` nested arrays, built without recursion (nlohmann destroys it without
// recursion too).
nlohmann::json nested_arrays(std::size_t depth) {
  nlohmann::json value = nlohmann::json::array();
  for (std::size_t i = 1; i < depth; ++i) {
    nlohmann::json outer = nlohmann::json::array();
    outer.push_back(std::move(value));
    value = std::move(outer);
  }
  return value;
}

// `{"a":[[...]]}` as text, `depth` arrays deep: 200 KB at 100,000, under the
// metadata limit. Before the depth limit, validating it overflowed the stack.
std::string nested_metadata_text(std::size_t depth) {
  return "{\"a\":" + std::string(depth, '[') + std::string(depth, ']') + "}";
}
constexpr std::size_t kHostileDepth = 100000;
const std::string kBadUtf8 = "ok\xc3(";

// One documented rejection.
struct Row {
  const char* call;
  const char* input;
  ErrorCode code;
  std::function<std::optional<Error>(Fixture&)> run;
};

// The planctl exit code of an ErrorCode (tools/planctl/context.hpp).
int planctl_exit(ErrorCode code) {
  switch (code) {
    case ErrorCode::not_found:
      return 3;
    case ErrorCode::invalid_argument:
      return 4;
    case ErrorCode::invalid_transition:
    case ErrorCode::invalid_state:
      return 5;
    case ErrorCode::conflict:
      return 6;
    case ErrorCode::corruption:
      return 7;
    case ErrorCode::storage:
      return 8;
  }
  return -1;
}

using E = ErrorCode;

// THE CATALOGUE — keep in the order of the table in docs/BAD_INPUT.md.
std::vector<Row> catalogue() {
  return {
      // --- Opening a store
      {"`SessionManager::open`", "`Options::path` is empty", E::invalid_argument,
       [](Fixture&) {
         Options o;
         o.path = "";
         return error_of(SessionManager::open(o));
       }},
      {"`SessionManager::open`", "`Options::replay_batch_events` is 0", E::invalid_argument,
       [](Fixture& f) {
         Options o;
         o.path = f.fresh_path();
         o.replay_batch_events = 0;
         return error_of(SessionManager::open(o));
       }},
      {"`SessionManager::open`", "a null entry in `Options::projections`", E::invalid_argument,
       [](Fixture& f) {
         Options o;
         o.path = f.fresh_path();
         o.projections = {nullptr};
         return error_of(SessionManager::open(o));
       }},
      {"`SessionManager::open`", "a user projection name outside `[a-z0-9_-]{1,64}`",
       E::invalid_argument,
       [](Fixture& f) {
         Options o;
         o.path = f.fresh_path();
         o.projections = {std::make_shared<Named>("Bad Name")};
         return error_of(SessionManager::open(o));
       }},
      {"`SessionManager::open`", "two user projections with the same name", E::invalid_argument,
       [](Fixture& f) {
         Options o;
         o.path = f.fresh_path();
         o.projections = {std::make_shared<Named>("twin"), std::make_shared<Named>("twin")};
         return error_of(SessionManager::open(o));
       }},
      {"`SessionManager::open`", "no store at `path` and `create_if_missing` is false", E::storage,
       [](Fixture& f) {
         Options o;
         o.path = f.fresh_path();
         o.create_if_missing = false;
         return error_of(SessionManager::open(o));
       }},
      {"`SessionManager::open`", "`path` is a regular file (or lies under one)", E::storage,
       [](Fixture& f) {
         const auto file = f.fresh_path();
         std::ofstream(file) << "x";
         Options o;
         o.path = file;
         return error_of(SessionManager::open(o));
       }},
      {"`SessionManager::open`", "the store is already open in this process", E::storage,
       [](Fixture& f) { return error_of(SessionManager::open(f.options)); }},
      {"`SessionManager::open`",
       "the store's format version is neither `kFormatVersion` nor an older one this build "
       "upgrades (`kOldestUpgradableFormat` on)",
       E::corruption,
       [](Fixture& f) {
         Options o;
         o.path = f.fresh_path();
         { auto m = SessionManager::open(o); }
         REQUIRE(raw::put(o.path, "meta", "format", std::string("\0\0\0\x09", 4)).empty());
         return error_of(SessionManager::open(o));
       }},
      // --- create
      {"`create`", "title empty or only whitespace", E::invalid_argument,
       [](Fixture& f) { return error_of(f.m->create({.title = " \t\n"})); }},
      {"`create`", "title of only Unicode white space or zero-width characters",
       E::invalid_argument,
       [](Fixture& f) {
         // U+00A0 no-break space, U+3000 ideographic space, U+200B zero width space.
         return error_of(f.m->create({.title = "\u00a0\u3000\u200b"}));
       }},
      {"`create`", "title over 1 KiB", E::invalid_argument,
       [](Fixture& f) { return error_of(f.m->create({.title = bytes(limits::title + 1)})); }},
      {"`create`", "description over 64 KiB", E::invalid_argument,
       [](Fixture& f) {
         return error_of(
             f.m->create({.title = "t", .description = bytes(limits::description + 1)}));
       }},
      {"`create`", "repository_path over 4 KiB", E::invalid_argument,
       [](Fixture& f) {
         return error_of(
             f.m->create({.title = "t", .repository_path = bytes(limits::repository_field + 1)}));
       }},
      {"`create`", "repository_url over 4 KiB", E::invalid_argument,
       [](Fixture& f) {
         return error_of(
             f.m->create({.title = "t", .repository_url = bytes(limits::repository_field + 1)}));
       }},
      {"`create`", "working_directory over 4 KiB", E::invalid_argument,
       [](Fixture& f) {
         return error_of(
             f.m->create({.title = "t", .working_directory = bytes(limits::repository_field + 1)}));
       }},
      {"`create`", "initial_content over 16 MiB", E::invalid_argument,
       [](Fixture& f) {
         return error_of(
             f.m->create({.title = "t", .initial_content = bytes(limits::content + 1)}));
       }},
      {"`create`", "created_by over 256 B", E::invalid_argument,
       [](Fixture& f) {
         return error_of(f.m->create({.title = "t", .created_by = bytes(limits::actor + 1)}));
       }},
      {"`create`", "a text field that is not valid UTF-8", E::invalid_argument,
       [](Fixture& f) { return error_of(f.m->create({.title = "t", .description = kBadUtf8})); }},
      {"`create`", "metadata that is not a JSON object", E::invalid_argument,
       [](Fixture& f) {
         return error_of(f.m->create({.title = "t", .metadata = nlohmann::json::array({1, 2})}));
       }},
      {"`create`", "metadata over 256 KiB serialized", E::invalid_argument,
       [](Fixture& f) {
         return error_of(
             f.m->create({.title = "t", .metadata = {{"big", bytes(limits::metadata)}}}));
       }},
      {"`create`", "metadata holding text that is not valid UTF-8", E::invalid_argument,
       [](Fixture& f) {
         return error_of(f.m->create({.title = "t", .metadata = {{"k", kBadUtf8}}}));
       }},
      {"`create`", "metadata nested deeper than 64 levels", E::invalid_argument,
       [](Fixture& f) {
         return error_of(
             f.m->create({.title = "t", .metadata = {{"a", nested_arrays(kHostileDepth)}}}));
       }},
      // --- get / update
      {"`get`", "an unknown id, or text that is not a session id", E::not_found,
       [](Fixture& f) {
         if (auto e = error_of(f.m->get(kUnknownId)); !e || e->code != E::not_found) return e;
         return error_of(f.m->get("not-a-uuid"));
       }},
      {"`get`", "a removed session", E::not_found,
       [](Fixture& f) { return error_of(f.m->get(f.removed)); }},
      {"`update`", "an unknown or removed id", E::not_found,
       [](Fixture& f) { return error_of(f.m->update(f.removed, UpdateRequest{.title = "x"})); }},
      {"`update`", "no field set", E::invalid_argument,
       [](Fixture& f) {
         UpdateRequest u;
         u.change_summary = "only a summary";
         return error_of(f.m->update(f.active, u));
       }},
      {"`update`", "title empty or only whitespace", E::invalid_argument,
       [](Fixture& f) { return error_of(f.m->update(f.active, UpdateRequest{.title = "  "})); }},
      {"`update`", "content over 16 MiB (or any field over its limit)", E::invalid_argument,
       [](Fixture& f) {
         return error_of(
             f.m->update(f.active, UpdateRequest{.content = bytes(limits::content + 1)}));
       }},
      {"`update`", "change_summary over 4 KiB", E::invalid_argument,
       [](Fixture& f) {
         UpdateRequest u;
         u.content = "new";
         u.change_summary = bytes(limits::change_summary + 1);
         return error_of(f.m->update(f.active, u));
       }},
      {"`update`", "updated_by over 256 B", E::invalid_argument,
       [](Fixture& f) {
         UpdateRequest u;
         u.content = "new";
         u.updated_by = bytes(limits::actor + 1);
         return error_of(f.m->update(f.active, u));
       }},
      {"`update`", "metadata that is not a JSON object", E::invalid_argument,
       [](Fixture& f) {
         return error_of(f.m->update(f.active, UpdateRequest{.metadata = nlohmann::json(42)}));
       }},
      {"`update`", "metadata nested deeper than 64 levels", E::invalid_argument,
       [](Fixture& f) {
         return error_of(f.m->update(
             f.active, UpdateRequest{.metadata = nlohmann::json{{"a", nested_arrays(64)}}}));
       }},
      {"`update`", "a session that is paused, converted or archived", E::invalid_state,
       [](Fixture& f) {
         for (const auto* id : {&f.paused, &f.converted}) {
           auto e = error_of(f.m->update(*id, UpdateRequest{.title = "x"}));
           if (!e || e->code != E::invalid_state) return e;
         }
         return error_of(f.m->update(f.archived, UpdateRequest{.title = "x"}));
       }},
      {"`update`", "`expected_stream_version` differs from the session's", E::conflict,
       [](Fixture& f) {
         UpdateRequest u;
         u.content = "new";
         u.expected_stream_version = f.sv(f.active) - 1;
         return error_of(f.m->update(f.active, u));
       }},
      // --- status changes
      {"`pause`", "an unknown or removed id", E::not_found,
       [](Fixture& f) { return error_of(f.m->pause(kUnknownId, "r")); }},
      {"`pause`", "reason over 4 KiB", E::invalid_argument,
       [](Fixture& f) { return error_of(f.m->pause(f.active, bytes(limits::pause_reason + 1))); }},
      {"`pause`", "by over 256 B", E::invalid_argument,
       [](Fixture& f) { return error_of(f.m->pause(f.active, "r", bytes(limits::actor + 1))); }},
      {"`pause`", "a session that is not active", E::invalid_transition,
       [](Fixture& f) {
         for (const auto* id : {&f.paused, &f.converted}) {
           auto e = error_of(f.m->pause(*id));
           if (!e || e->code != E::invalid_transition) return e;
         }
         return error_of(f.m->pause(f.archived));
       }},
      {"`resume`", "a session that is not paused", E::invalid_transition,
       [](Fixture& f) {
         for (const auto* id : {&f.active, &f.converted}) {
           auto e = error_of(f.m->resume(*id));
           if (!e || e->code != E::invalid_transition) return e;
         }
         return error_of(f.m->resume(f.archived));
       }},
      {"`archive`", "an archived session", E::invalid_transition,
       [](Fixture& f) { return error_of(f.m->archive(f.archived)); }},
      {"`mark_converted`", "project_id empty or only whitespace", E::invalid_argument,
       [](Fixture& f) { return error_of(f.m->mark_converted(f.active, {.project_id = " "})); }},
      {"`mark_converted`", "project_id over 256 B", E::invalid_argument,
       [](Fixture& f) {
         return error_of(
             f.m->mark_converted(f.active, {.project_id = bytes(limits::project_id + 1)}));
       }},
      {"`mark_converted`", "an empty work item id", E::invalid_argument,
       [](Fixture& f) {
         return error_of(
             f.m->mark_converted(f.active, {.project_id = "p", .work_item_ids = {"a", ""}}));
       }},
      {"`mark_converted`", "a work item id of only white space", E::invalid_argument,
       [](Fixture& f) {
         return error_of(
             f.m->mark_converted(f.active, {.project_id = "p", .work_item_ids = {"a", " \u00a0"}}));
       }},
      {"`mark_converted`", "a work item id over 256 B", E::invalid_argument,
       [](Fixture& f) {
         return error_of(f.m->mark_converted(
             f.active, {.project_id = "p", .work_item_ids = {bytes(limits::work_item_id + 1)}}));
       }},
      {"`mark_converted`", "more than 10,000 work item ids", E::invalid_argument,
       [](Fixture& f) {
         return error_of(f.m->mark_converted(f.active, {.project_id = "p",
                                                        .work_item_ids = std::vector<std::string>(
                                                            limits::work_item_count + 1, "w")}));
       }},
      {"`mark_converted`", "converted_by over 256 B", E::invalid_argument,
       [](Fixture& f) {
         return error_of(f.m->mark_converted(
             f.active, {.project_id = "p", .converted_by = bytes(limits::actor + 1)}));
       }},
      {"`mark_converted`", "a session that is not active", E::invalid_state,
       [](Fixture& f) { return error_of(f.m->mark_converted(f.paused, {.project_id = "p"})); }},
      {"`remove`", "an unknown or removed id", E::not_found,
       [](Fixture& f) { return error_of(f.m->remove(f.removed)); }},
      {"`remove`", "by over 256 B", E::invalid_argument,
       [](Fixture& f) { return error_of(f.m->remove(f.active, bytes(limits::actor + 1))); }},
      {"`apply_batch`",
       "an operation of the batch that is rejected (its result slot holds the error)",
       E::invalid_transition,
       [](Fixture& f) -> std::optional<Error> {
         WriteBatch batch;
         batch.pause(f.paused, "again");
         auto results = f.m->apply_batch(batch);
         if (!results) {
           FAIL_CHECK("the whole batch failed: " << results.error().message);
           return results.error();
         }
         REQUIRE(results->size() == 1);
         return error_of((*results)[0]);
       }},
      // --- versions
      {"`create_version`", "a session that is not active", E::invalid_state,
       [](Fixture& f) { return error_of(f.m->create_version(f.converted, "snap")); }},
      {"`create_version`", "change_summary over 4 KiB", E::invalid_argument,
       [](Fixture& f) {
         return error_of(f.m->create_version(f.active, bytes(limits::change_summary + 1)));
       }},
      {"`get_version`", "version 0", E::invalid_argument,
       [](Fixture& f) { return error_of(f.m->get_version(f.active, 0)); }},
      {"`get_version`", "a version above the latest", E::not_found,
       [](Fixture& f) { return error_of(f.m->get_version(f.active, 3)); }},
      {"`get_versions`", "an unknown or removed id", E::not_found,
       [](Fixture& f) { return error_of(f.m->get_versions(f.removed)); }},
      {"`compare_versions`", "version 0 on either side", E::invalid_argument,
       [](Fixture& f) {
         if (auto e = error_of(f.m->compare_versions(f.active, 0, 1));
             !e || e->code != E::invalid_argument) {
           return e;
         }
         return error_of(f.m->compare_versions(f.active, 1, 0));
       }},
      {"`compare_versions`", "a version above the latest", E::not_found,
       [](Fixture& f) { return error_of(f.m->compare_versions(f.active, 1, 9)); }},
      {"`restore_version`", "version 0", E::invalid_argument,
       [](Fixture& f) { return error_of(f.m->restore_version(f.active, 0)); }},
      {"`restore_version`", "a version above the latest (or a session without versions)",
       E::not_found,
       [](Fixture& f) {
         if (auto e = error_of(f.m->restore_version(f.active, 3)); !e || e->code != E::not_found)
           return e;
         return error_of(f.m->restore_version(f.empty, 1));
       }},
      {"`restore_version`", "a session that is not active", E::invalid_state,
       [](Fixture& f) { return error_of(f.m->restore_version(f.paused, 1)); }},
      // --- queries and time travel
      {"`list`", "a filter text that is not valid UTF-8", E::invalid_argument,
       [](Fixture& f) {
         SessionFilters filters;
         filters.title_contains = kBadUtf8;
         return error_of(f.m->list(filters));
       }},
      {"`session_at`", "a sequence before the session existed", E::not_found,
       [](Fixture& f) { return error_of(f.m->session_at(f.empty, 1)); }},
      {"`session_at_time`", "a time before the session existed", E::not_found,
       [](Fixture& f) { return error_of(f.m->session_at_time(f.active, date_utc(2000, 1, 1))); }},
      {"`session_at`", "a removed session, at a sequence after its removal", E::not_found,
       [](Fixture& f) { return error_of(f.m->session_at(f.removed, UINT64_MAX)); }},
      // --- recovery
      {"`SessionRecovery::find_stale`", "`inactive_for` negative", E::invalid_argument,
       [](Fixture& f) {
         StaleOptions o;
         o.inactive_for = -1h;
         return error_of(SessionRecovery::find_stale(*f.m, o));
       }},
      {"`SessionRecovery::find_stale`", "`archive_after` shorter than `inactive_for`",
       E::invalid_argument,
       [](Fixture& f) {
         StaleOptions o;
         o.inactive_for = 48h;
         o.archive_after = 24h;
         return error_of(SessionRecovery::find_stale(*f.m, o));
       }},
      {"`SessionRecovery::restore_from_history`", "an unknown or removed id", E::not_found,
       [](Fixture& f) {
         return error_of(SessionRecovery::restore_from_history(kUnknownId, *f.m));
       }},
      // --- projections and audit
      {"`register_projection`", "a null projection", E::invalid_argument,
       [](Fixture& f) { return error_of(f.m->register_projection(nullptr)); }},
      {"`register_projection`", "a name outside `[a-z0-9_-]{1,64}`", E::invalid_argument,
       [](Fixture& f) {
         return error_of(f.m->register_projection(std::make_shared<Named>("user:x")));
       }},
      {"`register_projection`", "a name already registered", E::invalid_argument,
       [](Fixture& f) { return error_of(f.m->register_projection(std::make_shared<Counter>())); }},
      {"`projection_value`", "an unknown projection", E::not_found,
       [](Fixture& f) { return error_of(f.m->projection_value("nope", "n")); }},
      {"`backup`", "a destination that is not empty", E::invalid_argument,
       [](Fixture& f) {
         const auto dest = f.fresh_path();
         std::filesystem::create_directories(dest);
         std::ofstream(dest / "occupied") << "x";
         return error_of(f.m->backup(dest));
       }},
      {"`backup`", "a destination that cannot be created", E::storage,
       [](Fixture& f) {
         const auto file = f.fresh_path();
         std::ofstream(file) << "x";
         return error_of(f.m->backup(file / "backup"));
       }},
      // --- export / import
      {"`export_events`", "an output stream that fails", E::storage,
       [](Fixture& f) {
         std::ostringstream out;
         out.setstate(std::ios::badbit);
         return error_of(f.m->export_events(out, {}));
       }},
      {"`import_events`", "a line that is not JSON", E::invalid_argument,
       [](Fixture& f) {
         std::stringstream in("{not json\n");
         return error_of(f.m->import_events(in));
       }},
      {"`import_events`", "a line nested deeper than 64 levels", E::invalid_argument,
       [](Fixture& f) {
         std::stringstream in(std::string(kHostileDepth, '[') + std::string(kHostileDepth, ']') +
                              "\n");
         return error_of(f.m->import_events(in));
       }},
      {"`import_events`", "a field missing, unknown or of the wrong type", E::invalid_argument,
       [](Fixture& f) {
         auto j = to_json(f.next_event(f.active, f.sv(f.active) + 1, SessionPaused{"p"}));
         j.erase("actor");
         return import_lines(*f.m, {j});
       }},
      {"`import_events`", "a field over its limit (same limits as the calls)", E::invalid_argument,
       [](Fixture& f) {
         return import_lines(
             *f.m, {to_json(f.next_event(f.active, f.sv(f.active) + 1,
                                         SessionPaused{bytes(limits::pause_reason + 1)}))});
       }},
      {"`import_events`", "a `metadata_json` nested deeper than 64 levels", E::invalid_argument,
       [](Fixture& f) {
         // The checksum is valid: only the depth is wrong (and it is checked first).
         SessionCreated created;
         created.title = "deep";
         created.metadata_json = nested_metadata_text(kHostileDepth);
         const Event e = f.next_event("0190a000-0000-7000-8000-0000000000aa", 1, created);
         return import_lines(*f.m, {to_json(e)});
       }},
      {"`import_events`", "a sequence that does not continue the log head", E::invalid_argument,
       [](Fixture& f) {
         Event e = f.next_event(f.active, f.sv(f.active) + 1, SessionPaused{"p"});
         e.sequence += 1;
         return import_lines(*f.m, {to_json(e)});
       }},
      {"`import_events`", "a timestamp before the log head's", E::invalid_argument,
       [](Fixture& f) {
         Event e = f.next_event(f.active, f.sv(f.active) + 1, SessionPaused{"p"});
         e.timestamp = date_utc(2000, 1, 1);
         (void)detail::encode_event(e);
         return import_lines(*f.m, {to_json(e)});
       }},
      {"`import_events`", "a timestamp outside 1678–2261", E::invalid_argument,
       [](Fixture& f) {
         Event e = f.next_event(f.active, f.sv(f.active) + 1, SessionPaused{"p"});
         e.timestamp = Timestamp{std::chrono::nanoseconds{INT64_MAX}};  // 2262-04-11
         (void)detail::encode_event(e);
         return import_lines(*f.m, {to_json(e)});
       }},
      {"`import_events`", "a timestamp more than 24 h ahead of the clock", E::invalid_argument,
       [](Fixture& f) {
         Event e = f.next_event(f.active, f.sv(f.active) + 1, SessionPaused{"p"});
         e.timestamp = f.clock.now() + 25h;
         (void)detail::encode_event(e);
         return import_lines(*f.m, {to_json(e)});
       }},
      {"`import_events`", "an event the session rules reject (transition, stream version)",
       E::invalid_argument,
       [](Fixture& f) {
         return import_lines(
             *f.m, {to_json(f.next_event(f.archived, f.sv(f.archived) + 1, SessionResumed{}))});
       }},
      {"`import_events`", "a prev_hash that does not continue the hash chain", E::invalid_argument,
       [](Fixture& f) {
         Event e = f.next_event(f.active, f.sv(f.active) + 1, SessionPaused{"p"});
         e.prev_hash[0] ^= 0xff;
         (void)detail::encode_event(e);
         return import_lines(*f.m, {to_json(e)});
       }},
      {"`import_events`", "a payload_checksum that does not match the event", E::invalid_argument,
       [](Fixture& f) {
         Event e = f.next_event(f.active, f.sv(f.active) + 1, SessionPaused{"p"});
         e.payload_checksum += 1;
         return import_lines(*f.m, {to_json(e)});
       }},
      {"`import_events`", "a valid event followed by an invalid one (nothing is imported)",
       E::invalid_argument,
       [](Fixture& f) {
         const Event good = f.next_event(f.active, f.sv(f.active) + 1, SessionPaused{"p"});
         Event bad = good;
         bad.sequence += 1;
         bad.stream_version += 1;
         bad.payload = SessionPaused{"twice"};  // paused -> paused
         bad.prev_hash = {};
         (void)detail::encode_event(bad);
         return import_lines(*f.m, {to_json(good), to_json(bad)});
       }},
      // --- text parsers (no store involved)
      {"`parse_timestamp`", "text that is not an ISO-8601 date or time", E::invalid_argument,
       [](Fixture&) { return error_of(parse_timestamp("2025-02-30")); }},
      {"`parse_timestamp`", "a year outside 1678–2261 (int64 nanoseconds since 1970)",
       E::invalid_argument, [](Fixture&) { return error_of(parse_timestamp("9999-12-31")); }},
      {"`parse_timestamp`", "a UTC offset beyond 23:59", E::invalid_argument,
       [](Fixture&) { return error_of(parse_timestamp("2025-01-31T12:00+99:99")); }},
      {"`parse_json`", "text that is not JSON", E::invalid_argument,
       [](Fixture&) { return error_of(parse_json("{\"a\":")); }},
      {"`parse_json`", "arrays or objects nested deeper than 64 levels", E::invalid_argument,
       [](Fixture&) { return error_of(parse_json(nested_metadata_text(64))); }},
      {"`parse_status`", "an unknown status name", E::invalid_argument,
       [](Fixture&) { return error_of(parse_status("Active")); }},
      {"`parse_event_type`", "an unknown event type name", E::invalid_argument,
       [](Fixture&) { return error_of(parse_event_type("exploded")); }},
      {"`parse_order_by`", "an unknown order", E::invalid_argument,
       [](Fixture&) { return error_of(parse_order_by("size")); }},
      {"`SessionManager::open`",
       "`Options::rebuild_memory_bytes` is 0 (added after the table was numbered, so it closes it)",
       E::invalid_argument,
       [](Fixture& f) {
         Options o;
         o.path = f.fresh_path();
         o.rebuild_memory_bytes = 0;
         return error_of(SessionManager::open(o));
       }},
  };
}

// The rows of the table in docs/BAD_INPUT.md: cells of lines "| <n> | ... |".
std::vector<std::vector<std::string>> document_rows() {
  std::ifstream in(BAD_INPUT_DOC);
  REQUIRE(in.good());
  std::vector<std::vector<std::string>> rows;
  std::string line;
  while (std::getline(in, line)) {
    if (line.size() < 4 || line[0] != '|' || !std::isdigit(static_cast<unsigned char>(line[2])))
      continue;
    std::vector<std::string> cells;
    std::size_t start = 1;
    for (std::size_t i = 1; i < line.size(); ++i) {
      if (line[i] == '|' && line[i - 1] != '\\') {
        std::string cell = line.substr(start, i - start);
        const auto a = cell.find_first_not_of(' ');
        const auto b = cell.find_last_not_of(' ');
        cells.push_back(a == std::string::npos ? "" : cell.substr(a, b - a + 1));
        start = i + 1;
      }
    }
    rows.push_back(std::move(cells));
  }
  return rows;
}

}  // namespace

TEST_CASE("docs/BAD_INPUT.md lists exactly the rows of this catalogue, in order",
          "[bad_input][catalogue][docs]") {
  const auto rows = catalogue();
  const auto doc = document_rows();
  CHECK(doc.size() == rows.size());
  for (std::size_t i = 0; i < std::min(doc.size(), rows.size()); ++i) {
    INFO("row " << i + 1);
    REQUIRE(doc[i].size() == 5);
    CHECK(doc[i][0] == std::to_string(i + 1));
    CHECK(doc[i][1] == rows[i].call);
    CHECK(doc[i][2] == rows[i].input);
    CHECK(doc[i][3] == "`" + std::string(to_string(rows[i].code)) + "`");
    CHECK(doc[i][4] == std::to_string(planctl_exit(rows[i].code)));
  }
}

TEST_CASE("every catalogued bad input is rejected with its code and changes nothing",
          "[bad_input][catalogue]") {
  Fixture f;
  const auto rows = catalogue();
  for (std::size_t i = 0; i < rows.size(); ++i) {
    const Row& row = rows[i];
    INFO("row " << i + 1 << ": " << row.call << " — " << row.input);
    const StoreState before = capture_state(*f.m);
    const int signals_before = f.signalled.load();
    const auto counter_before = PLAN_OK(f.m->projection_value("counter", "n"));

    const std::optional<Error> error = row.run(f);

    if (!error) {
      FAIL_CHECK("the call succeeded; expected " << to_string(row.code));
    } else {
      INFO("message: " << error->message);
      CHECK(error->code == row.code);
      CHECK_FALSE(error->message.empty());
      CHECK(error->message.find('\n') == std::string::npos);
    }
    // Nothing changed: head, sessions, statistics, versions, indexes, signals.
    CHECK_SAME_STATE(before, capture_state(*f.m));
    CHECK(f.signalled.load() == signals_before);
    CHECK(PLAN_OK(f.m->projection_value("counter", "n")) == counter_before);
  }
  require_verified(*f.m);
}
