// planning/version.hpp — library and on-disk format versions.
#pragma once

#include <cstdint>

namespace planning {
inline constexpr int kVersionMajor = 0;
inline constexpr int kVersionMinor = 1;
inline constexpr int kVersionPatch = 0;
// On-disk format version recorded in every store (docs/FORMAT.md). A store with a
// different value is refused on open.
inline constexpr std::uint32_t kFormatVersion = 1;
}  // namespace planning
