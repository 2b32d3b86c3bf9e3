// planctl serve: the audit log (filters, each event's fields and JSON, the live
// tail's controls) and the info page (store facts, projection checkpoints and
// lag, verify on request).
//   GET /audit   ?session=&type=&from=&to=&since=&until=&limit=  (none: the
//                latest 100 events)
//   GET /info    ?verify=1
#include <string>
#include <vector>

#include <fmt/format.h>

#include "../output.hpp"
#include "html.hpp"
#include "queries.hpp"
#include "site.hpp"

namespace planctl::serve {
namespace {

constexpr std::size_t kDefaultEvents = 100;
constexpr std::size_t kMaxEvents = 1000;

const char* const kEventTypes[] = {"session_created",  "session_updated",   "session_paused",
                                   "session_resumed",  "session_converted", "session_archived",
                                   "version_restored", "version_created",   "session_removed"};

std::string audit_form(const httplib::Request& request) {
  std::string types;
  const auto chosen = params(request, "type");
  for (const char* t : kEventTypes) {
    const bool on = std::find(chosen.begin(), chosen.end(), t) != chosen.end();
    types += fmt::format("<option value=\"{}\"{}>{}</option>", t, on ? " selected" : "", t);
  }
  auto input = [&](const char* name, const char* label) {
    return fmt::format("<label>{}<input name=\"{}\" value=\"{}\"></label>", label, name,
                       escape(param(request, name).value_or("")));
  };
  return "<form class=\"filters\" method=\"get\" action=\"/audit\">" + input("session", "Session") +
         "<label>Types<select name=\"type\" multiple size=\"3\">" + types + "</select></label>" +
         input("from", "From seq") + input("to", "To seq") + input("since", "Since") +
         input("until", "Until") + input("limit", "Limit") +
         "<button type=\"submit\">Filter</button> <a href=\"/audit\">clear</a></form>\n";
}

void audit_page(Site& site, const httplib::Request& request, httplib::Response& response) {
  auto query = event_query(request);
  query.limit = std::min(query.limit.value_or(kDefaultEvents), kMaxEvents);
  const auto head = unwrap(site.store.head_sequence());
  // Without any parameter the page shows the latest events (where the live
  // tail continues); with filters, the first matching ones in log order.
  const bool latest = request.params.empty() && head > *query.limit;
  if (latest) query.from_sequence = head - *query.limit + 1;
  std::vector<planning::Event> events;
  unwrap(site.store.scan_events(query, [&events](const planning::Event& e) {
    events.push_back(e);
    return true;
  }));
  std::string rows;
  for (const auto& e : events)
    rows +=
        "<tr class=\"event\" data-seq=\"" + std::to_string(e.sequence) + "\">" +
        fmt::format(
            "<td class=\"num\">{}</td><td>{}</td><td>{}</td><td><span class=\"type\">{}</span></td>"
            "<td>{}</td><td><details><summary>JSON</summary><pre>{}</pre></details></td></tr>\n",
            e.sequence, time_html(e.timestamp), session_link(e.session_id, e.session_id),
            planning::to_string(e.type), escape(e.actor),
            escape(json_document(planning::to_json(e))));
  // The live tail continues after the head as of this page, with the same
  // session and type filters.
  std::vector<std::pair<std::string, std::string>> tail;
  if (query.session_id) tail.emplace_back("session", *query.session_id);
  for (const auto& t : params(request, "type")) tail.emplace_back("type", t);
  std::string body = "<h1>Audit log</h1>\n" + audit_form(request);
  body += fmt::format(
      "<section id=\"live\" data-after=\"{}\" data-query=\"{}\"><button id=\"live-toggle\" "
      "type=\"button\">Start live tail</button> <span id=\"live-state\" "
      "class=\"muted\">stopped</span></section>\n",
      head, escape(query_string(tail)));
  body +=
      "<table class=\"events\"><thead><tr><th>Seq</th><th>Time</th><th>Session</th>"
      "<th>Type</th><th>Actor</th><th>Event</th></tr></thead><tbody id=\"rows\">\n" +
      rows + "</tbody><tbody id=\"live-rows\"></tbody></table>\n";
  if (events.empty()) body += "<p class=\"muted\">No events match.</p>";
  if (latest)
    body += fmt::format(
        "<nav class=\"pager\"><a rel=\"prev\" href=\"/audit?from={}&amp;to={}\">← earlier "
        "events</a></nav>",
        query.from_sequence > *query.limit ? query.from_sequence - *query.limit : 1,
        query.from_sequence - 1);
  if (events.size() == *query.limit && events.back().sequence < query.to_sequence) {
    std::vector<std::pair<std::string, std::string>> next;
    for (const char* name : {"session", "to", "since", "until", "limit"})
      if (const auto v = param(request, name)) next.emplace_back(name, *v);
    for (const auto& t : params(request, "type")) next.emplace_back("type", t);
    next.emplace_back("from", std::to_string(events.back().sequence + 1));
    body += fmt::format("<nav class=\"pager\"><a rel=\"next\" href=\"/audit?{}\">next →</a></nav>",
                        escape(query_string(next)));
  }
  send_html(response, page("Audit log", "Audit", body));
}

void info_page(Site& site, const httplib::Request& request, httplib::Response& response) {
  const auto info = unwrap(site.store.info());
  std::string rows;
  auto row = [&rows](const char* name, const std::string& value) {
    rows += fmt::format("<tr><th>{}</th><td>{}</td></tr>", name, value);
  };
  row("path", escape(info.path.string()));
  row("format version", std::to_string(info.format_version));
  row("head sequence", std::to_string(info.head_sequence));
  row("head hash", "<code>" + planning::to_hex(info.head_hash) + "</code>");
  row("sessions", std::to_string(info.sessions));
  row("versions", std::to_string(info.versions));
  row("map", fmt::format("{} used of {}", human_bytes(info.map_used), human_bytes(info.map_size)));
  row("file size", human_bytes(info.file_size));
  row("page size", std::to_string(info.page_size));
  row("readers", fmt::format("{} in use of {}", info.readers_in_use, info.max_readers));
  if (!info.shared_log.empty()) {
    row("shared log", escape(info.shared_log));
    row("shared head", std::to_string(info.shared_head_sequence));
  }
  std::string projections;
  for (const auto& p : info.projections) {
    const auto lag = info.head_sequence > p.checkpoint ? info.head_sequence - p.checkpoint : 0;
    projections += fmt::format(
        "<tr><td>{}</td><td>{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td "
        "class=\"num {}\">{}</td></tr>",
        escape(p.name), p.built_in ? "built-in" : "user", p.schema_version, p.checkpoint,
        lag == 0 ? "ok" : "behind", lag);
  }
  std::string body = "<h1>Store</h1><table class=\"fields\">" + rows + "</table>\n";
  body +=
      "<h2>Projections</h2><table class=\"projections\"><thead><tr><th>Name</th><th>Kind</th>"
      "<th class=\"num\">Schema</th><th class=\"num\">Checkpoint</th><th class=\"num\">Lag</th>"
      "</tr></thead><tbody>" +
      projections + "</tbody></table>\n<h2>Verify</h2>";
  if (!flag(request, "verify")) {
    body +=
        "<p><a class=\"button\" id=\"run-verify\" href=\"/info?verify=1\">Run verify</a> "
        "<span class=\"muted\">checksums, hash chain, projections against a fresh "
        "replay</span></p>";
  } else {
    const auto report = unwrap(site.store.verify());
    body += fmt::format(
        "<p id=\"verify-result\" class=\"{}\"><b>{}</b>: {} events and {} sessions checked, {} "
        "issues</p>",
        report.ok() ? "ok" : "failed", report.ok() ? "OK" : "FAILED", report.events_checked,
        report.sessions_checked, report.issues.size());
    if (!report.ok()) {
      body += "<ul class=\"issues\">";
      for (const auto& issue : report.issues)
        body += fmt::format(
            "<li>{}: {}</li>",
            issue.sequence == 0 ? std::string("store") : fmt::format("sequence {}", issue.sequence),
            escape(issue.what));
      body += "</ul>";
    }
  }
  send_html(response, page("Info", "Info", body));
}

}  // namespace

void add_audit_pages(httplib::Server& server, Site& site) {
  server.Get("/audit", wrap(Kind::html,
                            [&site](const httplib::Request& request, httplib::Response& response) {
                              audit_page(site, request, response);
                            }));
  server.Get("/info", wrap(Kind::html,
                           [&site](const httplib::Request& request, httplib::Response& response) {
                             info_page(site, request, response);
                           }));
}

}  // namespace planctl::serve
