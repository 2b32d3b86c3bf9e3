// planctl serve: one version (rendered or raw) and the diff between two.
//   GET /sessions/ID/versions/N        ?view=rendered|raw
//   GET /sessions/ID/diff?a=A&b=B      &layout=split|unified
// Each URL is the permalink of what it shows.
#include <string>

#include <fmt/format.h>

#include "../input.hpp"
#include "diff_view.hpp"
#include "html.hpp"
#include "markdown.hpp"
#include "site.hpp"

namespace planctl::serve {
namespace {

void version_page(Site& site, const httplib::Request& request, httplib::Response& response) {
  const std::string id = request.matches[1];
  const auto n = parse_u32("version", request.matches[2].str());
  const auto v = unwrap(site.store.get_version(id, n));
  const auto s = unwrap(site.store.get(id));
  const bool raw = param(request, "view").value_or("rendered") == "raw";
  const auto base = "/sessions/" + url_component(id);
  std::string body = fmt::format(
      "<p class=\"crumbs\">{} › version {}</p><h1>Version {} <small>of {}</small></h1>\n",
      session_link(id, s.title), n, n, s.current_version);
  body += fmt::format(
      "<table class=\"fields\"><tr><th>created</th><td>{} by {}</td></tr>"
      "<tr><th>summary</th><td>{}</td></tr><tr><th>event</th><td><a "
      "href=\"/audit?from={}&amp;to={}\">#{}</a></td></tr></table>\n",
      time_html(v.created_at), escape(v.created_by), escape(v.change_summary), v.event_seq,
      v.event_seq, v.event_seq);
  body += fmt::format(
      "<nav class=\"tabs\"><a href=\"{0}/versions/{1}\"{2}>rendered</a><a "
      "href=\"{0}/versions/{1}?view=raw\"{3}>raw</a>",
      base, n, raw ? "" : " class=\"active\"", raw ? " class=\"active\"" : "");
  if (n > 1)
    body += fmt::format("<a href=\"{}/diff?a={}&amp;b={}\">diff to {}</a>", base, n - 1, n, n - 1);
  if (n < s.current_version)
    body += fmt::format("<a href=\"{}/diff?a={}&amp;b={}\">diff to current</a>", base, n,
                        s.current_version);
  body += "</nav>\n";
  if (raw)
    body += "<pre class=\"raw\">" + escape(v.content) + "</pre>";
  else
    body += "<article class=\"markdown\">" + render_markdown(v.content) + "</article>";
  send_html(response, page(fmt::format("{} · version {}", s.title, n), "Sessions", body));
}

void diff_page(Site& site, const httplib::Request& request, httplib::Response& response) {
  const std::string id = request.matches[1];
  const auto a_text = param(request, "a");
  const auto b_text = param(request, "b");
  if (!a_text || !b_text)
    fail(Exit::usage, "diff: parameters a and b (version numbers) are required");
  const auto a = parse_u32("a", *a_text);
  const auto b = parse_u32("b", *b_text);
  const auto layout_name = param(request, "layout").value_or("split");
  if (layout_name != "split" && layout_name != "unified")
    fail(Exit::usage, "layout: expected split or unified");
  const auto layout = layout_name == "split" ? DiffLayout::split : DiffLayout::unified;
  const auto diff = unwrap(site.store.compare_versions(id, a, b));
  const auto s = unwrap(site.store.get(id));
  const auto base = "/sessions/" + url_component(id);
  std::string body = fmt::format(
      "<p class=\"crumbs\">{} › diff</p><h1>Version {} → {}</h1>\n"
      "<p class=\"diffstat\"><span class=\"plus\">+{}</span> <span class=\"minus\">−{}</span> "
      "<span class=\"muted\">{} unchanged</span></p>\n",
      session_link(id, s.title), a, b, diff.lines_added, diff.lines_removed, diff.lines_unchanged);
  body += fmt::format(
      "<nav class=\"tabs\"><a href=\"{0}/diff?a={1}&amp;b={2}&amp;layout=split\"{3}>side by "
      "side</a><a href=\"{0}/diff?a={1}&amp;b={2}&amp;layout=unified\"{4}>unified</a>"
      "<a href=\"{0}/versions/{1}\">version {1}</a><a href=\"{0}/versions/{2}\">version {2}</a>"
      "<a href=\"/api/sessions/{5}/diff?a={1}&amp;b={2}\">JSON</a></nav>\n",
      base, a, b, layout == DiffLayout::split ? " class=\"active\"" : "",
      layout == DiffLayout::unified ? " class=\"active\"" : "", url_component(id));
  body += render_diff_table(diff.unified, layout);
  send_html(response, page(fmt::format("{} · diff {}..{}", s.title, a, b), "Sessions", body));
}

}  // namespace

void add_version_pages(httplib::Server& server, Site& site) {
  server.Get(
      R"(/sessions/([^/]+)/versions/([0-9]+))",
      wrap(Kind::html, [&site](const httplib::Request& request, httplib::Response& response) {
        version_page(site, request, response);
      }));
  server.Get(R"(/sessions/([^/]+)/diff)", wrap(Kind::html, [&site](const httplib::Request& request,
                                                                   httplib::Response& response) {
               diff_page(site, request, response);
             }));
}

}  // namespace planctl::serve
