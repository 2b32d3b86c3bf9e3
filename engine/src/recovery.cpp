// SessionRecovery: stale-session detection and per-session restoration.
#include <planning/recovery.hpp>

#include <algorithm>
#include <limits>
#include <vector>

#include <fmt/format.h>

#include <planning/session_manager.hpp>

#include "engine/src/manager_impl.hpp"

namespace planning {

std::string_view to_string(Recommendation recommendation) noexcept {
  return recommendation == Recommendation::pause ? "pause" : "archive";
}

Result<StaleReport> SessionRecovery::find_stale(const SessionManager& manager,
                                                const StaleOptions& options) {
  if (options.inactive_for.count() < 0 || options.archive_after < options.inactive_for) {
    return fail(ErrorCode::invalid_argument,
                "stale options: inactive_for must not be negative and archive_after must "
                "not be shorter than inactive_for");
  }
  const Timestamp now = options.now.value_or(manager.impl_->now());
  SessionFilters filters;
  filters.status = {Status::active, Status::paused};
  auto candidates = manager.list(filters);
  if (!candidates) return std::unexpected(candidates.error());

  // Compare against thresholds rather than computing now - last_activity_at,
  // which could overflow for an imported timestamp centuries away.
  auto minus = [](Timestamp t, std::chrono::nanoseconds d) {
    const auto ns = t.time_since_epoch().count();
    if (ns < std::numeric_limits<std::int64_t>::min() + d.count()) return Timestamp::min();
    return t - d;  // saturates instead of overflowing ("never archive" = max)
  };
  const Timestamp archive_before = minus(now, options.archive_after);
  const Timestamp pause_before = minus(now, options.inactive_for);
  StaleReport report;
  for (Session& s : *candidates) {
    std::optional<Recommendation> action;
    if (s.last_activity_at <= archive_before) {
      action = Recommendation::archive;
    } else if (s.status == Status::active && s.last_activity_at <= pause_before) {
      action = Recommendation::pause;
    }
    if (!action) continue;
    report.recommendations[s.id] = *action;
    report.stale_sessions.push_back(std::move(s));
  }
  std::sort(report.stale_sessions.begin(), report.stale_sessions.end(),
            [](const Session& a, const Session& b) {
              return a.last_activity_at != b.last_activity_at
                         ? a.last_activity_at < b.last_activity_at
                         : a.id < b.id;
            });
  return report;
}

Result<std::size_t> SessionRecovery::apply(
    SessionManager& manager, const StaleReport& report, std::string_view by,
    const std::function<void(std::uint64_t, std::uint64_t)>& progress) {
  // One commit per kApplyBatch sessions (not one per session), each a group of
  // writes that apply only if the session is exactly as reported.
  constexpr std::size_t kApplyBatch = 1000;
  const auto& stale = report.stale_sessions;
  std::size_t changed = 0;
  for (std::size_t first = 0; first < stale.size(); first += kApplyBatch) {
    const std::size_t last = std::min(stale.size(), first + kApplyBatch);
    std::vector<std::uint8_t> acted(last - first, 0);
    std::vector<SessionManager::Impl::WriteOp> ops;
    for (std::size_t i = first; i < last; ++i) {
      const Session& session = stale[i];
      auto it = report.recommendations.find(session.id);
      if (it == report.recommendations.end()) continue;
      const Recommendation action = it->second;
      SessionManager::Impl::WriteOp op;
      op.session_id = session.id;
      op.actor = std::string(by);
      op.decide = [&session, flag = &acted[i - first], action](
                      const std::optional<Session>& current,
                      const detail::Txn&) -> SessionManager::Impl::Decision {
        *flag = 0;
        if (!current || current->stream_version != session.stream_version) {
          return std::optional<EventPayload>{};  // changed since the report: skip
        }
        *flag = 1;
        if (action == Recommendation::pause) {
          return EventPayload{SessionPaused{"Auto-paused: inactive since " +
                                            format_timestamp(current->last_activity_at)}};
        }
        return EventPayload{SessionArchived{}};
      };
      ops.push_back(std::move(op));
    }
    auto results = manager.impl_->execute_batch(std::move(ops));
    if (!results) return std::unexpected(results.error());
    for (const auto& result : *results) {
      if (!result && result.error().code != ErrorCode::not_found) {
        return std::unexpected(result.error());
      }
    }
    for (auto flag : acted) changed += flag;
    if (progress) progress(last, stale.size());
  }
  return changed;
}

Result<Session> SessionRecovery::restore_from_history(std::string_view id,
                                                      SessionManager& manager) {
  auto replayed = manager.impl_->read<Session>([&](const detail::Txn& txn) {
    return manager.impl_->replay_session(txn, id, [](const detail::FrameHeader&) { return true; });
  });
  if (!replayed) return std::unexpected(replayed.error());
  auto projected = manager.get(id);
  if (projected && *projected == *replayed) return replayed;

  // The projections disagree with the log for this session: re-derive them all
  // from the log (the log is the truth), then return the replayed state.
  manager.impl_->log_message(LogLevel::warning,
                             fmt::format("session {}: projection differs from its event stream; "
                                         "rebuilding projections",
                                         id));
  if (auto rebuilt = manager.rebuild_projections(); !rebuilt) {
    return std::unexpected(rebuilt.error());
  }
  return replayed;
}

}  // namespace planning
