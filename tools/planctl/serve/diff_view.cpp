// planctl serve: parses the hunks of a unified diff and lays them out.
#include "diff_view.hpp"

#include <algorithm>
#include <cstdio>
#include <optional>
#include <vector>

#include <fmt/format.h>

#include "html.hpp"

namespace planctl::serve {
namespace {

struct Line {
  char kind;  // ' ', '-', '+', '@' (hunk header)
  std::string text;
};

std::vector<Line> parse(std::string_view unified) {
  std::vector<Line> lines;
  std::size_t start = 0;
  while (start < unified.size()) {
    auto end = unified.find('\n', start);
    if (end == std::string_view::npos) end = unified.size();
    const auto line = unified.substr(start, end - start);
    start = end + 1;
    if (line.starts_with("--- ") || line.starts_with("+++ ")) continue;  // file headers
    if (line.starts_with("@@")) {
      lines.push_back({'@', std::string(line)});
    } else if (!line.empty() && (line[0] == ' ' || line[0] == '-' || line[0] == '+')) {
      lines.push_back({line[0], std::string(line.substr(1))});
    } else if (line.empty()) {
      lines.push_back({' ', std::string()});
    }
  }
  return lines;
}

// Start lines of a hunk header "@@ -a[,b] +c[,d] @@".
void hunk_starts(const std::string& header, long& old_line, long& new_line) {
  long a = 1, c = 1;
  if (std::sscanf(header.c_str(), "@@ -%ld,%*d +%ld", &a, &c) == 2 ||
      std::sscanf(header.c_str(), "@@ -%ld +%ld", &a, &c) == 2) {
    old_line = a;
    new_line = c;
  }
}

std::string number(std::optional<long> n) { return n ? std::to_string(*n) : std::string(); }

std::string cell_pair(std::string_view cls, std::optional<long> n, std::string_view text) {
  return fmt::format("<td class=\"num\">{}</td><td class=\"code {}\">{}</td>", number(n), cls,
                     escape(text));
}

// One row of the unified layout: both line numbers (either may be absent),
// then the line with its sign.
std::string unified_row(std::string_view cls, std::optional<long> old_n, std::optional<long> new_n,
                        char sign, std::string_view text) {
  return fmt::format(
      "<tr class=\"{}\"><td class=\"num\">{}</td><td class=\"num\">{}</td>"
      "<td class=\"code\">{}{}</td></tr>\n",
      cls, number(old_n), number(new_n), sign, escape(text));
}

std::string unified_rows(const std::vector<Line>& lines) {
  std::string rows;
  long old_line = 1, new_line = 1;
  for (const auto& l : lines) {
    switch (l.kind) {
      case '@':
        hunk_starts(l.text, old_line, new_line);
        rows += fmt::format("<tr class=\"hunk\"><td colspan=\"3\">{}</td></tr>\n", escape(l.text));
        break;
      case '-':
        rows += unified_row("del", old_line++, std::nullopt, '-', l.text);
        break;
      case '+':
        rows += unified_row("add", std::nullopt, new_line++, '+', l.text);
        break;
      default:
        rows += unified_row("ctx", old_line++, new_line++, ' ', l.text);
    }
  }
  return rows;
}

// Side by side: a run of removed lines and the run of added lines after it
// share rows; unchanged lines appear on both sides.
std::string split_rows(const std::vector<Line>& lines) {
  std::string rows;
  long old_line = 1, new_line = 1;
  std::size_t i = 0;
  while (i < lines.size()) {
    const auto& l = lines[i];
    if (l.kind == '@') {
      hunk_starts(l.text, old_line, new_line);
      rows += fmt::format("<tr class=\"hunk\"><td colspan=\"4\">{}</td></tr>\n", escape(l.text));
      ++i;
      continue;
    }
    if (l.kind == ' ') {
      rows += "<tr class=\"ctx\">" + cell_pair("ctx", old_line++, l.text) +
              cell_pair("ctx", new_line++, l.text) + "</tr>\n";
      ++i;
      continue;
    }
    std::vector<const Line*> removed, added;
    while (i < lines.size() && lines[i].kind == '-') removed.push_back(&lines[i++]);
    while (i < lines.size() && lines[i].kind == '+') added.push_back(&lines[i++]);
    for (std::size_t k = 0; k < std::max(removed.size(), added.size()); ++k) {
      rows += "<tr class=\"change\">";
      rows += k < removed.size() ? cell_pair("del", old_line++, removed[k]->text)
                                 : cell_pair("empty", std::nullopt, "");
      rows += k < added.size() ? cell_pair("add", new_line++, added[k]->text)
                               : cell_pair("empty", std::nullopt, "");
      rows += "</tr>\n";
    }
  }
  return rows;
}

}  // namespace

std::string render_diff_table(std::string_view unified, DiffLayout layout) {
  const auto lines = parse(unified);
  if (lines.empty()) return "<p class=\"muted\">The two versions have the same content.</p>";
  if (layout == DiffLayout::unified)
    return "<table class=\"diff unified\"><colgroup><col class=\"n\"><col class=\"n\"><col>"
           "</colgroup>\n" +
           unified_rows(lines) + "</table>";
  return "<table class=\"diff split\"><colgroup><col class=\"n\"><col><col class=\"n\"><col>"
         "</colgroup>\n" +
         split_rows(lines) + "</table>";
}

}  // namespace planctl::serve
