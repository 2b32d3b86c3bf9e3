#include "engine/src/query_planner.hpp"

#include <algorithm>
#include <cctype>

#include "engine/src/validation.hpp"
#include "events/src/bytes.hpp"
#include "projections/src/databases.hpp"
#include "projections/src/indexes.hpp"

namespace planning::detail {

namespace {

enum class SourceOrder { created, updated, none };

bool contains_ci(std::string_view haystack, std::string_view needle) {
  if (needle.empty()) return true;
  auto it = std::search(haystack.begin(), haystack.end(), needle.begin(), needle.end(),
                        [](char a, char b) {
                          return std::tolower(static_cast<unsigned char>(a)) ==
                                 std::tolower(static_cast<unsigned char>(b));
                        });
  return it != haystack.end();
}

std::string time_bound(Timestamp t) { return be64(ordered_time(t.time_since_epoch().count())); }

// Visits keys of a (non-dup) time index within the exclusive bounds.
void scan_time_index(const Txn& txn, MDB_dbi dbi, const std::optional<Timestamp>& after,
                     const std::optional<Timestamp>& before, bool descending,
                     const std::function<bool(std::string_view)>& visit) {
  Cursor cursor(txn, dbi);
  MDB_val k{}, v{};
  const std::string lower = after ? time_bound(*after + std::chrono::nanoseconds(1)) : "";
  const std::string upper = before ? time_bound(*before) : "";
  auto in_range = [&](std::string_view key) {
    if (after && key < std::string_view(lower)) return false;
    if (before && key.substr(0, 8) >= std::string_view(upper)) return false;
    return true;
  };
  bool ok;
  if (!descending) {
    if (after) {
      k = to_val(lower);
      ok = cursor.get(k, v, MDB_SET_RANGE);
    } else {
      ok = cursor.get(k, v, MDB_FIRST);
    }
    for (; ok; ok = cursor.get(k, v, MDB_NEXT)) {
      const auto key = from_val(k);
      if (before && key.substr(0, 8) >= std::string_view(upper)) break;
      if (!visit(key)) break;
    }
  } else {
    if (before) {
      k = to_val(upper);
      ok = cursor.get(k, v, MDB_SET_RANGE);
      ok = ok ? cursor.get(k, v, MDB_PREV) : cursor.get(k, v, MDB_LAST);
    } else {
      ok = cursor.get(k, v, MDB_LAST);
    }
    for (; ok; ok = cursor.get(k, v, MDB_PREV)) {
      const auto key = from_val(k);
      if (after && key < std::string_view(lower)) break;
      if (!in_range(key)) continue;
      if (!visit(key)) break;
    }
  }
}

}  // namespace

bool matches(const Session& s, const SessionFilters& f) {
  if (!f.status.empty() && !f.status.contains(s.status)) return false;
  if (f.repository_path && s.repository_path != *f.repository_path) return false;
  if (f.repository_url && s.repository_url != *f.repository_url) return false;
  if (f.project_id && s.project_id != *f.project_id) return false;
  if (f.created_by && s.created_by != *f.created_by) return false;
  if (f.created_after && !(s.created_at > *f.created_after)) return false;
  if (f.created_before && !(s.created_at < *f.created_before)) return false;
  if (f.updated_after && !(s.updated_at > *f.updated_after)) return false;
  if (f.updated_before && !(s.updated_at < *f.updated_before)) return false;
  if (f.has_content && (*f.has_content == s.content.empty())) return false;
  if (f.title_contains && !contains_ci(s.title, *f.title_contains)) return false;
  return true;
}

Result<std::vector<Session>> run_list(const Txn& txn, const Environment& env,
                                      const SessionFilters& f, const SessionLoader& load) {
  for (const auto* text : {&f.repository_path, &f.repository_url, &f.project_id, &f.created_by,
                           &f.title_contains}) {
    if (*text && !is_valid_utf8(**text)) {
      return fail(ErrorCode::invalid_argument, "filter text is not valid UTF-8");
    }
  }

  // Pick the source.
  SourceOrder source_order = SourceOrder::created;
  std::function<void(bool descending, const std::function<bool(std::string_view)>&)> source;
  auto dup_source = [&](MDB_dbi dbi, std::string key) {
    return [&txn, dbi, key](bool desc, const std::function<bool(std::string_view)>& visit) {
      kv_scan_dups(txn, dbi, key, desc, visit);
    };
  };
  if (f.limit && *f.limit == 0) return std::vector<Session>{};
  // Empty values are not indexed ("no repository"): those filters are checked on
  // each candidate instead.
  if (f.repository_path && !f.repository_path->empty()) {
    source = dup_source(env.dbi(txn, IndexesDatabases::repo_path), string_key(*f.repository_path));
  } else if (f.repository_url && !f.repository_url->empty()) {
    source = dup_source(env.dbi(txn, IndexesDatabases::repo_url), string_key(*f.repository_url));
  } else if (f.project_id && !f.project_id->empty()) {
    source = dup_source(env.dbi(txn, IndexesDatabases::project), string_key(*f.project_id));
  } else if (f.status.size() == 1) {
    source = dup_source(env.dbi(txn, IndexesDatabases::status), status_key(*f.status.begin()));
  } else if (!f.status.empty()) {
    source = [&](bool desc, const std::function<bool(std::string_view)>& visit) {
      std::vector<std::string> keys;
      for (Status s : f.status) {
        kv_scan_dups(txn, env.dbi(txn, IndexesDatabases::status), status_key(s), false, [&](std::string_view k) {
          keys.emplace_back(k);
          return true;
        });
      }
      std::sort(keys.begin(), keys.end());
      if (desc) std::reverse(keys.begin(), keys.end());
      for (const auto& k : keys) {
        if (!visit(k)) break;
      }
    };
  } else if (!f.created_after && !f.created_before && (f.updated_after || f.updated_before)) {
    source_order = SourceOrder::updated;
    source = [&](bool desc, const std::function<bool(std::string_view)>& visit) {
      scan_time_index(txn, env.dbi(txn, IndexesDatabases::updated), f.updated_after, f.updated_before, desc, visit);
    };
  } else {
    source = [&](bool desc, const std::function<bool(std::string_view)>& visit) {
      scan_time_index(txn, env.dbi(txn, IndexesDatabases::created), f.created_after, f.created_before, desc, visit);
    };
  }

  const bool streaming = (f.order_by == OrderBy::created_at && source_order == SourceOrder::created) ||
                         (f.order_by == OrderBy::updated_at && source_order == SourceOrder::updated);
  std::vector<Session> out;
  std::size_t skipped = 0;
  source(streaming && f.descending, [&](std::string_view key) {
    if (key.size() < 8) return true;
    auto session = load(id_of_time_id_key(key));
    if (!session || !matches(*session, f)) return true;
    if (streaming) {
      if (skipped < f.offset) {
        ++skipped;
        return true;
      }
      out.push_back(std::move(*session));
      return !(f.limit && out.size() >= *f.limit);
    }
    out.push_back(std::move(*session));
    return true;
  });
  if (streaming) return out;

  auto key_of = [&](const Session& s) {
    switch (f.order_by) {
      case OrderBy::created_at: return std::pair{s.created_at.time_since_epoch().count(), std::string()};
      case OrderBy::updated_at: return std::pair{s.updated_at.time_since_epoch().count(), std::string()};
      case OrderBy::last_activity_at:
        return std::pair{s.last_activity_at.time_since_epoch().count(), std::string()};
      case OrderBy::title: return std::pair{std::int64_t{0}, s.title};
    }
    return std::pair{std::int64_t{0}, std::string()};
  };
  std::sort(out.begin(), out.end(), [&](const Session& a, const Session& b) {
    auto ka = key_of(a), kb = key_of(b);
    if (ka != kb) return f.descending ? kb < ka : ka < kb;
    return f.descending ? b.id < a.id : a.id < b.id;
  });
  const std::size_t begin = std::min(f.offset, out.size());
  const std::size_t end = f.limit ? std::min(out.size(), begin + *f.limit) : out.size();
  return std::vector<Session>(std::make_move_iterator(out.begin() + begin),
                              std::make_move_iterator(out.begin() + end));
}

}  // namespace planning::detail
