// Reading a history's frames through one log cursor (events/src/event_log.hpp,
// FrameCursor): whatever order frames are asked for in — each in turn, a few
// keys apart, backwards, at random — it returns what EventLog::frame returns,
// and a frame missing from the log is missing, before and after a gap.
#include <algorithm>
#include <cstdint>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "events/src/event_log.hpp"
#include "support/log_fixture.hpp"
#include "support/raw_lmdb.hpp"

using namespace planning;
using namespace planning::test;
using planning::detail::FrameCursor;
using planning::detail::Txn;

namespace {

// Each frame `order` names, read once through one FrameCursor and once with
// EventLog::frame, in one read transaction; both must agree.
void check_order(const OpenLog& open, const std::vector<std::uint64_t>& order) {
  open.env->read([&](const Txn& txn) {
    FrameCursor frames(*open.log, txn);
    for (std::uint64_t seq : order) {
      INFO("sequence " << seq);
      const std::optional<std::string_view> want = open.log->frame(txn, seq);
      const std::optional<std::string_view> got = frames.frame(seq);
      REQUIRE(got.has_value() == want.has_value());
      if (want) CHECK(*got == *want);
    }
    return 0;
  });
}

std::vector<std::uint64_t> every(std::uint64_t from, std::uint64_t to, std::uint64_t stride) {
  std::vector<std::uint64_t> out;
  for (std::uint64_t seq = from; seq <= to; seq += stride) out.push_back(seq);
  return out;
}

}  // namespace

TEST_CASE("a frame cursor reads what the log holds, in any order", "[event_log][frame_cursor]") {
  TempDir dir;
  const std::uint64_t head = write_log(dir, 5, 60).size();  // 305 events
  OpenLog open = open_log(dir);

  SECTION("each in turn, past the head and back") {
    auto order = every(1, head + 3, 1);
    order.push_back(head);
    order.push_back(1);
    check_order(open, order);
  }
  SECTION("a few keys apart: stepped to, or searched for") {
    for (std::uint64_t stride : {2, 3, 5, 17}) check_order(open, every(1, head, stride));
  }
  SECTION("backwards, and the same frame twice") {
    auto order = every(1, head, 1);
    std::reverse(order.begin(), order.end());
    order.push_back(order.back());
    check_order(open, order);
  }
  SECTION("at random, sequence 0 and beyond the head included") {
    std::mt19937_64 rng(11);
    std::vector<std::uint64_t> order;
    for (int i = 0; i < 2000; ++i) order.push_back(rng() % (head + 10));
    check_order(open, order);
  }
}

TEST_CASE("a frame cursor finds a frame missing from the log missing, and reads on past it",
          "[event_log][frame_cursor]") {
  TempDir dir;
  const std::uint64_t head = write_log(dir, 3, 40).size();  // 123 events
  const std::uint64_t missing = GENERATE(as<std::uint64_t>{}, 1, 2, 50, 51, 123);
  REQUIRE(raw::del(dir.path() / "store", "log", raw::seq_key(missing)).empty());
  if (missing == 50) {  // a gap of two
    REQUIRE(raw::del(dir.path() / "store", "log", raw::seq_key(51)).empty());
  }
  OpenLog open = open_log(dir);
  for (std::uint64_t stride : {1, 2, 3}) {
    check_order(open, every(1, head, stride));
    check_order(open, every(missing > 2 ? missing - 2 : 1, head, stride));
  }
  open.env->read([&](const Txn& txn) {
    FrameCursor frames(*open.log, txn);
    if (missing > 1) CHECK(frames.frame(missing - 1).has_value());
    CHECK_FALSE(frames.frame(missing).has_value());
    if (missing < head) CHECK(frames.frame(missing + (missing == 50 ? 2 : 1)).has_value());
    return 0;
  });
}
