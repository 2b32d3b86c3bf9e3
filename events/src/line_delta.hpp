// Line-based edit scripts: how a content delta rebuilds a document from its base.
// The script grammar is specified in docs/FORMAT.md ("Content deltas"):
//   op := 0x00 varint(offset) varint(length)   copy base[offset, offset + length)
//       | 0x01 varint(length) bytes            insert `length` new bytes
// Varints are unsigned LEB128 (at most 10 bytes). Copies are line-aligned when
// made by make_line_delta, but apply_line_delta accepts any byte range of the base.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace planning::detail {

// An edit script turning `base` into `target`, byte for byte (CRLF, missing final
// newline, NULs and invalid UTF-8 included: lines are split at '\n' only, and
// each line keeps its terminator). The lines both texts share at their start
// and at their end are copied whole without being split; in between, target
// lines are matched to base lines of that middle by hash, preferring the line
// after the previous match, so blocks moved within it are copied too. Linear
// time; a one-line edit hashes one line of each text.
std::string make_line_delta(std::string_view base, std::string_view target);

// Rebuilds the target from `base` and `script`. `target_length` is the length the
// delta recorded. Never reads outside `base` or `script` and never writes past
// `target_length`: any defect (unknown op, truncated varint, a copy past the
// end of the base, a zero-length op, a length other than `target_length`)
// throws DecodeError (events/src/cereal_fields.hpp).
std::string apply_line_delta(std::string_view base, std::string_view script,
                             std::size_t target_length);

}  // namespace planning::detail
