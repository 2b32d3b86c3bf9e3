// Producing items on a thread of its own ahead of their consumer
// (events/src/read_ahead.hpp), as a rebuild reads its log and merges its
// sorted runs.
#include <atomic>
#include <stdexcept>
#include <vector>

#include <catch2/catch.hpp>

#include "events/src/read_ahead.hpp"

using planning::detail::ReadAhead;

TEST_CASE("read ahead hands every item over in order, then nothing", "[read_ahead]") {
  for (std::size_t depth : {std::size_t{0}, std::size_t{1}, std::size_t{3}}) {
    int next = 0;
    ReadAhead<int> ahead(
        [&]() -> std::optional<int> {
          if (next == 1000) return std::nullopt;
          return next++;
        },
        depth);
    std::vector<int> taken;
    while (auto item = ahead.take()) taken.push_back(*item);
    REQUIRE(taken.size() == 1000);
    for (int i = 0; i < 1000; ++i) CHECK(taken[static_cast<std::size_t>(i)] == i);
    CHECK_FALSE(ahead.take());  // stays ended
  }
}

TEST_CASE("read ahead hands a producer's failure over after the items before it", "[read_ahead]") {
  int next = 0;
  ReadAhead<int> ahead(
      [&]() -> std::optional<int> {
        if (next == 5) throw std::runtime_error("cannot read a sorted run back");
        return next++;
      },
      2);
  for (int i = 0; i < 5; ++i) {
    auto item = ahead.take();
    REQUIRE(item);
    CHECK(*item == i);
  }
  CHECK_THROWS_WITH(ahead.take(), "cannot read a sorted run back");
}

TEST_CASE("read ahead stops its producer when dropped before the end", "[read_ahead]") {
  std::atomic<int> produced{0};
  {
    ReadAhead<int> ahead([&]() -> std::optional<int> { return produced++; }, 2);
    REQUIRE(ahead.take() == 0);
    REQUIRE(ahead.take() == 1);
  }  // an endless producer: the destructor must stop it and return
  // Two taken, at most two queued, and one in progress when the stop came.
  CHECK(produced.load() <= 5);
}
