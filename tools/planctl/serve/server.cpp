// planctl serve: binding, the request guard (methods, limits, host, token),
// security headers, error pages, and shutdown on SIGINT / SIGTERM.
#include "server.hpp"

#include <arpa/inet.h>
#include <pthread.h>
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <cctype>
#include <csignal>
#include <cstdio>
#include <random>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include <fmt/format.h>
#include <httplib.h>

#include "../output.hpp"
#include "html.hpp"
#include "site.hpp"

namespace planctl::serve {
namespace {

constexpr std::size_t kMaxBody = 4096;
constexpr std::size_t kMaxHeaderFields = 64;
constexpr std::size_t kMaxHeaderBytes = 16 * 1024;
constexpr const char* kCookie = "planctl_token";

bool same_token(std::string_view given, std::string_view token) {
  // Constant time in the given text's content (its length is not secret).
  if (given.size() != token.size()) return false;
  unsigned char diff = 0;
  for (std::size_t i = 0; i < token.size(); ++i)
    diff |= static_cast<unsigned char>(given[i] ^ token[i]);
  return diff == 0;
}

std::string cookie_value(const httplib::Request& request, std::string_view name) {
  const auto cookies = request.get_header_value("Cookie");
  std::string_view rest = cookies;
  while (!rest.empty()) {
    auto end = rest.find(';');
    auto item = rest.substr(0, end);
    rest = end == std::string_view::npos ? std::string_view() : rest.substr(end + 1);
    while (!item.empty() && item.front() == ' ') item.remove_prefix(1);
    if (item.size() > name.size() && item.starts_with(name) && item[name.size()] == '=')
      return std::string(item.substr(name.size() + 1));
  }
  return {};
}

// The host part of a Host header ("127.0.0.1:8080", "[::1]:8080", "localhost").
std::string_view host_part(std::string_view host) {
  if (host.starts_with('[')) {
    const auto end = host.find(']');
    return end == std::string_view::npos ? host : host.substr(1, end - 1);
  }
  return host.substr(0, host.find(':'));
}

void refuse(httplib::Response& response, int status, std::string_view message) {
  response.status = status;
  response.set_content(std::string(message) + "\n", "text/plain; charset=utf-8");
}

// Who may read: with a token, a request carries it (Authorization: Bearer, or
// the cookie that the one-time URL /login?once=CODE sets, once).
struct Access {
  std::string token;      // empty: loopback only, no token
  std::string once_code;  // of the one-time URL printed at start-up
  std::atomic<bool> once_used{false};
};

std::string random_code() {
  std::random_device random;
  std::string code;
  for (int i = 0; i < 8; ++i) code += fmt::format("{:08x}", random());
  return code;
}

// Everything a request must pass before routing; Handled means refused (or
// redirected) here.
httplib::Server::HandlerResponse guard(const httplib::Request& request, httplib::Response& response,
                                       Access& access) {
  const std::string& token = access.token;
  using R = httplib::Server::HandlerResponse;
  if (request.method != "GET" && request.method != "HEAD") {
    response.set_header("Allow", "GET, HEAD");
    refuse(response, 405, "the console is read-only: only GET and HEAD");
    return R::Handled;
  }
  std::size_t bytes = 0;
  for (const auto& [name, value] : request.headers) bytes += name.size() + value.size() + 4;
  if (request.headers.size() > kMaxHeaderFields || bytes > kMaxHeaderBytes) {
    refuse(response, 431, "too many or too large header fields");
    return R::Handled;
  }
  if (token.empty()) {
    if (request.has_header("Host") && !is_loopback(host_part(request.get_header_value("Host")))) {
      refuse(response, 403, "the console answers loopback host names only");
      return R::Handled;
    }
    return R::Unhandled;
  }
  const auto authorization = request.get_header_value("Authorization");
  if (authorization.starts_with("Bearer ") && same_token(authorization.substr(7), token))
    return R::Unhandled;
  if (same_token(cookie_value(request, kCookie), token)) return R::Unhandled;
  if (request.path == "/login" && request.has_param("once")) {
    // The one-time URL: sets the cookie the first time, never again (the
    // token itself never appears in a URL, a history or a log).
    if (same_token(request.get_param_value("once"), access.once_code) &&
        !access.once_used.exchange(true)) {
      response.set_header("Set-Cookie",
                          fmt::format("{}={}; Path=/; HttpOnly; SameSite=Strict", kCookie, token));
      response.set_redirect("/", 303);
      return R::Handled;
    }
    refuse(response, 403,
           "this one-time URL is wrong or already used: send Authorization: Bearer <TOKEN>, or "
           "restart planctl serve for a new one");
    return R::Handled;
  }
  response.set_header("WWW-Authenticate", "Bearer realm=\"planctl\"");
  refuse(response, 401,
         "a token is required (Authorization: Bearer, or the one-time URL planctl serve printed)");
  return R::Handled;
}

void security_headers(httplib::Response& response) {
  response.set_header("Content-Security-Policy",
                      "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; "
                      "connect-src 'self'; form-action 'self'; base-uri 'none'; "
                      "frame-ancestors 'none'");
  response.set_header("X-Content-Type-Options", "nosniff");
  response.set_header("Referrer-Policy", "no-referrer");
  response.set_header("X-Frame-Options", "DENY");
  if (!response.has_header("Cache-Control")) response.set_header("Cache-Control", "no-store");
}

// Pages for errors that no handler answered (unknown routes: 404).
void error_page(const httplib::Request& request, httplib::Response& response) {
  if (!response.body.empty()) return;
  if (request.path.starts_with("/api/")) {
    const bool not_found = response.status == 404;
    const Exit code = not_found ? Exit::not_found : Exit::usage;
    send_json(response, json_document({{"error",
                                        {{"code", exit_name(code)},
                                         {"message", fmt::format("HTTP {}", response.status)},
                                         {"exit", static_cast<int>(code)}}}}));
    return;
  }
  send_html(response,
            page("Error", "",
                 fmt::format("<h1>{}</h1><p class=\"error\">{}</p><p><a "
                             "href=\"/sessions\">sessions</a></p>",
                             response.status,
                             response.status == 404 ? "There is no such page." : "Bad request.")));
}

}  // namespace

Listen parse_listen(std::string_view text) {
  std::string_view host, port;
  if (text.starts_with('[')) {
    const auto end = text.find("]:");
    if (end == std::string_view::npos)
      fail(Exit::usage, fmt::format("--listen '{}': expected HOST:PORT or [IPV6]:PORT", text));
    host = text.substr(1, end - 1);
    port = text.substr(end + 2);
  } else {
    const auto colon = text.rfind(':');
    if (colon == std::string_view::npos || text.find(':') != colon)
      fail(Exit::usage, fmt::format("--listen '{}': expected HOST:PORT or [IPV6]:PORT", text));
    host = text.substr(0, colon);
    port = text.substr(colon + 1);
  }
  int number = 0;
  bool valid = !host.empty() && !port.empty() && port.size() <= 5;
  for (const char c : port) {
    valid = valid && c >= '0' && c <= '9';
    number = number * 10 + (c - '0');
  }
  if (!valid || number > 65535)
    fail(Exit::usage, fmt::format("--listen '{}': expected HOST:PORT with a port 0..65535", text));
  return {std::string(host), number};
}

bool is_loopback(std::string_view host) {
  if (host == "localhost") return true;
  const std::string text(host);
  in_addr v4{};
  if (inet_pton(AF_INET, text.c_str(), &v4) == 1) return (ntohl(v4.s_addr) >> 24) == 127;
  in6_addr v6{};
  if (inet_pton(AF_INET6, text.c_str(), &v6) == 1) return IN6_IS_ADDR_LOOPBACK(&v6);
  return false;
}

Exit run_console(planning::SessionManager& store, const Listen& listen, const std::string& token) {
  std::atomic<bool> stopping{false};
  Site site{store, stopping};
  httplib::Server server;
  // A live tail holds a worker for as long as it lasts, an idle keep-alive
  // connection for up to 2 s: 32 workers, at most Site::max_streams (8) tails.
  server.new_task_queue = [] { return new httplib::ThreadPool(32); };
  server.set_payload_max_length(kMaxBody);
  server.set_read_timeout(5, 0);
  server.set_write_timeout(5, 0);
  server.set_keep_alive_max_count(100);
  server.set_keep_alive_timeout(2);
  Access access;
  access.token = token;
  if (!token.empty()) access.once_code = random_code();
  server.set_pre_routing_handler(
      [&access](const httplib::Request& request, httplib::Response& response) {
        return guard(request, response, access);
      });
  server.set_post_routing_handler(
      [](const httplib::Request&, httplib::Response& response) { security_headers(response); });
  server.set_error_handler([](const httplib::Request& request, httplib::Response& response) {
    error_page(request, response);
    security_headers(response);
  });
  add_static_files(server);
  add_api_routes(server, site);
  add_live_tail(server, site);
  add_session_pages(server, site);
  add_version_pages(server, site);
  add_audit_pages(server, site);

  int port = listen.port;
  if (port == 0) {
    port = server.bind_to_any_port(listen.host);
    if (port < 0) fail(Exit::storage, fmt::format("cannot listen on {}", listen.host));
  } else if (!server.bind_to_port(listen.host, port)) {
    fail(Exit::storage, fmt::format("cannot listen on {}:{}", listen.host, port));
  }

  // SIGINT / SIGTERM stop the server from a thread of their own (blocked here,
  // so httplib's threads, made later, inherit the mask).
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  std::signal(SIGPIPE, SIG_IGN);
  std::thread watcher([&] {
    int received = 0;
    sigwait(&signals, &received);
    stopping = true;
    server.stop();
  });

  const std::string shown_host =
      listen.host.find(':') != std::string::npos ? "[" + listen.host + "]" : listen.host;
  std::string line = fmt::format(
      "planctl serve: listening on http://{}:{}/ (read-only; Ctrl-C stops)\n", shown_host, port);
  if (!token.empty())
    line += fmt::format(
        "planctl serve: every request needs the token: open http://{}:{}/login?once={} in a "
        "browser (it sets a cookie, once; the URL is then spent), or send "
        "'Authorization: Bearer <TOKEN>'\n",
        shown_host, port, access.once_code);
  std::fputs(line.c_str(), stdout);
  std::fflush(stdout);

  const bool listened = server.listen_after_bind();
  const bool stopped_by_signal = stopping.exchange(true);
  // Ends the watcher when the server stopped by itself (the signal is blocked
  // everywhere, so it only wakes sigwait).
  if (!stopped_by_signal) kill(getpid(), SIGTERM);
  watcher.join();
  if (!listened && !stopped_by_signal) fail(Exit::storage, "the server stopped unexpectedly");
  return Exit::ok;
}

}  // namespace planctl::serve
