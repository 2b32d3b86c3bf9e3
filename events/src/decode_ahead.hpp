// Decoding the log ahead of its reader, on threads of its own, so that a
// replay decodes (checksums, content resolution, payload decoding) while it
// applies events to the projections. A reading thread walks the log (mapping
// and releasing its pages, peeking each frame's session) and copies the frames
// of the selected sessions out in batches; a decoding thread decodes them.
// Events come in log order, in chunks, through bounded queues.
//
// Deadlock freedom: the reading and decoding threads each hold a read
// transaction only while they read one batch or decode one chunk, never while
// they wait; the reader must call wait() outside any transaction of its own and
// take() inside one never blocks. So a map resize, which needs every
// transaction of the process ended, never waits on a thread that waits on it.
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

// One step of a read in log order: throws missing_event(*last + 1) unless
// `sequence` follows *last, which it then becomes.
void step_in_order(std::uint64_t* last, std::uint64_t sequence);

// One step of a replay in log order (step_in_order): the event decoded through
// `resolver`. DecodeError for a damaged frame.
Event decode_in_order(const Txn& txn, ContentResolver& resolver, std::uint64_t* last,
                      std::uint64_t sequence, std::string_view frame);

class DecodeAhead {
 public:
  using SessionFilter = std::function<bool(std::string_view session_id)>;

  // Starts decoding events (from, to] of `log`: with `select`, only those of
  // the sessions it accepts (the others are read to their header only). Its
  // content cache holds up to `cache_bytes` (ContentResolver).
  DecodeAhead(const Environment& env, const EventLog& log, std::uint64_t from, std::uint64_t to,
              SessionFilter select, std::size_t cache_bytes);
  // Stops the decoding and reading threads and waits for them.
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
  struct FrameBatch;
  // The decoding thread: decodes the batches read_batch reads (on a thread of
  // its own) into chunks, in short read transactions, and queues them.
  void decode_all(std::uint64_t from, std::uint64_t to);
  // Reads the frames after `last` (up to `to`) in one read transaction, copying
  // those of the selected sessions; releases the mapped pages read after every
  // so many bytes (counted in *unreleased_bytes across batches). Throws
  // missing_event for a gap, DecodeError for a header it cannot read.
  FrameBatch read_batch(std::uint64_t last, std::uint64_t to, std::size_t* unreleased_bytes) const;

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
