// planctl serve: the sessions list (filters, sort, paging, statistics counts)
// and a session's page (fields, content rendered, version timeline).
//   GET /, /sessions   ?status=&repo-path=&...&order-by=&desc=&page=
//   GET /sessions/ID
#include <algorithm>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "../input.hpp"
#include "html.hpp"
#include "markdown.hpp"
#include "queries.hpp"
#include "site.hpp"

namespace planctl::serve {
namespace {

constexpr std::size_t kPageSize = 25;

// The list's filter parameters as given (kept in sort and page links).
const char* const kFilterNames[] = {"repo-path",     "repo-url",       "project",
                                    "created-by",    "created-after",  "created-before",
                                    "updated-after", "updated-before", "title-contains",
                                    "has-content",   "no-content"};

std::vector<std::pair<std::string, std::string>> filter_pairs(const httplib::Request& request) {
  std::vector<std::pair<std::string, std::string>> pairs;
  for (const auto& s : params(request, "status")) pairs.emplace_back("status", s);
  for (const char* name : kFilterNames)
    if (const auto value = param(request, name)) pairs.emplace_back(name, *value);
  return pairs;
}

std::string list_url(std::vector<std::pair<std::string, std::string>> pairs,
                     const std::string& order, bool desc, std::size_t page_number) {
  pairs.emplace_back("order-by", order);
  if (desc) pairs.emplace_back("desc", "1");
  if (page_number > 1) pairs.emplace_back("page", std::to_string(page_number));
  const auto query = query_string(pairs);
  return query.empty() ? "/sessions" : "/sessions?" + query;
}

std::string counts_html(const planning::Statistics& s) {
  std::string out = "<section class=\"counts\">";
  const std::pair<const char*, std::uint64_t> counts[] = {
      {"total", s.total_sessions},       {"active", s.active_sessions},
      {"paused", s.paused_sessions},     {"converted", s.converted_sessions},
      {"archived", s.archived_sessions}, {"removed", s.removed_sessions},
      {"versions", s.total_versions},    {"events", s.total_events}};
  for (const auto& [name, n] : counts)
    out += fmt::format("<div class=\"count {}\"><b>{}</b><span>{}</span></div>", name, n, name);
  return out + "</section>\n";
}

std::string text_input(const httplib::Request& request, const char* name, const char* label,
                       const char* type = "text") {
  return fmt::format("<label>{}<input type=\"{}\" name=\"{}\" value=\"{}\"></label>", label, type,
                     name, escape(param(request, name).value_or("")));
}

std::string filter_form(const httplib::Request& request) {
  std::string statuses;
  const auto chosen = params(request, "status");
  for (const char* s : {"active", "paused", "converted", "archived"}) {
    const bool on = std::find(chosen.begin(), chosen.end(), s) != chosen.end();
    statuses += fmt::format(
        "<label class=\"check\"><input type=\"checkbox\" name=\"status\" value=\"{}\"{}>{}</label>",
        s, on ? " checked" : "", s);
  }
  return "<form class=\"filters\" method=\"get\" action=\"/sessions\">" + statuses +
         text_input(request, "title-contains", "Title contains") +
         text_input(request, "repo-path", "Repository path") +
         text_input(request, "repo-url", "Repository URL") +
         text_input(request, "project", "Project") +
         text_input(request, "created-by", "Created by") +
         text_input(request, "created-after", "Created after") +
         text_input(request, "created-before", "Created before") +
         text_input(request, "updated-after", "Updated after") +
         text_input(request, "updated-before", "Updated before") +
         "<button type=\"submit\">Filter</button> <a href=\"/sessions\">clear</a></form>\n";
}

void sessions_page(Site& site, const httplib::Request& request, httplib::Response& response) {
  auto filters = session_filters(request);
  std::size_t page_number = 1;
  if (const auto p = param(request, "page"))
    page_number = std::max<std::size_t>(1, parse_unsigned("page", *p, 1'000'000'000));
  filters.limit = kPageSize + 1;  // one more tells whether there is a next page
  filters.offset = (page_number - 1) * kPageSize;
  auto sessions = unwrap(site.store.list(filters));
  const bool more = sessions.size() > kPageSize;
  if (more) sessions.pop_back();
  const auto stats = unwrap(site.store.get_statistics());

  const auto pairs = filter_pairs(request);
  const std::string order(planning::to_string(filters.order_by));
  auto header = [&](const char* field, const char* label) {
    const bool current = order == field;
    const bool desc = current ? !filters.descending : false;
    return fmt::format("<th><a href=\"{}\"{}>{}{}</a></th>",
                       escape(list_url(pairs, field, desc, 1)), current ? " class=\"sorted\"" : "",
                       label, current ? (filters.descending ? " ▼" : " ▲") : "");
  };
  std::string rows;
  for (const auto& s : sessions) {
    rows += fmt::format(
        "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td "
        "class=\"num\">{}</td></tr>\n",
        session_link(s.id, s.title), status_badge(s.status), escape(s.repository_path),
        escape(s.created_by), time_html(s.created_at), time_html(s.updated_at), s.current_version);
  }
  std::string body = "<h1>Sessions</h1>\n" + counts_html(stats) + filter_form(request);
  if (sessions.empty()) {
    body += "<p class=\"muted\" id=\"no-sessions\">No sessions match.</p>";
  } else {
    body += "<table class=\"sessions\"><thead><tr>" + header("title", "Title") +
            "<th>Status</th><th>Repository</th><th>Created by</th>" +
            header("created_at", "Created") + header("updated_at", "Updated") +
            "<th>Versions</th></tr></thead><tbody>\n" + rows + "</tbody></table>\n";
  }
  body += "<nav class=\"pager\">";
  if (page_number > 1)
    body += fmt::format("<a rel=\"prev\" href=\"{}\">← previous</a>",
                        escape(list_url(pairs, order, filters.descending, page_number - 1)));
  body += fmt::format("<span>page {}</span>", page_number);
  if (more)
    body += fmt::format("<a rel=\"next\" href=\"{}\">next →</a>",
                        escape(list_url(pairs, order, filters.descending, page_number + 1)));
  body += "</nav>";
  send_html(response, page("Sessions", "Sessions", body));
}

std::string field_row(const char* name, const std::string& html) {
  return fmt::format("<tr><th>{}</th><td>{}</td></tr>\n", name, html);
}

void session_page(Site& site, const httplib::Request& request, httplib::Response& response) {
  const std::string id = request.matches[1];
  const auto s = unwrap(site.store.get(id));
  const auto versions = unwrap(site.store.get_versions(id));
  std::string fields;
  fields += field_row("id", "<code>" + escape(s.id) + "</code>");
  fields += field_row("status", status_badge(s.status));
  if (!s.description.empty()) fields += field_row("description", escape(s.description));
  if (!s.pause_reason.empty()) fields += field_row("pause reason", escape(s.pause_reason));
  if (s.paused_at) fields += field_row("paused at", time_html(*s.paused_at));
  if (s.archived_at) fields += field_row("archived at", time_html(*s.archived_at));
  fields += field_row("created", time_html(s.created_at) + " by " + escape(s.created_by));
  fields += field_row("updated", time_html(s.updated_at) + " by " + escape(s.updated_by));
  fields += field_row("last activity", time_html(s.last_activity_at));
  fields += field_row("stream version", std::to_string(s.stream_version));

  std::string repo;
  repo += field_row("repository path", escape(s.repository_path));
  repo += field_row("repository URL", escape(s.repository_url));
  repo += field_row("working directory", escape(s.working_directory));

  std::string conversion;
  if (!s.project_id.empty()) {
    std::string items;
    for (const auto& w : s.work_item_ids) items += "<li><code>" + escape(w) + "</code></li>";
    conversion =
        field_row("project", fmt::format("<a href=\"/sessions?project={}\">{}</a>",
                                         url_component(s.project_id), escape(s.project_id))) +
        field_row("work items", "<ul class=\"plain\">" + items + "</ul>") +
        field_row("converted", (s.converted_at ? time_html(*s.converted_at) : "") + " by " +
                                   escape(s.converted_by));
  }

  const auto base = "/sessions/" + url_component(s.id);
  std::string timeline;
  for (auto it = versions.rbegin(); it != versions.rend(); ++it) {
    const auto& v = *it;
    std::string diff_link;
    if (v.version_number > 1)
      diff_link =
          fmt::format(" · <a class=\"diff-prev\" href=\"{}/diff?a={}&amp;b={}\">diff to {}</a>",
                      base, v.version_number - 1, v.version_number, v.version_number - 1);
    timeline += fmt::format(
        "<li><a href=\"{}/versions/{}\"><b>version {}</b></a> {} by {}{}<div>{}</div></li>\n", base,
        v.version_number, v.version_number, time_html(v.created_at), escape(v.created_by),
        diff_link, escape(v.change_summary));
  }
  std::string compare;
  if (versions.size() >= 2) {
    compare = fmt::format(
        "<form class=\"compare\" method=\"get\" action=\"{}/diff\">Compare version "
        "<input type=\"number\" name=\"a\" min=\"1\" max=\"{}\" value=\"{}\"> with "
        "<input type=\"number\" name=\"b\" min=\"1\" max=\"{}\" value=\"{}\">"
        "<select name=\"layout\"><option value=\"split\">side by side</option>"
        "<option value=\"unified\">unified</option></select><button>Diff</button></form>",
        base, versions.size(), versions.size() - 1, versions.size(), versions.size());
  }

  std::string body = fmt::format("<h1 class=\"title\">{}</h1>\n", escape(s.title));
  body += "<div class=\"columns\"><section><h2>Fields</h2><table class=\"fields\">" + fields +
          "</table><h2>Repository</h2><table class=\"fields\">" + repo + "</table>";
  if (!conversion.empty())
    body += "<h2>Conversion</h2><table class=\"fields\">" + conversion + "</table>";
  body += "<h2>Metadata</h2><pre class=\"metadata\">" +
          escape(s.metadata.dump(2, ' ', false, nlohmann::json::error_handler_t::replace)) +
          "</pre>";
  body += fmt::format(
      "<p><a href=\"/audit?session={}\">events of this session</a> · <a "
      "href=\"/api/sessions/{}\">JSON</a></p>",
      url_component(s.id), url_component(s.id));
  body += "</section><section><h2>Versions</h2>" + compare + "<ol class=\"timeline\">" + timeline +
          "</ol></section></div>\n";
  body += fmt::format("<h2>Content <small>(version {})</small></h2>\n<article class=\"markdown\">",
                      s.current_version) +
          render_markdown(s.content) + "</article>\n";
  send_html(response, page(s.title, "Sessions", body));
}

}  // namespace

void add_session_pages(httplib::Server& server, Site& site) {
  auto list =
      wrap(Kind::html, [&site](const httplib::Request& request, httplib::Response& response) {
        sessions_page(site, request, response);
      });
  server.Get("/", list);
  server.Get("/sessions", list);
  server.Get(R"(/sessions/([^/]+))", wrap(Kind::html, [&site](const httplib::Request& request,
                                                              httplib::Response& response) {
               session_page(site, request, response);
             }));
}

}  // namespace planctl::serve
