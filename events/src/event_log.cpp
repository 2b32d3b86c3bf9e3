#include "events/src/event_log.hpp"

#include <cstring>

#include "events/src/bytes.hpp"
#include "events/src/cereal_fields.hpp"
#include "events/src/event_codec.hpp"

namespace planning::detail {

namespace {

constexpr std::string_view kHeadKey = "head";
constexpr std::string_view kFormatKey = "format";

// The sequence number a key of the log names (u64 BE).
std::uint64_t sequence_of(const MDB_val& key) {
  const std::string_view bytes = from_val(key);
  if (bytes.size() != 8) throw DecodeError("log key is not 8 bytes");
  return get_be<std::uint64_t>(bytes, 0);
}

}  // namespace

LogHead EventLog::head(const Txn& txn) const {
  LogHead head;
  auto value = kv_get(txn, meta_, kHeadKey);
  if (!value) return head;
  if (value->size() != 8 + 32) throw DecodeError("head record has the wrong size");
  head.sequence = get_be<std::uint64_t>(*value, 0);
  std::memcpy(head.hash.data(), value->data() + 8, 32);
  return head;
}

EncodedEvent EventLog::append(const Txn& txn, Event& event, const ContentBase* base,
                              std::uint16_t schema_version) const {
  const LogHead current = head(txn);
  event.sequence = current.sequence + 1;
  event.prev_hash = current.hash;
  const bool compact = schema_version >= kCurrentSchemaVersion;
  EncodedEvent encoded = encode_event_chained(
      event, EncodeOptions{.base = compact ? base : nullptr, .schema_version = schema_version});
  kv_put(txn, log_, be64(event.sequence), encoded.frame, MDB_APPEND);
  set_head(txn, LogHead{event.sequence, encoded.hash});
  return encoded;
}

void EventLog::set_head(const Txn& txn, const LogHead& head) const {
  std::string record = be64(head.sequence);
  record.append(reinterpret_cast<const char*>(head.hash.data()), head.hash.size());
  kv_put(txn, meta_, kHeadKey, record);
}

void EventLog::put_frame(const Txn& txn, std::uint64_t sequence, std::string_view frame) const {
  kv_put(txn, log_, be64(sequence), frame);
}

void EventLog::erase_frame(const Txn& txn, std::uint64_t sequence) const {
  kv_del(txn, log_, be64(sequence));
}

std::optional<std::string_view> EventLog::frame(const Txn& txn, std::uint64_t sequence) const {
  return kv_get(txn, log_, be64(sequence));
}

std::optional<std::string_view> FrameCursor::frame(std::uint64_t sequence) {
  // Stepping costs less than a search while the wanted key is this close.
  constexpr std::uint64_t kStepsBeforeSearch = 2;
  MDB_val k{}, v{};
  if (at_ != 0 && sequence > at_ && sequence - at_ <= kStepsBeforeSearch) {
    while (at_ < sequence) {
      if (!cursor_.get(k, v, MDB_NEXT)) {
        at_ = 0;
        return std::nullopt;
      }
      at_ = sequence_of(k);
    }
    if (at_ == sequence) return from_val(v);
    return std::nullopt;  // a gap: the frame is missing
  }
  const std::string key = be64(sequence);
  k = to_val(key);
  if (!cursor_.get(k, v, MDB_SET_KEY)) {
    at_ = 0;
    return std::nullopt;
  }
  at_ = sequence;
  return from_val(v);
}

void EventLog::scan(const Txn& txn, std::uint64_t from, std::uint64_t to,
                    const std::function<bool(std::uint64_t, std::string_view)>& visit) const {
  if (from > to) return;
  Cursor cursor(txn, log_);
  const std::string start = be64(from);
  MDB_val k = to_val(start);
  MDB_val v{};
  for (bool ok = cursor.get(k, v, MDB_SET_RANGE); ok; ok = cursor.get(k, v, MDB_NEXT)) {
    const std::uint64_t seq = sequence_of(k);
    if (seq > to) break;
    if (!visit(seq, from_val(v))) break;
  }
}

std::optional<std::uint32_t> EventLog::format_version(const Txn& txn) const {
  auto value = kv_get(txn, meta_, kFormatKey);
  if (!value) return std::nullopt;
  if (value->size() != 4) throw DecodeError("format record has the wrong size");
  return get_be<std::uint32_t>(*value, 0);
}

void EventLog::set_format_version(const Txn& txn, std::uint32_t version) const {
  std::string record;
  put_be<std::uint32_t>(record, version);
  kv_put(txn, meta_, kFormatKey, record);
}

}  // namespace planning::detail
