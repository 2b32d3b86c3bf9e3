// planctl serve: markdown to HTML through cmark (CommonMark). Raw HTML in the
// markdown is shown as text, never passed through; link and image URLs with
// dangerous schemes (javascript:, vbscript:, file:, data: other than images)
// are dropped by cmark's safe mode.
#pragma once

#include <string>
#include <string_view>

namespace planctl::serve {

std::string render_markdown(std::string_view markdown);

}  // namespace planctl::serve
