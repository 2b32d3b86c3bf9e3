// Resolving stored content while reading the log: docs/FORMAT.md, "Stored content".
#include "events/src/content_resolver.hpp"

#include <fmt/format.h>

#include "events/src/bytes.hpp"

namespace planning::detail {

namespace {

std::unexpected<Error> corrupt(std::uint64_t sequence, const std::string& what) {
  return fail(ErrorCode::corruption, fmt::format("event {}: {}", sequence, what));
}

}  // namespace

ContentResolver::ContentResolver(const EventLog& log, std::size_t cache_bytes)
    : log_(log), cache_bytes_(cache_bytes) {}

Result<DecodedEvent> ContentResolver::decode_stored(const Txn& txn, std::uint64_t sequence,
                                                    std::string_view frame) {
  auto decoded = within(txn, nullptr, [&] { return decode_event_stored(sequence, frame, this); });
  if (decoded && decoded->stored) remember(decoded->event, decoded->stored->depth);
  return decoded;
}

Result<Event> ContentResolver::decode(const Txn& txn, std::uint64_t sequence,
                                      std::string_view frame) {
  // No chain hash wanted: the checked decode.
  auto decoded = within(txn, nullptr, [&] { return decode_event_checked(sequence, frame, this); });
  if (!decoded) return std::unexpected(decoded.error());
  if (decoded->stored) remember(decoded->event, decoded->stored->depth);
  return std::move(decoded->event);
}

Result<Event> ContentResolver::read(const Txn& txn, std::uint64_t sequence) {
  auto frame = log_.frame(txn, sequence);
  if (!frame) return missing(sequence);
  return decode(txn, sequence, *frame);
}

Result<std::string> ContentResolver::content(const Txn& txn, std::uint64_t sequence) {
  if (sequence == 0) return std::string();  // a session that never had content
  auto event = read(txn, sequence);
  if (!event) return std::unexpected(event.error());
  return take_content(sequence, *event);
}

Result<std::string> ContentResolver::content_after(const Txn& txn, std::uint64_t sequence,
                                                   FrameCursor& frames, const Known& previous,
                                                   std::uint32_t& depth) {
  depth = 0;
  if (sequence == 0) return std::string();  // a session that never had content
  auto frame = frames.frame(sequence);
  if (!frame) return missing(sequence);
  auto decoded =
      within(txn, &previous, [&] { return decode_event_checked(sequence, *frame, this); });
  if (!decoded) return std::unexpected(decoded.error());
  if (decoded->stored) depth = decoded->stored->depth;
  return take_content(sequence, decoded->event);
}

std::unexpected<Error> ContentResolver::missing(std::uint64_t sequence) {
  return fail(ErrorCode::corruption, fmt::format("event {} is missing from the log", sequence));
}

Result<std::string> ContentResolver::take_content(std::uint64_t sequence, Event& event) {
  const std::string* text = content_of(event);
  if (text == nullptr) return corrupt(sequence, "was expected to carry content");
  return std::move(*const_cast<std::string*>(text));  // `event` is the caller's, and dies
}

Result<std::string_view> ContentResolver::base_content(std::string_view session_id,
                                                       std::uint64_t base_seq,
                                                       std::uint32_t depth) {
  // Invariant: only reached through a decode within(), which set txn_.
  if (txn_ == nullptr) return corrupt(base_seq, "content resolved outside a transaction");
  if (known_ != nullptr && known_->sequence == base_seq) {
    if (known_->depth != depth) {
      return corrupt(base_seq, fmt::format("content stored at delta depth {}, expected {}",
                                           known_->depth, depth));
    }
    return known_->text;
  }
  if (const Entry* hit = cached(session_id, base_seq)) {
    if (hit->depth != depth) {
      return corrupt(base_seq, fmt::format("content stored at delta depth {}, expected {}",
                                           hit->depth, depth));
    }
    return std::string_view(hit->content);
  }
  auto frame = log_.frame(*txn_, base_seq);
  if (!frame) return corrupt(base_seq, "is missing from the log");
  // Recursion is bounded: each step is an earlier event one depth lower. A base's
  // text is checked by its recorded XXH3-64; the payload checksum of the event
  // being read covers the result.
  auto decoded = decode_event_base(base_seq, *frame, this);
  if (!decoded) return std::unexpected(decoded.error());
  if (decoded->event.session_id != session_id) {
    return corrupt(base_seq, "belongs to another session");
  }
  if (!decoded->stored) return corrupt(base_seq, "sets no content");
  if (decoded->stored->depth != depth) {
    return corrupt(base_seq, fmt::format("content stored at delta depth {}, expected {}",
                                         decoded->stored->depth, depth));
  }
  remember(decoded->event, depth);
  if (const Entry* kept = cached(session_id, base_seq)) return std::string_view(kept->content);
  uncached_ = std::move(*const_cast<std::string*>(content_of(decoded->event)));
  return std::string_view(uncached_);
}

const ContentResolver::Entry* ContentResolver::cached(std::string_view session_id,
                                                      std::uint64_t sequence) {
  Entry* entry = entry_of(session_id);
  if (entry == nullptr || entry->sequence != sequence) return nullptr;
  recent_ = entry;
  return entry;
}

ContentResolver::Entry* ContentResolver::entry_of(std::string_view session_id) {
  if (recent_ != nullptr && recent_->session_id == session_id) return recent_;
  auto it = by_session_.find(session_id);
  return it == by_session_.end() ? nullptr : it->second;
}

void ContentResolver::remember(const Event& event, std::uint32_t depth) {
  const std::string* text = content_of(event);
  if (text == nullptr || text->size() > cache_bytes_) return;
  Entry* entry = entry_of(event.session_id);
  if (entry != nullptr) {
    if (entry->sequence > event.sequence) return;  // keep the later content
    // Replaced in place: the entry's buffer is reused (one session read in
    // order assigns its text here once per version, without allocating).
    bytes_ = bytes_ - entry->content.size() + text->size();
    entry->sequence = event.sequence;
    entry->depth = depth;
    entry->content.assign(*text);
  } else {
    auto fresh = std::make_unique<Entry>(Entry{event.session_id, event.sequence, depth, *text});
    entry = fresh.get();
    entries_.push_back(std::move(fresh));
    by_session_.emplace(entry->session_id, entry);
    bytes_ += text->size();
  }
  recent_ = entry;
  evict(entry);
}

void ContentResolver::evict(Entry* keep) {
  while (bytes_ > cache_bytes_ && entries_.size() > 1) {
    std::size_t at = victims_() % entries_.size();
    if (entries_[at].get() == keep) at = (at + 1) % entries_.size();
    Entry* victim = entries_[at].get();
    if (victim == recent_) recent_ = nullptr;
    bytes_ -= victim->content.size();
    by_session_.erase(victim->session_id);
    std::swap(entries_[at], entries_.back());
    entries_.pop_back();  // frees the victim
  }
}

}  // namespace planning::detail
