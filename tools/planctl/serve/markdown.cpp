// planctl serve: cmark rendering with raw HTML turned into text.
#include "markdown.hpp"

#include <cstdlib>
#include <memory>
#include <vector>

#include <cmark.h>

namespace planctl::serve {
namespace {

struct NodeFree {
  void operator()(cmark_node* node) const { cmark_node_free(node); }
};
struct CharFree {
  void operator()(char* text) const { std::free(text); }
};

// An HTML node becomes the same characters as text: a block one a code block,
// an inline one a text node, so the renderer escapes them.
void replace_html(cmark_node* node) {
  const bool block = cmark_node_get_type(node) == CMARK_NODE_HTML_BLOCK;
  cmark_node* text = cmark_node_new(block ? CMARK_NODE_CODE_BLOCK : CMARK_NODE_TEXT);
  cmark_node_set_literal(text, cmark_node_get_literal(node));
  cmark_node_replace(node, text);
  cmark_node_free(node);
}

}  // namespace

std::string render_markdown(std::string_view markdown) {
  // CMARK_OPT_DEFAULT is safe mode in cmark 0.29+ (CMARK_OPT_UNSAFE is opt-in).
  const int options = CMARK_OPT_DEFAULT | CMARK_OPT_VALIDATE_UTF8;
  std::unique_ptr<cmark_node, NodeFree> root(
      cmark_parse_document(markdown.data(), markdown.size(), options));
  if (!root) return {};
  std::vector<cmark_node*> html;
  cmark_iter* iter = cmark_iter_new(root.get());
  for (auto ev = cmark_iter_next(iter); ev != CMARK_EVENT_DONE; ev = cmark_iter_next(iter)) {
    if (ev != CMARK_EVENT_ENTER) continue;
    const auto type = cmark_node_get_type(cmark_iter_get_node(iter));
    if (type == CMARK_NODE_HTML_BLOCK || type == CMARK_NODE_HTML_INLINE)
      html.push_back(cmark_iter_get_node(iter));
  }
  cmark_iter_free(iter);
  for (auto* node : html) replace_html(node);
  std::unique_ptr<char, CharFree> out(cmark_render_html(root.get(), options));
  return out ? std::string(out.get()) : std::string();
}

}  // namespace planctl::serve
