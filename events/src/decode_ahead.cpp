// Decoding the log ahead of its reader: decode_ahead.hpp.
#include "events/src/decode_ahead.hpp"

#include <exception>
#include <string>
#include <utility>

#include "events/src/content_resolver.hpp"
#include "events/src/event_codec.hpp"
#include "events/src/read_ahead.hpp"

namespace planning::detail {

namespace {

// A chunk closes after this many decoded events or this many bytes of their
// content, whichever comes first: it bounds the queue's memory and how long
// the decoding thread holds a read transaction (and the pages its snapshot
// pins).
constexpr std::size_t kChunkEvents = 256;
constexpr std::size_t kChunkContentBytes = std::size_t{1} << 20;
// Chunks decoded ahead of the reader at most.
constexpr std::size_t kQueuedChunks = 4;
// A batch of frames closes after this many frames of selected sessions, this
// many bytes of them, or this many frames read (selected or skipped): it
// bounds the reading thread's read transaction and the batches' memory.
constexpr std::size_t kBatchFrames = kChunkEvents;
constexpr std::size_t kBatchBytes = std::size_t{1} << 20;
constexpr std::uint64_t kBatchReads = 4096;
// Batches read ahead of the decoding thread at most.
constexpr std::size_t kQueuedBatches = 4;
// The mapped pages of the log are released after this many bytes of frames
// read (release_mapped_pages). A page fault maps a whole large folio of the
// page cache or the kernel's fault-around window (~120 KiB per fault measured
// on ext4), and a log written among other databases' pages is scattered over
// the file, so each page read can cost a fault: 128 KiB of frames leave ~8 MB
// resident; once per chunk (up to 4096 frames) left up to 60 MB.
constexpr std::size_t kReleaseAfterBytes = std::size_t{128} << 10;

}  // namespace

// Frames of the selected sessions, copied out of the map by the reading thread
// (so that its pages can be released), with the last sequence read.
struct DecodeAhead::FrameBatch {
  std::vector<std::uint64_t> sequences;
  std::vector<std::size_t> ends;  // of each frame in `bytes`
  std::string bytes;
  std::uint64_t last_read = 0;
  // The failure that ended the reading after these frames (a missing event, a
  // header that cannot be read), thrown once they are decoded.
  std::exception_ptr error;

  void clear() {
    sequences.clear();
    ends.clear();
    bytes.clear();
    error = nullptr;
  }
  void add(std::uint64_t sequence, std::string_view frame) {
    sequences.push_back(sequence);
    bytes.append(frame);
    ends.push_back(bytes.size());
  }
  std::string_view frame(std::size_t index) const {
    const std::size_t begin = index == 0 ? 0 : ends[index - 1];
    return std::string_view(bytes).substr(begin, ends[index] - begin);
  }
};

DecodeError missing_event(std::uint64_t sequence) {
  return DecodeError("event " + std::to_string(sequence) + " is missing from the log");
}

void step_in_order(std::uint64_t* last, std::uint64_t sequence) {
  if (sequence != *last + 1) throw missing_event(*last + 1);
  *last = sequence;
}

Event decode_in_order(const Txn& txn, ContentResolver& resolver, std::uint64_t* last,
                      std::uint64_t sequence, std::string_view frame) {
  step_in_order(last, sequence);
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

DecodeAhead::FrameBatch DecodeAhead::read_batch(std::uint64_t last, std::uint64_t to,
                                                std::size_t* unreleased_bytes) const {
  FrameBatch batch;
  batch.last_read = env_.read([&](const Txn& txn) {
    batch.clear();  // read() may run this again on a resized map
    std::uint64_t at = last;
    log_.scan(txn, last + 1, to, [&](std::uint64_t sequence, std::string_view frame) {
      *unreleased_bytes += frame.size();
      if (*unreleased_bytes >= kReleaseAfterBytes) {
        env_.release_mapped_pages(txn);  // the pages read are not needed again
        *unreleased_bytes = 0;
      }
      bool selected = true;
      try {
        step_in_order(&at, sequence);
        if (select_) {
          auto header = peek_header(sequence, frame);
          if (!header) throw DecodeError(header.error().message);
          selected = select_(header->session_id);
        }
      } catch (const DecodeError&) {
        batch.error = std::current_exception();  // after the frames before it
        return false;
      }
      if (selected) batch.add(sequence, frame);
      return batch.sequences.size() < kBatchFrames && batch.bytes.size() < kBatchBytes &&
             at - last < kBatchReads;
    });
    // A log that ends before `to` (its head record) stops the replay short.
    if (at == last && !batch.error) batch.error = std::make_exception_ptr(missing_event(last + 1));
    return at;
  });
  return batch;
}

void DecodeAhead::decode_all(std::uint64_t from, std::uint64_t to) {
  std::vector<Event> chunk;
  std::exception_ptr error;
  try {
    // Reading the log (its pages mapped, released, its headers peeked) runs on
    // a thread of its own, a few batches ahead of the decoding.
    std::uint64_t read = from;
    std::size_t unreleased_bytes = 0;  // of frames read since the last release
    ReadAhead<FrameBatch> batches(
        [&]() -> std::optional<FrameBatch> {
          if (read >= to) return std::nullopt;
          FrameBatch batch = read_batch(read, to, &unreleased_bytes);
          read = batch.error ? to : batch.last_read;  // nothing is read past a failure
          return batch;
        },
        kQueuedBatches);
    // One resolver for the whole range: its cache of each session's latest
    // content (the base of its next delta) stays valid across transactions.
    ContentResolver resolver(log_, cache_bytes_);
    while (auto batch = batches.take()) {
      for (std::size_t next = 0; next < batch->sequences.size();) {
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
        next = env_.read([&, first = next](const Txn& txn) {
          chunk.clear();  // read() may run this again on a resized map
          std::size_t index = first;
          std::size_t content_bytes = 0;
          while (index < batch->sequences.size() && chunk.size() < kChunkEvents &&
                 content_bytes < kChunkContentBytes) {
            auto event = resolver.decode(txn, batch->sequences[index], batch->frame(index));
            ++index;
            if (!event) throw DecodeError(event.error().message);
            if (const std::string* text = content_of(*event)) content_bytes += text->size();
            chunk.push_back(std::move(*event));
          }
          return index;
        });
        std::lock_guard lock(mutex_);
        queue_.push_back(std::move(chunk));
        ready_.notify_one();
      }
      if (batch->error) std::rethrow_exception(batch->error);
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
