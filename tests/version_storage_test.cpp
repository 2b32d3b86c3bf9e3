// Compact version storage (docs/FORMAT.md, "Stored content"): content events are
// stored as keyframes or line deltas, yet every read — get_version, session_at,
// events(), export — returns the full text byte for byte. Covers keyframe
// boundaries, stores written in the old full-content schema (v1) and mixed
// logs, corrupt stored content, and export/import.
#include <planning/planning.hpp>

#include <random>
#include <set>
#include <sstream>

#include <zstd.h>
#include <catch2/catch.hpp>

#include "events/src/bytes.hpp"
#include "events/src/cereal_fields.hpp"
#include "events/src/content_codec.hpp"
#include "events/src/event_codec.hpp"
#include "events/src/hashing.hpp"
#include "events/src/line_delta.hpp"
#include "projections/src/records.hpp"
#include "support/raw_lmdb.hpp"
#include "support/schema_v1.hpp"
#include "support/temp_store.hpp"
#include "support/test_helpers.hpp"

using namespace planning;
using namespace planning::test;

namespace {

// A line of awkward bytes: CRLF endings, NULs, multi-byte UTF-8, long lines.
std::string random_line(std::mt19937_64& rng) {
  std::string line;
  switch (rng() % 10) {
    case 0: line = std::string("\0nul\0", 5); break;
    case 1: line = "caf\xc3\xa9 \xf0\x9f\x98\x80"; break;  // invalid UTF-8: codec tests only
    case 2: line = std::string(5000 + rng() % 5000, static_cast<char>('a' + rng() % 26)); break;
    case 3: line = ""; break;
    default: line = "- item " + std::to_string(rng() % 100000) + " of the plan";
  }
  line += (rng() % 4 == 0) ? "\r\n" : "\n";
  return line;
}

std::vector<std::string> split(const std::string& text) {
  std::vector<std::string> lines;
  std::size_t at = 0;
  while (at < text.size()) {
    const std::size_t nl = text.find('\n', at);
    const std::size_t end = nl == std::string::npos ? text.size() : nl + 1;
    lines.push_back(text.substr(at, end - at));
    at = end;
  }
  return lines;
}

// Rewrites, inserts and deletes a few lines; sometimes drops the final newline
// or replaces everything.
std::string edit(const std::string& text, std::mt19937_64& rng) {
  if (rng() % 25 == 0) return "";
  if (rng() % 25 == 0) {
    std::string fresh;
    for (int i = 0; i < 20; ++i) fresh += random_line(rng);
    return fresh;
  }
  std::vector<std::string> lines = split(text);
  const std::size_t edits = 1 + rng() % 3;
  for (std::size_t i = 0; i < edits; ++i) {
    const std::size_t at = lines.empty() ? 0 : rng() % lines.size();
    switch (rng() % 3) {
      case 0:
        if (!lines.empty()) lines[at] = random_line(rng);
        break;
      case 1: lines.insert(lines.begin() + static_cast<std::ptrdiff_t>(at), random_line(rng)); break;
      default:
        if (!lines.empty()) lines.erase(lines.begin() + static_cast<std::ptrdiff_t>(at));
    }
  }
  std::string out;
  for (const auto& l : lines) out += l;
  if (!out.empty() && rng() % 8 == 0 && out.back() == '\n') out.pop_back();
  if (out.empty()) out = "x";  // an update with identical empty content makes no version
  return out;
}

std::string initial_document(std::mt19937_64& rng) {
  std::string doc = "# Plan\r\n";
  for (int i = 0; i < 200; ++i) doc += random_line(rng);
  return doc;
}

// The stored frames of the log, in order (index = sequence - 1). Closes and
// reopens `m`: LMDB forbids a second environment on one store in a process.
std::vector<std::string> log_frames(std::unique_ptr<SessionManager>& m, const TempDir& dir) {
  const std::uint64_t head = head_of(*m);
  m.reset();
  std::vector<std::string> out;
  for (std::uint64_t seq = 1; seq <= head; ++seq) {
    std::optional<std::string> frame;
    REQUIRE(raw::get(test_options(dir).path, "log", raw::seq_key(seq), frame).empty());
    REQUIRE(frame.has_value());
    out.push_back(std::move(*frame));
  }
  m = open_store(test_options(dir));
  return out;
}

// How the content of every content event of the store is stored (log order).
std::vector<detail::StoredContent> stored_contents(std::unique_ptr<SessionManager>& m,
                                                    const TempDir& dir) {
  std::vector<detail::StoredContent> out;
  std::uint64_t seq = 0;
  for (const std::string& frame : log_frames(m, dir)) {
    auto stored = detail::peek_stored_content(++seq, frame);
    REQUIRE(stored.has_value());
    if (*stored) out.push_back(**stored);
  }
  return out;
}

std::string frame_at(const std::filesystem::path& path, std::uint64_t seq) {
  std::optional<std::string> frame;
  REQUIRE(raw::get(path, "log", raw::seq_key(seq), frame).empty());
  REQUIRE(frame.has_value());
  return *frame;
}

// Recomputes the header checksum (FORMAT.md §2: XXH3-64 of bytes [0, 76)).
std::string reseal_header(std::string frame) {
  std::string sum;
  detail::put_be<std::uint64_t>(sum, detail::checksum64(std::string_view(frame).substr(0, 76)));
  frame.replace(76, 8, sum);
  return frame;
}

// Model of one session's versions, checked against every read path.
struct Model {
  std::string id;
  std::vector<std::string> versions{""};  // index = version number
  std::string content;
};

// Event 9 of a session: an update setting `content` (codec-level tests), whose
// delta base is content event 5 (FixedBase).
Event update_event(const std::string& content) {
  Event e;
  e.sequence = 9;
  e.session_id = "0193f5a2-7c00-7000-8000-000000000001";
  e.stream_version = 2;
  e.timestamp = date_utc(2025, 1, 1);
  e.actor = "alice";
  e.prev_hash.fill(0xab);
  SessionUpdated update;
  update.content = content;
  update.changed_fields = {"content"};
  e.payload = update;
  return e;
}

// Supplies `text` as the content of event 5, stored at depth 0.
struct FixedBase : detail::ContentSource {
  explicit FixedBase(std::string text) : text(std::move(text)) {}
  Result<std::string_view> base_content(std::string_view, std::uint64_t seq,
                                        std::uint32_t depth) override {
    if (seq != 5 || depth != 0) return fail(ErrorCode::corruption, "no such base");
    return text;
  }
  std::string text;
};

// Creates a session holding a fresh initial document (its version 1).
Model create_document(SessionManager& m, std::mt19937_64& rng) {
  Model model;
  model.content = initial_document(rng);
  model.id = PLAN_OK(m.create({.title = "doc", .initial_content = model.content})).id;
  model.versions.push_back(model.content);
  return model;
}

void check_all_reads(const SessionManager& m, const Model& model) {
  const Session now = PLAN_OK(m.get(model.id));
  CHECK(now.content == model.content);
  REQUIRE(now.current_version + 1 == model.versions.size());
  for (std::uint32_t n = 1; n < model.versions.size(); ++n) {
    INFO("version " << n);
    const Version v = PLAN_OK(m.get_version(model.id, n));
    CHECK(v.content == model.versions[n]);
    // Time travel to the event that made the version sees the same content
    // (create_version snapshots the current content, so it applies as well).
    const Session then = PLAN_OK(m.session_at(model.id, v.event_seq));
    CHECK(then.content == model.versions[n]);
  }
}

// Imports `exported` into the empty store `b`, its encoder following `policy`,
// and checks that it exports back identically, reads as `model` and verifies.
void import_exactly(SessionManager& b, const std::string& exported, const Model& model,
                    const detail::ContentPolicy& policy = {}) {
  {
    detail::ScopedContentPolicy scope(policy);
    std::istringstream in(exported);
    PLAN_OK(b.import_events(in));
  }
  std::ostringstream again;
  PLAN_OK(b.export_events(again));
  CHECK(again.str() == exported);
  check_all_reads(b, model);
  require_verified(b);
}

void check_events_carry_full_content(const SessionManager& m) {
  // Replaying events() from scratch yields the same content as the projection.
  std::map<std::string, std::string> content;
  for (const Event& e : PLAN_OK(m.events(EventQuery{}))) {
    if (const std::string* c = detail::content_of(e)) content[e.session_id] = *c;
  }
  for (const auto& [id, text] : content) {
    auto s = m.get(id);
    if (s) CHECK(s->content == text);
  }
}

}  // namespace

TEST_CASE("line deltas rebuild the target byte for byte", "[versions][storage]") {
  std::mt19937_64 rng(7);
  const std::vector<std::string> edge = {
      "", "\n", "no newline", "a\r\nb\r\n", std::string("\0\0\n\0", 4), "\xff\xfe\n\xc3",
      std::string(1 << 20, 'x'), "a\nb\nc", "a\nb\nc\n"};
  for (const auto& base : edge) {
    for (const auto& target : edge) {
      const std::string script = detail::make_line_delta(base, target);
      CHECK(detail::apply_line_delta(base, script, target.size()) == target);
    }
  }
  std::string text = initial_document(rng);
  for (int i = 0; i < 200; ++i) {
    const std::string next = edit(text, rng);
    const std::string script = detail::make_line_delta(text, next);
    REQUIRE(detail::apply_line_delta(text, script, next.size()) == next);
    text = next;
  }
}

TEST_CASE("a one-line edit is copy, insert, copy, and moved lines are still copied",
          "[versions][storage]") {
  // Lines shared at both ends are copied whole; only the middle is matched.
  const std::string base = "# Plan\n- one\n- two\n- three\n";
  const std::string edited = "# Plan\n- one\n- TWO\n- three\n";
  const std::string expected("\x00\x00\x0d\x01\x06- TWO\n\x00\x13\x08", 14);
  CHECK(detail::make_line_delta(base, edited) == expected);
  // Two middle lines swapped: both copied from the base, nothing inserted.
  const std::string swapped = "# Plan\n- two\n- one\n- three\n";
  const std::string script = detail::make_line_delta(base, swapped);
  CHECK(script.find('\x01') == std::string::npos);
  CHECK(detail::apply_line_delta(base, script, swapped.size()) == swapped);
  // Shared ends that are not whole lines are not copied as ends.
  for (const auto& [from, to] :
       std::vector<std::pair<std::string, std::string>>{{"ab\ncd\n", "ab\nxd\n"},
                                                        {"ab\ncd", "ab\nxcd"},
                                                        {"abc\n", "abd\n"},
                                                        {"x\ny\n", "x\ny\nx\ny\n"},
                                                        {"x\ny\nx\ny\n", "x\ny\n"},
                                                        {"\n\n", "\n\n\n"},
                                                        {"same\n", "same\n"},
                                                        {"a", "ba"},
                                                        {"ba", "a"}}) {
    INFO(from << " -> " << to);
    CHECK(detail::apply_line_delta(from, detail::make_line_delta(from, to), to.size()) == to);
  }
}

TEST_CASE("the edit script of the FORMAT.md worked example", "[versions][storage][format]") {
  const std::string script = detail::make_line_delta("# Plan\n- a\n- b\n", "# Plan\n- a\n- B\n- c\n");
  CHECK(script == std::string("\x00\x00\x0b\x01\x08- B\n- c\n", 13));
}

TEST_CASE("a damaged edit script is rejected, never read past its base", "[versions][storage]") {
  const std::string base = "one\ntwo\n";
  const std::string script = detail::make_line_delta(base, "two\none\nthree\n");
  CHECK_THROWS_AS(detail::apply_line_delta("one\n", script, 14), detail::DecodeError);
  CHECK_THROWS_AS(detail::apply_line_delta(base, script, 13), detail::DecodeError);
  CHECK_THROWS_AS(detail::apply_line_delta(base, script, 15), detail::DecodeError);
  CHECK_THROWS_AS(detail::apply_line_delta(base, script.substr(0, script.size() - 1), 14),
                  detail::DecodeError);
  CHECK_THROWS_AS(detail::apply_line_delta(base, "\x07", 0), detail::DecodeError);
  CHECK_THROWS_AS(detail::apply_line_delta(base, std::string("\x00\x80", 2), 1),
                  detail::DecodeError);
}

TEST_CASE("random damage to a keyframe or delta, resealed, is corruption or harmless",
          "[versions][storage][corruption]") {
  // The sealed checksum is recomputed after each mutation, so the damage reaches
  // the stored-content parser, zstd and the edit script (run it under ASan and
  // UBSan). Either the frame is corruption naming its sequence, or the damage did
  // not change what it decodes to (e.g. an ignored bit of a zstd frame header).
  std::mt19937_64 rng(23);
  const std::string base_text = initial_document(rng);
  const std::string text = edit(base_text, rng);
  const detail::ContentBase base{5, 0, detail::checksum64(base_text), base_text};
  FixedBase source(base_text);
  const Event e = update_event(text);
  const detail::ContentBase* const bases[] = {&base, nullptr};  // a delta, a keyframe
  for (const detail::ContentBase* with : bases) {
    Event original = e;
    const std::string frame = detail::encode_event(original, {.base = with});
    const std::string blob = detail::store_content(text, with);
    REQUIRE(blob[0] != static_cast<char>(detail::ContentKind::raw));
    const std::size_t at = frame.find(blob);
    REQUIRE(at != std::string::npos);
    for (int round = 0; round < 1500; ++round) {
      std::string damaged = frame;
      const int flips = 1 + static_cast<int>(rng() % 3);
      for (int i = 0; i < flips; ++i) {
        const std::size_t pos = at + rng() % blob.size();
        damaged[pos] = static_cast<char>(damaged[pos] ^ (1 + rng() % 255));
      }
      std::string_view stored = std::string_view(damaged).substr(at, blob.size());
      if (stored[0] == 1 || stored[0] == 2) {
        std::string sealed;
        detail::put_be<std::uint64_t>(
            sealed, detail::checksum64({stored.substr(0, 17), stored.substr(25)}));
        damaged.replace(at + 17, 8, sealed);
      }
      auto decoded = detail::decode_event(original.sequence, damaged, &source);
      if (decoded) {
        CHECK(*decoded == original);
      } else {
        CHECK(decoded.error().code == ErrorCode::corruption);
        CHECK_THAT(decoded.error().message, Catch::StartsWith("event 9: "));
      }
    }
  }
}

TEST_CASE("a frame that only looks like a raw-block frame is left to zstd, which refuses it",
          "[versions][storage][corruption]") {
  // Frames of one raw block are read without zstd; anything else that starts
  // like one (a trailing byte, sizes that disagree, another block type) goes to
  // zstd, and damage is corruption, never a misread script.
  const std::string base = "# Plan\n- one\n- two\n";
  const std::string target = "# Plan\n- one\n- TWO\n";
  const std::string script = detail::make_line_delta(base, target);
  REQUIRE(script.size() < 64);
  std::string frame("\x28\xB5\x2F\xFD\x20", 5);
  frame.push_back(static_cast<char>(script.size()));
  const auto block = static_cast<std::uint32_t>(1 | (script.size() << 3));
  for (int i = 0; i < 3; ++i) frame.push_back(static_cast<char>(block >> (8 * i)));
  frame += script;
  auto load = [&](const std::string& body) {
    detail::StoredContent stored;
    stored.kind = detail::ContentKind::delta;
    stored.length = target.size();
    stored.checksum = detail::checksum64(target);
    stored.base_seq = 1;
    stored.depth = 1;
    stored.body = body;
    return detail::load_content(stored, base);
  };
  CHECK(load(frame) == target);
  std::string script_back(script.size(), '\0');
  REQUIRE(ZSTD_decompress(script_back.data(), script_back.size(), frame.data(), frame.size()) ==
          script.size());
  CHECK(script_back == script);

  std::string trailing = frame + "x";
  CHECK_THROWS_AS(load(trailing), detail::DecodeError);
  std::string short_block = frame;  // the block holds one byte fewer than the frame says
  short_block[6] = static_cast<char>(1 | ((script.size() - 1) << 3));
  short_block.pop_back();
  CHECK_THROWS_AS(load(short_block), detail::DecodeError);
  std::string rle = frame;  // an RLE block regenerates one byte `size` times
  rle[6] = static_cast<char>(rle[6] | 2);
  CHECK_THROWS_AS(load(rle), detail::DecodeError);
  std::string not_last = frame;  // no last block: the frame never ends
  not_last[6] = static_cast<char>(not_last[6] & ~1);
  CHECK_THROWS_AS(load(not_last), detail::DecodeError);
}

TEST_CASE("small edit scripts are framed raw, in zstd frames zstd itself reads",
          "[versions][storage]") {
  std::mt19937_64 rng(12);
  const std::string base = initial_document(rng);
  const detail::ContentBase from{5, 0, detail::checksum64(base), base};
  bool framed_raw = false, compressed = false;
  for (std::size_t width = 1; width <= 400; width += 7) {
    // A new first line of `width` bytes: a script of one insert and one copy.
    const std::string next = std::string(width, 'x') + "\n" + base;
    const std::string blob = detail::store_content(next, &from);
    const auto stored = detail::parse_stored_content(blob, 6);  // views `blob`
    REQUIRE(stored.kind == detail::ContentKind::delta);
    CHECK(detail::load_content(stored, base) == next);
    const std::string_view frame = stored.body;
    const unsigned long long size = ZSTD_getFrameContentSize(frame.data(), frame.size());
    REQUIRE(size != ZSTD_CONTENTSIZE_ERROR);
    REQUIRE(size != ZSTD_CONTENTSIZE_UNKNOWN);
    std::string script(size, '\0');
    CHECK(ZSTD_decompress(script.data(), script.size(), frame.data(), frame.size()) == size);
    CHECK(script == detail::make_line_delta(base, next));
    INFO("script of " << size << " bytes in a frame of " << frame.size());
    if (size < detail::kRawFrameBelow) {
      // Magic, descriptor 0x20, the size, a raw last block: 9 bytes around it.
      CHECK(frame.substr(0, 5) == std::string_view("\x28\xB5\x2F\xFD\x20", 5));
      CHECK(frame.size() == size + 9);
      framed_raw = true;
    } else {
      CHECK(frame.size() < size);  // a run of one byte compresses
      compressed = true;
    }
  }
  CHECK(framed_raw);
  CHECK(compressed);
}

TEST_CASE("stored content picks the smallest form and checks the base", "[versions][storage]") {
  std::mt19937_64 rng(11);
  const std::string base = initial_document(rng);
  const std::string next = edit(base, rng);
  const detail::ContentBase good{5, 0, detail::checksum64(base), base};
  auto parsed = [](const std::string& blob) { return detail::parse_stored_content(blob, 6); };

  const std::string delta = detail::store_content(next, &good);
  CHECK(parsed(delta).kind == detail::ContentKind::delta);
  CHECK(parsed(delta).depth == 1);
  CHECK(detail::load_content(parsed(delta), base) == next);
  CHECK_THROWS_AS(detail::load_content(parsed(delta), "X" + base), detail::DecodeError);

  // A base whose checksum disagrees with its text is never used.
  detail::ContentBase stale = good;
  stale.checksum ^= 1;
  CHECK(parsed(detail::store_content(next, &stale)).kind == detail::ContentKind::keyframe);
  // The depth limit forces a keyframe.
  detail::ContentBase deep = good;
  deep.depth = detail::kMaxDeltaDepth;
  CHECK(parsed(detail::store_content(next, &deep)).kind == detail::ContentKind::keyframe);
  // Tiny and empty texts are stored raw.
  CHECK(parsed(detail::store_content("", nullptr)).kind == detail::ContentKind::raw);
  CHECK(parsed(detail::store_content("hi", nullptr)).kind == detail::ContentKind::raw);
  // A delta must name an earlier event.
  CHECK_THROWS_AS(detail::parse_stored_content(delta, 5), detail::DecodeError);
}

// Refuses every update whose content starts with "veto" (the write rolls back).
class Veto : public Projection {
 public:
  std::string name() const override { return "veto"; }
  std::uint32_t schema_version() const override { return 1; }
  void apply(const Event& event, ProjectionStore&) override {
    const auto* u = std::get_if<SessionUpdated>(&event.payload);
    if (u && u->content && u->content->starts_with("veto")) throw std::runtime_error("vetoed");
  }
};

TEST_CASE("a batch writing a session again deltas against its own events, never a rolled-back one",
          "[versions][storage]") {
  std::mt19937_64 rng(21);
  TempDir dir;
  auto m = open_store(test_options(dir));
  PLAN_OK(m->register_projection(std::make_shared<Veto>()));
  Model model;
  model.content = initial_document(rng);
  model.id = PLAN_OK(m->create({.title = "doc", .initial_content = model.content})).id;
  model.versions.push_back(model.content);
  // Edits of one session in one batch, a vetoed one (appended, then rolled
  // back with its nested transaction) between them.
  WriteBatch batch;
  std::vector<bool> kept;
  std::string text = model.content;
  for (int i = 0; i < 8; ++i) {
    for (const std::string before = text; text == before;) text = edit(before, rng);
    if (i % 3 == 1) {
      batch.update(model.id, {.content = "veto\n" + text});
      kept.push_back(false);
    }
    batch.update(model.id, {.content = text});
    kept.push_back(true);
    model.versions.push_back(text);
  }
  model.content = text;
  const auto results = PLAN_OK(m->apply_batch(batch));
  REQUIRE(results.size() == kept.size());
  for (std::size_t i = 0; i < kept.size(); ++i) CHECK(results[i].has_value() == kept[i]);
  check_all_reads(*m, model);
  require_verified(*m);

  // Each kept edit is a delta on the one before it, a chain one deeper each time.
  std::uint64_t seq = 0, previous = 0;
  std::uint32_t depth = 0;
  for (const std::string& frame : log_frames(m, dir)) {
    auto stored = detail::peek_stored_content(++seq, frame);
    REQUIRE(stored.has_value());
    REQUIRE(stored->has_value());
    if (seq > 1) {
      CHECK((*stored)->kind == detail::ContentKind::delta);
      CHECK((*stored)->base_seq == previous);
      CHECK((*stored)->depth == ++depth);
    }
    previous = seq;
  }
  CHECK(seq + 1 == model.versions.size());  // versions[0] is the empty "version 0"
  check_all_reads(*m, model);
}

TEST_CASE("randomized edits read back byte-identical through every read path",
          "[versions][storage]") {
  const auto seed = GENERATE(1u, 2u, 3u);
  INFO("seed " << seed);
  std::mt19937_64 rng(seed);
  TempDir dir;
  auto m = open_store(test_options(dir));
  std::vector<Model> models(3);
  for (auto& model : models) {
    model.content = initial_document(rng);
    model.id = PLAN_OK(m->create({.title = "doc", .initial_content = model.content})).id;
    model.versions.push_back(model.content);
  }
  for (int step = 0; step < 150; ++step) {
    Model& model = models[rng() % models.size()];
    const auto choice = rng() % 10;
    if (choice == 0 && model.versions.size() > 1) {
      const auto n = static_cast<std::uint32_t>(1 + rng() % (model.versions.size() - 1));
      PLAN_OK(m->restore_version(model.id, n, "tester"));
      model.content = model.versions[n];
      model.versions.push_back(model.content);
    } else if (choice == 1) {
      PLAN_OK(m->create_version(model.id, "snapshot", "tester"));
      model.versions.push_back(model.content);
    } else if (choice == 2) {
      PLAN_OK(m->update(model.id, {.title = "title " + std::to_string(step)}));
    } else {
      const std::string next = edit(model.content, rng);
      if (next == model.content) continue;
      PLAN_OK(m->update(model.id, {.content = next}));
      model.content = next;
      model.versions.push_back(next);
    }
  }
  for (const auto& model : models) check_all_reads(*m, model);
  check_events_carry_full_content(*m);

  const auto stored = stored_contents(m, dir);
  const auto deltas = std::count_if(stored.begin(), stored.end(), [](const auto& s) {
    return s.kind == detail::ContentKind::delta;
  });
  CHECK(deltas > static_cast<long>(stored.size() / 2));
  for (const auto& s : stored) CHECK(s.depth <= detail::kMaxDeltaDepth);

  require_verified(*m);
  const auto before = capture_state(*m);
  PLAN_OK(m->rebuild_projections());
  REQUIRE_SAME_STATE(before, capture_state(*m));
  for (const auto& model : models) check_all_reads(*m, model);
}

TEST_CASE("a keyframe starts every chain of at most kMaxDeltaDepth deltas",
          "[versions][storage]") {
  TempDir dir;
  auto m = open_store(test_options(dir));
  std::mt19937_64 rng(5);
  Model model = create_document(*m, rng);
  const int updates = 2 * static_cast<int>(detail::kMaxDeltaDepth) + 5;
  for (int i = 0; i < updates; ++i) {
    model.content += "- line " + std::to_string(i) + "\n";
    PLAN_OK(m->update(model.id, {.content = model.content}));
    model.versions.push_back(model.content);
  }
  const auto stored = stored_contents(m, dir);
  REQUIRE(stored.size() == static_cast<std::size_t>(updates) + 1);
  for (std::size_t i = 0; i < stored.size(); ++i) {
    INFO("content event " << i);
    CHECK(stored[i].depth == i % (detail::kMaxDeltaDepth + 1));
    CHECK((stored[i].depth == 0) == (stored[i].kind == detail::ContentKind::keyframe));
  }
  check_all_reads(*m, model);
}

TEST_CASE("stores written in the full-content schema v1 still read, alone and mixed with v2",
          "[versions][storage][upcast]") {
  TempDir dir;
  std::mt19937_64 rng(3);
  Model model;
  std::vector<Event> events;
  {
    auto m = open_store(test_options(dir));
    model.content = initial_document(rng);
    model.id = PLAN_OK(m->create({.title = "doc", .initial_content = model.content})).id;
    model.versions.push_back(model.content);
    for (int i = 0; i < 10; ++i) {
      model.content = edit(model.content, rng);
      PLAN_OK(m->update(model.id, {.content = model.content}));
      model.versions.push_back(model.content);
    }
    PLAN_OK(m->restore_version(model.id, 2, "tester"));
    model.content = model.versions[2];
    model.versions.push_back(model.content);
    events = PLAN_OK(m->events(EventQuery{}));
  }
  downgrade_to_v1(test_options(dir).path, events);
  auto m = open_store(test_options(dir));
  for (const auto& s : stored_contents(m, dir)) {
    CHECK(s.kind == detail::ContentKind::raw);
  }
  for (const Event& e : PLAN_OK(m->events(EventQuery{}))) CHECK(e.schema_version == 1);
  require_verified(*m);
  check_all_reads(*m, model);

  SECTION("new events are v2 deltas against the v1 content") {
    for (int i = 0; i < 5; ++i) {
      model.content = edit(model.content, rng);
      PLAN_OK(m->update(model.id, {.content = model.content}));
      model.versions.push_back(model.content);
    }
    const auto stored = stored_contents(m, dir);
    CHECK(stored.back().kind == detail::ContentKind::delta);
    require_verified(*m);
    check_all_reads(*m, model);
    check_events_carry_full_content(*m);
    const auto before = capture_state(*m);
    PLAN_OK(m->rebuild_projections());
    REQUIRE_SAME_STATE(before, capture_state(*m));
  }
}

TEST_CASE("damaged stored content is corruption naming the event", "[versions][storage][corruption]") {
  TempDir dir;
  std::mt19937_64 rng(9);
  Model model;
  Event target;
  std::string base_text;
  {
    auto m = open_store(test_options(dir));
    base_text = initial_document(rng);
    model.id = PLAN_OK(m->create({.title = "doc", .initial_content = base_text})).id;
    model.content = edit(base_text, rng);
    PLAN_OK(m->update(model.id, {.content = model.content}));
    PLAN_OK(m->update(model.id, {.title = "later"}));
    target = PLAN_OK(m->events(EventQuery{})).at(1);
  }
  const std::uint64_t seq = target.sequence;
  const std::string original = frame_at(test_options(dir).path, seq);
  REQUIRE((*detail::peek_stored_content(seq, original))->kind == detail::ContentKind::delta);

  auto expect_corruption = [&](const std::string& frame, const std::string& what = "") {
    REQUIRE(raw::put(test_options(dir).path, "log", raw::seq_key(seq), frame).empty());
    auto m = open_store(test_options(dir));
    const Error e = PLAN_ERR(m->get_version(model.id, 2));
    CHECK(e.code == ErrorCode::corruption);
    CHECK_THAT(e.message, Catch::Contains("event " + std::to_string(seq) + ": " + what));
    const Error t = PLAN_ERR(m->session_at(model.id, seq));
    CHECK(t.code == ErrorCode::corruption);
    const auto report = PLAN_OK(m->verify());
    CHECK(std::any_of(report.issues.begin(), report.issues.end(),
                      [&](const VerifyIssue& i) { return i.sequence == seq; }));
    CHECK_FALSE(m->rebuild_projections().has_value());
    // The rest of the store still reads.
    CHECK(PLAN_OK(m->get_version(model.id, 1)).content == base_text);
  };

  const detail::ContentBase base{1, 0, detail::checksum64(base_text), base_text};
  const std::string blob = detail::store_content(model.content, &base);
  const std::size_t at = original.find(blob);
  REQUIRE(at != std::string::npos);
  std::string bad = original;
  bad[at + 37 + 4] = static_cast<char>(bad[at + 37 + 4] ^ 0x5a);  // inside the zstd frame
  // The frame's own checksums stay valid: the header is untouched, and the
  // payload checksum covers the canonical payload, which the damage would change.
  SECTION("a damaged zstd frame inside a delta: the sealed checksum, before zstd") {
    expect_corruption(bad, "stored content: checksum mismatch of the stored bytes");
  }
  SECTION("a damaged zstd frame inside a delta, sealed again: zstd or the text checksum") {
    // FORMAT.md §2.1: sealed (offset 17) = XXH3-64 of the blob without bytes 17..24.
    const std::string_view damaged = std::string_view(bad).substr(at, blob.size());
    std::string sealed;
    detail::put_be<std::uint64_t>(sealed,
                                  detail::checksum64({damaged.substr(0, 17), damaged.substr(25)}));
    bad.replace(at + 17, 8, sealed);
    expect_corruption(bad, "stored content: ");
  }
  SECTION("a payload field beside the stored content: the canonical payload checksum") {
    std::string edited = original;
    const std::size_t field = edited.find("content", at + blob.size());  // changed_fields
    REQUIRE(field != std::string::npos);
    edited[field] = 'C';
    expect_corruption(edited, "payload checksum mismatch (canonical payload)");
  }
  SECTION("a payload checksum that is not the canonical one") {
    std::string edited = original;
    edited[36 + 7] = static_cast<char>(edited[36 + 7] ^ 0x01);
    expect_corruption(reseal_header(edited), "payload checksum mismatch (canonical payload)");
  }
  SECTION("a delta whose copies run past its base") {
    // A well-formed frame (valid checksums) made against a longer, wrong base.
    const std::string fake_base = base_text + std::string(4096, 'z') + "\n";
    const detail::ContentBase fake{1, 0, detail::checksum64(fake_base), fake_base};
    Event forged = target;
    std::get<SessionUpdated>(forged.payload).content = fake_base + "tail\n";
    expect_corruption(detail::encode_event(forged, {.base = &fake}));
  }
  SECTION("a delta naming a base of another depth") {
    const detail::ContentBase wrong{1, 3, detail::checksum64(base_text), base_text};
    Event forged = target;
    expect_corruption(detail::encode_event(forged, {.base = &wrong}));
  }
}

TEST_CASE("export then import reproduces the store, deltas and all", "[versions][storage][import]") {
  TempDir a_dir, b_dir;
  auto a = open_store(test_options(a_dir));
  std::mt19937_64 rng(13);
  Model model = create_document(*a, rng);
  for (int i = 0; i < 25; ++i) {
    model.content = edit(model.content, rng);
    PLAN_OK(a->update(model.id, {.content = model.content}));
    model.versions.push_back(model.content);
  }
  std::ostringstream exported;
  PLAN_OK(a->export_events(exported));

  auto b = open_store(test_options(b_dir));
  import_exactly(*b, exported.str(), model);
  const auto stored = stored_contents(b, b_dir);
  CHECK(std::any_of(stored.begin(), stored.end(),
                    [](const auto& c) { return c.kind == detail::ContentKind::delta; }));
}

namespace {

// Encoder choices other than this build's defaults, standing in for other zstd
// versions and delta heuristics (FORMAT.md §2.1, "Choosing the form").
std::vector<detail::ContentPolicy> other_policies() {
  return {{.max_delta_depth = 0, .zstd_level = 3, .compress = true},     // keyframes only
          {.max_delta_depth = 2, .zstd_level = 19, .compress = true},    // short chains
          {.max_delta_depth = 16, .zstd_level = 1, .compress = true},    // other zstd output
          {.max_delta_depth = 16, .zstd_level = 3, .compress = false}};  // all raw
}

}  // namespace

TEST_CASE("the payload checksum and the chain hash cover the canonical form",
          "[versions][storage][format]") {
  std::mt19937_64 rng(21);
  const std::string base_text = initial_document(rng);
  const std::string text = edit(base_text, rng);
  const detail::ContentBase base{5, 0, detail::checksum64(base_text), base_text};
  const Event e = update_event(text);

  // The canonical frame is the frame with the content stored raw: its own
  // payload checksum and SHA-256 (FORMAT.md §2, §5).
  Event canonical = e;
  const detail::EncodedEvent reference = [&] {
    detail::ScopedContentPolicy scope({.max_delta_depth = 0, .zstd_level = 3, .compress = false});
    return detail::encode_event_chained(canonical);
  }();
  REQUIRE(PLAN_OK(detail::peek_stored_content(9, reference.frame))->kind ==
          detail::ContentKind::raw);
  CHECK(reference.hash == detail::sha256(reference.frame));
  CHECK(canonical.payload_checksum ==
        detail::checksum64(std::string_view(reference.frame).substr(detail::kFrameHeaderSize)));

  auto policies = other_policies();
  policies.push_back({});
  std::set<std::string> frames;
  for (const auto& policy : policies) {
    INFO("max_delta_depth " << policy.max_delta_depth << ", zstd level " << policy.zstd_level);
    detail::ScopedContentPolicy scope(policy);
    Event copy = e;
    const detail::EncodedEvent encoded = detail::encode_event_chained(copy, {.base = &base});
    frames.insert(encoded.frame);
    CHECK(copy.payload_checksum == canonical.payload_checksum);
    CHECK(encoded.hash == reference.hash);
    FixedBase source(base_text);
    auto decoded = detail::decode_event_stored(copy.sequence, encoded.frame, &source);
    REQUIRE(decoded.has_value());
    CHECK(decoded->event == canonical);
    CHECK(detail::chain_hash(encoded.frame, *decoded) == reference.hash);
  }
  CHECK(frames.size() >= 3);                // raw, keyframe and delta at least
  CHECK(frames.contains(reference.frame));  // the raw-only one as the reference
}

TEST_CASE("an export imports under other encoder choices: same checksums, same chain",
          "[versions][storage][import]") {
  TempDir a_dir;
  auto a = open_store(test_options(a_dir));
  std::mt19937_64 rng(17);
  Model model = create_document(*a, rng);
  for (int i = 0; i < 40; ++i) {
    model.content = edit(model.content, rng);
    PLAN_OK(a->update(model.id, {.content = model.content}));
    if (i % 9 == 0) PLAN_OK(a->create_version(model.id, "snap"));  // a content_seq
  }
  model.versions.resize(1);  // read back from `a` (create_version may add one)
  for (std::uint32_t n = 1; n <= PLAN_OK(a->get(model.id)).current_version; ++n) {
    model.versions.push_back(PLAN_OK(a->get_version(model.id, n)).content);
  }
  check_all_reads(*a, model);
  std::ostringstream exported;
  PLAN_OK(a->export_events(exported));
  const auto a_frames = log_frames(a, a_dir);

  for (const auto& policy : other_policies()) {
    INFO("max_delta_depth " << policy.max_delta_depth << ", zstd level " << policy.zstd_level
                            << ", compress " << policy.compress);
    TempDir b_dir;
    auto b = open_store(test_options(b_dir));
    import_exactly(*b, exported.str(), model, policy);
    PLAN_OK(b->rebuild_projections());
    require_verified(*b);
    // Stored otherwise than in `a`, never deeper than the policy allows.
    for (const auto& stored : stored_contents(b, b_dir)) {
      CHECK(stored.depth <= policy.max_delta_depth);
      CHECK((policy.compress || stored.kind == detail::ContentKind::raw));
    }
    CHECK(log_frames(b, b_dir) != a_frames);
    // The store keeps growing with this build's own choices.
    PLAN_OK(b->update(model.id, {.content = model.content + "more\n"}));
    require_verified(*b);
  }
}

TEST_CASE("an import with tampered content fails the payload checksum",
          "[versions][storage][import]") {
  TempDir a_dir, b_dir;
  auto a = open_store(test_options(a_dir));
  std::mt19937_64 rng(19);
  std::string content = initial_document(rng);
  const std::string id = PLAN_OK(a->create({.title = "doc", .initial_content = content})).id;
  for (int i = 0; i < 5; ++i) {
    content = edit(content, rng);
    PLAN_OK(a->update(id, {.content = content}));
  }
  std::ostringstream exported;
  PLAN_OK(a->export_events(exported));
  std::istringstream lines(exported.str());
  std::string tampered;
  std::string line;
  int n = 0;
  while (std::getline(lines, line)) {
    if (++n == 4) {  // an update whose content is stored as a delta in `a`
      Event e = PLAN_OK(event_from_json(nlohmann::json::parse(line)));
      auto& update = std::get<SessionUpdated>(e.payload);
      REQUIRE(update.content.has_value());
      update.content->back() = update.content->back() == 'x' ? 'y' : 'x';
      line = to_json(e).dump();
    }
    tampered += line + "\n";
  }
  auto b = open_store(test_options(b_dir));
  std::istringstream in(tampered);
  const Error err = PLAN_ERR(b->import_events(in));
  CHECK(err.code == ErrorCode::invalid_argument);
  CHECK_THAT(err.message, Catch::Contains("event 4") && Catch::Contains("payload_checksum"));
  CHECK(head_of(*b) == 0);
}

TEST_CASE("version records: packed round trip, every cut refused, record version 1 still read",
          "[versions][storage][format]") {
  detail::VersionRecord record;
  record.event_seq = 42;
  record.content_seq = 41;
  record.created_at = Timestamp{std::chrono::nanoseconds{-5}};
  record.created_by = "alice";
  record.change_summary = "Restored from version 3";
  record.changed_fields = {"content", "title"};
  auto same = [](const detail::VersionRecord& a, const detail::VersionRecord& b) {
    return a.event_seq == b.event_seq && a.content_seq == b.content_seq &&
           a.created_at == b.created_at && a.created_by == b.created_by &&
           a.change_summary == b.change_summary && a.changed_fields == b.changed_fields;
  };
  const std::string packed = detail::encode_version(record);
  CHECK(packed.substr(0, 2) == std::string("\1\2", 2));  // docs/FORMAT.md §4
  CHECK(same(detail::decode_version(packed), record));
  for (std::size_t n = 0; n < packed.size(); ++n) {
    INFO("cut to " << n << " bytes");
    CHECK_THROWS_AS(detail::decode_version(packed.substr(0, n)), detail::DecodeError);
  }
  CHECK_THROWS_AS(detail::decode_version(packed + "x"), detail::DecodeError);
  std::string huge_count = packed;  // the field count claims more than the bytes left
  huge_count.replace(packed.size() - 2 * 4 - 7 - 5 - 4, 4, std::string("\xff\xff\xff\xff", 4));
  CHECK_THROWS_AS(detail::decode_version(huge_count), detail::DecodeError);

  // Record version 1, as stores of formats 1 and 2 hold it: Cereal.
  const std::string v1 = detail::encode_record([&](auto& ar) {
    std::uint8_t version = 1;
    detail::field(ar, version);
    detail::fields(ar, record.event_seq, record.content_seq, record.created_at, record.created_by,
                   record.change_summary, record.changed_fields);
  });
  CHECK(same(detail::decode_version(v1), record));
}
