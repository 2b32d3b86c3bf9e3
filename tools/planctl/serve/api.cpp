// planctl serve: the JSON API. Each route answers exactly what the matching
// `planctl --json` verb prints (the same to_json and the same formatting):
//   GET /api/sessions?<list filters>      planctl --json list ...
//   GET /api/sessions/ID                  planctl --json show ID
//   GET /api/sessions/ID/versions         planctl --json history ID
//   GET /api/sessions/ID/versions/N       planctl --json show ID --version N
//   GET /api/sessions/ID/diff?a=A&b=B     planctl --json diff ID A B
//   GET /api/stats                        planctl --json stats
//   GET /api/events?<log filters>         planctl --json log ... (JSON Lines; limit
//                                         defaults to 1,000, at most 10,000)
//   GET /api/info                         planctl --json info
//   GET /api/verify                       planctl --json verify
// Errors are planctl's JSON error document with an HTTP status (site.cpp).
#include <string>

#include <nlohmann/json.hpp>

#include "../input.hpp"
#include "../output.hpp"
#include "queries.hpp"
#include "site.hpp"

namespace planctl::serve {
namespace {

constexpr std::size_t kDefaultEvents = 1000;
constexpr std::size_t kMaxEvents = 10000;

template <typename Range>
nlohmann::json array_of(const Range& items) {
  auto out = nlohmann::json::array();
  for (const auto& item : items) out.push_back(planning::to_json(item));
  return out;
}

}  // namespace

void add_api_routes(httplib::Server& server, Site& site) {
  using Request = httplib::Request;
  using Response = httplib::Response;
  auto get = [&server](const char* pattern, Handler handler) {
    server.Get(pattern, wrap(Kind::api, std::move(handler)));
  };
  get("/api/sessions", [&site](const Request& request, Response& response) {
    send_json(response, json_document(array_of(unwrap(site.store.list(session_filters(request))))));
  });
  get(R"(/api/sessions/([^/]+))", [&site](const Request& request, Response& response) {
    send_json(response,
              json_document(planning::to_json(unwrap(site.store.get(request.matches[1].str())))));
  });
  get(R"(/api/sessions/([^/]+)/versions)", [&site](const Request& request, Response& response) {
    send_json(response,
              json_document(array_of(unwrap(site.store.get_versions(request.matches[1].str())))));
  });
  get(R"(/api/sessions/([^/]+)/versions/([^/]+))",
      [&site](const Request& request, Response& response) {
        const auto n = parse_u32("--version", request.matches[2].str());
        send_json(response, json_document(planning::to_json(
                                unwrap(site.store.get_version(request.matches[1].str(), n)))));
      });
  get(R"(/api/sessions/([^/]+)/diff)", [&site](const Request& request, Response& response) {
    const auto a = param(request, "a");
    const auto b = param(request, "b");
    if (!a || !b) fail(Exit::usage, "diff: parameters a and b (version numbers) are required");
    const auto diff = unwrap(site.store.compare_versions(
        request.matches[1].str(), parse_u32("version A", *a), parse_u32("version B", *b)));
    send_json(response, json_document(to_json(diff)));
  });
  get("/api/stats", [&site](const Request&, Response& response) {
    send_json(response, json_document(to_json(unwrap(site.store.get_statistics()))));
  });
  get("/api/events", [&site](const Request& request, Response& response) {
    auto query = event_query(request);
    query.limit = query.limit.value_or(kDefaultEvents);
    if (*query.limit > kMaxEvents)
      fail(Exit::invalid_argument, "limit: at most 10000 events per request (page with from)");
    std::string lines;
    unwrap(site.store.scan_events(query, [&lines](const planning::Event& e) {
      lines += json_line(planning::to_json(e));
      return true;
    }));
    response.set_content(lines, "application/x-ndjson; charset=utf-8");
  });
  get("/api/info", [&site](const Request&, Response& response) {
    send_json(response, json_document(to_json(unwrap(site.store.info()))));
  });
  get("/api/verify", [&site](const Request&, Response& response) {
    send_json(response, json_document(to_json(unwrap(site.store.verify()))));
  });
  get(R"(/api/.*)", [](const Request&, Response&) {
    fail(Exit::not_found, "no such API route (see docs/planctl.md)");
  });
}

}  // namespace planctl::serve
