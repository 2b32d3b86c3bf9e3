// planctl serve: what every route shares — the store (opened read-only), the
// stop flag, the SSE stream budget — and the helpers that turn a handler's
// outcome into a response. Handlers report errors by throwing planctl::Failure
// (unwrap, fail, parse_*); wrap() turns it into a status code and an HTML page,
// or for /api/ the JSON error document `planctl --json` prints on stderr.
#pragma once

#include <atomic>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include <httplib.h>

#include <planning/planning.hpp>

#include "../context.hpp"

namespace planctl::serve {

struct Site {
  planning::SessionManager& store;
  std::atomic<bool>& stopping;  // set when the server shuts down (streams end)
  std::atomic<int> streams{0};  // live tails open now
  int max_streams = 8;          // more are refused with 503
};

enum class Kind { html, api };

using Handler = std::function<void(const httplib::Request&, httplib::Response&)>;
// Runs `handler`; a Failure (or any exception) becomes the error response.
Handler wrap(Kind kind, Handler handler);

// HTTP status for a planctl exit code (not_found 404, usage / invalid 400, ...).
int http_status(Exit code);

// A query parameter when given non-empty.
std::optional<std::string> param(const httplib::Request& request, const char* name);
// Every value of a repeatable parameter (?status=a&status=b), empty ones left out.
std::vector<std::string> params(const httplib::Request& request, const char* name);
// A flag parameter: given with a value other than "", "0" or "false".
bool flag(const httplib::Request& request, const char* name);

void send_html(httplib::Response& response, const std::string& html);
void send_json(httplib::Response& response, const std::string& text);

// Route groups (one file each).
void add_session_pages(httplib::Server& server, Site& site);  // pages_sessions.cpp
void add_version_pages(httplib::Server& server, Site& site);  // pages_versions.cpp
void add_audit_pages(httplib::Server& server, Site& site);    // pages_audit.cpp
void add_api_routes(httplib::Server& server, Site& site);     // api.cpp
void add_live_tail(httplib::Server& server, Site& site);      // live_tail.cpp
void add_static_files(httplib::Server& server);               // assets.cpp

}  // namespace planctl::serve
