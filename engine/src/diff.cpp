#include "engine/src/diff.hpp"

#include <sstream>
#include <string>
#include <vector>

#include <dtl/dtl.hpp>

namespace planning::detail {

namespace {

std::vector<std::string> split_lines(std::string_view text) {
  std::vector<std::string> lines;
  std::size_t start = 0;
  while (start < text.size()) {
    const auto end = text.find('\n', start);
    if (end == std::string_view::npos) {
      lines.emplace_back(text.substr(start));
      break;
    }
    lines.emplace_back(text.substr(start, end - start));
    start = end + 1;
  }
  return lines;
}

}  // namespace

VersionDiff diff_versions(std::uint32_t from_version, std::string_view before,
                          std::uint32_t to_version, std::string_view after) {
  VersionDiff result;
  result.from_version = from_version;
  result.to_version = to_version;

  const auto a = split_lines(before);
  const auto b = split_lines(after);
  dtl::Diff<std::string> diff(a, b);
  diff.compose();
  for (const auto& [line, info] : diff.getSes().getSequence()) {
    switch (info.type) {
      case dtl::SES_ADD: ++result.lines_added; break;
      case dtl::SES_DELETE: ++result.lines_removed; break;
      case dtl::SES_COMMON: ++result.lines_unchanged; break;
    }
  }
  if (result.lines_added == 0 && result.lines_removed == 0) return result;

  diff.composeUnifiedHunks();
  std::ostringstream out;
  out << "--- version " << from_version << "\n+++ version " << to_version << "\n";
  diff.printUnifiedFormat(out);
  result.unified = std::move(out).str();
  return result;
}

}  // namespace planning::detail
