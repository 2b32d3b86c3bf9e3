// Checksums and the hash chain (docs/FORMAT.md §Checksums).
#pragma once

#include <cstdint>
#include <initializer_list>
#include <string_view>

#include <planning/events.hpp>

namespace planning::detail {

// XXH3-64 of `bytes`: the per-record checksum (detects accidental damage).
std::uint64_t checksum64(std::string_view bytes) noexcept;
// XXH3-64 of the concatenation of `parts`, without building it.
std::uint64_t checksum64(std::initializer_list<std::string_view> parts);
// SHA-256 of `bytes`: the hash-chain link (detects edits, removals, reordering).
Hash256 sha256(std::string_view bytes);
// SHA-256 of the concatenation of `parts`, without building it.
Hash256 sha256(std::initializer_list<std::string_view> parts);

}  // namespace planning::detail
