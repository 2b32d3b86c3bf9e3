// SessionManager: the read-only operations. Each runs in one read transaction
// (a consistent snapshot) — except scan_events, which reads in chunks.
#include <planning/session_manager.hpp>

#include <fmt/format.h>

#include "engine/src/diff.hpp"
#include "engine/src/manager_impl.hpp"
#include "engine/src/query_planner.hpp"
#include "engine/src/validation.hpp"
#include "events/src/content_resolver.hpp"
#include "events/src/bytes.hpp"
#include "events/src/event_codec.hpp"
#include "projections/src/statistics_records.hpp"

namespace planning {

using detail::Txn;

Result<Session> SessionManager::get(std::string_view id) const {
  return impl_->read<Session>([&](const Txn& txn) { return impl_->require(txn, id); });
}

Result<std::vector<Version>> SessionManager::get_versions(std::string_view id) const {
  return impl_->read<std::vector<Version>>([&](const Txn& txn) -> Result<std::vector<Version>> {
    auto session = impl_->require(txn, id);
    if (!session) return std::unexpected(session.error());
    return impl_->versions(txn, *session);
  });
}

Result<Version> SessionManager::get_version(std::string_view id, std::uint32_t number) const {
  return impl_->read<Version>([&](const Txn& txn) -> Result<Version> {
    auto session = impl_->require(txn, id);
    if (!session) return std::unexpected(session.error());
    return impl_->version(txn, *session, number);
  });
}

Result<VersionDiff> SessionManager::compare_versions(std::string_view id, std::uint32_t a,
                                                     std::uint32_t b) const {
  return impl_->read<VersionDiff>([&](const Txn& txn) -> Result<VersionDiff> {
    auto session = impl_->require(txn, id);
    if (!session) return std::unexpected(session.error());
    auto va = impl_->version(txn, *session, a);
    if (!va) return std::unexpected(va.error());
    auto vb = impl_->version(txn, *session, b);
    if (!vb) return std::unexpected(vb.error());
    return detail::diff_versions(a, va->content, b, vb->content);
  });
}

Result<std::vector<Session>> SessionManager::list(const SessionFilters& filters) const {
  return impl_->read<std::vector<Session>>([&](const Txn& txn) {
    return detail::run_list(txn, *impl_->env, filters,
                            [&](std::string_view id) { return impl_->load(txn, id); });
  });
}

Result<std::vector<Session>> SessionManager::find_active() const {
  SessionFilters filters;
  filters.status = {Status::active};
  return list(filters);
}

Result<std::vector<Session>> SessionManager::find_by_repository(
    std::string_view repository_path) const {
  SessionFilters filters;
  filters.repository_path = std::string(repository_path);
  return list(filters);
}

Result<Statistics> SessionManager::get_statistics() const {
  return impl_->read<Statistics>([&](const Txn& txn) -> Result<Statistics> {
    const detail::Counters c = detail::read_counters(txn, impl_->env->dbi(txn, detail::StatisticsDatabases::records));
    Statistics s;
    s.active_sessions = c.active;
    s.paused_sessions = c.paused;
    s.converted_sessions = c.converted;
    s.archived_sessions = c.archived;
    s.total_sessions = c.active + c.paused + c.converted + c.archived;
    s.removed_sessions = c.removed;
    s.sessions_with_content = c.with_content;
    s.total_versions = c.versions;
    s.average_versions_per_session =
        s.total_sessions == 0 ? 0.0
                              : static_cast<double>(s.total_versions) /
                                    static_cast<double>(s.total_sessions);
    s.total_events = impl_->log->head(txn).sequence;
    return s;
  });
}

Result<Session> SessionManager::session_at(std::string_view id, std::uint64_t sequence) const {
  return impl_->read<Session>([&](const Txn& txn) {
    return impl_->replay_session(
        txn, id, [&](const detail::FrameHeader& h) { return h.sequence <= sequence; });
  });
}

Result<Session> SessionManager::session_at_time(std::string_view id, Timestamp time) const {
  const auto limit = time.time_since_epoch().count();
  return impl_->read<Session>([&](const Txn& txn) {
    return impl_->replay_session(
        txn, id, [&](const detail::FrameHeader& h) { return h.timestamp_ns <= limit; });
  });
}

Result<std::uint64_t> SessionManager::head_sequence() const {
  return impl_->read<std::uint64_t>(
      [&](const Txn& txn) -> Result<std::uint64_t> { return impl_->log->head(txn).sequence; });
}

Result<std::uint64_t> SessionManager::scan_events(
    const EventQuery& query, const std::function<bool(const Event&)>& visit) const {
  if (query.session_id) {
    if (auto c = detail::check_session_id(*query.session_id); !c) return std::uint64_t{0};
  }
  // Ids are case-insensitive: filter on the stored (lower-case) form.
  EventQuery canonical_query;
  if (query.session_id && *query.session_id != detail::canonical_session_id(*query.session_id)) {
    canonical_query = query;
    canonical_query.session_id = detail::canonical_session_id(*query.session_id);
    return scan_events(canonical_query, visit);
  }
  // Read in chunks so the visitor never runs inside a read transaction and no
  // snapshot is held for long (a long reader stops LMDB from reusing pages).
  constexpr std::size_t kChunk = 512;
  std::uint64_t visited = 0;
  std::uint64_t next_seq = std::max<std::uint64_t>(query.from_sequence, 1);
  std::uint32_t next_stream_version = 1;
  const std::size_t limit = query.limit.value_or(SIZE_MAX);
  detail::ContentResolver resolver(*impl_->log);  // carries content across chunks
  for (;;) {
    std::vector<Event> chunk;
    bool exhausted = false;
    auto read = impl_->read<bool>([&](const Txn& txn) -> Result<bool> {
      auto consider = [&](std::uint64_t seq, std::string_view frame) -> Result<bool> {
        auto header = detail::peek_header(seq, frame);
        if (!header) return std::unexpected(header.error());
        const bool wanted =
            (query.types.empty() || query.types.contains(header->type)) &&
            (!query.from_time || header->timestamp_ns >= query.from_time->time_since_epoch().count()) &&
            (!query.to_time || header->timestamp_ns <= query.to_time->time_since_epoch().count());
        if (!wanted) return true;
        auto event = resolver.decode(txn, seq, frame);
        if (!event) return std::unexpected(event.error());
        chunk.push_back(std::move(*event));
        return true;
      };
      if (query.session_id) {
        // Walk the session's stream index instead of the whole log.
        while (chunk.size() < kChunk) {
          auto seq_bytes = detail::kv_get(txn, impl_->env->dbi(txn, detail::StreamsDatabases::records),
                                          detail::stream_key(*query.session_id, next_stream_version));
          if (!seq_bytes) {
            exhausted = true;
            break;
          }
          ++next_stream_version;
          const auto seq = detail::get_be<std::uint64_t>(*seq_bytes, 0);
          if (seq < next_seq) continue;
          if (seq > query.to_sequence) {
            exhausted = true;
            break;
          }
          auto frame = impl_->log->frame(txn, seq);
          if (!frame) return fail(ErrorCode::corruption, fmt::format("event {} is missing", seq));
          if (auto r = consider(seq, *frame); !r) return r;
        }
        return true;
      }
      std::size_t read_count = 0;
      std::optional<Error> error;
      exhausted = true;
      const std::uint64_t head = impl_->log->head(txn).sequence;
      impl_->log->scan(txn, next_seq, query.to_sequence, [&](std::uint64_t seq, std::string_view frame) {
        if (read_count == kChunk * 8 || chunk.size() == kChunk) {
          exhausted = false;
          return false;
        }
        if (seq != next_seq) {
          error = Error{ErrorCode::corruption,
                        fmt::format("event {} is missing from the log", next_seq)};
          return false;
        }
        ++read_count;
        next_seq = seq + 1;
        auto r = consider(seq, frame);
        if (!r) {
          error = r.error();
          return false;
        }
        return true;
      });
      if (error) return std::unexpected(*error);
      if (exhausted && next_seq <= std::min(head, query.to_sequence)) {
        return fail(ErrorCode::corruption,
                    fmt::format("event {} is missing from the log (the head is {})", next_seq, head));
      }
      return true;
    });
    // The events before a damaged or missing one are delivered before its
    // error (export and log print what precedes the damage).
    for (const Event& e : chunk) {
      if (visited >= limit) return visited;
      ++visited;
      if (!visit(e)) return visited;
    }
    if (!read) return std::unexpected(read.error());
    if (exhausted || visited >= limit) return visited;
  }
}

Result<std::vector<Event>> SessionManager::events(const EventQuery& query) const {
  EventQuery bounded = query;
  if (!bounded.limit) bounded.limit = 10000;
  std::vector<Event> out;
  auto n = scan_events(bounded, [&](const Event& e) {
    out.push_back(e);
    return true;
  });
  if (!n) return std::unexpected(n.error());
  return out;
}

}  // namespace planning
