// The external sort a rebuild builds its append-only databases with
// (projections/src/sorted_runs.hpp): key order, last put wins, spilled runs.
#include <filesystem>
#include <map>
#include <random>

#include <catch2/catch.hpp>

#include "projections/src/sorted_runs.hpp"
#include "support/temp_store.hpp"

using planning::detail::SortedRuns;
using planning::test::TempDir;

namespace {

// Reads every record back as key -> (ordinal, value).
std::vector<std::pair<std::string, std::pair<std::uint64_t, std::string>>> read_all(
    SortedRuns& runs) {
  runs.finish();
  std::vector<std::pair<std::string, std::pair<std::uint64_t, std::string>>> out;
  while (auto r = runs.next()) {
    out.emplace_back(std::string(r->key), std::make_pair(r->ordinal, std::string(r->value)));
  }
  return out;
}

}  // namespace

TEST_CASE("sorted runs: key order, the last put of each key wins, across spilled runs",
          "[rebuild][sorted]") {
  TempDir dir;
  const std::size_t budget = GENERATE(as<std::size_t>{}, 1, 700, 64 << 10, 64 << 20);
  std::mt19937_64 rng(budget);
  SortedRuns runs(dir.path(), budget);
  // What a database would hold after the same puts applied in ordinal order
  // (equal ordinals: in the order added).
  std::map<std::string, std::pair<std::uint64_t, std::string>> expected;
  std::vector<std::tuple<std::uint64_t, std::size_t, std::string, std::string>> puts;
  for (std::size_t i = 0; i < 3000; ++i) {
    std::string key = "session-" + std::to_string(rng() % 97);
    key.push_back(static_cast<char>(rng() % 4));  // a binary tail, as in version keys
    const std::uint64_t ordinal = 1 + rng() % 1500;
    std::string value(rng() % 40, static_cast<char>('a' + i % 26));
    if (i == 1234) value.assign(200 << 10, 'L');  // longer than a read buffer
    puts.emplace_back(ordinal, i, key, value);
    runs.add(key, ordinal, value);
  }
  std::stable_sort(puts.begin(), puts.end(),
                   [](const auto& a, const auto& b) { return std::get<0>(a) < std::get<0>(b); });
  for (const auto& [ordinal, index, key, value] : puts) expected[key] = {ordinal, value};

  if (budget < (64 << 20)) {
    CHECK(runs.spilled_runs() > 1);
  } else {
    CHECK(runs.spilled_runs() == 0);
  }
  const auto got = read_all(runs);
  REQUIRE(got.size() == expected.size());
  std::size_t i = 0;
  for (const auto& [key, winner] : expected) {
    INFO("key #" << i);
    CHECK(got[i].first == key);
    CHECK(got[i].second.first == winner.first);
    CHECK(got[i].second.second == winner.second);
    ++i;
  }
  CHECK_FALSE(runs.next().has_value());
}

TEST_CASE("sorted runs: empty, and no file left in the directory", "[rebuild][sorted]") {
  TempDir dir;
  {
    SortedRuns empty(dir.path(), 1 << 20);
    CHECK(read_all(empty).empty());
  }
  {
    SortedRuns runs(dir.path(), 1);  // every record spills
    for (int i = 0; i < 50; ++i) runs.add("k" + std::to_string(i % 7), i, "v" + std::to_string(i));
    CHECK(runs.spilled_runs() > 1);
    // The runs live in an unnamed file: nothing appears in the directory.
    CHECK(std::filesystem::is_empty(dir.path()));
    const auto got = read_all(runs);
    REQUIRE(got.size() == 7);
    CHECK(got[0] ==
          std::make_pair(std::string("k0"), std::make_pair(std::uint64_t{49}, std::string("v49"))));
  }
  CHECK(std::filesystem::is_empty(dir.path()));
}

TEST_CASE("sorted runs: a directory that cannot hold the file is a clear error",
          "[rebuild][sorted]") {
  SortedRuns runs("/nonexistent/planning-sorted-runs", 1);
  runs.add("a", 1, "x");
  try {
    runs.add("b", 2, "y");  // the first spill opens the file
    FAIL("no error");
  } catch (const std::system_error& e) {
    CHECK_THAT(e.what(), Catch::Matchers::Contains("/nonexistent/planning-sorted-runs"));
  }
}
