// planctl serve: HTML building blocks. Every string that reaches a page goes
// through escape() (text and attribute values alike) or url_component(); the
// layout adds the navigation and links the embedded stylesheet and script.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <planning/planning.hpp>

namespace planctl::serve {

// &, <, >, " and ' as character references: safe in text and in quoted attributes.
std::string escape(std::string_view text);
// Percent-encodes everything but unreserved characters (RFC 3986), for a path
// segment or a query value.
std::string url_component(std::string_view text);
// "a=1&b=x%20y" from pairs (values encoded, empty values left out).
std::string query_string(const std::vector<std::pair<std::string, std::string>>& pairs);

// A whole page: doctype, title, navigation (the `active` entry marked), body.
std::string page(std::string_view title, std::string_view active, std::string_view body);

// "2025-01-01 12:00:00 UTC" inside a <time> carrying the exact ISO text.
std::string time_html(planning::Timestamp t);
// A status as a coloured badge.
std::string status_badge(planning::Status status);
// Link to a session page, the text escaped.
std::string session_link(std::string_view id, std::string_view text);

}  // namespace planctl::serve
