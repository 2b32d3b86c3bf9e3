// planctl serve: parameter parsing shared by the pages and the /api/ routes.
#include "queries.hpp"

#include "../input.hpp"
#include "site.hpp"

namespace planctl::serve {
namespace {

std::optional<planning::Timestamp> time_param(const httplib::Request& request, const char* name) {
  const auto text = param(request, name);
  if (!text) return std::nullopt;
  return parse_time(name, *text);
}

}  // namespace

planning::SessionFilters session_filters(const httplib::Request& request) {
  planning::SessionFilters f;
  for (const auto& s : params(request, "status")) f.status.insert(parse_status("status", s));
  f.repository_path = param(request, "repo-path");
  f.repository_url = param(request, "repo-url");
  f.project_id = param(request, "project");
  f.created_by = param(request, "created-by");
  f.created_after = time_param(request, "created-after");
  f.created_before = time_param(request, "created-before");
  f.updated_after = time_param(request, "updated-after");
  f.updated_before = time_param(request, "updated-before");
  if (flag(request, "has-content") && flag(request, "no-content"))
    fail(Exit::usage, "has-content excludes no-content");
  if (flag(request, "has-content")) f.has_content = true;
  if (flag(request, "no-content")) f.has_content = false;
  f.title_contains = param(request, "title-contains");
  if (const auto order = param(request, "order-by"))
    f.order_by = parse_order_by("order-by", *order);
  f.descending = flag(request, "desc");
  if (const auto limit = param(request, "limit")) f.limit = parse_unsigned("limit", *limit);
  if (const auto offset = param(request, "offset")) f.offset = parse_unsigned("offset", *offset);
  return f;
}

planning::EventQuery event_query(const httplib::Request& request) {
  planning::EventQuery q;
  q.session_id = param(request, "session");
  for (const auto& t : params(request, "type")) q.types.insert(parse_event_type("type", t));
  if (const auto from = param(request, "from")) q.from_sequence = parse_unsigned("from", *from);
  if (const auto to = param(request, "to")) q.to_sequence = parse_unsigned("to", *to);
  q.from_time = time_param(request, "since");
  q.to_time = time_param(request, "until");
  if (const auto limit = param(request, "limit"))
    q.limit = static_cast<std::size_t>(parse_unsigned("limit", *limit));
  return q;
}

}  // namespace planctl::serve
