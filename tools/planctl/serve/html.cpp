// planctl serve: HTML escaping, URL encoding and the page layout.
#include "html.hpp"

#include <fmt/format.h>

namespace planctl::serve {

std::string escape(std::string_view text) {
  std::string out;
  out.reserve(text.size() + text.size() / 8);
  for (const char c : text) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&#39;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

std::string url_component(std::string_view text) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (const char c : text) {
    const auto u = static_cast<unsigned char>(c);
    if ((u >= 'A' && u <= 'Z') || (u >= 'a' && u <= 'z') || (u >= '0' && u <= '9') || u == '-' ||
        u == '.' || u == '_' || u == '~') {
      out += c;
    } else {
      out += '%';
      out += kHex[u >> 4];
      out += kHex[u & 15];
    }
  }
  return out;
}

std::string query_string(const std::vector<std::pair<std::string, std::string>>& pairs) {
  std::string out;
  for (const auto& [name, value] : pairs) {
    if (value.empty()) continue;
    if (!out.empty()) out += '&';
    out += url_component(name) + '=' + url_component(value);
  }
  return out;
}

std::string page(std::string_view title, std::string_view active, std::string_view body) {
  std::string nav;
  for (const auto& [href, name] : {std::pair{"/sessions", "Sessions"}, std::pair{"/audit", "Audit"},
                                   std::pair{"/info", "Info"}}) {
    nav += fmt::format("<a href=\"{}\"{}>{}</a>", href,
                       std::string_view(name) == active ? " class=\"active\"" : "", name);
  }
  return fmt::format(
      "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
      "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
      "<title>{} · planctl</title><link rel=\"stylesheet\" href=\"/static/style.css\">"
      "<link rel=\"icon\" href=\"/static/icon.svg\" type=\"image/svg+xml\">"
      "<script src=\"/static/app.js\" defer></script></head>\n"
      "<body><header><span class=\"brand\">planctl serve</span><nav>{}</nav>"
      "<span class=\"ro\">read-only</span></header>\n<main>\n{}\n</main></body></html>\n",
      escape(title), nav, body);
}

std::string time_html(planning::Timestamp t) {
  const auto iso = planning::format_timestamp(t);
  // "2025-01-01T12:00:00.000000Z" shown to the second.
  const auto shown = iso.size() >= 19 ? iso.substr(0, 10) + " " + iso.substr(11, 8) + " UTC" : iso;
  return fmt::format("<time datetime=\"{}\" title=\"{}\">{}</time>", escape(iso), escape(iso),
                     escape(shown));
}

std::string status_badge(planning::Status status) {
  const auto name = planning::to_string(status);
  return fmt::format("<span class=\"badge {}\">{}</span>", name, name);
}

std::string session_link(std::string_view id, std::string_view text) {
  return fmt::format("<a href=\"/sessions/{}\">{}</a>", url_component(id), escape(text));
}

}  // namespace planctl::serve
