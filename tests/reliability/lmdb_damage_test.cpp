// Damaged LMDB pages (docs/RELIABILITY.md G21, G22): stores of several shapes
// get a random page-header flip, pointer flip, random bit, garbled range,
// zeroed page, meta-page flip or truncation; then, in a forked child, every
// read the read verbs use runs on a read-only open with the full structural
// check, and salvage() runs on the damaged file. No case may end on a signal;
// damage must be reported (corruption) or be harmless (the reads return
// exactly the original store), and salvage must account for every event.
//
// PLANNING_DAMAGE_SEED / PLANNING_DAMAGE_CASES reproduce or lengthen a run.
#include <fstream>
#include <iterator>
#include <map>
#include <sstream>

#include "reliability/reliability_support.hpp"
#include "events/src/lmdb_check.hpp"

namespace planning::reliability {
namespace {

using test::ManualClock;
using test::TempDir;

struct Shape {
  std::string name;
  std::filesystem::path store;
  std::uint64_t head = 0;
  std::size_t sessions = 0;
};

std::string random_text(std::mt19937_64& rng, std::size_t n) {
  std::string s(n, ' ');
  for (auto& c : s) c = static_cast<char>('!' + rng() % 90);
  return s;
}

// Builds the shapes once per process (each a closed store).
const std::vector<Shape>& shapes() {
  static TempDir dir;
  static std::vector<Shape> built = [] {
    std::vector<Shape> out;
    auto make = [&](const std::string& name, const std::function<void(SessionManager&, ManualClock&)>& fill) {
      Shape shape{name, dir.path() / name};
      ManualClock clock;
      Options o;
      o.path = shape.store;
      o.durability = Durability::no_sync;
      o.clock = clock.as_clock();
      {
        auto m = test::open_store(o);
        fill(*m, clock);
        shape.head = PLAN_OK(m->head_sequence());
        shape.sessions = PLAN_OK(m->list()).size();
      }
      out.push_back(shape);
    };
    make("three-sessions", [](SessionManager& m, ManualClock&) {
      for (int i = 0; i < 3; ++i) PLAN_OK(m.create({.title = "t" + std::to_string(i)}));
    });
    make("every-kind", [](SessionManager& m, ManualClock& clock) { populate_every_kind(m, clock, 12); });
    // Deep trees and DUPSORT sub-trees: 300 sessions in one repository and status.
    make("deep-dupsort", [](SessionManager& m, ManualClock&) {
      for (int i = 0; i < 300; ++i) {
        PLAN_OK(m.create({.title = "session " + std::to_string(i),
                          .repository_path = "/same/repo",
                          .initial_content = "# " + std::to_string(i) + "\nbody\n"}));
      }
    });
    // Overflow pages: incompressible content of 10-30 KiB, then edits.
    make("overflow", [](SessionManager& m, ManualClock&) {
      std::mt19937_64 rng(7);
      for (int i = 0; i < 6; ++i) {
        auto s = PLAN_OK(m.create({.title = "big " + std::to_string(i),
                                   .initial_content = random_text(rng, 10000 + 4000 * i)}));
        UpdateRequest u;
        u.content = random_text(rng, 12000);
        PLAN_OK(m.update(s.id, u));
      }
    });
    return out;
  }();
  return built;
}

// One damage, described for the failure message.
std::string damage(const std::filesystem::path& file, std::mt19937_64& rng) {
  const auto size = std::filesystem::file_size(file);
  const std::uint64_t page = 4096;
  const std::uint64_t pages = size / page;
  std::fstream f(file, std::ios::in | std::ios::out | std::ios::binary);
  auto flip = [&](std::uint64_t offset, int bit) {
    f.seekg(static_cast<std::streamoff>(offset));
    char c = 0;
    f.read(&c, 1);
    c = static_cast<char>(c ^ (1 << bit));
    f.seekp(static_cast<std::streamoff>(offset));
    f.write(&c, 1);
  };
  const int bit = static_cast<int>(rng() % 8);
  const std::uint64_t p = 2 + rng() % std::max<std::uint64_t>(pages - 2, 1);
  switch (rng() % 8) {
    case 0: {
      const auto at = p * page + rng() % 16;
      flip(at, bit);
      return "page header bit " + std::to_string(bit) + " at byte " + std::to_string(at);
    }
    case 1: {
      const auto at = p * page + 16 + rng() % 64;
      flip(at, bit);
      return "node pointer bit " + std::to_string(bit) + " at byte " + std::to_string(at);
    }
    case 2: {
      const auto at = rng() % size;
      flip(at, bit);
      return "bit " + std::to_string(bit) + " at byte " + std::to_string(at);
    }
    case 3: {
      const auto at = rng() % (size - 16);
      std::string junk(16, '\0');
      for (auto& c : junk) c = static_cast<char>(rng());
      f.seekp(static_cast<std::streamoff>(at));
      f.write(junk.data(), 16);
      return "16 random bytes at byte " + std::to_string(at);
    }
    case 4: {
      f.seekp(static_cast<std::streamoff>(p * page));
      const std::string zeros(page, '\0');
      f.write(zeros.data(), static_cast<std::streamsize>(page));
      return "page " + std::to_string(p) + " zeroed";
    }
    case 5: {
      const auto at = (rng() % 2) * page + rng() % 152;
      flip(at, bit);
      return "meta bit " + std::to_string(bit) + " at byte " + std::to_string(at);
    }
    case 6: {
      f.close();
      const auto cut = (rng() % pages) * page;
      std::filesystem::resize_file(file, cut);
      return "truncated to " + std::to_string(cut) + " bytes (a page boundary)";
    }
    default: {
      f.close();
      const auto cut = rng() % size;
      std::filesystem::resize_file(file, cut);
      return "truncated to " + std::to_string(cut) + " bytes";
    }
  }
}

std::string code_or_ok(const auto& result) {
  return result ? std::string("ok") : std::string(to_string(result.error().code));
}

// In the child: every read a read verb makes, then salvage. One line each.
int read_everything(int out, const std::filesystem::path& store, const std::filesystem::path& scratch) {
  Options o;
  o.path = store;
  o.read_only = true;
  o.structure_check = StructureCheck::full;
  {
    auto opened = SessionManager::open(o);
    if (!opened) {
      send_line(out, "OPEN " + std::string(to_string(opened.error().code)) + " " +
                         opened.error().message);
    } else {
      auto& m = **opened;
      send_line(out, "HEAD " + code_or_ok(m.head_sequence()));
      auto list = m.list();
      send_line(out, "LIST " + code_or_ok(list));
      if (list) send_line(out, "SESSIONS " + std::to_string(list->size()));
      send_line(out, "STATS " + code_or_ok(m.get_statistics()));
      send_line(out, "ACTIVE " + code_or_ok(m.find_active()));
      auto events = m.events({});
      send_line(out, "EVENTS " + code_or_ok(events));
      if (events) send_line(out, "COUNT " + std::to_string(events->size()));
      std::ostringstream exported;
      send_line(out, "EXPORT " + code_or_ok(m.export_events(exported)));
      send_line(out, "INFO " + code_or_ok(m.info()));
      send_line(out, "PROJECTIONS " + code_or_ok(m.projections()));
      if (list) {
        for (const auto& s : *list) {
          send_line(out, "GET " + code_or_ok(m.get(s.id)));
          send_line(out, "VERSIONS " + code_or_ok(m.get_versions(s.id)));
          send_line(out, "AT " + code_or_ok(m.session_at(s.id, UINT64_MAX)));
        }
      }
      auto report = m.verify();
      send_line(out, "VERIFY " + (report ? (report->ok() ? std::string("ok")
                                                         : "issues " + report->issues.front().what)
                                         : std::string(to_string(report.error().code)) + " " +
                                               report.error().message));
      send_line(out, "BACKUP " + code_or_ok(m.backup(scratch / "backup", true)));
    }
  }
  auto salvaged = salvage(store, scratch / "salvaged");
  if (!salvaged) {
    send_line(out, "SALVAGE " + std::string(to_string(salvaged.error().code)) + " " +
                       salvaged.error().message);
  } else {
    send_line(out, "SALVAGE ok " + std::to_string(salvaged->recovered_head) + " " +
                       std::to_string(salvaged->beyond_prefix.size()) + " " +
                       std::to_string(salvaged->lost.size()) + " " +
                       std::to_string(salvaged->damaged_head));
  }
  send_line(out, "DONE");
  return 0;
}

struct Tally {
  int refused_at_open = 0, reported_by_reads = 0, harmless = 0, salvaged_whole = 0;
};

void run_sweep(std::uint64_t cases) {
  const std::uint64_t seed = seed_from_env("PLANNING_DAMAGE_SEED", 20261202);
  cases = count_from_env("PLANNING_DAMAGE_CASES", cases);
  const auto& all = shapes();
  Tally tally;
  for (std::uint64_t n = 0; n < cases; ++n) {
    std::mt19937_64 rng(mix_seed(seed + n));
    const Shape& shape = all[n % all.size()];
    TempDir dir;
    const auto store = dir.path() / "store";
    copy_store(shape.store, store);
    const std::string what = damage(store / "data.mdb", rng);
    std::filesystem::create_directories(dir.path() / "scratch");
    ChildProcess child([&](int out, int) { return read_everything(out, store, dir.path() / "scratch"); });
    const auto lines = child.drain();
    const int status = child.wait();
    std::string all_lines;  // what did not succeed
    for (const auto& l : lines) {
      if (!l.ends_with(" ok")) all_lines += l + "; ";
    }
    INFO("case " << n << " (seed " << seed << "), shape " << shape.name << ", " << what << ": child "
                 << describe_status(status) << ": " << all_lines.substr(0, 3000));
    // Never a signal, whatever the damage.
    REQUIRE(exited_ok(status));
    std::map<std::string, std::vector<std::string>> tagged;
    for (const auto& l : lines) {
      const auto space = l.find(' ');
      tagged[l.substr(0, space)].push_back(space == std::string::npos ? "" : l.substr(space + 1));
    }
    REQUIRE(tagged.contains("DONE"));
    const auto first = [&](const std::string& tag) {
      return tagged.contains(tag) ? tagged[tag].front() : std::string();
    };
    bool reported = false;
    if (tagged.contains("OPEN")) {
      // Refused: as damage, never as a store that cannot be found or used.
      CHECK(first("OPEN").starts_with("corruption"));
      ++tally.refused_at_open;
      reported = true;
    } else {
      // verify() names the damage: issues in its report, or corruption.
      const bool verify_reports =
          first("VERIFY").starts_with("issues") || first("VERIFY").starts_with("corruption");
      for (const auto& [tag, values] : tagged) {
        for (const auto& v : values) {
          if (tag == "SALVAGE" || tag == "DONE" || tag == "SESSIONS" || tag == "COUNT") continue;
          if (v != "ok") {
            // A read that fails says corruption; one that reads a damaged
            // projection record as another answer (not_found) is allowed only
            // when verify() reports the damage.
            const bool damage_reported = v.starts_with("corruption") || v.starts_with("issues") ||
                                         (v.starts_with("not_found") && verify_reports);
            CHECK(damage_reported);
            reported = true;
          }
        }
      }
      if (!reported) {
        // Harmless damage (free space, slack): the reads return the original store.
        CHECK(first("COUNT") == std::to_string(shape.head));
        CHECK(first("SESSIONS") == std::to_string(shape.sessions));
        ++tally.harmless;
      } else {
        ++tally.reported_by_reads;
      }
    }
    // Salvage always completes, and accounts for every event it knows of.
    const auto salvage_words = split_words(first("SALVAGE"));
    REQUIRE(salvage_words.size() == 5);
    REQUIRE(salvage_words[0] == "ok");
    const auto recovered = std::stoull(salvage_words[1]);
    const auto beyond = std::stoull(salvage_words[2]);
    const auto lost = std::stoull(salvage_words[3]);
    CHECK(recovered <= shape.head);
    CHECK(recovered + beyond + lost <= shape.head);
    if (!reported) CHECK(recovered == shape.head);
    if (recovered == shape.head) ++tally.salvaged_whole;
  }
  std::printf("lmdb damage sweep: %llu cases (seed %llu): %d refused at open, %d reported by reads, "
              "%d harmless; salvage recovered every event in %d\n",
              static_cast<unsigned long long>(cases), static_cast<unsigned long long>(seed),
              tally.refused_at_open, tally.reported_by_reads, tally.harmless, tally.salvaged_whole);
  CHECK(tally.refused_at_open + tally.reported_by_reads + tally.harmless == static_cast<int>(cases));
}


}  // namespace

TEST_CASE("random page damage and truncation never crash a read and are reported or harmless",
          "[damage]") {
  run_sweep(56);
}

TEST_CASE("1000 random page damages and truncations never crash a read", "[damage][slow]") {
  run_sweep(1000);
}

TEST_CASE("a flipped bit in a leaf page's node pointer is corruption, never a crash",
          "[damage]") {
  // The reported case: three sessions, bit 0x80 of byte 12305 (the high byte
  // of page 3's first node pointer). Before the structural check, every read
  // verb died inside liblmdb.
  TempDir dir;
  const auto store = dir.path() / "store";
  copy_store(shapes().front().store, store);
  test::flip_bits(store / "data.mdb", 12305, 0x80);
  ChildProcess child([&](int out, int) {
    for (const auto check : {StructureCheck::roots, StructureCheck::full}) {
      Options o;
      o.path = store;
      o.read_only = true;
      o.structure_check = check;
      auto opened = SessionManager::open(o);
      send_line(out, opened ? std::string("OPENED")
                            : std::string(to_string(opened.error().code)) + " " + opened.error().message);
    }
    return 0;
  });
  const auto lines = child.drain();
  const int status = child.wait();
  INFO(describe_status(status));
  REQUIRE(exited_ok(status));
  REQUIRE(lines.size() == 2);
  for (const auto& line : lines) {
    CHECK(line.starts_with("corruption"));
    CHECK_THAT(line, Catch::Matchers::Contains("page 3") && Catch::Matchers::Contains("node 0"));
  }
}

TEST_CASE("the structural check passes every healthy shape, in full and roots depth", "[damage]") {
  for (const auto& shape : shapes()) {
    INFO(shape.name);
    for (const auto depth : {detail::StructureDepth::metas, detail::StructureDepth::roots,
                             detail::StructureDepth::full}) {
      auto checked = detail::check_lmdb_structure(shape.store / "data.mdb", depth);
      INFO((checked ? std::string("ok") : checked.error().message));
      REQUIRE(checked.has_value());
      if (depth == detail::StructureDepth::full) CHECK(checked->databases >= 14);
    }
  }
}

TEST_CASE("salvage recovers every event of a store whose B-tree is damaged", "[damage][salvage]") {
  const Shape& shape = shapes()[1];  // every kind of event
  TempDir dir;
  const auto store = dir.path() / "store";
  copy_store(shape.store, store);
  // Zero both meta pages: LMDB can find no tree at all, yet every frame is
  // still in the file.
  {
    std::fstream f(store / "data.mdb", std::ios::in | std::ios::out | std::ios::binary);
    const std::string zeros(2 * 4096, '\0');
    f.write(zeros.data(), static_cast<std::streamsize>(zeros.size()));
  }
  Options o;
  o.path = store;
  o.read_only = true;
  auto refused = SessionManager::open(o);
  REQUIRE_FALSE(refused.has_value());
  CHECK(refused.error().code == ErrorCode::corruption);

  auto report = PLAN_OK(salvage(store, dir.path() / "new"));
  CHECK(report.recovered_head == shape.head);
  CHECK(report.lost.empty());
  CHECK(report.beyond_prefix.empty());
  Options n;
  n.path = dir.path() / "new";
  auto m = test::open_store(n);
  CHECK(PLAN_OK(m->head_sequence()) == shape.head);
  CHECK(PLAN_OK(m->list()).size() == shape.sessions);
  CHECK(PLAN_OK(m->verify()).ok());
}

TEST_CASE("salvage keeps the chained prefix and reports the events after a lost one",
          "[damage][salvage]") {
  const Shape& shape = shapes()[1];
  TempDir dir;
  const auto store = dir.path() / "store";
  copy_store(shape.store, store);
  // Damage every copy of event 5's frame: its header checksum then fails.
  std::string bytes;
  {
    std::ifstream in(store / "data.mdb", std::ios::binary);
    bytes.assign(std::istreambuf_iterator<char>(in), {});
  }
  std::string key = "PSE1";
  key.append("\0\0\0\0\0\0\0\x05", 8);
  std::size_t damaged = 0;
  for (auto at = bytes.find(key); at != std::string::npos; at = bytes.find(key, at + 1)) {
    bytes[at + 40] = static_cast<char>(bytes[at + 40] ^ 1);  // inside the header checksum cover
    ++damaged;
  }
  REQUIRE(damaged >= 1);
  {
    std::ofstream out(store / "data.mdb", std::ios::binary | std::ios::trunc);
    out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  }
  auto report = PLAN_OK(salvage(store, dir.path() / "new"));
  CHECK(report.recovered_head == 4);
  CHECK(report.lost == std::vector<std::uint64_t>{5});
  CHECK(report.beyond_prefix.size() == shape.head - 5);
  CHECK(report.damaged_head == shape.head);
  REQUIRE_FALSE(report.beyond_prefix_file.empty());
  std::ifstream beyond(report.beyond_prefix_file);
  std::size_t lines = 0;
  for (std::string line; std::getline(beyond, line);) ++lines;
  CHECK(lines == shape.head - 5);
  Options n;
  n.path = dir.path() / "new";
  auto m = test::open_store(n);
  CHECK(PLAN_OK(m->head_sequence()) == 4);
  CHECK(PLAN_OK(m->verify()).ok());
}

TEST_CASE("salvage refuses a destination that is not new or empty", "[damage][salvage]") {
  TempDir dir;
  const auto store = dir.path() / "store";
  copy_store(shapes().front().store, store);
  std::filesystem::create_directories(dir.path() / "full");
  std::ofstream(dir.path() / "full" / "x") << "x";
  REQUIRE_ERROR_CODE(ErrorCode::invalid_argument, salvage(store, dir.path() / "full"));
  REQUIRE_ERROR_CODE(ErrorCode::invalid_argument, salvage(store, store));
}

}  // namespace planning::reliability
