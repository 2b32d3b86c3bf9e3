// planctl serve: the handler wrapper, error responses and parameter helpers.
#include "site.hpp"

#include <exception>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "../output.hpp"
#include "html.hpp"

namespace planctl::serve {

int http_status(Exit code) {
  switch (code) {
    case Exit::not_found:
      return 404;
    case Exit::usage:
    case Exit::invalid_argument:
      return 400;
    case Exit::invalid_state:
    case Exit::conflict:
      return 409;
    case Exit::ok:
    case Exit::verify_failed:
    case Exit::corruption:
    case Exit::storage:
      return 500;
  }
  return 500;
}

namespace {

void send_failure(Kind kind, httplib::Response& response, const Failure& failure) {
  response.status = http_status(failure.code);
  if (kind == Kind::api) {
    const nlohmann::json document = {
        {"error",
         {{"code", failure.error_code.empty() ? exit_name(failure.code) : failure.error_code},
          {"message", failure.message},
          {"exit", static_cast<int>(failure.code)}}}};
    send_json(response, json_document(document));
    return;
  }
  send_html(response, page("Error", "",
                           fmt::format("<h1>{}</h1><p class=\"error\">{}</p>", response.status,
                                       escape(failure.message))));
}

}  // namespace

Handler wrap(Kind kind, Handler handler) {
  return [kind, handler = std::move(handler)](const httplib::Request& request,
                                              httplib::Response& response) {
    try {
      handler(request, response);
    } catch (const Failure& failure) {
      send_failure(kind, response, failure);
    } catch (const std::exception& e) {
      send_failure(kind, response, Failure{Exit::storage, e.what(), "storage"});
    }
  };
}

std::optional<std::string> param(const httplib::Request& request, const char* name) {
  if (!request.has_param(name)) return std::nullopt;
  auto value = request.get_param_value(name);
  if (value.empty()) return std::nullopt;
  return value;
}

std::vector<std::string> params(const httplib::Request& request, const char* name) {
  std::vector<std::string> values;
  const auto count = request.get_param_value_count(name);
  for (std::size_t i = 0; i < count; ++i) {
    auto value = request.get_param_value(name, i);
    if (!value.empty()) values.push_back(std::move(value));
  }
  return values;
}

bool flag(const httplib::Request& request, const char* name) {
  const auto value = param(request, name);
  return value && *value != "0" && *value != "false";
}

void send_html(httplib::Response& response, const std::string& html) {
  response.set_content(html, "text/html; charset=utf-8");
}

void send_json(httplib::Response& response, const std::string& text) {
  response.set_content(text, "application/json; charset=utf-8");
}

}  // namespace planctl::serve
