// Edit scripts of content deltas: docs/FORMAT.md, "Content deltas".
#include "events/src/line_delta.hpp"

#include <algorithm>
#include <cstring>
#include <unordered_map>
#include <vector>

#include "events/src/cereal_fields.hpp"
#include "events/src/hashing.hpp"

namespace planning::detail {

namespace {

constexpr std::uint8_t kOpCopy = 0x00;
constexpr std::uint8_t kOpInsert = 0x01;

struct Line {
  std::size_t offset;
  std::size_t length;  // including its '\n', when it has one
};

std::vector<Line> split_lines(std::string_view text) {
  std::vector<Line> lines;
  std::size_t at = 0;
  while (at < text.size()) {
    const std::size_t nl = text.find('\n', at);
    const std::size_t end = nl == std::string_view::npos ? text.size() : nl + 1;
    lines.push_back(Line{at, end - at});
    at = end;
  }
  return lines;
}

void put_varint(std::string& out, std::uint64_t v) {
  while (v >= 0x80) {
    out.push_back(static_cast<char>((v & 0x7f) | 0x80));
    v >>= 7;
  }
  out.push_back(static_cast<char>(v));
}

std::uint64_t get_varint(std::string_view in, std::size_t& at) {
  std::uint64_t v = 0;
  for (int shift = 0; shift < 64; shift += 7) {
    if (at >= in.size()) throw DecodeError("delta script: truncated varint");
    const auto byte = static_cast<std::uint8_t>(in[at++]);
    if (shift == 63 && byte > 1) throw DecodeError("delta script: varint overflows 64 bits");
    v |= static_cast<std::uint64_t>(byte & 0x7f) << shift;
    if ((byte & 0x80) == 0) return v;
  }
  throw DecodeError("delta script: varint longer than 10 bytes");
}

// Accumulates ops, merging a copy that continues the previous one and
// consecutive inserts.
class ScriptWriter {
 public:
  explicit ScriptWriter(std::string_view target) : target_(target) {}

  void copy(std::size_t offset, std::size_t length) {
    if (pending_insert_ != 0) flush_insert();
    if (copy_length_ != 0 && copy_offset_ + copy_length_ == offset) {
      copy_length_ += length;
      return;
    }
    flush_copy();
    copy_offset_ = offset;
    copy_length_ = length;
  }
  void insert(std::size_t target_offset, std::size_t length) {
    flush_copy();
    if (pending_insert_ == 0) insert_from_ = target_offset;
    pending_insert_ += length;
  }
  std::string finish() {
    flush_copy();
    flush_insert();
    return std::move(script_);
  }

 private:
  void flush_copy() {
    if (copy_length_ == 0) return;
    script_.push_back(static_cast<char>(kOpCopy));
    put_varint(script_, copy_offset_);
    put_varint(script_, copy_length_);
    copy_length_ = 0;
  }
  void flush_insert() {
    if (pending_insert_ == 0) return;
    script_.push_back(static_cast<char>(kOpInsert));
    put_varint(script_, pending_insert_);
    script_.append(target_.substr(insert_from_, pending_insert_));
    pending_insert_ = 0;
  }

  std::string_view target_;
  std::string script_;
  std::size_t copy_offset_ = 0;
  std::size_t copy_length_ = 0;
  std::size_t insert_from_ = 0;
  std::size_t pending_insert_ = 0;
};

// The lines `base` and `target` share at their start and at their end: whole
// lines only, never overlapping (a line is in the prefix, the middle or the
// suffix of each text).
struct CommonEnds {
  std::size_t prefix = 0;  // bytes of whole lines at the start of both
  std::size_t suffix = 0;  // bytes of whole lines at the end of both
};

CommonEnds common_line_ends(std::string_view base, std::string_view target) {
  constexpr std::size_t kBlock = 32;  // compared with memcmp before byte by byte
  CommonEnds ends;
  const std::size_t shorter = std::min(base.size(), target.size());
  std::size_t same = 0;
  while (same + kBlock <= shorter && std::memcmp(&base[same], &target[same], kBlock) == 0) {
    same += kBlock;
  }
  while (same < shorter && base[same] == target[same]) ++same;
  if (same == base.size() && same == target.size()) {
    ends.prefix = same;  // equal texts: one copy
    return ends;
  }
  // Back to the start of the line where the texts differ.
  const std::size_t nl = same == 0 ? std::string_view::npos : base.rfind('\n', same - 1);
  ends.prefix = nl == std::string_view::npos ? 0 : nl + 1;

  const std::size_t room = shorter - ends.prefix;
  std::size_t tail = 0;
  while (tail + kBlock <= room &&
         std::memcmp(&base[base.size() - tail - kBlock], &target[target.size() - tail - kBlock],
                     kBlock) == 0) {
    tail += kBlock;
  }
  while (tail < room && base[base.size() - 1 - tail] == target[target.size() - 1 - tail]) ++tail;
  // The suffix starts where a line starts in both texts: right after the
  // prefix, or after a '\n'. Otherwise it begins after its first '\n'.
  auto line_start = [&](std::string_view text) {
    const std::size_t at = text.size() - tail;
    return at == ends.prefix || text[at - 1] == '\n';
  };
  if (tail != 0 && !(line_start(base) && line_start(target))) {
    const std::size_t first_nl = base.find('\n', base.size() - tail);
    tail = first_nl == std::string_view::npos ? 0 : base.size() - (first_nl + 1);
  }
  ends.suffix = tail;
  return ends;
}

}  // namespace

std::string make_line_delta(std::string_view base, std::string_view target) {
  // Lines both texts share at their ends are copied whole; only the middle
  // (one line, for most edits) is split and matched by hash.
  const CommonEnds ends = common_line_ends(base, target);
  const std::size_t base_end = base.size() - ends.suffix;
  const std::size_t target_end = target.size() - ends.suffix;
  const std::string_view base_middle = base.substr(ends.prefix, base_end - ends.prefix);
  const std::string_view target_middle = target.substr(ends.prefix, target_end - ends.prefix);

  const std::vector<Line> base_lines = split_lines(base_middle);
  auto text = [](std::string_view s, const Line& l) { return s.substr(l.offset, l.length); };
  // First occurrence of each middle base line, by hash (bytes are compared on use).
  std::unordered_map<std::uint64_t, std::size_t> first;
  first.reserve(base_lines.size());
  for (std::size_t i = 0; i < base_lines.size(); ++i) {
    first.try_emplace(checksum64(text(base_middle, base_lines[i])), i);
  }

  ScriptWriter writer(target);
  if (ends.prefix != 0) writer.copy(0, ends.prefix);
  std::size_t expect = 0;  // the base line after the previous match
  for (const Line& t : split_lines(target_middle)) {
    const std::string_view line = text(target_middle, t);
    std::size_t match = base_lines.size();
    if (expect < base_lines.size() && text(base_middle, base_lines[expect]) == line) {
      match = expect;
    } else if (auto it = first.find(checksum64(line));
               it != first.end() && text(base_middle, base_lines[it->second]) == line) {
      match = it->second;
    }
    if (match < base_lines.size()) {
      writer.copy(ends.prefix + base_lines[match].offset, base_lines[match].length);
      expect = match + 1;
    } else {
      writer.insert(ends.prefix + t.offset, t.length);
      ++expect;  // most often a line rewritten in place: stay aligned with the base
    }
  }
  if (ends.suffix != 0) writer.copy(base_end, ends.suffix);
  return writer.finish();
}

std::string apply_line_delta(std::string_view base, std::string_view script,
                             std::size_t target_length) {
  std::string out;
  out.reserve(target_length);
  std::size_t at = 0;
  while (at < script.size()) {
    const auto op = static_cast<std::uint8_t>(script[at++]);
    if (op == kOpCopy) {
      const std::uint64_t offset = get_varint(script, at);
      const std::uint64_t length = get_varint(script, at);
      if (length == 0) throw DecodeError("delta script: empty copy");
      if (offset > base.size() || length > base.size() - offset) {
        throw DecodeError("delta script: copy past the end of the base");
      }
      if (length > target_length - out.size()) {
        throw DecodeError("delta script: output longer than recorded");
      }
      out.append(base.substr(offset, length));
    } else if (op == kOpInsert) {
      const std::uint64_t length = get_varint(script, at);
      if (length == 0) throw DecodeError("delta script: empty insert");
      if (length > script.size() - at) throw DecodeError("delta script: truncated insert");
      if (length > target_length - out.size()) {
        throw DecodeError("delta script: output longer than recorded");
      }
      out.append(script.substr(at, length));
      at += length;
    } else {
      throw DecodeError("delta script: unknown op " + std::to_string(op));
    }
  }
  if (out.size() != target_length) throw DecodeError("delta script: output shorter than recorded");
  return out;
}

}  // namespace planning::detail
