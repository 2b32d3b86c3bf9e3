// Writes the seed corpora of fuzz_event_decode, fuzz_import and
// fuzz_record_reader (docs/FUZZING.md):
//   fuzz_make_corpus <tests/fuzz/corpus>
// Runs a deterministic flow touching every event type on a scratch store, then
// writes each event's frame (raw, resealed and a few near-valid variants) and
// the store's JSON Lines export (as is, sealed, and near-valid variants), and
// records written by Cereal in both byte orders, whole and cut.
// fuzz_metadata's seeds are written by hand (docs/FUZZING.md). Session ids
// are UUIDv7 (time + random), so a regenerated corpus differs in its ids only.
#include <cstdio>
#include <fstream>
#include <map>
#include <sstream>
#include <string>

#include "fuzz/fuzz_support.hpp"
#include "support/record_sample.hpp"

namespace {

using namespace planning;

void write_file(const std::filesystem::path& path, const std::string& bytes) {
  std::filesystem::create_directories(path.parent_path());
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  if (!out) {
    std::fprintf(stderr, "cannot write %s\n", path.c_str());
    std::exit(1);
  }
}

template <typename T>
T ok(Result<T> r, const char* what) {
  if (!r) {
    std::fprintf(stderr, "%s failed: %s\n", what, r.error().message.c_str());
    std::exit(1);
  }
  return std::move(*r);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s <tests/fuzz/corpus>\n", argv[0]);
    return 2;
  }
  const std::filesystem::path out = argv[1];
  fuzz::ScratchDir dir;
  Options options = fuzz::scratch_options(dir.path() / "store");
  std::int64_t ns = 1735689600000000000;  // 2025-01-01T00:00:00Z, +1 ms per reading
  options.clock = [&ns] { return Timestamp{std::chrono::nanoseconds{ns += 1000000}}; };
  auto m = ok(SessionManager::open(options), "open");

  // Every event type, in a plausible life cycle.
  auto a = ok(m->create({.title = "E-commerce Platform Planning",
                         .description = "Design shopping cart and checkout flow",
                         .repository_path = "/projects/ecommerce",
                         .repository_url = "https://github.com/company/ecommerce",
                         .initial_content = "# Shopping Cart\n\n## Requirements",
                         .created_by = "agent:planning-assistant",
                         .metadata = {{"priority", "high"}, {"tags", {"cart", "checkout"}}}}),
              "create");
  UpdateRequest u;
  u.content = "# Shopping Cart\n\n## Requirements\n- Payments";
  u.change_summary = "Added payment processing requirements";
  u.updated_by = "agent:planning-assistant";
  u.metadata = nlohmann::json{{"priority", "urgent"}};
  ok(m->update(a.id, u), "update");
  ok(m->create_version(a.id, "snapshot", "user:john"), "create_version");
  ok(m->restore_version(a.id, 1, "user:john"), "restore_version");
  ok(m->pause(a.id, "Waiting for stakeholder feedback", "user:john"), "pause");
  ok(m->resume(a.id, "user:john"), "resume");
  ok(m->mark_converted(a.id, {.project_id = "project-123",
                              .work_item_ids = {"wi-1", "wi-2", "wi-3"},
                              .converted_by = "agent:work-item-creator"}),
     "mark_converted");
  ok(m->archive(a.id, "user:john"), "archive");
  auto b = ok(m->create({.title = "Scratch"}), "create b");
  ok(m->remove(b.id, "user:john"), "remove");

  const auto events = ok(m->events(), "events");

  // --- fuzz_event_decode: one frame per event type (first of each type).
  const auto decode_dir = out / "fuzz_event_decode";
  std::map<EventType, std::string> frames;
  for (Event e : events) {
    std::string frame = detail::encode_event(e);
    frames.try_emplace(e.type, std::move(frame));
  }
  for (const auto& [type, frame] : frames) {
    const std::string name(to_string(type));
    write_file(decode_dir / ("raw-" + name), std::string(1, '\0') + frame);
    write_file(decode_dir / ("resealed-" + name), std::string(1, '\1') + frame);
  }
  const std::string& created = frames.at(EventType::session_created);
  write_file(decode_dir / "raw-truncated-header", std::string(1, '\0') + created.substr(0, 60));
  write_file(decode_dir / "raw-truncated-payload",
             std::string(1, '\0') + created.substr(0, created.size() - 5));
  std::string flipped = created;
  flipped[flipped.size() - 3] ^= 0x20;
  write_file(decode_dir / "raw-payload-checksum-mismatch", std::string(1, '\0') + flipped);
  write_file(decode_dir / "resealed-payload-byte-changed", std::string(1, '\1') + flipped);
  std::string bad_type = frames.at(EventType::session_paused);
  bad_type[17] = 42;  // type id 42
  write_file(decode_dir / "resealed-unknown-type", std::string(1, '\1') + bad_type);
  std::string bad_schema = frames.at(EventType::session_paused);
  bad_schema[19] = 2;  // schema version 2
  write_file(decode_dir / "resealed-future-schema", std::string(1, '\1') + bad_schema);
  // The paused payload: endianness byte, class version u32, then the reason's
  // u64 length: make that length absurd.
  std::string huge = frames.at(EventType::session_paused);
  const std::size_t payload_at = huge.size() - std::string("Waiting for stakeholder feedback").size() - 8;
  for (std::size_t i = 0; i < 8; ++i) huge[payload_at + i] = '\x7f';
  write_file(decode_dir / "resealed-huge-string-length", std::string(1, '\1') + huge);
  write_file(decode_dir / "generated-small", std::string("\2") + "0123456789abcdef");
  write_file(decode_dir / "generated-larger",
             std::string("\2") + "session\\title\\description\\/repo\\https://x\\/wd\\# content"
                                 "\\{\"a\":1}\\summary\\" + std::string(32, '\xa5'));

  // --- fuzz_import: the export, as is and sealed, and near-valid variants.
  const auto import_dir = out / "fuzz_import";
  std::ostringstream exported;
  ok(m->export_events(exported), "export_events");
  const std::string text = exported.str();
  write_file(import_dir / "export-every-type.jsonl", text);
  write_file(import_dir / "sealed-export-every-type.jsonl", "!" + text);
  const std::string first_line = text.substr(0, text.find('\n') + 1);
  write_file(import_dir / "one-created.jsonl", first_line);
  std::string wrong_hash = first_line;
  const auto hash_at = wrong_hash.find("\"prev_hash\":\"") + 13;
  wrong_hash[hash_at] = '1';
  write_file(import_dir / "prev-hash-broken.jsonl", wrong_hash);
  std::string unknown = first_line;
  unknown.insert(1, "\"surprise\":true,");
  write_file(import_dir / "unknown-field.jsonl", unknown);
  // A paused event first: sealed, it reaches the state machine (not_found).
  std::istringstream lines(text);
  std::string line;
  while (std::getline(lines, line)) {
    if (line.find("\"type\":\"session_paused\"") != std::string::npos) {
      write_file(import_dir / "sealed-paused-before-created.jsonl", "!" + line + "\n");
    }
    if (line.find("\"type\":\"version_created\"") != std::string::npos) {
      write_file(import_dir / "sealed-created-then-version.jsonl", "!" + first_line + line + "\n");
    }
  }
  write_file(import_dir / "not-json.jsonl", "{\"sequence\":1,\n");
  write_file(import_dir / "empty-lines.jsonl", "\n\r\n\n");
  // Generated mode: '?' and bytes for its FuzzedDataProvider (a fixed LCG).
  std::uint64_t state = 7;
  for (int i = 0; i < 4; ++i) {
    std::string seed = "?";
    for (int b = 0; b < 64 * (i + 1); ++b) {
      state = state * 6364136223846793005ULL + 1442695040888963407ULL;
      seed.push_back(static_cast<char>(state >> 56));
    }
    write_file(import_dir / ("generated-" + std::to_string(i)), seed);
  }
  // --- fuzz_record_reader: records as Cereal writes them, in both byte orders,
  // a record with every optional field empty, and a record cut short.
  const auto records_dir = out / "fuzz_record_reader";
  using Options = cereal::PortableBinaryOutputArchive::Options;
  const std::string little =
      test_records::write_with_cereal(test_records::sample(), Options::LittleEndian());
  write_file(records_dir / "sample-little-endian", little);
  write_file(records_dir / "sample-big-endian",
             test_records::write_with_cereal(test_records::sample(), Options::BigEndian()));
  write_file(records_dir / "sample-empty", test_records::write_with_cereal(test_records::Sample{}));
  write_file(records_dir / "sample-cut", little.substr(0, little.size() / 2));
  std::printf("wrote %zu event frames and a %zu-line export under %s\n", frames.size(),
              events.size(), out.c_str());
  return 0;
}
