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
  const Txn* saved = txn_;
  txn_ = &txn;
  auto decoded = decode_event_stored(sequence, frame, this);
  txn_ = saved;
  if (decoded && decoded->stored) remember(decoded->event, decoded->stored->depth);
  return decoded;
}

Result<Event> ContentResolver::decode(const Txn& txn, std::uint64_t sequence,
                                      std::string_view frame) {
  const Txn* saved = txn_;
  txn_ = &txn;
  auto decoded = decode_event_checked(sequence, frame, this);  // no chain hash wanted
  txn_ = saved;
  if (!decoded) return std::unexpected(decoded.error());
  if (decoded->stored) remember(decoded->event, decoded->stored->depth);
  return std::move(decoded->event);
}

Result<Event> ContentResolver::read(const Txn& txn, std::uint64_t sequence) {
  auto frame = log_.frame(txn, sequence);
  if (!frame) return fail(ErrorCode::corruption, fmt::format("event {} is missing from the log", sequence));
  return decode(txn, sequence, *frame);
}

Result<std::string> ContentResolver::content(const Txn& txn, std::uint64_t sequence) {
  if (sequence == 0) return std::string();  // a session that never had content
  auto event = read(txn, sequence);
  if (!event) return std::unexpected(event.error());
  const std::string* text = content_of(*event);
  if (text == nullptr) return corrupt(sequence, "was expected to carry content");
  return std::move(*const_cast<std::string*>(text));  // `event` is ours and dies here
}

Result<std::string_view> ContentResolver::base_content(std::string_view session_id,
                                                       std::uint64_t base_seq,
                                                       std::uint32_t depth) {
  // Invariant: only reached through decode(), which set txn_.
  if (txn_ == nullptr) return corrupt(base_seq, "content resolved outside a transaction");
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
  auto it = by_session_.find(session_id);
  if (it == by_session_.end() || it->second->sequence != sequence) return nullptr;
  lru_.splice(lru_.begin(), lru_, it->second);
  recent_ = it->second;
  return &*it->second;
}

std::optional<std::list<ContentResolver::Entry>::iterator> ContentResolver::entry_of(
    std::string_view session_id) {
  if (recent_ && (*recent_)->session_id == session_id) return recent_;
  auto it = by_session_.find(session_id);
  if (it == by_session_.end()) return std::nullopt;
  return it->second;
}

void ContentResolver::remember(const Event& event, std::uint32_t depth) {
  const std::string* text = content_of(event);
  if (text == nullptr || text->size() > cache_bytes_) return;
  if (auto found = entry_of(event.session_id)) {
    Entry& entry = **found;
    if (entry.sequence > event.sequence) return;  // keep the later content
    // Replaced in place: the entry's buffer is reused (one session read in
    // order assigns its text here once per version, without allocating).
    bytes_ = bytes_ - entry.content.size() + text->size();
    entry.sequence = event.sequence;
    entry.depth = depth;
    entry.content.assign(*text);
    lru_.splice(lru_.begin(), lru_, *found);
  } else {
    lru_.push_front(Entry{event.session_id, event.sequence, depth, *text});
    by_session_.emplace(lru_.front().session_id, lru_.begin());
    bytes_ += text->size();
  }
  recent_ = lru_.begin();
  while (bytes_ > cache_bytes_ && !lru_.empty()) {
    if (recent_ && *recent_ == std::prev(lru_.end())) recent_.reset();
    bytes_ -= lru_.back().content.size();
    by_session_.erase(lru_.back().session_id);
    lru_.pop_back();
  }
}

}  // namespace planning::detail
