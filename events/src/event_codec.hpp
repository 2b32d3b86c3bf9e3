// The event frame: encoding and checked decoding of one log record.
// The byte layout is specified in docs/FORMAT.md ("Event frame"); keep the two in
// step. Every integer in the header is big-endian.
#pragma once

#include <cstdint>
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

// Encodes `event` (sequence, session id, stream version, timestamp, actor,
// prev_hash and payload with FULL content; its type is derived) into a frame.
// Fills in event.payload_checksum and event.schema_version as written.
std::string encode_event(Event& event, const EncodeOptions& options = {});

// Supplies the base of a content delta while decoding (engine/src/content_resolver).
class ContentSource {
 public:
  virtual ~ContentSource() = default;
  // The content of session `session_id` as set by its content event `base_seq`,
  // which must be stored at delta depth `depth`. An error (corruption naming
  // base_seq) fails the decode of the delta.
  virtual Result<std::string> base_content(std::string_view session_id, std::uint64_t base_seq,
                                           std::uint32_t depth) = 0;
};

// Decodes and checks a frame stored under key `sequence`; the event carries its
// full content. A content delta asks `source` for its base; without a source a
// delta is an error. Never throws: any defect (bad magic, checksum mismatch,
// header/key sequence mismatch, unknown type, unsupported schema version,
// malformed payload, bad stored content, unresolvable delta) is
// ErrorCode::corruption with the sequence number in the message.
Result<Event> decode_event(std::uint64_t sequence, std::string_view frame,
                           ContentSource* source = nullptr);

// As decode_event, plus how its content is stored (nullopt: the event sets no
// content; `body` is left empty).
struct DecodedEvent {
  Event event;
  std::optional<StoredContent> stored;
};
Result<DecodedEvent> decode_event_stored(std::uint64_t sequence, std::string_view frame,
                                         ContentSource* source);

// How the content of the frame is stored, without resolving it (no base needed):
// nullopt when the event sets no content. Same checks as decode_event otherwise.
Result<std::optional<StoredContent>> peek_stored_content(std::uint64_t sequence,
                                                         std::string_view frame);

// Reads only the fixed header fields needed for filtering without decoding the
// payload. Same checks as decode_event except the payload is not parsed.
struct FrameHeader {
  std::uint64_t sequence = 0;
  std::uint32_t stream_version = 0;
  EventType type{};
  std::uint16_t schema_version = 0;
  std::int64_t timestamp_ns = 0;
  std::string_view session_id;
};
Result<FrameHeader> peek_header(std::uint64_t sequence, std::string_view frame);

// The content an event carries, if any (created with initial content, an update
// that set content, a restore). nullptr otherwise.
const std::string* content_of(const Event& event) noexcept;
const std::string* content_of_payload(const EventPayload& payload) noexcept;

}  // namespace planning::detail
