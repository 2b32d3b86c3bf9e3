// planctl serve: the web console's HTTP server (cpp-httplib) over a store
// opened read-only. Security model (docs/planctl.md, "serve"):
//  * binds loopback by default; a non-loopback address needs a token;
//  * with a token every request carries it — "Authorization: Bearer TOKEN",
//    or the cookie that the one-time URL /login?once=CODE (printed at
//    start-up) sets on its first use; the token is never taken from a URL;
//  * without a token the Host header must name a loopback host (a page on
//    another site cannot reach the console through DNS rebinding);
//  * only GET and HEAD: any other method is 405 before its body is read (and
//    httplib reads no body of a GET); more than 64 header fields or 16 KiB of
//    headers are 431; httplib itself answers a request line over 8 KiB with
//    414 and a header line over 8 KiB with 400;
//  * every page is escaped HTML under a Content-Security-Policy that allows
//    only this server's own script and stylesheet.
#pragma once

#include <string>
#include <string_view>

#include <planning/planning.hpp>

#include "../context.hpp"

namespace planctl::serve {

struct Listen {
  std::string host;
  int port = 0;  // 0: any free port
};

// "HOST:PORT" or "[IPV6]:PORT". Fails with usage on anything else.
Listen parse_listen(std::string_view text);
// localhost, 127.0.0.0/8, ::1.
bool is_loopback(std::string_view host);

// Serves until SIGINT or SIGTERM. Prints the URL on stdout once listening.
Exit run_console(planning::SessionManager& store, const Listen& listen, const std::string& token);

}  // namespace planctl::serve
