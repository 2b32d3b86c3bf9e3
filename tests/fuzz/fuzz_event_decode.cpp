// Fuzz target: the event frame decoder, planning::detail::decode_event and
// peek_header (events/src/event_codec.*, docs/FORMAT.md §2).
//
// The first input byte picks a mode (modulo 3); the rest is its data:
//   0 raw        the bytes are a frame, decoded under the sequence it records;
//   1 resealed   the bytes are a frame whose payload length and checksums are
//                recomputed first, so mutations get past the checksums and reach
//                the later checks and the Cereal payload parser;
//   2 generated  the bytes drive a FuzzedDataProvider: a random Event is encoded
//                (encode_event), must decode back exactly, and is then mutated
//                (bit flips, byte sets, inserts, erases, truncation), resealed or
//                not, and decoded again.
//
// Properties (any violation aborts): no crash, leak or UB; every failure is
// ErrorCode::corruption whose message names the key ("event <n>: ..."); peek_header
// agrees with decode_event; a frame decodes only under the key it records; a
// decoded event re-encodes to a frame that decodes to the same event; a frame
// changed after sealing, and not resealed, never decodes (every byte is covered
// by a checksum).
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "fuzz/fuzz_support.hpp"

namespace {

using namespace planning;
using planning::fuzz::fuzz_check;

void check_error(const Error& e, std::uint64_t key, const char* who) {
  fuzz_check(e.code == ErrorCode::corruption,
             std::string(who) + " failed with a code other than corruption", fuzz::describe(e));
  const std::string tag = "event " + std::to_string(key) + ": ";
  fuzz_check(e.message.starts_with(tag),
             std::string(who) + "'s error does not name the sequence number", e.message);
}

// Decodes `frame` under `key` with both entry points and checks they agree.
// Returns the event when the frame is accepted.
std::optional<Event> decode_checked(std::uint64_t key, std::string_view frame) {
  auto header = detail::peek_header(key, frame);
  auto event = detail::decode_event(key, frame);
  if (!header) {
    check_error(header.error(), key, "peek_header");
    fuzz_check(!event, "decode_event accepted a frame that peek_header rejects");
  }
  if (!event) {
    check_error(event.error(), key, "decode_event");
    return std::nullopt;
  }
  fuzz_check(header.has_value(), "peek_header rejected a frame that decode_event accepts",
             header ? std::string() : header.error().message);
  fuzz_check(event->sequence == key && header->sequence == key,
             "an accepted frame reports a sequence other than its key");
  fuzz_check(header->stream_version == event->stream_version && header->type == event->type &&
                 header->schema_version == event->schema_version &&
                 header->timestamp_ns == event->timestamp.time_since_epoch().count() &&
                 header->session_id == event->session_id,
             "peek_header and decode_event disagree on a header field");
  fuzz_check(event->type == event_type_of(event->payload),
             "the payload alternative does not match the frame's type id");

  // Re-encoding (in the schema version it was read in: a schema-1 frame upcasts)
  // is total and lossless for anything the decoder accepts.
  Event copy = *event;
  const std::string again = detail::encode_event(copy, {.schema_version = event->schema_version});
  auto redecoded = detail::decode_event(key, again);
  fuzz_check(redecoded.has_value(), "a decoded event, re-encoded, does not decode",
             redecoded ? std::string() : redecoded.error().message);
  Event expected = *event;
  expected.payload_checksum = copy.payload_checksum;  // the body may differ (endianness flag)
  fuzz_check(*redecoded == expected, "decode(encode(decode(frame))) != decode(frame)");

  // A frame is only valid under the key it records (moved or reordered frames).
  auto moved = detail::decode_event(key + 1, frame);
  fuzz_check(!moved, "a frame decodes under a key other than the one it records");
  check_error(moved.error(), key + 1, "decode_event (moved frame)");
  return std::move(*event);
}

void raw_mode(std::string_view frame) {
  decode_checked(fuzz::recorded_sequence(frame, 1), frame);
}

void resealed_mode(std::string_view bytes) {
  std::string frame(bytes);
  fuzz::reseal(frame);
  decode_checked(fuzz::recorded_sequence(frame, 1), frame);
}

void generated_mode(const std::uint8_t* data, std::size_t size) {
  FuzzedDataProvider p(data, size);
  Event event = fuzz::random_event(p);
  const std::string original = detail::encode_event(event);

  // Round trip of a well-formed frame: exactly the event back.
  auto back = detail::decode_event(event.sequence, original);
  fuzz_check(back.has_value(), "a freshly encoded frame does not decode",
             back ? std::string() : back.error().message);
  fuzz_check(*back == event, "decode(encode(event)) != event");
  fuzz_check(original.size() >= detail::kFrameHeaderSize + event.session_id.size() +
                                    event.actor.size(),
             "encoded frame shorter than header + id + actor");

  // Structure-aware mutation of the valid frame.
  std::string frame = original;
  const int mutations = p.ConsumeIntegralInRange<int>(0, 8);
  for (int i = 0; i < mutations; ++i) {
    const int op = p.ConsumeIntegralInRange<int>(0, 4);
    if (frame.empty() && op != 2) continue;
    const std::size_t pos = p.ConsumeIntegralInRange<std::size_t>(0, frame.size() - (op == 2 ? 0 : 1));
    switch (op) {
      case 0: frame[pos] = static_cast<char>(frame[pos] ^ (1 << p.ConsumeIntegralInRange<int>(0, 7))); break;
      case 1: frame[pos] = static_cast<char>(p.ConsumeIntegral<std::uint8_t>()); break;
      case 2: frame.insert(pos, 1, static_cast<char>(p.ConsumeIntegral<std::uint8_t>())); break;
      case 3: frame.erase(pos, p.ConsumeIntegralInRange<std::size_t>(1, 16)); break;
      default: frame.resize(pos); break;
    }
  }
  const bool sealed = p.ConsumeBool();
  if (sealed) fuzz::reseal(frame);
  const std::uint64_t key = p.ConsumeBool() ? event.sequence : fuzz::recorded_sequence(frame, 1);

  auto decoded = decode_checked(key, frame);
  if (!sealed && frame != original) {
    fuzz_check(!decoded, "a frame changed without resealing still decodes (a byte is not covered "
                         "by a checksum)");
  }
  if (frame == original && key == event.sequence) {
    fuzz_check(decoded.has_value() && *decoded == event, "an unchanged frame no longer decodes");
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const std::string_view rest(reinterpret_cast<const char*>(data + 1), size - 1);
  switch (data[0] % 3) {
    case 0: raw_mode(rest); break;
    case 1: resealed_mode(rest); break;
    default: generated_mode(data + 1, size - 1); break;
  }
  return 0;
}
