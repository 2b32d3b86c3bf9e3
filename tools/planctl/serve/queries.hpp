// planctl serve: query parameters to library queries, with the names and
// checks of `planctl list` / `planctl log` flags (?status=active&order-by=title
// is `list --status active --order-by title`). Bad values fail like the CLI.
#pragma once

#include <httplib.h>

#include <planning/planning.hpp>

namespace planctl::serve {

// status (repeatable), repo-path, repo-url, project, created-by,
// created-after, created-before, updated-after, updated-before, has-content,
// no-content, title-contains, order-by, desc, limit, offset.
planning::SessionFilters session_filters(const httplib::Request& request);
// session, type (repeatable), from, to, since, until, limit.
planning::EventQuery event_query(const httplib::Request& request);

}  // namespace planctl::serve
