// Decoding the log ahead of its reader, on a thread of its own, so that a
// replay decodes (checksums, content resolution, payload decoding) on one core
// while it applies events to the projections on another. Events come in log
// order, in chunks, through a bounded queue.
//
// Deadlock freedom: the decoding thread holds a read transaction only while it
// decodes one chunk, never while it waits; the reader must call wait() outside
// any transaction of its own and take() inside one never blocks. So a map
// resize, which needs every transaction of the process ended, never waits on a
// thread that waits on it.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <exception>
#include <functional>
#include <mutex>
#include <optional>
#include <string_view>
#include <thread>
#include <vector>

#include <planning/events.hpp>

#include "events/src/cereal_fields.hpp"
#include "events/src/event_log.hpp"
#include "events/src/lmdb_env.hpp"

namespace planning::detail {

class ContentResolver;

// The event "missing from the log" error of a replay (DecodeError).
DecodeError missing_event(std::uint64_t sequence);

// One step of a replay in log order: throws missing_event(*last + 1) unless
// `sequence` follows *last, which it then becomes; returns the event decoded
// through `resolver`, or nullopt when `select` rejects its session (then only
// its header is read). DecodeError for a damaged frame.
std::optional<Event> decode_in_order(const Txn& txn, ContentResolver& resolver, std::uint64_t* last,
                                     std::uint64_t sequence, std::string_view frame,
                                     const std::function<bool(std::string_view)>& select);

class DecodeAhead {
 public:
  using SessionFilter = std::function<bool(std::string_view session_id)>;

  // Starts decoding events (from, to] of `log`: with `select`, only those of
  // the sessions it accepts (the others are read to their header only). Its
  // content cache holds up to `cache_bytes` (ContentResolver).
  DecodeAhead(const Environment& env, const EventLog& log, std::uint64_t from, std::uint64_t to,
              SessionFilter select, std::size_t cache_bytes);
  // Stops the decoding thread and waits for it.
  ~DecodeAhead();
  DecodeAhead(const DecodeAhead&) = delete;
  DecodeAhead& operator=(const DecodeAhead&) = delete;

  // Blocks until an event is ready to take, or the decoding has ended.
  // REQUIRES: no live transaction of this thread.
  void wait();
  // The next event in log order if one is decoded, else nullptr (never
  // blocks). The event stays valid until the next call. Once the events before
  // a failure are taken, rethrows it: DecodeError for an event that is missing
  // or damaged, as ProjectionSet's replay would.
  Event* take();
  // Every event of the range has been taken (and the decoding succeeded).
  bool finished();

 private:
  void decode_all(std::uint64_t from, std::uint64_t to);
  // Decodes the chunk after `last` in one read transaction; returns the last
  // sequence read.
  std::uint64_t decode_chunk(std::uint64_t last, std::uint64_t to, std::vector<Event>& chunk);

  const Environment& env_;
  const EventLog& log_;
  const SessionFilter select_;
  const std::size_t cache_bytes_;

  std::mutex mutex_;
  std::condition_variable ready_;  // a chunk was queued, or the decoding ended
  std::condition_variable room_;   // the reader took a chunk, or stop_ was set
  std::deque<std::vector<Event>> queue_;
  std::deque<std::vector<Event>> spent_;  // taken by the reader, to free (or reuse) here
  bool ended_ = false;                    // the decoding thread queued its last chunk (or failed)
  bool stop_ = false;                     // the reader is gone
  std::exception_ptr error_;

  // The reader's side.
  std::vector<Event> current_;
  std::size_t next_ = 0;

  std::thread thread_;  // last: started when everything above is
};

}  // namespace planning::detail
