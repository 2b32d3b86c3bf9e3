// planctl on damaged LMDB pages and files: every read verb reports corruption
// (exit 7) and never dies on a signal; an empty or truncated data.mdb is
// reported and left as it is; log and export print what precedes a damaged
// event; salvage recovers a store LMDB cannot read and lists what it lost.
#include <cstring>
#include <fstream>
#include <iterator>
#include <string>

#include <catch2/catch.hpp>

#include "planctl_runner.hpp"
#include "support/temp_store.hpp"

using planctl::test::Store;

namespace {


void set_byte(const std::filesystem::path& file, std::uint64_t offset, unsigned char value) {
  std::fstream f(file, std::ios::in | std::ios::out | std::ios::binary);
  f.seekp(static_cast<std::streamoff>(offset));
  const char c = static_cast<char>(value);
  f.write(&c, 1);
}

std::string bytes_of(const std::filesystem::path& file) {
  std::ifstream in(file, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

const std::vector<std::vector<std::string>> kReadVerbs = {
    {"verify"}, {"list"}, {"log"}, {"stats"}, {"info"}, {"export", "-"}, {"replay", "--to", "2"}};

}  // namespace

TEST_CASE("every read verb exits 7 on a flipped node pointer, never on a signal",
          "[planctl][damage]") {
  // Three sessions, then bit 0x80 of byte 12305: the high byte of page 3's
  // first node pointer. Every verb used to die inside liblmdb.
  Store store;
  for (int i = 0; i < 3; ++i) store.create("t" + std::to_string(i));
  planning::test::flip_bits(store.path() / "data.mdb", 12305, 0x80);
  for (const auto& verb : kReadVerbs) {
    const auto r = store.run(verb);
    INFO(verb.front() << ": exit " << r.code << ", stderr " << r.err);
    CHECK(r.code == 7);
    CHECK(r.out.empty());
    CHECK_THAT(r.err, Catch::Matchers::Contains("page 3"));
  }
}

TEST_CASE("a page LMDB reports as corrupted on open is exit 7, not 8", "[planctl][damage]") {
  Store store;
  store.create("one");
  // The main database's root (a leaf, named by the newer meta page) claims to
  // be an overflow page: LMDB itself answers MDB_CORRUPTED.
  const std::string bytes = bytes_of(store.path() / "data.mdb");
  auto u64 = [&](std::size_t at) {
    std::uint64_t v = 0;
    std::memcpy(&v, bytes.data() + at, 8);
    return v;
  };
  const std::size_t meta = u64(144) > u64(4096 + 144) ? 0 : 4096;
  const std::uint64_t root = u64(meta + 128);
  REQUIRE(root >= 2);
  set_byte(store.path() / "data.mdb", root * 4096 + 10, 0x04);
  for (const auto& verb : kReadVerbs) {
    const auto r = store.run(verb);
    INFO(verb.front() << ": " << r.err);
    CHECK(r.code == 7);
  }
}

TEST_CASE("verify reports an empty data.mdb instead of initialising it", "[planctl][damage]") {
  Store store;
  store.create("one");
  std::filesystem::resize_file(store.path() / "data.mdb", 0);
  std::filesystem::remove(store.path() / "lock.mdb");
  for (const auto& verb : kReadVerbs) {
    const auto r = store.run(verb);
    INFO(verb.front() << ": " << r.out << r.err);
    CHECK(r.code == 7);
    CHECK_THAT(r.err, Catch::Matchers::Contains("empty"));
  }
  CHECK(std::filesystem::file_size(store.path() / "data.mdb") == 0);
}

TEST_CASE("read verbs report a truncated data.mdb and do not extend it", "[planctl][damage]") {
  Store store;
  for (int i = 0; i < 40; ++i) store.create("session " + std::to_string(i));
  const auto file = store.path() / "data.mdb";
  const auto cut = std::filesystem::file_size(file) / 2 / 4096 * 4096;
  std::filesystem::resize_file(file, cut);
  const std::string before = bytes_of(file);
  for (const auto& verb : kReadVerbs) {
    const auto r = store.run(verb);
    INFO(verb.front() << ": exit " << r.code << " " << r.err);
    CHECK((r.code == 7 || r.code == 1));
    CHECK(std::filesystem::file_size(file) == cut);
  }
  CHECK(bytes_of(file) == before);
}

TEST_CASE("log and export print the events before a damaged one, then exit 7",
          "[planctl][damage]") {
  Store store;
  for (int i = 0; i < 5; ++i) store.create("session " + std::to_string(i));
  // Damage event 4's header checksum cover in every copy of its frame.
  const auto file = store.path() / "data.mdb";
  std::string bytes = bytes_of(file);
  std::string key = "PSE1";
  key.append("\0\0\0\0\0\0\0\x04", 8);
  for (auto at = bytes.find(key); at != std::string::npos; at = bytes.find(key, at + 1)) {
    bytes[at + 20] = static_cast<char>(bytes[at + 20] ^ 1);
  }
  {
    std::ofstream out(file, std::ios::binary | std::ios::trunc);
    out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  }
  const auto exported = store.run({"export", "-"});
  CHECK(exported.code == 7);
  CHECK(std::count(exported.out.begin(), exported.out.end(), '\n') == 3);
  const auto log = store.run({"--json", "log"});
  CHECK(log.code == 7);
  CHECK(std::count(log.out.begin(), log.out.end(), '\n') == 3);
}

TEST_CASE("salvage recovers a store whose meta pages are gone", "[planctl][damage][salvage]") {
  Store store;
  for (int i = 0; i < 6; ++i) store.create("session " + std::to_string(i));
  {
    std::fstream f(store.path() / "data.mdb", std::ios::in | std::ios::out | std::ios::binary);
    const std::string zeros(2 * 4096, '\0');
    f.write(zeros.data(), static_cast<std::streamsize>(zeros.size()));
  }
  CHECK(store.run({"list"}).code == 7);
  const auto target = store.dir() / "salvaged";
  const auto r = planctl::test::run_planctl({"salvage", store.path().string(), target.string()});
  INFO(r.out << r.err);
  CHECK(r.code == 0);
  CHECK_THAT(r.out, Catch::Matchers::Contains("Salvaged events 1..6"));
  const auto listed = planctl::test::run_planctl({"--db", target.string(), "--json", "list"});
  CHECK(listed.code == 0);
  CHECK(nlohmann::json::parse(listed.out).size() == 6);
  CHECK(planctl::test::run_planctl({"--db", target.string(), "verify"}).code == 0);
}

TEST_CASE("salvage lists the events it lost and exits 1", "[planctl][damage][salvage]") {
  Store store;
  for (int i = 0; i < 6; ++i) store.create("session " + std::to_string(i));
  const auto file = store.path() / "data.mdb";
  std::string bytes = bytes_of(file);
  std::string key = "PSE1";
  key.append("\0\0\0\0\0\0\0\x03", 8);
  for (auto at = bytes.find(key); at != std::string::npos; at = bytes.find(key, at + 1)) {
    bytes[at + 20] = static_cast<char>(bytes[at + 20] ^ 1);
  }
  {
    std::ofstream out(file, std::ios::binary | std::ios::trunc);
    out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  }
  const auto target = store.dir() / "salvaged";
  const auto r =
      planctl::test::run_planctl({"--json", "salvage", store.path().string(), target.string()});
  INFO(r.out << r.err);
  CHECK(r.code == 1);
  const auto report = nlohmann::json::parse(r.out);
  CHECK(report["recovered_head"] == 2);
  CHECK(report["lost"] == nlohmann::json::array({3}));
  CHECK(report["beyond_prefix"] == nlohmann::json::array({4, 5, 6}));
  CHECK(std::filesystem::exists(report["beyond_prefix_file"].get<std::string>()));
}
