// Sealing hand-made events so that an import accepts their envelope: the next
// sequence number, the prev_hash continuing the log's hash chain and the true
// payload checksum (docs/FORMAT.md §2, §5). Used by fuzz_import's sealed mode and
// by the regression tests, so that what they exercise is the state machine and
// the projections rather than the chain checks.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <planning/planning.hpp>

#include "events/src/event_codec.hpp"

namespace planning::fuzz {

// The position a sealed event continues from; advanced by seal_next().
struct ChainHead {
  std::uint64_t sequence = 0;
  Hash256 hash{};
};

// Gives `event` the next sequence number and prev_hash after `head`, fills in its
// payload checksum and schema version (encode_event_chained), and advances `head`
// to the hash of its canonical frame.
inline void seal_next(Event& event, ChainHead& head) {
  event.sequence = head.sequence + 1;
  event.prev_hash = head.hash;
  head.hash = detail::encode_event_chained(event).hash;
  head.sequence = event.sequence;
}

// JSON Lines of `events` continuing `head` (the import format).
inline std::string sealed_json_lines(std::vector<Event> events, ChainHead head) {
  std::string out;
  for (Event& e : events) {
    seal_next(e, head);
    out += to_json(e).dump() + "\n";
  }
  return out;
}

}  // namespace planning::fuzz
