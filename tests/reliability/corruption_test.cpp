// Corruption (docs/RELIABILITY.md §6): damage written straight into a copy of a
// store with the LMDB C API, then opened through the engine.
//   * A damaged event (a flipped byte anywhere in its frame, truncation,
//     padding, bytes cut out) is reported by verify() with its sequence number;
//     every read that touches it returns ErrorCode::corruption naming it, reads
//     that do not touch it still work, nothing crashes.
//   * Damaged projection records (flipped, deleted, invented, a rolled-back
//     checkpoint) are found by verify() and repaired by rebuild_projections().
//   * The hash chain catches deliberate edits that recompute the checksums (at
//     the next event, or at the head record for the last one), removed events
//     and reordered events.
#include <planning/planning.hpp>

#include <sstream>

#include <catch2/catch.hpp>

#include "events/src/event_codec.hpp"
#include "reliability/reliability_support.hpp"
#include "support/raw_lmdb.hpp"
#include "support/temp_store.hpp"
#include "support/test_helpers.hpp"

using namespace planning;
using namespace planning::test;
using namespace planning::reliability;
using Catch::Matchers::Contains;

namespace {

// A populated store, closed; tests damage copies of it.
struct Pristine {
  TempDir dir;
  ManualClock clock;
  Options options;
  StoreState state;
  std::vector<Event> events;
  std::vector<std::string> ids;
  std::uint64_t head = 0;
  // A live session whose version 2 was made by a plain content update in the
  // middle of the log: damage to that event is visible through its versions.
  std::string target;
  std::uint64_t target_seq = 0;

  Pristine() {
    options = test_options(dir, &clock);
    options.durability = Durability::no_sync;  // setup speed; durability is not under test
    auto m = open_store(options);
    ids = populate_every_kind(*m, clock, 12);
    // A tail of events after the target, so it is not the last one.
    for (int i = 0; i < 3; ++i) PLAN_OK(m->create({.title = "tail " + std::to_string(i)}));
    state = capture_state(*m);
    events = PLAN_OK(m->events({}));
    head = state.head;
    for (const auto& [id, versions] : state.versions) {
      if (versions.size() >= 2 && versions[1].change_summary == "more" &&
          versions[1].event_seq > 4 && versions[1].event_seq + 4 < head) {
        target = id;
        target_seq = versions[1].event_seq;
        break;
      }
    }
    REQUIRE_FALSE(target.empty());
  }

  // A copy of the store in `into`; returns its options.
  Options copy_into(const TempDir& into) const {
    Options o = options;
    o.path = into.path() / "store";
    copy_store(options.path, o.path);
    return o;
  }

  const Event& event(std::uint64_t seq) const { return events.at(seq - 1); }
};

std::string frame_at(const std::filesystem::path& store, std::uint64_t seq) {
  std::optional<std::string> frame;
  REQUIRE(raw::get(store, "log", raw::seq_key(seq), frame).empty());
  REQUIRE(frame.has_value());
  return *frame;
}
void put_frame(const std::filesystem::path& store, std::uint64_t seq, std::string_view frame) {
  REQUIRE(raw::put(store, "log", raw::seq_key(seq), frame).empty());
}

std::string describe(const VerifyReport& report) {
  std::string out;
  for (const auto& i : report.issues)
    out += "[" + std::to_string(i.sequence) + "] " + i.what + "; ";
  return out;
}
bool has_issue_at(const VerifyReport& report, std::uint64_t seq, std::string_view text = {}) {
  return std::any_of(report.issues.begin(), report.issues.end(), [&](const VerifyIssue& i) {
    return i.sequence == seq && (text.empty() || i.what.find(text) != std::string::npos);
  });
}

template <typename T>
void require_corruption_naming(const Result<T>& r, std::uint64_t seq, const char* call) {
  INFO(call);
  if (r.has_value()) {
    FAIL_CHECK(call << " succeeded; expected corruption naming event " << seq);
    return;
  }
  INFO("message: " << r.error().message);
  CHECK(r.error().code == ErrorCode::corruption);
  CHECK_THAT(r.error().message, Contains(std::to_string(seq)));
}

// The store at `options` has a damaged (or missing) event `seq` of session
// `session`, whose version 2 lives in that event. Everything that touches the
// event reports corruption naming it; everything else works.
void check_damaged_event(const Pristine& p, const Options& options, std::uint64_t seq,
                         const std::string& session, std::string_view issue_text = {}) {
  auto m = open_store(options);
  const auto report = PLAN_OK(m->verify());
  INFO("verify: " << describe(report));
  CHECK(has_issue_at(report, seq, issue_text));

  // Reads that touch the event.
  require_corruption_naming(m->events({}), seq, "events()");
  require_corruption_naming(m->get_versions(session), seq, "get_versions");
  require_corruption_naming(m->get_version(session, 2), seq, "get_version 2");
  require_corruption_naming(m->compare_versions(session, 1, 2), seq, "compare_versions 1 2");
  require_corruption_naming(m->session_at(session, p.head), seq, "session_at head");
  require_corruption_naming(SessionRecovery::restore_from_history(session, *m), seq,
                            "restore_from_history");
  std::ostringstream exported;
  require_corruption_naming(m->export_events(exported, {}), seq, "export_events");

  // Reads that do not touch it.
  EventQuery before;
  before.to_sequence = seq - 1;
  const auto prefix = PLAN_OK(m->events(before));
  REQUIRE(prefix.size() == seq - 1);
  for (std::size_t i = 0; i < prefix.size(); ++i) CHECK(prefix[i] == p.events[i]);
  EventQuery after;
  after.from_sequence = seq + 1;
  CHECK(PLAN_OK(m->events(after)).size() == p.head - seq);
  const auto live = std::find_if(p.state.sessions.begin(), p.state.sessions.end(),
                                 [&](const Session& s) { return s.id == session; });
  REQUIRE(live != p.state.sessions.end());
  CHECK(PLAN_OK(m->get(session)) == *live);
  CHECK(PLAN_OK(m->list()) == p.state.sessions);
  CHECK(PLAN_OK(m->get_statistics()) == p.state.statistics);
  CHECK(PLAN_OK(m->get_version(session, 1)).content == p.state.versions.at(session)[0].content);
  // session_at before the damage does not need the event; the engine may still
  // read its header to find where to stop: success or corruption naming it.
  if (auto r = m->session_at(session, seq - 1); !r) {
    require_corruption_naming(r, seq, "session_at before the damage");
  }
}

}  // namespace

// --- Damaged events ---------------------------------------------------------------------

TEST_CASE("a flipped byte anywhere in an event is reported with its sequence number",
          "[corruption][log]") {
  Pristine p;
  TempDir copy;
  const Options options = p.copy_into(copy);
  const std::string original = frame_at(options.path, p.target_seq);
  const std::size_t s = p.event(p.target_seq).session_id.size();
  const std::size_t a = p.event(p.target_seq).actor.size();
  // One byte in every header field, in the session id, the actor and the
  // payload, and the last byte.
  std::vector<std::size_t> offsets = {0,
                                      3,
                                      5,
                                      11,
                                      13,
                                      17,
                                      19,
                                      25,
                                      29,
                                      31,
                                      35,
                                      40,
                                      50,
                                      75,
                                      76,
                                      83,
                                      84,
                                      84 + s,
                                      84 + s + a,
                                      84 + s + a + 1,
                                      original.size() / 2 + 40,
                                      original.size() - 1};
  for (std::size_t offset : offsets) {
    if (offset >= original.size()) continue;
    INFO("byte " << offset << " of event " << p.target_seq << " (" << original.size() << " bytes)");
    std::string damaged = original;
    damaged[offset] = static_cast<char>(damaged[offset] ^ 0x5a);
    put_frame(options.path, p.target_seq, damaged);
    check_damaged_event(p, options, p.target_seq, p.target);
  }
  put_frame(options.path, p.target_seq, original);
  auto m = open_store(options);
  require_verified(*m);
}

TEST_CASE("every single flipped bit of an event is reported with its sequence number",
          "[corruption][log][slow]") {
  Pristine p;
  TempDir copy;
  const Options options = p.copy_into(copy);
  const std::string original = frame_at(options.path, p.target_seq);
  for (std::size_t offset = 0; offset < original.size(); ++offset) {
    for (int bit : {0, 7}) {
      INFO("bit " << bit << " of byte " << offset);
      std::string damaged = original;
      damaged[offset] = static_cast<char>(damaged[offset] ^ (1 << bit));
      put_frame(options.path, p.target_seq, damaged);
      auto m = open_store(options);
      const auto report = PLAN_OK(m->verify());
      INFO("verify: " << describe(report));
      CHECK(has_issue_at(report, p.target_seq));
      require_corruption_naming(m->get_versions(p.target), p.target_seq, "get_versions");
      require_corruption_naming(m->events({}), p.target_seq, "events()");
    }
  }
}

TEST_CASE("a truncated, padded or cut event is reported with its sequence number",
          "[corruption][log]") {
  Pristine p;
  TempDir copy;
  const Options options = p.copy_into(copy);
  const std::string original = frame_at(options.path, p.target_seq);
  const std::vector<std::pair<const char*, std::string>> damages = {
      {"empty value", ""},
      {"10 bytes", original.substr(0, 10)},
      {"header only", original.substr(0, 84)},
      {"last byte missing", original.substr(0, original.size() - 1)},
      {"half", original.substr(0, original.size() / 2)},
      {"one byte added", original + "x"},
      {"a kilobyte of zeros added", original + std::string(1024, '\0')},
      {"10 payload bytes cut out",
       original.substr(0, original.size() - 20) + original.substr(original.size() - 10)},
      {"header repeated", original.substr(0, 84) + original},
  };
  for (const auto& [what, damaged] : damages) {
    INFO(what);
    put_frame(options.path, p.target_seq, damaged);
    check_damaged_event(p, options, p.target_seq, p.target);
  }
}

TEST_CASE("a projection behind a damaged event makes open fail with corruption naming it",
          "[corruption][log][open]") {
  Pristine p;
  TempDir copy;
  const Options options = p.copy_into(copy);
  const std::string original = frame_at(options.path, p.target_seq);
  std::string damaged = original;
  damaged[100] = static_cast<char>(damaged[100] ^ 1);
  put_frame(options.path, p.target_seq, damaged);
  // The sessions projection is lost: open must replay the log through the damage.
  REQUIRE(raw::drop_database(options.path, "sessions", true).empty());
  {
    auto r = SessionManager::open(options);
    require_corruption_naming(r, p.target_seq, "open");
  }
  // Repair the event: the next open rebuilds the projection.
  put_frame(options.path, p.target_seq, original);
  auto m = open_store(options);
  CHECK_SAME_STATE(p.state, capture_state(*m));
  require_verified(*m);
}

TEST_CASE("a rebuild that meets a damaged event fails with corruption and changes nothing",
          "[corruption][log][rebuild]") {
  Pristine p;
  TempDir copy;
  const Options options = p.copy_into(copy);
  std::string damaged = frame_at(options.path, p.target_seq);
  damaged[90] = static_cast<char>(damaged[90] ^ 1);
  put_frame(options.path, p.target_seq, damaged);
  {
    auto m = open_store(options);
    require_corruption_naming(m->rebuild_projections(), p.target_seq, "rebuild_projections");
    // A rejected call changes nothing: the projections still answer as before.
    CHECK(PLAN_OK(m->list()) == p.state.sessions);
    CHECK(PLAN_OK(m->get_statistics()) == p.state.statistics);
  }
  // And the store still opens.
  auto reopened = SessionManager::open(options);
  INFO("reopen: " << (reopened ? std::string("ok") : reopened.error().message));
  REQUIRE(reopened.has_value());
  CHECK(PLAN_OK((*reopened)->list()) == p.state.sessions);
}

// --- Damaged projections -------------------------------------------------------------------

namespace {

// Every entry (key, value) of a database; for DUPSORT databases every pair.
std::vector<std::pair<std::string, std::string>> entries(const std::filesystem::path& store,
                                                         const std::string& db) {
  std::vector<std::pair<std::string, std::string>> out;
  auto err = raw::with_txn(store, false, [&](MDB_txn* txn) -> std::string {
    MDB_dbi dbi;
    if (auto e = raw::open_dbi(txn, db, dbi); !e.empty()) return e;
    MDB_cursor* cur = nullptr;
    if (int rc = mdb_cursor_open(txn, dbi, &cur); rc != 0) return mdb_strerror(rc);
    MDB_val k, v;
    for (int rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); rc == 0;
         rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
      out.emplace_back(std::string(static_cast<const char*>(k.mv_data), k.mv_size),
                       std::string(static_cast<const char*>(v.mv_data), v.mv_size));
    }
    mdb_cursor_close(cur);
    return {};
  });
  REQUIRE(err.empty());
  return out;
}

// Deletes one (key, value) pair (exact pair for DUPSORT databases).
void delete_pair(const std::filesystem::path& store, const std::string& db, const std::string& key,
                 const std::string& value) {
  REQUIRE(raw::with_txn(store, true, [&](MDB_txn* txn) -> std::string {
            MDB_dbi dbi;
            if (auto e = raw::open_dbi(txn, db, dbi); !e.empty()) return e;
            unsigned flags = 0;
            mdb_dbi_flags(txn, dbi, &flags);
            MDB_val k = raw::val(key), v = raw::val(value);
            const int rc = mdb_del(txn, dbi, &k, (flags & MDB_DUPSORT) ? &v : nullptr);
            return rc == 0 ? std::string() : std::string("mdb_del: ") + mdb_strerror(rc);
          }).empty());
}

// Reads everything a user can read; each call either succeeds or reports
// corruption / not_found — never a crash, never an exception.
void read_everything(const SessionManager& m, const Pristine& p) {
  auto allowed = [](const Error& e) {
    INFO("message: " << e.message);
    CHECK((e.code == ErrorCode::corruption || e.code == ErrorCode::not_found));
  };
  if (auto r = m.list(); !r) allowed(r.error());
  if (auto r = m.find_active(); !r) allowed(r.error());
  if (auto r = m.get_statistics(); !r) allowed(r.error());
  if (auto r = m.find_by_repository("/repo/1"); !r) allowed(r.error());
  SessionFilters f;
  f.project_id = "proj-0";
  if (auto r = m.list(f); !r) allowed(r.error());
  for (const auto& id : p.ids) {
    if (auto r = m.get(id); !r) allowed(r.error());
    if (auto r = m.get_versions(id); !r) allowed(r.error());
    if (auto r = m.session_at(id, p.head); !r) allowed(r.error());
  }
}

}  // namespace

TEST_CASE("damaged projection records are found by verify and repaired by rebuild",
          "[corruption][projections]") {
  Pristine p;
  const std::vector<std::string> databases = {
      "sessions",    "versions",      "statistics",   "streams",     "idx_status", "idx_created",
      "idx_updated", "idx_repo_path", "idx_repo_url", "idx_project", "idx_fields"};
  for (const auto& db : databases) {
    for (const char* damage : {"flip", "delete", "invent"}) {
      INFO("database " << db << ": " << damage);
      TempDir copy;
      const Options options = p.copy_into(copy);
      const auto all = entries(options.path, db);
      REQUIRE_FALSE(all.empty());
      const auto& [key, value] = all[all.size() / 2];
      if (std::string(damage) == "flip") {
        std::string changed = value.empty() ? std::string("x") : value;
        changed[changed.size() / 2] = static_cast<char>(changed[changed.size() / 2] ^ 0x21);
        delete_pair(options.path, db, key, value);
        REQUIRE(raw::put(options.path, db, key, changed).empty());
      } else if (std::string(damage) == "delete") {
        delete_pair(options.path, db, key, value);
      } else {
        std::string bogus_key = key;
        bogus_key.back() = static_cast<char>(bogus_key.back() ^ 0x01);
        REQUIRE(raw::put(options.path, db, bogus_key, value + "garbage").empty());
      }

      auto m = open_store(options);
      read_everything(*m, p);
      const auto report = PLAN_OK(m->verify());
      INFO("verify: " << describe(report));
      CHECK_FALSE(report.ok());
      PLAN_OK(m->rebuild_projections());
      require_verified(*m);
      CHECK_SAME_STATE(p.state, capture_state(*m));
    }
  }
}

namespace {

// A copy of the pristine store and the raw checkpoint record of `projection`.
std::string checkpoint_of(const Options& options, const std::string& projection) {
  std::optional<std::string> checkpoint;
  REQUIRE(raw::get(options.path, "checkpoints", projection, checkpoint).empty());
  REQUIRE(checkpoint.has_value());
  REQUIRE(checkpoint->size() == 12);
  return *checkpoint;
}

}  // namespace

TEST_CASE("a rolled-back checkpoint is found by verify and repaired by rebuild",
          "[corruption][projections][checkpoints]") {
  Pristine p;
  for (const std::string projection : {"statistics", "sessions", "versions"}) {
    INFO("checkpoint of " << projection
                          << " rolled back to event 5: the catch-up on open "
                             "applies events 6.. a second time");
    TempDir copy;
    const Options options = p.copy_into(copy);
    std::string rolled = checkpoint_of(options, projection);
    for (int i = 0; i < 8; ++i) rolled[static_cast<std::size_t>(i)] = 0;
    rolled[7] = 5;
    REQUIRE(raw::put(options.path, "checkpoints", projection, rolled).empty());
    auto m = open_store(options);
    read_everything(*m, p);
    const auto report = PLAN_OK(m->verify());
    INFO("verify: " << describe(report));
    // Statistics are counters: events applied twice must show. The others are
    // last-writer-wins records and may converge to the same state. Either way
    // the state after verify (and, if needed, a rebuild) is the original.
    if (projection == "statistics") CHECK_FALSE(report.ok());
    if (!report.ok()) {
      PLAN_OK(m->rebuild_projections());
      require_verified(*m);
    }
    CHECK_SAME_STATE(p.state, capture_state(*m));
  }
}

TEST_CASE("a checkpoint record of the wrong size is rebuilt on open, not refused",
          "[corruption][projections][checkpoints]") {
  Pristine p;
  for (const std::string projection : {"statistics", "sessions", "versions"}) {
    INFO("checkpoint of " << projection);
    TempDir copy;
    const Options options = p.copy_into(copy);
    (void)checkpoint_of(options, projection);
    REQUIRE(raw::put(options.path, "checkpoints", projection, "bad").empty());
    // A checkpoint is derived data (docs/FORMAT.md §1): the projection is
    // rebuilt from the log rather than the store refused.
    auto r = SessionManager::open(options);
    INFO("open: " << (r ? std::string("ok") : r.error().message));
    CHECK(r.has_value());
    if (!r) continue;
    auto& m = **r;
    require_verified(m);
    CHECK_SAME_STATE(p.state, capture_state(m));
  }
}

// --- The hash chain ---------------------------------------------------------------------------

namespace {

// Re-encodes `event` (keeping its prev_hash and sequence) so that both of its
// checksums are valid again: the forger's best move short of rewriting the
// rest of the chain.
std::string forge(Event event) { return detail::encode_event(event); }

}  // namespace

TEST_CASE("an edited event with recomputed checksums breaks the chain at the next event",
          "[corruption][chain]") {
  Pristine p;
  TempDir copy;
  const Options options = p.copy_into(copy);
  const std::uint64_t seq = p.target_seq;
  Event edited = p.event(seq);
  auto& update = std::get<SessionUpdated>(edited.payload);
  update.change_summary = "tampered";
  const std::string forged = forge(edited);
  REQUIRE(detail::decode_event(seq, forged).has_value());  // a valid frame on its own
  put_frame(options.path, seq, forged);

  auto m = open_store(options);
  const auto report = PLAN_OK(m->verify());
  INFO("verify: " << describe(report));
  CHECK(has_issue_at(report, seq + 1, "hash chain"));
  CHECK_FALSE(has_issue_at(report, seq));  // the frame itself is well-formed
  // Reading does not check the chain: the forged event reads back as written.
  EventQuery q;
  q.from_sequence = seq;
  q.to_sequence = seq;
  const auto read = PLAN_OK(m->events(q));
  REQUIRE(read.size() == 1);
  CHECK(std::get<SessionUpdated>(read[0].payload).change_summary == "tampered");
}

TEST_CASE("an edited last event with recomputed checksums fails the head record",
          "[corruption][chain]") {
  Pristine p;
  TempDir copy;
  const Options options = p.copy_into(copy);
  Event edited = p.event(p.head);
  auto& created = std::get<SessionCreated>(edited.payload);
  created.title = "tampered tail";
  put_frame(options.path, p.head, forge(edited));
  auto m = open_store(options);
  const auto report = PLAN_OK(m->verify());
  INFO("verify: " << describe(report));
  CHECK(has_issue_at(report, p.head, "head record"));
}

TEST_CASE("an edited event whose successor was re-linked is caught further down the chain",
          "[corruption][chain]") {
  Pristine p;
  TempDir copy;
  const Options options = p.copy_into(copy);
  const std::uint64_t seq = p.target_seq;
  Event edited = p.event(seq);
  std::get<SessionUpdated>(edited.payload).change_summary = "tampered";
  const std::string forged = forge(edited);
  put_frame(options.path, seq, forged);
  // Re-link event seq+1 to the forged frame: the break moves to seq+2.
  Event next = p.event(seq + 1);
  next.prev_hash = detail::encode_event_chained(edited).hash;  // of the canonical frame
  put_frame(options.path, seq + 1, forge(next));
  auto m = open_store(options);
  const auto report = PLAN_OK(m->verify());
  INFO("verify: " << describe(report));
  CHECK(has_issue_at(report, seq + 2, "hash chain"));
}

TEST_CASE("a removed event is reported as a gap and reads that need it fail",
          "[corruption][chain]") {
  Pristine p;
  TempDir copy;
  const Options options = p.copy_into(copy);
  REQUIRE(raw::del(options.path, "log", raw::seq_key(p.target_seq)).empty());
  check_damaged_event(p, options, p.target_seq, p.target, "missing");
}

TEST_CASE("a removed last event is reported against the head record", "[corruption][chain]") {
  Pristine p;
  TempDir copy;
  const Options options = p.copy_into(copy);
  REQUIRE(raw::del(options.path, "log", raw::seq_key(p.head)).empty());
  auto m = open_store(options);
  const auto report = PLAN_OK(m->verify());
  INFO("verify: " << describe(report));
  CHECK(has_issue_at(report, p.head, "head record"));
  require_corruption_naming(m->events({}), p.head, "events()");
}

TEST_CASE("two swapped events are reported at both positions", "[corruption][chain]") {
  Pristine p;
  TempDir copy;
  const Options options = p.copy_into(copy);
  const std::uint64_t a = p.target_seq;
  const std::uint64_t b = a + 2;
  const std::string fa = frame_at(options.path, a);
  const std::string fb = frame_at(options.path, b);
  put_frame(options.path, a, fb);
  put_frame(options.path, b, fa);
  auto m = open_store(options);
  const auto report = PLAN_OK(m->verify());
  INFO("verify: " << describe(report));
  CHECK(has_issue_at(report, a));
  CHECK(has_issue_at(report, b));
  require_corruption_naming(m->events({}), a, "events()");
  require_corruption_naming(m->get_versions(p.target), a, "get_versions");
}

TEST_CASE("two swapped events re-sealed under each other's sequence break the chain",
          "[corruption][chain]") {
  Pristine p;
  TempDir copy;
  const Options options = p.copy_into(copy);
  // Two neighbouring events of different sessions, so that only the chain (not
  // the per-session rules) can notice the swap.
  std::uint64_t a = 0;
  for (std::uint64_t s = p.head / 2; s + 1 < p.head; ++s) {
    if (p.event(s).session_id != p.event(s + 1).session_id) {
      a = s;
      break;
    }
  }
  REQUIRE(a != 0);
  Event ea = p.event(a);
  Event eb = p.event(a + 1);
  std::swap(ea.sequence, eb.sequence);  // each keeps its own prev_hash
  put_frame(options.path, a + 1, forge(ea));
  put_frame(options.path, a, forge(eb));
  auto m = open_store(options);
  const auto report = PLAN_OK(m->verify());
  INFO("swapped events " << a << " and " << a + 1 << "; verify: " << describe(report));
  CHECK(has_issue_at(report, a, "hash chain"));
}
