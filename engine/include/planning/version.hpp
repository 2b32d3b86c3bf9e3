// planning/version.hpp — library and on-disk format versions.
#pragma once

#include <cstdint>

namespace planning {
inline constexpr int kVersionMajor = 0;
inline constexpr int kVersionMinor = 1;
inline constexpr int kVersionPatch = 0;
// On-disk format version recorded in every store (docs/FORMAT.md). A store of
// format kOldestUpgradableFormat..kFormatVersion-1 is upgraded when opened for
// writing (its projections are rebuilt; the log is not changed) and read as it
// is when opened read-only; any other value is refused on open.
inline constexpr std::uint32_t kFormatVersion = 3;
inline constexpr std::uint32_t kOldestUpgradableFormat = 1;
}  // namespace planning
