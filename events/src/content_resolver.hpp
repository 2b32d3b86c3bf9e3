// Resolving stored content (docs/FORMAT.md, "Stored content"): the one place that
// turns keyframes and delta chains back into text while reading the log, and
// that picks the base a new content event is stored against.
//
// Not thread-safe: one resolver per reader. Its cache holds, per session, the
// latest content it resolved (the base of that session's next delta in a
// sequential replay), bounded in bytes, so a replay of any length keeps memory
// bounded. The log is immutable, so the cache stays valid across transactions.
// When full it evicts an entry at random, not the least recently used: a
// replay visits its sessions round-robin, and with more sessions than fit,
// LRU would evict every entry just before it is needed (no hits at all, and
// each miss decodes a delta chain from its keyframe); random eviction keeps
// about the fraction that fits.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include <planning/events.hpp>

#include "events/src/event_log.hpp"
#include "events/src/lmdb_env.hpp"
#include "events/src/event_codec.hpp"

namespace planning::detail {

class ContentResolver final : public ContentSource {
 public:
  static constexpr std::size_t kDefaultCacheBytes = std::size_t{16} << 20;

  explicit ContentResolver(const EventLog& log, std::size_t cache_bytes = kDefaultCacheBytes);

  // decode_event with deltas resolved through the log read by `txn`.
  Result<Event> decode(const Txn& txn, std::uint64_t sequence, std::string_view frame);
  // The same, as decode_event_stored (for chain_hash).
  Result<DecodedEvent> decode_stored(const Txn& txn, std::uint64_t sequence,
                                     std::string_view frame);
  // The event at `sequence` (corruption when it is missing).
  Result<Event> read(const Txn& txn, std::uint64_t sequence);
  // The content set by content event `sequence` ("" for 0: never had content);
  // corruption when that event sets no content.
  Result<std::string> content(const Txn& txn, std::uint64_t sequence);

  // The content the caller holds for a session: `text`, set by its content
  // event `sequence`, stored at delta depth `depth`.
  struct Known {
    std::uint64_t sequence = 0;
    std::uint32_t depth = 0;
    std::string_view text;
  };
  // As content(), for a caller walking a session's contents in order (a whole
  // history) through `frames`, a cursor of `txn`: a delta stored against
  // `previous` is applied to it as given, neither looked up in nor copied into
  // the cache. Sets `depth` to the delta depth event `sequence` stores its
  // content at (the next call's `previous.depth`).
  Result<std::string> content_after(const Txn& txn, std::uint64_t sequence, FrameCursor& frames,
                                    const Known& previous, std::uint32_t& depth);

  // ContentSource. REQUIRES: called from inside decode / read / content.
  Result<std::string_view> base_content(std::string_view session_id, std::uint64_t base_seq,
                                        std::uint32_t depth) override;

 private:
  struct Entry {
    std::string session_id;
    std::uint64_t sequence = 0;
    std::uint32_t depth = 0;
    std::string content;
  };
  // Runs `decode` (a decode_event_* call with this resolver as its source)
  // with txn_ and known_ set for the base_content calls it makes.
  template <typename Decode>
  auto within(const Txn& txn, const Known* known, Decode&& decode) {
    const Txn* saved_txn = txn_;
    const Known* saved_known = known_;
    txn_ = &txn;
    known_ = known;
    auto result = decode();
    txn_ = saved_txn;
    known_ = saved_known;
    return result;
  }
  static std::unexpected<Error> missing(std::uint64_t sequence);
  // The content `event` sets, moved out; corruption naming `sequence` when it
  // sets none.
  static Result<std::string> take_content(std::uint64_t sequence, Event& event);
  void remember(const Event& event, std::uint32_t depth);
  const Entry* cached(std::string_view session_id, std::uint64_t sequence);
  Entry* entry_of(std::string_view session_id);
  void evict(Entry* keep);

  const EventLog& log_;
  const std::size_t cache_bytes_;
  const Txn* txn_ = nullptr;  // the transaction of the call in progress
  std::vector<std::unique_ptr<Entry>> entries_;  // in no order
  std::unordered_map<std::string_view, Entry*> by_session_;
  std::size_t bytes_ = 0;
  std::minstd_rand victims_;  // default seed: a replay evicts the same way every time
  std::string uncached_;      // a base too large for the cache, while its delta is applied
  const Known* known_ = nullptr;  // content_after's `previous`, while it decodes (within)
  // The entry the last lookup found: decoding a delta finds its session's entry
  // as the base, then remembers the result in that same entry (one hash lookup).
  Entry* recent_ = nullptr;
};

}  // namespace planning::detail
