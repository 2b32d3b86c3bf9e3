// Stored content: how schema-2 payloads keep a document (docs/FORMAT.md,
// "Stored content"). The content field of session_created, session_updated and
// version_restored holds, instead of the text itself:
//   kind:u8 ‖ length:u64 BE ‖ body
//   kind 0 raw       body = the text (length bytes)
//   kind 1 keyframe  body = xxh3:u64 BE ‖ sealed:u64 BE ‖ zstd frame of the text
//   kind 2 delta     body = xxh3:u64 BE ‖ sealed:u64 BE ‖ base_seq:u64 BE ‖
//                           depth:u32 BE ‖ zstd frame of a line edit script
//                           (line_delta.hpp)
// `xxh3` is XXH3-64 of the text; `sealed` is XXH3-64 of every other byte of the
// stored content (all but the sealed field itself), checked before anything is
// decompressed. The payload checksum covers the canonical (raw) form instead
// (event_codec.hpp), so these stored bytes need a checksum of their own. A
// delta rebuilds the text from the content the session had after event
// `base_seq` (its previous content event), which is itself stored at depth
// `depth - 1` (raw and keyframes are depth 0).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace planning::detail {

enum class ContentKind : std::uint8_t { raw = 0, keyframe = 1, delta = 2 };

// A delta chain is at most this long: reading any content applies at most this
// many deltas to one keyframe. DO NOT RAISE without measuring get_version.
inline constexpr std::uint32_t kMaxDeltaDepth = 16;

// Texts and edit scripts shorter than this are not run through the compressor:
// they are stored in a zstd frame of one raw block (content_codec.cpp).
inline constexpr std::size_t kRawFrameBelow = 256;

// Texts and edit scripts shorter than this are compressed with their literals
// left as they are (no Huffman coding): decoding Huffman-coded literals first
// builds the table, which costs more than the rest of decoding a small frame.
// Any zstd decoder reads both kinds of frame.
inline constexpr std::size_t kHuffmanLiteralsFrom = 4096;

// The content a new event may be stored against: the session's content before
// the event, as set by the content event `seq`.
struct ContentBase {
  std::uint64_t seq = 0;       // 0 = none (no delta possible)
  std::uint32_t depth = 0;     // delta depth of that event's stored content
  std::uint64_t checksum = 0;  // XXH3-64 of the content that event stores
  std::string_view content;    // the content itself (the writer's current state)
};

// The parsed header of stored content; `body` views the blob it was parsed from.
struct StoredContent {
  ContentKind kind = ContentKind::raw;
  std::uint64_t length = 0;
  std::uint64_t checksum = 0;  // of the text (computed for raw)
  std::uint64_t base_seq = 0;  // delta only
  std::uint32_t depth = 0;     // 0 for raw and keyframes
  std::string_view body;       // raw text, or the zstd frame
};

// The writer's choices (docs/FORMAT.md §2.1 "Choosing the form"). Readers accept
// any choice: the checksums and the hash chain cover the canonical (raw) form, so
// they do not depend on these. Tests substitute other policies to prove it.
struct ContentPolicy {
  std::uint32_t max_delta_depth = kMaxDeltaDepth;  // 0 = never a delta; capped at kMaxDeltaDepth
  int zstd_level = 3;    // zstd's default: fast enough for writes, near level 9 on markdown
  bool compress = true;  // false: always raw
};

// The policy store_content follows on this thread (the default unless a
// ScopedContentPolicy is alive on it).
const ContentPolicy& content_policy() noexcept;

// Test-only: store_content follows `policy` on this thread while this lives.
class ScopedContentPolicy {
 public:
  explicit ScopedContentPolicy(const ContentPolicy& policy);
  ~ScopedContentPolicy();
  ScopedContentPolicy(const ScopedContentPolicy&) = delete;
  ScopedContentPolicy& operator=(const ScopedContentPolicy&) = delete;

 private:
  const ContentPolicy* saved_;
  ContentPolicy policy_;
};

// Encodes `content` as the smallest of raw, keyframe and (when `base` allows it:
// depth below the policy's max_delta_depth, and base->checksum matching
// base->content) a delta; a delta must be strictly smaller than the keyframe to be
// chosen. Deterministic for a given zstd build and policy. Throws
// std::runtime_error only if zstd fails.
std::string store_content(std::string_view content, const ContentBase* base);

// The raw form of `content` (kind 0): the content field of the canonical payload.
std::string store_raw(std::string_view content);

// Parses and bounds-checks a blob (sealed checksum, length ≤ the decoder's
// payload limit, depth in 1..kMaxDeltaDepth for deltas, base_seq < `sequence`).
// Throws DecodeError.
StoredContent parse_stored_content(std::string_view blob, std::uint64_t sequence);

// Whether load_content checks the text's XXH3-64. A caller that checks a
// checksum covering the text anyway (the event's canonical payload) skips it
// and calls check_text_checksum only to name what failed.
enum class TextCheck { check, caller_checks };

// The text of `stored`; `base` is the base text of a delta (ignored otherwise).
// Checks the zstd frame, the length and (unless told) the XXH3-64. Throws DecodeError.
std::string load_content(const StoredContent& stored, std::string_view base,
                         TextCheck check = TextCheck::check);

// Throws DecodeError when `text` is not the text `stored` records (its XXH3-64).
void check_text_checksum(const StoredContent& stored, std::string_view text);

}  // namespace planning::detail
