// Frame layout: docs/FORMAT.md, "Event frame". Payloads are Cereal portable binary.
#include "events/src/event_codec.hpp"

#include <algorithm>
#include <array>
#include <cstring>
#include <sstream>
#include <stdexcept>

#include <cereal/archives/portable_binary.hpp>

#include "events/src/bytes.hpp"
#include "events/src/cereal_fields.hpp"
#include "events/src/hashing.hpp"
#include "events/src/record_reader.hpp"

namespace planning {

// --- Payload schemas. Fields are the same in versions 1 and 2; a later version
// adds fields under `if (version >= 3)` so older frames keep loading (upcasting,
// docs/FORMAT.md §7).

template <class Archive>
void serialize(Archive& ar, SessionCreated& p, std::uint32_t const version) {
  detail::note_class_version<Archive>(version);
  detail::fields(ar, p.title, p.description, p.repository_path, p.repository_url,
                 p.working_directory, p.initial_content, p.metadata_json);
}
template <class Archive>
void serialize(Archive& ar, SessionUpdated& p, std::uint32_t const version) {
  detail::note_class_version<Archive>(version);
  detail::fields(ar, p.title, p.description, p.repository_path, p.repository_url,
                 p.working_directory, p.metadata_json, p.content, p.change_summary,
                 p.changed_fields, p.version_number);
}
template <class Archive>
void serialize(Archive& ar, SessionPaused& p, std::uint32_t const version) {
  detail::note_class_version<Archive>(version);
  detail::fields(ar, p.reason);
}
template <class Archive>
void serialize(Archive&, SessionResumed&, std::uint32_t const version) {
  detail::note_class_version<Archive>(version);
}
template <class Archive>
void serialize(Archive& ar, SessionConverted& p, std::uint32_t const version) {
  detail::note_class_version<Archive>(version);
  detail::fields(ar, p.project_id, p.work_item_ids);
}
template <class Archive>
void serialize(Archive&, SessionArchived&, std::uint32_t const version) {
  detail::note_class_version<Archive>(version);
}
template <class Archive>
void serialize(Archive& ar, VersionRestored& p, std::uint32_t const version) {
  detail::note_class_version<Archive>(version);
  detail::fields(ar, p.restored_from, p.version_number, p.content);
}
template <class Archive>
void serialize(Archive& ar, VersionCreated& p, std::uint32_t const version) {
  detail::note_class_version<Archive>(version);
  detail::fields(ar, p.version_number, p.change_summary, p.content_seq);
}
template <class Archive>
void serialize(Archive&, SessionRemoved&, std::uint32_t const version) {
  detail::note_class_version<Archive>(version);
}

}  // namespace planning

// Class versions only ever go up (docs/FORMAT.md, upcasting). Every type was versioned from the
// first release, as Cereal requires for versioned loading. Version 2 keeps the
// field layout of version 1; what changed is the meaning of the content field of
// SessionCreated, SessionUpdated and VersionRestored: it holds stored content
// (content_codec.hpp) instead of the text. The codec converts it on both sides.
CEREAL_CLASS_VERSION(planning::SessionCreated, 2)
CEREAL_CLASS_VERSION(planning::SessionUpdated, 2)
CEREAL_CLASS_VERSION(planning::SessionPaused, 2)
CEREAL_CLASS_VERSION(planning::SessionResumed, 2)
CEREAL_CLASS_VERSION(planning::SessionConverted, 2)
CEREAL_CLASS_VERSION(planning::SessionArchived, 2)
CEREAL_CLASS_VERSION(planning::VersionRestored, 2)
CEREAL_CLASS_VERSION(planning::VersionCreated, 2)
CEREAL_CLASS_VERSION(planning::SessionRemoved, 2)

namespace planning::detail {

namespace {

// Header offsets (docs/FORMAT.md).
constexpr std::size_t kOffMagic = 0;
constexpr std::size_t kOffSequence = 4;
constexpr std::size_t kOffStreamVersion = 12;
constexpr std::size_t kOffType = 16;
constexpr std::size_t kOffSchema = 18;
constexpr std::size_t kOffTimestamp = 20;
constexpr std::size_t kOffSessionLen = 28;
constexpr std::size_t kOffActorLen = 30;
constexpr std::size_t kOffPayloadLen = 32;
constexpr std::size_t kOffChecksum = 36;
constexpr std::size_t kOffPrevHash = 44;
constexpr std::size_t kOffHeaderChecksum = 76;
static_assert(kOffHeaderChecksum + 8 == kFrameHeaderSize);

std::unexpected<Error> corrupt(std::uint64_t sequence, const std::string& what) {
  return fail(ErrorCode::corruption, "event " + std::to_string(sequence) + ": " + what);
}

std::string encode_payload(const EventPayload& payload, std::uint16_t schema_version) {
  std::string bytes =
      encode_record([&](auto& ar) { std::visit([&](const auto& p) { ar(p); }, payload); });
  if (schema_version != kCurrentSchemaVersion) {
    // Cereal writes the registered class version (u32, archive byte order) right
    // after its endianness byte (docs/FORMAT.md §2); the old layout records its own.
    const bool little = bytes.at(0) == 1;
    for (std::size_t i = 0; i < 4; ++i) {
      const std::size_t shift = 8 * (little ? i : 3 - i);
      bytes.at(1 + i) = static_cast<char>(schema_version >> shift);
    }
  }
  return bytes;
}

// The content field of a payload, when the event sets content.
std::string* content_field(EventPayload& payload) noexcept {
  return const_cast<std::string*>(content_of_payload(payload));
}

template <typename T>
EventPayload load_payload(std::string_view bytes, std::uint16_t schema_version) {
  T payload;
  tls_loaded_class_version = 0;
  decode_record(bytes, [&](auto& ar) { ar(payload); });
  // Cereal read the class version it stored; it must agree with the header.
  if (tls_loaded_class_version != schema_version) {
    throw DecodeError("payload class version " + std::to_string(tls_loaded_class_version) +
                      " differs from header schema version " + std::to_string(schema_version));
  }
  return payload;
}

Result<EventPayload> decode_payload(std::uint64_t sequence, EventType type,
                                    std::uint16_t schema_version, std::string_view bytes) {
  if (schema_version == 0 || schema_version > kCurrentSchemaVersion) {
    return corrupt(sequence, "unsupported schema version " + std::to_string(schema_version) +
                                 " (this build reads up to " +
                                 std::to_string(kCurrentSchemaVersion) + ")");
  }
  try {
    switch (type) {
      case EventType::session_created: return load_payload<SessionCreated>(bytes, schema_version);
      case EventType::session_updated: return load_payload<SessionUpdated>(bytes, schema_version);
      case EventType::session_paused: return load_payload<SessionPaused>(bytes, schema_version);
      case EventType::session_resumed: return load_payload<SessionResumed>(bytes, schema_version);
      case EventType::session_converted:
        return load_payload<SessionConverted>(bytes, schema_version);
      case EventType::session_archived: return load_payload<SessionArchived>(bytes, schema_version);
      case EventType::version_restored: return load_payload<VersionRestored>(bytes, schema_version);
      case EventType::version_created: return load_payload<VersionCreated>(bytes, schema_version);
      case EventType::session_removed: return load_payload<SessionRemoved>(bytes, schema_version);
    }
  } catch (const std::exception& e) {
    return corrupt(sequence, std::string("malformed payload: ") + e.what());
  }
  return corrupt(sequence, "unknown event type " + std::to_string(static_cast<int>(type)));
}

// What decode_impl does with stored content.
enum class ContentMode {
  resolve,   // text back in the payload; the canonical payload checked and kept (chain_hash)
  checked,   // text back in the payload; the canonical payload checked, not kept
  base,      // text back in the payload; a keyframe or delta checked by its own XXH3-64
  describe,  // content field left as stored; a keyframe or delta not checked
};

// Decodes the frame; the content field of a schema-2 payload is turned back into
// text (resolve, base) or only described (describe).
Result<DecodedEvent> decode_impl(std::uint64_t sequence, std::string_view frame,
                                 ContentSource* source, ContentMode mode);

// The payload checksum of the canonical payload of `event`, whose stored
// payload `stored_payload` holds `blob` (a keyframe or delta) as its content
// field and whose content field now holds `text`, computed without building
// the canonical payload: the canonical payload is the stored one with that
// field (Cereal: size tag in the archive's byte order, then the bytes)
// replaced by the raw form of `text` (kind 0 ‖ u64 BE length ‖ text). nullopt
// when the field cannot be located (then the caller builds the canonical
// payload instead).
std::optional<std::uint64_t> spliced_canonical_checksum(const Event& event,
                                                        std::string_view stored_payload,
                                                        std::string_view blob,
                                                        std::string_view text) {
  if (stored_payload.empty() || blob.size() < 9) return std::nullopt;
  const std::size_t at = last_occurrence(stored_payload, blob);
  if (at == std::string_view::npos || at < 8) return std::nullopt;
  const bool little = stored_payload[0] == 1;  // the archive's byte order flag
  auto size_tag = [little](std::uint64_t n) {
    std::string tag(8, '\0');
    for (std::size_t i = 0; i < 8; ++i) {
      tag[little ? i : 7 - i] = static_cast<char>(n >> (8 * i));
    }
    return tag;
  };
  if (stored_payload.substr(at - 8, 8) != size_tag(blob.size())) return std::nullopt;
  std::string raw_header(1, static_cast<char>(ContentKind::raw));
  put_be<std::uint64_t>(raw_header, text.size());
  const std::string canonical_tag = size_tag(raw_header.size() + text.size());
  return checksum64({event.session_id, event.actor, stored_payload.substr(0, at - 8),
                     canonical_tag, raw_header, text, stored_payload.substr(at + blob.size())});
}

bool known_type(std::uint16_t raw) { return raw >= 1 && raw <= 9; }

// The frame header of `event` (payload_checksum as given) for a payload of
// `payload_size` bytes; the frame is the header, the session id, the actor and
// the payload.
std::array<char, kFrameHeaderSize> frame_header(const Event& event, std::size_t payload_size) {
  std::array<char, kFrameHeaderSize> header{};
  auto put = [&](std::size_t offset, auto value) { store_be(header.data() + offset, value); };
  std::copy_n(kFrameMagic, 4, header.begin() + kOffMagic);
  put(kOffSequence, event.sequence);
  put(kOffStreamVersion, event.stream_version);
  put(kOffType, static_cast<std::uint16_t>(event.type));
  put(kOffSchema, event.schema_version);
  put(kOffTimestamp, event.timestamp.time_since_epoch().count());
  put(kOffSessionLen, static_cast<std::uint16_t>(event.session_id.size()));
  put(kOffActorLen, static_cast<std::uint16_t>(event.actor.size()));
  put(kOffPayloadLen, static_cast<std::uint32_t>(payload_size));
  put(kOffChecksum, event.payload_checksum);
  std::copy(event.prev_hash.begin(), event.prev_hash.end(), header.begin() + kOffPrevHash);
  put(kOffHeaderChecksum, checksum64(std::string_view(header.data(), kOffHeaderChecksum)));
  return header;
}

// The frame of `event` (payload_checksum as given) around `payload`.
std::string assemble_frame(const Event& event, std::string_view payload) {
  const auto header = frame_header(event, payload.size());
  std::string frame;
  frame.reserve(header.size() + event.session_id.size() + event.actor.size() + payload.size());
  frame.append(header.data(), header.size());
  frame += event.session_id;
  frame += event.actor;
  frame += payload;
  return frame;
}

// The SHA-256 of the frame assemble_frame() would build, without building it.
Hash256 frame_hash(const Event& event, std::string_view payload) {
  const auto header = frame_header(event, payload.size());
  return sha256(
      {std::string_view(header.data(), header.size()), event.session_id, event.actor, payload});
}

// Puts `replacement` in the content field of `payload` for the guard's life,
// then puts the field's text back (payloads are encoded with their content
// stored another way without copying the rest of the payload).
class SwappedContent {
 public:
  SwappedContent(EventPayload& payload, std::string& replacement)
      : field_(content_field(payload)), replacement_(replacement) {
    field_->swap(replacement_);
  }
  ~SwappedContent() { field_->swap(replacement_); }
  SwappedContent(const SwappedContent&) = delete;
  SwappedContent& operator=(const SwappedContent&) = delete;

 private:
  std::string* field_;
  std::string& replacement_;
};

// The canonical payload of `payload`, whose content field (if any) holds the
// text. The field is swapped for the canonical form meanwhile, so the rest of
// the payload is not copied; `payload` is as it was on return.
std::string canonical_payload(EventPayload& payload, std::uint16_t schema_version) {
  const std::string* content = content_of_payload(payload);
  if (content == nullptr || schema_version < 2) return encode_payload(payload, schema_version);
  std::string raw = store_raw(*content);
  SwappedContent swapped(payload, raw);
  return encode_payload(payload, schema_version);
}

std::uint64_t payload_checksum(const Event& event, std::string_view payload) {
  return checksum64({event.session_id, event.actor, payload});
}

EncodedEvent encode_impl(Event& event, const EncodeOptions& options, bool want_hash) {
  if (options.schema_version != kCurrentSchemaVersion &&
      options.schema_version != kFullContentSchemaVersion) {
    throw std::invalid_argument("encode_event: unsupported schema version");
  }
  event.type = event_type_of(event.payload);
  event.schema_version = options.schema_version;
  const std::string canonical = canonical_payload(event.payload, options.schema_version);
  event.payload_checksum = payload_checksum(event, canonical);
  std::string stored;
  EncodedEvent out;
  if (const std::string* content = content_of_payload(event.payload);
      content != nullptr && options.schema_version >= 2) {
    std::string blob = store_content(*content, options.base);
    out.content = parse_stored_content(blob, event.sequence);
    out.content->body = {};
    if (out.content->kind != ContentKind::raw) {
      SwappedContent swapped(event.payload, blob);
      stored = encode_payload(event.payload, options.schema_version);
    }
  }
  if (stored.empty()) {  // the stored frame is the canonical frame
    out.frame = assemble_frame(event, canonical);
    if (want_hash) out.hash = sha256(out.frame);
  } else {
    out.frame = assemble_frame(event, stored);
    if (want_hash) out.hash = frame_hash(event, canonical);
  }
  return out;
}

}  // namespace

EncodedEvent encode_event_chained(Event& event, const EncodeOptions& options) {
  return encode_impl(event, options, true);
}

std::string encode_event(Event& event, const EncodeOptions& options) {
  return encode_impl(event, options, false).frame;
}

bool payload_checksum_deferred(EventType type, std::uint16_t schema_version) noexcept {
  return schema_version >= 2 &&
         (type == EventType::session_created || type == EventType::session_updated ||
          type == EventType::version_restored);
}

Result<FrameHeader> peek_header(std::uint64_t sequence, std::string_view frame) {
  if (frame.size() < kFrameHeaderSize) return corrupt(sequence, "truncated frame header");
  if (frame.substr(kOffMagic, 4) != std::string_view(kFrameMagic, 4)) {
    return corrupt(sequence, "bad frame magic");
  }
  if (get_be<std::uint64_t>(frame, kOffHeaderChecksum) !=
      checksum64(frame.substr(0, kOffHeaderChecksum))) {
    return corrupt(sequence, "header checksum mismatch");
  }
  FrameHeader h;
  h.sequence = get_be<std::uint64_t>(frame, kOffSequence);
  if (h.sequence != sequence) {
    return corrupt(sequence, "frame records sequence " + std::to_string(h.sequence) +
                                 " (moved or reordered)");
  }
  h.stream_version = get_be<std::uint32_t>(frame, kOffStreamVersion);
  const auto raw_type = get_be<std::uint16_t>(frame, kOffType);
  if (!known_type(raw_type)) return corrupt(sequence, "unknown event type " + std::to_string(raw_type));
  h.type = static_cast<EventType>(raw_type);
  h.schema_version = get_be<std::uint16_t>(frame, kOffSchema);
  h.timestamp_ns = get_be<std::int64_t>(frame, kOffTimestamp);
  const std::size_t session_len = get_be<std::uint16_t>(frame, kOffSessionLen);
  const std::size_t actor_len = get_be<std::uint16_t>(frame, kOffActorLen);
  const std::size_t payload_len = get_be<std::uint32_t>(frame, kOffPayloadLen);
  if (payload_len > kMaxPayloadBytes) return corrupt(sequence, "payload length out of range");
  if (frame.size() != kFrameHeaderSize + session_len + actor_len + payload_len) {
    return corrupt(sequence, "frame length does not match its header (truncated or padded)");
  }
  const std::string_view body = frame.substr(kFrameHeaderSize);
  if (!payload_checksum_deferred(h.type, h.schema_version) &&
      get_be<std::uint64_t>(frame, kOffChecksum) != checksum64(body)) {
    return corrupt(sequence, "payload checksum mismatch");
  }
  h.session_id = body.substr(0, session_len);
  return h;
}

namespace {

Result<DecodedEvent> decode_impl(std::uint64_t sequence, std::string_view frame,
                                 ContentSource* source, ContentMode mode) {
  auto header = peek_header(sequence, frame);
  if (!header) return std::unexpected(header.error());
  const std::size_t session_len = get_be<std::uint16_t>(frame, kOffSessionLen);
  const std::size_t actor_len = get_be<std::uint16_t>(frame, kOffActorLen);

  DecodedEvent out;
  Event& e = out.event;
  e.sequence = sequence;
  e.session_id = std::string(header->session_id);
  e.stream_version = header->stream_version;
  e.type = header->type;
  e.schema_version = header->schema_version;
  e.timestamp = Timestamp{std::chrono::nanoseconds{header->timestamp_ns}};
  e.actor = std::string(frame.substr(kFrameHeaderSize + session_len, actor_len));
  e.payload_checksum = get_be<std::uint64_t>(frame, kOffChecksum);
  std::memcpy(e.prev_hash.data(), frame.data() + kOffPrevHash, e.prev_hash.size());
  const std::string_view stored_payload = frame.substr(kFrameHeaderSize + session_len + actor_len);
  auto payload = decode_payload(sequence, e.type, e.schema_version, stored_payload);
  if (!payload) return std::unexpected(payload.error());
  e.payload = std::move(*payload);

  // The stored payload is canonical unless its content is a keyframe or delta;
  // peek_header checked it already unless the type defers the check.
  const bool deferred = payload_checksum_deferred(e.type, e.schema_version);
  auto stored_is_canonical = [&]() -> Result<void> {
    if (deferred && e.payload_checksum != checksum64(frame.substr(kFrameHeaderSize))) {
      return corrupt(sequence, "payload checksum mismatch");
    }
    return {};
  };
  std::string* content = content_field(e.payload);
  if (content == nullptr || e.schema_version < 2) {
    if (auto ok = stored_is_canonical(); !ok) return std::unexpected(ok.error());
    if (content != nullptr) {  // upcast: full text is a depth-0 raw content
      StoredContent raw;
      raw.length = content->size();
      raw.checksum = checksum64(*content);
      out.stored = raw;
    }
    return out;
  }
  try {
    StoredContent stored = parse_stored_content(*content, sequence);
    if (stored.kind == ContentKind::raw) {
      if (auto ok = stored_is_canonical(); !ok) return std::unexpected(ok.error());
      if (mode != ContentMode::describe) *content = std::string(stored.body);
    } else if (mode != ContentMode::describe) {
      std::string_view base;
      if (stored.kind == ContentKind::delta) {
        if (source == nullptr) {
          return corrupt(sequence, "content is a delta and no base was supplied");
        }
        auto resolved = source->base_content(e.session_id, stored.base_seq, stored.depth - 1);
        if (!resolved) {
          return corrupt(sequence, "content delta against event " +
                                       std::to_string(stored.base_seq) + ": " +
                                       resolved.error().message);
        }
        base = *resolved;
      }
      // The canonical payload's checksum covers the text, so the text's own
      // is computed only to name a mismatch (a wrong base or a damaged delta).
      const bool canonical_checked = mode == ContentMode::checked || mode == ContentMode::resolve;
      std::string text = load_content(
          stored, base, canonical_checked ? TextCheck::caller_checks : TextCheck::check);
      auto canonical_mismatch = [&] {
        check_text_checksum(stored, *content);
        return corrupt(sequence, "payload checksum mismatch (canonical payload)");
      };
      if (mode == ContentMode::checked) {
        // The checksum over the stored payload with the text spliced in; on a
        // mismatch (or a field it cannot place) the canonical payload is built
        // and checked instead, so the splice can only save work, never pass a
        // payload the full check would refuse.
        const std::string blob = std::move(*content);
        *content = std::move(text);
        stored.body = {};
        if (spliced_canonical_checksum(e, stored_payload, blob, *content) != e.payload_checksum &&
            payload_checksum(e, canonical_payload(e.payload, e.schema_version)) !=
                e.payload_checksum) {
          return canonical_mismatch();
        }
      } else {
        *content = std::move(text);
      }
      if (mode == ContentMode::resolve) {
        std::string canonical = canonical_payload(e.payload, e.schema_version);
        if (payload_checksum(e, canonical) != e.payload_checksum) return canonical_mismatch();
        out.canonical_payload = std::move(canonical);
      }
    }
    stored.body = {};
    out.stored = stored;
  } catch (const std::exception& ex) {
    return corrupt(sequence, ex.what());
  }
  return out;
}

}  // namespace

Result<DecodedEvent> decode_event_base(std::uint64_t sequence, std::string_view frame,
                                       ContentSource* source) {
  return decode_impl(sequence, frame, source, ContentMode::base);
}

Hash256 chain_hash(std::string_view frame, const DecodedEvent& decoded) {
  if (!decoded.canonical_payload) return sha256(frame);
  return frame_hash(decoded.event, *decoded.canonical_payload);
}

Result<DecodedEvent> decode_event_stored(std::uint64_t sequence, std::string_view frame,
                                         ContentSource* source) {
  return decode_impl(sequence, frame, source, ContentMode::resolve);
}

Result<Event> decode_event(std::uint64_t sequence, std::string_view frame,
                           ContentSource* source) {
  auto decoded = decode_impl(sequence, frame, source, ContentMode::checked);
  if (!decoded) return std::unexpected(decoded.error());
  return std::move(decoded->event);
}

Result<DecodedEvent> decode_event_checked(std::uint64_t sequence, std::string_view frame,
                                          ContentSource* source) {
  return decode_impl(sequence, frame, source, ContentMode::checked);
}

Result<std::optional<StoredContent>> peek_stored_content(std::uint64_t sequence,
                                                         std::string_view frame) {
  auto decoded = decode_impl(sequence, frame, nullptr, ContentMode::describe);
  if (!decoded) return std::unexpected(decoded.error());
  return decoded->stored;
}

const std::string* content_of_payload(const EventPayload& payload) noexcept {
  if (const auto* c = std::get_if<SessionCreated>(&payload)) {
    return c->initial_content ? &*c->initial_content : nullptr;
  }
  if (const auto* u = std::get_if<SessionUpdated>(&payload)) {
    return u->content ? &*u->content : nullptr;
  }
  if (const auto* r = std::get_if<VersionRestored>(&payload)) return &r->content;
  return nullptr;
}

const std::string* content_of(const Event& event) noexcept {
  return content_of_payload(event.payload);
}

}  // namespace planning::detail
