// planctl serve: a unified diff (VersionDiff::unified, dtl's format) as an HTML
// table, side by side or unified, with added and removed lines marked by the
// classes "add" and "del" (unchanged lines "ctx", hunk headers "hunk").
#pragma once

#include <string>
#include <string_view>

namespace planctl::serve {

enum class DiffLayout { split, unified };

std::string render_diff_table(std::string_view unified, DiffLayout layout);

}  // namespace planctl::serve
