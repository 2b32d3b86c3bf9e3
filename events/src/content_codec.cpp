// Stored content of schema-2 payloads: docs/FORMAT.md, "Stored content".
#include "events/src/content_codec.hpp"

#include <algorithm>
#include <memory>
#include <optional>
#include <stdexcept>

#define ZSTD_STATIC_LINKING_ONLY  // ZSTD_c_literalCompressionMode (experimental in zstd 1.5)
#include <zstd.h>

#include "events/src/bytes.hpp"
#include "events/src/cereal_fields.hpp"
#include "events/src/event_codec.hpp"
#include "events/src/hashing.hpp"
#include "events/src/line_delta.hpp"

namespace planning::detail {

namespace {

constexpr std::size_t kHeaderSize = 1 + 8;
constexpr std::size_t kSealedAt = kHeaderSize + 8;
constexpr std::size_t kKeyframeHeader = kSealedAt + 8;
constexpr std::size_t kDeltaHeader = kSealedAt + 8 + 8 + 4;

struct CCtxFree {
  void operator()(ZSTD_CCtx* c) const { ZSTD_freeCCtx(c); }
};
struct DCtxFree {
  void operator()(ZSTD_DCtx* d) const { ZSTD_freeDCtx(d); }
};

// One compression and one decompression context per thread, reused.
ZSTD_CCtx* cctx() {
  thread_local std::unique_ptr<ZSTD_CCtx, CCtxFree> ctx(ZSTD_createCCtx());
  if (!ctx) throw std::runtime_error("zstd: cannot allocate a compression context");
  return ctx.get();
}
ZSTD_DCtx* dctx() {
  thread_local std::unique_ptr<ZSTD_DCtx, DCtxFree> ctx(ZSTD_createDCtx());
  if (!ctx) throw DecodeError("zstd: cannot allocate a decompression context");
  return ctx.get();
}

// The magic number and Frame_Header_Descriptor of append_raw_zstd_frame's frames.
constexpr std::string_view kRawFrameHeader("\x28\xB5\x2F\xFD\x20", 5);

// A zstd frame holding `bytes` (fewer than 256) in one raw block, without
// running the compressor (RFC 8878, section 3.1.1): every zstd decoder reads
// it. Magic number; Frame_Header_Descriptor 0x20 (Single_Segment_Flag, a 1-byte
// Frame_Content_Size, no checksum, no dictionary); that size; a 3-byte
// little-endian Block_Header (Last_Block = 1, Block_Type = 0 (raw), Block_Size).
void append_raw_zstd_frame(std::string& out, std::string_view bytes) {
  static_assert(kRawFrameBelow <= 256, "Frame_Content_Size is one byte");
  out.append(kRawFrameHeader);
  out.push_back(static_cast<char>(bytes.size()));
  const auto block = static_cast<std::uint32_t>(1 | (bytes.size() << 3));
  for (int i = 0; i < 3; ++i) out.push_back(static_cast<char>(block >> (8 * i)));
  out.append(bytes);
}

// Bytes too few to compress are framed raw: a zstd call costs several
// microseconds however small its input (it resets its context), and saves a
// few bytes at most on a one-line edit script.
void append_zstd(std::string& out, std::string_view bytes, int level) {
  if (bytes.size() < kRawFrameBelow) {
    append_raw_zstd_frame(out, bytes);
    return;
  }
  ZSTD_CCtx* c = cctx();
  ZSTD_CCtx_reset(c, ZSTD_reset_parameters);
  ZSTD_CCtx_setParameter(c, ZSTD_c_compressionLevel, level);
  // Small frames keep their literals as they are (kHuffmanLiteralsFrom). A
  // library that refuses the parameter compresses them the usual way: the
  // frame is valid either way, only its decoding costs more.
  if (bytes.size() < kHuffmanLiteralsFrom) {
    ZSTD_CCtx_setParameter(c, ZSTD_c_literalCompressionMode, ZSTD_ps_disable);
  }
  const std::size_t at = out.size();
  out.resize(at + ZSTD_compressBound(bytes.size()));
  const std::size_t n =
      ZSTD_compress2(c, out.data() + at, out.size() - at, bytes.data(), bytes.size());
  if (ZSTD_isError(n)) throw std::runtime_error(std::string("zstd: ") + ZSTD_getErrorName(n));
  out.resize(at + n);
}

// The bytes of `frame` when it is exactly what append_raw_zstd_frame writes
// (the frame header, a one-byte content size, one last raw block of that
// size, nothing after it); nullopt for any other frame, which zstd reads.
std::optional<std::string_view> raw_frame_bytes(std::string_view frame) {
  constexpr std::size_t kAround = 9;  // magic, descriptor, size, block header
  if (frame.size() < kAround || !frame.starts_with(kRawFrameHeader)) {
    return std::nullopt;
  }
  const auto size = static_cast<std::uint8_t>(frame[5]);
  std::uint32_t block = 0;
  for (int i = 0; i < 3; ++i)
    block |= std::uint32_t{static_cast<std::uint8_t>(frame[6 + i])} << (8 * i);
  if (block != (1u | (std::uint32_t{size} << 3)) || frame.size() != kAround + size)
    return std::nullopt;
  return frame.substr(kAround);
}

// The bytes of a single zstd frame that records its size, which must be at
// most `limit` (and equal it when `exact`). A frame of one raw block, as this
// build writes small scripts, is read in place without zstd (a decompression
// call costs microseconds however small its input: it resets its context);
// any other is decompressed into `scratch`, which the result then views.
std::string_view unzstd(std::string_view frame, std::uint64_t limit, bool exact,
                        std::string& scratch) {
  if (const auto raw = raw_frame_bytes(frame)) {
    if (exact ? raw->size() != limit : raw->size() > limit) {
      throw DecodeError("stored content: zstd frame size disagrees with the recorded length");
    }
    return *raw;
  }
  const unsigned long long size = ZSTD_getFrameContentSize(frame.data(), frame.size());
  if (size == ZSTD_CONTENTSIZE_ERROR || size == ZSTD_CONTENTSIZE_UNKNOWN) {
    throw DecodeError("stored content: bad zstd frame");
  }
  if (exact ? size != limit : size > limit) {
    throw DecodeError("stored content: zstd frame size disagrees with the recorded length");
  }
  scratch.assign(static_cast<std::size_t>(size), '\0');
  const std::size_t n =
      ZSTD_decompressDCtx(dctx(), scratch.data(), scratch.size(), frame.data(), frame.size());
  if (ZSTD_isError(n)) {
    throw DecodeError(std::string("stored content: zstd frame: ") + ZSTD_getErrorName(n));
  }
  if (n != scratch.size()) throw DecodeError("stored content: zstd frame is short");
  return scratch;
}

std::string header(ContentKind kind, std::string_view content) {
  std::string out;
  out.push_back(static_cast<char>(kind));
  put_be<std::uint64_t>(out, content.size());
  if (kind != ContentKind::raw) {
    put_be<std::uint64_t>(out, checksum64(content));
    put_be<std::uint64_t>(out, 0);  // sealed, filled by seal()
  }
  return out;
}

// XXH3-64 of a keyframe or delta blob without its sealed field.
std::uint64_t sealed_checksum(std::string_view blob) {
  return checksum64({blob.substr(0, kSealedAt), blob.substr(kSealedAt + 8)});
}

std::string seal(std::string blob) {
  const std::uint64_t sum = sealed_checksum(blob);
  for (int i = 0; i < 8; ++i) blob[kSealedAt + i] = static_cast<char>(sum >> (56 - 8 * i));
  return blob;
}

const ContentPolicy kDefaultPolicy{};
thread_local const ContentPolicy* tls_policy = &kDefaultPolicy;

}  // namespace

const ContentPolicy& content_policy() noexcept { return *tls_policy; }

ScopedContentPolicy::ScopedContentPolicy(const ContentPolicy& policy)
    : saved_(tls_policy), policy_(policy) {
  tls_policy = &policy_;
}

ScopedContentPolicy::~ScopedContentPolicy() { tls_policy = saved_; }

std::string store_raw(std::string_view content) {
  std::string raw = header(ContentKind::raw, content);
  raw.append(content);
  return raw;
}

std::string store_content(std::string_view content, const ContentBase* base) {
  const ContentPolicy& policy = content_policy();
  const std::uint32_t max_depth = std::min(policy.max_delta_depth, kMaxDeltaDepth);
  if (!policy.compress) return store_raw(content);
  std::string delta;
  if (base != nullptr && base->seq != 0 && base->depth < max_depth && !content.empty() &&
      base->checksum == checksum64(base->content)) {
    delta = header(ContentKind::delta, content);
    put_be<std::uint64_t>(delta, base->seq);
    put_be<std::uint32_t>(delta, base->depth + 1);
    append_zstd(delta, make_line_delta(base->content, content), policy.zstd_level);
    delta = seal(std::move(delta));
    // Markdown compresses about 3-4x: a delta under a quarter of the text beats
    // any keyframe, so the keyframe is not even tried.
    if (delta.size() * 4 < content.size()) return delta;
  }
  std::string best = store_raw(content);
  // A keyframe of fewer bytes than kRawFrameBelow is never smaller than raw.
  if (content.size() >= kRawFrameBelow) {
    std::string keyframe = header(ContentKind::keyframe, content);
    append_zstd(keyframe, content, policy.zstd_level);
    keyframe = seal(std::move(keyframe));
    if (keyframe.size() < best.size()) best = std::move(keyframe);
  }
  if (!delta.empty() && delta.size() < best.size()) return delta;
  return best;
}

StoredContent parse_stored_content(std::string_view blob, std::uint64_t sequence) {
  if (blob.size() < kHeaderSize) throw DecodeError("stored content: truncated header");
  StoredContent s;
  const auto kind = static_cast<std::uint8_t>(blob[0]);
  if (kind > static_cast<std::uint8_t>(ContentKind::delta)) {
    throw DecodeError("stored content: unknown kind " + std::to_string(kind));
  }
  s.kind = static_cast<ContentKind>(kind);
  s.length = get_be<std::uint64_t>(blob, 1);
  if (s.length > kMaxPayloadBytes) throw DecodeError("stored content: length out of range");
  if (s.kind != ContentKind::raw &&
      (blob.size() < kKeyframeHeader ||
       get_be<std::uint64_t>(blob, kSealedAt) != sealed_checksum(blob))) {
    throw DecodeError("stored content: checksum mismatch of the stored bytes");
  }
  switch (s.kind) {
    case ContentKind::raw:
      s.body = blob.substr(kHeaderSize);
      if (s.body.size() != s.length) throw DecodeError("stored content: raw length mismatch");
      s.checksum = checksum64(s.body);
      break;
    case ContentKind::keyframe:
      if (blob.size() < kKeyframeHeader) throw DecodeError("stored content: truncated keyframe");
      s.checksum = get_be<std::uint64_t>(blob, kHeaderSize);
      s.body = blob.substr(kKeyframeHeader);
      break;
    case ContentKind::delta:
      if (blob.size() < kDeltaHeader) throw DecodeError("stored content: truncated delta");
      s.checksum = get_be<std::uint64_t>(blob, kHeaderSize);
      s.base_seq = get_be<std::uint64_t>(blob, kKeyframeHeader);
      s.depth = get_be<std::uint32_t>(blob, kKeyframeHeader + 8);
      s.body = blob.substr(kDeltaHeader);
      if (s.base_seq == 0 || s.base_seq >= sequence) {
        throw DecodeError("stored content: delta base " + std::to_string(s.base_seq) +
                          " is not an earlier event");
      }
      if (s.depth == 0 || s.depth > kMaxDeltaDepth) {
        throw DecodeError("stored content: delta depth " + std::to_string(s.depth) +
                          " out of range");
      }
      break;
  }
  return s;
}

void check_text_checksum(const StoredContent& stored, std::string_view text) {
  if (checksum64(text) != stored.checksum) {
    throw DecodeError("stored content: checksum mismatch (wrong base or damaged delta)");
  }
}

std::string load_content(const StoredContent& stored, std::string_view base, TextCheck check) {
  std::string text;
  switch (stored.kind) {
    case ContentKind::raw: return std::string(stored.body);
    case ContentKind::keyframe: {
      std::string scratch;
      const std::string_view bytes = unzstd(stored.body, stored.length, true, scratch);
      text = bytes.data() == scratch.data() ? std::move(scratch) : std::string(bytes);
      break;
    }
    case ContentKind::delta: {
      // A script never needs more than an op header per output byte plus the bytes;
      // the second bound caps what a forged frame can make the decoder allocate.
      const std::uint64_t limit = std::min<std::uint64_t>(22 * stored.length + 64,
                                                          2 * std::uint64_t{kMaxPayloadBytes});
      std::string scratch;
      const std::string_view script = unzstd(stored.body, limit, false, scratch);
      text = apply_line_delta(base, script, static_cast<std::size_t>(stored.length));
      break;
    }
  }
  if (check == TextCheck::check) check_text_checksum(stored, text);
  return text;
}

}  // namespace planning::detail
