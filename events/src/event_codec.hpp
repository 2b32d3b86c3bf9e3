// The event frame: encoding and checked decoding of one log record.
// The byte layout is specified in docs/FORMAT.md ("Event frame"); keep the two in
// step. Every integer in the header is big-endian.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include <planning/events.hpp>

#include "events/src/content_codec.hpp"

namespace planning::detail {

inline constexpr char kFrameMagic[4] = {'P', 'S', 'E', '1'};
inline constexpr std::size_t kFrameHeaderSize = 84;
// Upper bound on any payload accepted by the decoder (well above limits::content).
inline constexpr std::size_t kMaxPayloadBytes = std::size_t{64} << 20;
// Schema version this build writes for every payload type (Cereal class version).
// Version 2 stores content compactly (content_codec.hpp); version 1 stored it as
// plain text and stays readable (docs/FORMAT.md §7).
inline constexpr std::uint16_t kCurrentSchemaVersion = 2;
inline constexpr std::uint16_t kFullContentSchemaVersion = 1;

struct EncodeOptions {
  // The session's content before this event: lets its content be stored as a
  // delta. Null: the content is stored as a keyframe (or raw).
  const ContentBase* base = nullptr;
  // kCurrentSchemaVersion, or kFullContentSchemaVersion to write the old layout
  // (golden files and tests of upcasting only; the engine never writes it).
  std::uint16_t schema_version = kCurrentSchemaVersion;
};

// Canonical form (docs/FORMAT.md §2, §5): the frame the event would have with
// every content field stored raw. A frame with no keyframe or delta (every schema-1
// frame, every type without content) is its own canonical frame. The payload
// checksum is XXH3-64 of session id ‖ actor ‖ canonical payload, and the hash
// chain links SHA-256 of canonical frames, so neither depends on how content is
// stored (zstd version, delta heuristics).

// The stored frame, the SHA-256 of its canonical frame (the next event's
// prev_hash and the head record's hash), and how its content is stored
// (`body` empty; nullopt for an event without content or of schema 1).
struct EncodedEvent {
  std::string frame;
  Hash256 hash{};
  std::optional<StoredContent> content;
};

// Encodes `event` (sequence, session id, stream version, timestamp, actor,
// prev_hash and payload with FULL content; its type is derived) into a frame.
// Fills in event.payload_checksum (canonical) and event.schema_version as written.
EncodedEvent encode_event_chained(Event& event, const EncodeOptions& options = {});
// As encode_event_chained, without the SHA-256.
std::string encode_event(Event& event, const EncodeOptions& options = {});

// Supplies the base of a content delta while decoding (events/src/content_resolver).
class ContentSource {
 public:
  virtual ~ContentSource() = default;
  // The content of session `session_id` as set by its content event `base_seq`,
  // which must be stored at delta depth `depth`. An error (corruption naming
  // base_seq) fails the decode of the delta. The view stays valid until the
  // source is called again or destroyed (the decoder applies the delta to it
  // before either).
  virtual Result<std::string_view> base_content(std::string_view session_id, std::uint64_t base_seq,
                                                std::uint32_t depth) = 0;
};

// Decodes and checks a frame stored under key `sequence`; the event carries its
// full content. A content delta asks `source` for its base; without a source a
// delta is an error. The payload checksum is checked against the canonical
// payload (rebuilt from the resolved content when it is stored compactly).
// Never throws: any defect (bad magic, checksum mismatch, header/key sequence
// mismatch, unknown type, unsupported schema version, malformed payload, bad
// stored content, unresolvable delta) is ErrorCode::corruption with the sequence
// number in the message.
Result<Event> decode_event(std::uint64_t sequence, std::string_view frame,
                           ContentSource* source = nullptr);

// As decode_event, plus how its content is stored (nullopt: the event sets no
// content; `body` is left empty) and, when that is a keyframe or a delta, the
// canonical payload the checksum was checked against.
struct DecodedEvent {
  Event event;
  std::optional<StoredContent> stored;
  std::optional<std::string> canonical_payload;
};
Result<DecodedEvent> decode_event_stored(std::uint64_t sequence, std::string_view frame,
                                         ContentSource* source);

// decode_event_stored without keeping the canonical payload (no chain_hash):
// every check is made, the payload checksum over the stored payload with the
// text spliced in where the content field was (no canonical payload is built
// unless that differs).
Result<DecodedEvent> decode_event_checked(std::uint64_t sequence, std::string_view frame,
                                          ContentSource* source);

// The content a delta base supplies: decode_event_stored without rebuilding the
// canonical payload of a keyframe or delta (its text is still checked against the
// XXH3-64 the stored content records; the payload checksum of the event being
// decoded covers what is built on it). Other frames are checked in full.
Result<DecodedEvent> decode_event_base(std::uint64_t sequence, std::string_view frame,
                                       ContentSource* source);

// SHA-256 of the canonical frame of `decoded`, as decode_event_stored returned it
// for `frame`: the link of the hash chain (FORMAT.md §5).
Hash256 chain_hash(std::string_view frame, const DecodedEvent& decoded);

// How the content of the frame is stored, without resolving it (no base needed):
// nullopt when the event sets no content. Same checks as decode_event, except
// that the payload checksum of a keyframe or delta is not checked (that needs
// the resolved content).
Result<std::optional<StoredContent>> peek_stored_content(std::uint64_t sequence,
                                                         std::string_view frame);

// Reads only the fixed header fields needed for filtering without decoding the
// payload. Same checks as decode_event except the payload is not parsed, and the
// payload checksum is checked only where the stored payload is canonical by its
// type: schema 1, or a type that never carries content (payload_checksum_deferred).
struct FrameHeader {
  std::uint64_t sequence = 0;
  std::uint32_t stream_version = 0;
  EventType type{};
  std::uint16_t schema_version = 0;
  std::int64_t timestamp_ns = 0;
  std::string_view session_id;
};
Result<FrameHeader> peek_header(std::uint64_t sequence, std::string_view frame);

// True when a frame of this type and schema may store content compactly, so its
// payload checksum can only be checked after decoding (types 1, 2, 7; schema ≥ 2).
bool payload_checksum_deferred(EventType type, std::uint16_t schema_version) noexcept;

// The content an event carries, if any (created with initial content, an update
// that set content, a restore). nullptr otherwise.
const std::string* content_of(const Event& event) noexcept;
const std::string* content_of_payload(const EventPayload& payload) noexcept;

}  // namespace planning::detail
