// planctl on a damaged store: an event whose stored bytes were altered makes
// verify fail (exit 1) naming its sequence number, and reading it is a
// corruption error (exit 7) — never a crash.
#include <cstring>
#include <string>

#include <lmdb.h>

#include <catch2/catch.hpp>

#include "planctl_runner.hpp"

using nlohmann::json;
using planctl::test::Store;

namespace {

// Flips one byte of the stored value of event `sequence` in the named database
// "log" (keys: 8-byte big-endian sequence numbers). `offset_from_end` counts
// from the last byte of the value.
void flip_event_byte(const std::filesystem::path& store, std::uint64_t sequence,
                     std::size_t offset_from_end) {
  MDB_env* env = nullptr;
  REQUIRE(mdb_env_create(&env) == 0);
  REQUIRE(mdb_env_set_maxdbs(env, 64) == 0);
  REQUIRE(mdb_env_open(env, store.c_str(), 0, 0600) == 0);
  MDB_txn* txn = nullptr;
  REQUIRE(mdb_txn_begin(env, nullptr, 0, &txn) == 0);
  MDB_dbi dbi;
  REQUIRE(mdb_dbi_open(txn, "log", 0, &dbi) == 0);
  unsigned char key_bytes[8];
  for (int i = 0; i < 8; ++i) key_bytes[i] = static_cast<unsigned char>(sequence >> (56 - 8 * i));
  MDB_val key{sizeof key_bytes, key_bytes};
  MDB_val value;
  REQUIRE(mdb_get(txn, dbi, &key, &value) == 0);
  std::string bytes(static_cast<const char*>(value.mv_data), value.mv_size);
  REQUIRE(bytes.size() > offset_from_end);
  bytes[bytes.size() - 1 - offset_from_end] ^= 0x01;
  MDB_val changed{bytes.size(), bytes.data()};
  REQUIRE(mdb_put(txn, dbi, &key, &changed, 0) == 0);
  REQUIRE(mdb_txn_commit(txn) == 0);
  mdb_env_close(env);
}

struct Damaged {
  Store store;
  std::string id;
  Damaged() {
    id = store.create("Will be damaged", {"--description", "a payload worth checksumming"});
    store.json({"update", id, "--title", "Second event", "--description", "changed text"});
    store.json({"pause", id, "--reason", "third event"});
    REQUIRE(store.run({"verify"}).code == 0);
  }
};

}  // namespace

TEST_CASE("verify fails with exit 1 and names the altered event", "[corruption]") {
  Damaged d;
  SECTION("a payload byte") { flip_event_byte(d.store.path(), 2, 0); }
  SECTION("a byte in the middle of the frame") { flip_event_byte(d.store.path(), 2, 20); }

  const auto r = d.store.run({"verify"});
  INFO("stdout: " << r.out << "\nstderr: " << r.err);
  CHECK(r.code == 1);
  CHECK(r.out.find("sequence 2:") != std::string::npos);
  CHECK(r.out.find("FAILED") != std::string::npos);
  CHECK(r.err.starts_with("planctl: error: verify found"));

  const auto j = d.store.run({"--json", "verify"});
  CHECK(j.code == 1);
  const auto report = json::parse(j.out);
  CHECK(report["ok"] == false);
  bool names_two = false;
  for (const auto& issue : report["issues"]) names_two = names_two || issue["sequence"] == 2;
  CHECK(names_two);
}

TEST_CASE("reading an altered event is a corruption error, exit 7", "[corruption]") {
  Damaged d;
  flip_event_byte(d.store.path(), 2, 0);
  const auto r = d.store.run({"log"});
  INFO("stdout: " << r.out << "\nstderr: " << r.err);
  CHECK(r.code == 7);
  CHECK(r.err.starts_with("planctl: error: "));
  CHECK(r.err.find('2') != std::string::npos);

  const auto exported = d.store.run({"export", (d.store.dir() / "x.jsonl").string()});
  CHECK(exported.code == 7);
  CHECK_FALSE(std::filesystem::exists(d.store.dir() / "x.jsonl"));
}
