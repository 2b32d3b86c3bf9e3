// planning/recovery.hpp — stale-session detection and per-session repair.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <planning/model.hpp>
#include <planning/result.hpp>

namespace planning {

class SessionManager;

enum class Recommendation : std::uint8_t { pause, archive };
std::string_view to_string(Recommendation recommendation) noexcept;

struct StaleOptions {
  // Active sessions with no activity for this long are stale (recommend pause).
  std::chrono::nanoseconds inactive_for = std::chrono::hours(24);
  // Active or paused sessions with no activity for this long: recommend archive.
  std::chrono::nanoseconds archive_after = std::chrono::hours(24 * 7);
  // "Now"; defaults to the manager's clock.
  std::optional<Timestamp> now;
};

struct StaleReport {
  std::vector<Session> stale_sessions;  // oldest activity first
  std::map<std::string, Recommendation> recommendations;  // id -> action
};

class SessionRecovery {
 public:
  // Finds stale sessions. Reads the status index: cost grows with the number of
  // active + paused sessions. invalid_argument if archive_after < inactive_for.
  static Result<StaleReport> find_stale(const SessionManager& manager,
                                        const StaleOptions& options = {});
  // Applies a report's recommendations (pause with an "Auto-paused" reason, or
  // archive). Sessions that changed since the report are skipped. Commits in
  // batches of 1,000 sessions (an error stops it; earlier batches stay applied)
  // and calls `progress(done, total)` after each. Returns the number of sessions
  // changed.
  static Result<std::size_t> apply(
      SessionManager& manager, const StaleReport& report, std::string_view by = "planning:recovery",
      const std::function<void(std::uint64_t done, std::uint64_t total)>& progress = {});
  // Rebuilds one session's state from its event stream, rewrites its projection
  // records when they differ, and returns it. not_found if it has no stream or
  // was removed.
  static Result<Session> restore_from_history(std::string_view id, SessionManager& manager);
};

}  // namespace planning
