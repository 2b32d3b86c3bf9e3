// The event frame: encoding and checked decoding of one log record.
// The byte layout is specified in docs/FORMAT.md ("Event frame"); keep the two in
// step. Every integer in the header is big-endian.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include <planning/events.hpp>

namespace planning::detail {

inline constexpr char kFrameMagic[4] = {'P', 'S', 'E', '1'};
inline constexpr std::size_t kFrameHeaderSize = 84;
// Upper bound on any payload accepted by the decoder (well above limits::content).
inline constexpr std::size_t kMaxPayloadBytes = std::size_t{64} << 20;
// Current schema version of every payload type (Cereal class version).
inline constexpr std::uint16_t kCurrentSchemaVersion = 1;

// Encodes `event` (sequence, session id, stream version, timestamp, actor,
// prev_hash and payload; its type and schema version are derived) into a frame.
// Fills in event.payload_checksum and event.schema_version as written.
std::string encode_event(Event& event);

// Decodes and checks a frame stored under key `sequence`. Never throws: any
// defect (bad magic, checksum mismatch, header/key sequence mismatch, unknown
// type, unsupported schema version, malformed payload) is ErrorCode::corruption
// with the sequence number in the message.
Result<Event> decode_event(std::uint64_t sequence, std::string_view frame);

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

}  // namespace planning::detail
