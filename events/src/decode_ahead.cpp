// Decoding the log ahead of its reader: decode_ahead.hpp.
#include "events/src/decode_ahead.hpp"

#include <string>

#include "events/src/content_resolver.hpp"
#include "events/src/event_codec.hpp"

namespace planning::detail {

namespace {

// A chunk closes after this many decoded events, this many bytes of their
// content, or this many events read (decoded or skipped), whichever comes
// first: it bounds both the queue's memory and how long the decoding thread
// holds a read transaction (and the pages its snapshot pins).
constexpr std::size_t kChunkEvents = 256;
constexpr std::size_t kChunkContentBytes = std::size_t{1} << 20;
constexpr std::uint64_t kChunkReads = 4096;
// Chunks decoded ahead of the reader at most.
constexpr std::size_t kQueuedChunks = 4;
// The mapped pages of the log are released after this many bytes of frames
// read (release_mapped_pages). A page fault maps a whole large folio of the
// page cache or the kernel's fault-around window (~120 KiB per fault measured
// on ext4), and a log written among other databases' pages is scattered over
// the file, so each page read can cost a fault: 128 KiB of frames leave ~8 MB
// resident; once per chunk (up to 4096 frames) left up to 60 MB.
constexpr std::size_t kReleaseAfterBytes = std::size_t{128} << 10;

}  // namespace

DecodeError missing_event(std::uint64_t sequence) {
  return DecodeError("event " + std::to_string(sequence) + " is missing from the log");
}

std::optional<Event> decode_in_order(const Txn& txn, ContentResolver& resolver, std::uint64_t* last,
                                     std::uint64_t sequence, std::string_view frame,
                                     const std::function<bool(std::string_view)>& select) {
  if (sequence != *last + 1) throw missing_event(*last + 1);
  *last = sequence;
  if (select) {
    auto header = peek_header(sequence, frame);
    if (!header) throw DecodeError(header.error().message);
    if (!select(header->session_id)) return std::nullopt;
  }
  auto event = resolver.decode(txn, sequence, frame);
  if (!event) throw DecodeError(event.error().message);
  return std::move(*event);
}

DecodeAhead::DecodeAhead(const Environment& env, const EventLog& log, std::uint64_t from,
                         std::uint64_t to, SessionFilter select, std::size_t cache_bytes)
    : env_(env),
      log_(log),
      select_(std::move(select)),
      cache_bytes_(cache_bytes),
      thread_([this, from, to] { decode_all(from, to); }) {}

DecodeAhead::~DecodeAhead() {
  {
    std::lock_guard lock(mutex_);
    stop_ = true;
  }
  room_.notify_all();
  thread_.join();
}

void DecodeAhead::decode_all(std::uint64_t from, std::uint64_t to) {
  std::vector<Event> chunk;
  std::exception_ptr error;
  try {
    // One resolver for the whole range: its cache of each session's latest
    // content (the base of its next delta) stays valid across transactions.
    ContentResolver resolver(log_, cache_bytes_);
    std::size_t unreleased_bytes = 0;  // of frames read since the last release
    for (std::uint64_t last = from; last < to;) {
      {
        std::unique_lock lock(mutex_);
        room_.wait(lock, [&] { return stop_ || queue_.size() < kQueuedChunks; });
        if (stop_) return;
        // A chunk the reader is done with is freed (and its buffer reused)
        // here, by the thread that allocated it: glibc's malloc frees across
        // threads under a lock.
        if (!spent_.empty()) {
          chunk = std::move(spent_.front());
          spent_.pop_front();
        }
      }
      chunk.clear();
      last = env_.read([&](const Txn& txn) {
        chunk.clear();  // read() may run this again on a resized map
        std::uint64_t at = last;
        std::size_t content_bytes = 0;
        log_.scan(txn, last + 1, to, [&](std::uint64_t sequence, std::string_view frame) {
          auto event = decode_in_order(txn, resolver, &at, sequence, frame, select_);
          unreleased_bytes += frame.size();
          if (unreleased_bytes >= kReleaseAfterBytes) {
            env_.release_mapped_pages(txn);  // the pages read are not needed again
            unreleased_bytes = 0;
          }
          if (!event) return at - last < kChunkReads;  // another session's
          if (const std::string* text = content_of(*event)) content_bytes += text->size();
          chunk.push_back(std::move(*event));
          return chunk.size() < kChunkEvents && content_bytes < kChunkContentBytes &&
                 at - last < kChunkReads;
        });
        // A log that ends before `to` (its head record) stops the replay short.
        if (at == last) throw missing_event(last + 1);
        return at;
      });
      if (chunk.empty()) continue;  // every event read belonged to other sessions
      std::lock_guard lock(mutex_);
      queue_.push_back(std::move(chunk));
      ready_.notify_one();
    }
  } catch (...) {
    error = std::current_exception();
  }
  std::lock_guard lock(mutex_);
  // The events decoded before a failure are handed over before it.
  if (error && !chunk.empty()) queue_.push_back(std::move(chunk));
  error_ = error;
  ended_ = true;
  ready_.notify_one();
}

void DecodeAhead::wait() {
  if (next_ < current_.size()) return;
  std::unique_lock lock(mutex_);
  ready_.wait(lock, [&] { return !queue_.empty() || ended_; });
}

Event* DecodeAhead::take() {
  if (next_ < current_.size()) return &current_[next_++];
  std::unique_lock lock(mutex_);
  if (queue_.empty()) {
    if (error_) std::rethrow_exception(error_);
    return nullptr;
  }
  spent_.push_back(std::move(current_));
  current_ = std::move(queue_.front());
  queue_.pop_front();
  next_ = 0;
  lock.unlock();
  room_.notify_one();
  return &current_[next_++];
}

bool DecodeAhead::finished() {
  if (next_ < current_.size()) return false;
  std::lock_guard lock(mutex_);
  return queue_.empty() && ended_ && !error_;
}

}  // namespace planning::detail
