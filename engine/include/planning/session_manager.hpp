// planning/session_manager.hpp — the engine's main class.
//
// Thread safety: every method may be called from any thread concurrently.
// Writes are serialized (one LMDB write transaction at a time, across processes
// too) and group-committed: concurrent writers of one process share a
// transaction and its fsync, each still getting its own result. Reads run in
// parallel on their own read-only snapshots. Every mutating
// call appends exactly one event and updates every projection in the same
// transaction, or returns an Error and changes nothing.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <iosfwd>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include <planning/events.hpp>
#include <planning/model.hpp>
#include <planning/options.hpp>
#include <planning/projection.hpp>
#include <planning/queries.hpp>
#include <planning/requests.hpp>
#include <planning/batch.hpp>
#include <planning/result.hpp>
#include <planning/signals.hpp>

namespace planning {

// Which events to read. Bounds are inclusive.
struct EventQuery {
  std::uint64_t from_sequence = 1;
  std::uint64_t to_sequence = UINT64_MAX;
  std::optional<std::string> session_id{};
  std::set<EventType> types{};  // empty = all
  std::optional<Timestamp> from_time{};
  std::optional<Timestamp> to_time{};
  std::optional<std::size_t> limit{};
};

struct VerifyIssue {
  std::uint64_t sequence = 0;  // 0 when the issue is not about one event
  std::string what;            // e.g. "payload checksum mismatch"
};

// Result of verify(): the log's checksums, sequence density, hash chain and
// head record, and every built-in projection compared with a fresh replay.
struct VerifyReport {
  std::uint64_t events_checked = 0;
  std::uint64_t sessions_checked = 0;
  std::vector<VerifyIssue> issues;
  bool ok() const noexcept { return issues.empty(); }
};

struct StoreInfo {
  std::filesystem::path path;
  std::uint32_t format_version = 0;
  std::uint64_t head_sequence = 0;
  Hash256 head_hash{};
  std::uint64_t sessions = 0;
  std::uint64_t versions = 0;
  std::uint64_t map_size = 0;     // bytes reserved
  std::uint64_t map_used = 0;     // bytes in use (last page * page size)
  std::uint64_t file_size = 0;    // data.mdb on disk
  std::uint32_t page_size = 0;
  std::uint32_t max_readers = 0;
  std::uint32_t readers_in_use = 0;
  std::vector<ProjectionInfo> projections;
  // Shared mode (Options::shared_log): the shared log (its connection string
  // without a password) and the highest shared head this node has seen; the
  // node's lag is shared_head_sequence - head_sequence. Empty and 0 when embedded.
  std::string shared_log;
  std::uint64_t shared_head_sequence = 0;
};

class SessionManager {
 public:
  // Opens (creating when allowed) the store at options.path, checks its format
  // version, clears stale reader slots, and catches up every projection that is
  // behind the log. Errors: storage (cannot open / create, already open in this
  // process), corruption (unknown format version, undecodable event).
  static Result<std::unique_ptr<SessionManager>> open(Options options);
  ~SessionManager();
  SessionManager(const SessionManager&) = delete;
  SessionManager& operator=(const SessionManager&) = delete;

  // --- Sessions. Mutating calls return the resulting state.
  Result<Session> create(const CreateRequest& request);
  Result<Session> get(std::string_view id) const;  // not_found for unknown / removed
  Result<Session> update(std::string_view id, const UpdateRequest& request);
  Result<Session> pause(std::string_view id, std::string_view reason = {},
                        std::string_view by = {});
  Result<Session> resume(std::string_view id, std::string_view by = {});
  Result<Session> archive(std::string_view id, std::string_view by = {});
  // REQUIRES: session active (else invalid_state).
  Result<Session> mark_converted(std::string_view id, const ConvertRequest& request);
  // Appends a tombstone; the session disappears from every query, its history
  // stays in the log. Returns the session's last state.
  Result<Session> remove(std::string_view id, std::string_view by = {});

  // Applies every operation of `batch` in one write transaction (one durable
  // commit). Each operation gets its own result (the resulting Session; for
  // create_version the session after it); a rejected operation changes nothing
  // and does not affect the others. The outer Error means the commit itself
  // failed (storage) and nothing was applied.
  Result<std::vector<Result<Session>>> apply_batch(const WriteBatch& batch);

  // --- Versions.
  // Snapshot of the current content as the next version. REQUIRES: active.
  Result<Version> create_version(std::string_view id, std::string_view change_summary = {},
                                 std::string_view by = {});
  Result<std::vector<Version>> get_versions(std::string_view id) const;
  Result<Version> get_version(std::string_view id, std::uint32_t version_number) const;
  // Line diff from version a to version b (any order, a == b allowed).
  Result<VersionDiff> compare_versions(std::string_view id, std::uint32_t a,
                                       std::uint32_t b) const;
  // Makes a NEW version equal to version n ("Restored from version n").
  // REQUIRES: active. Returns the session, whose current_version is the new one.
  Result<Session> restore_version(std::string_view id, std::uint32_t version_number,
                                  std::string_view by = {});

  // --- Queries (read indexes; cost grows with the answer, not the store).
  Result<std::vector<Session>> find_active() const;
  Result<std::vector<Session>> find_by_repository(std::string_view repository_path) const;
  Result<std::vector<Session>> list(const SessionFilters& filters = {}) const;
  Result<Statistics> get_statistics() const;

  // --- Time travel and log reading (streamed; never loads the log whole).
  // State of a session after applying its events with sequence <= `sequence`.
  // not_found if the session did not exist yet at that point.
  Result<Session> session_at(std::string_view id, std::uint64_t sequence) const;
  Result<Session> session_at_time(std::string_view id, Timestamp time) const;
  // Events matching `query`, in log order; limit defaults to 10,000.
  Result<std::vector<Event>> events(const EventQuery& query = {}) const;
  // Streams matching events to `visit` (return false to stop); returns the count
  // visited. Reads in bounded chunks, so it does not pin old pages for long.
  Result<std::uint64_t> scan_events(const EventQuery& query,
                                    const std::function<bool(const Event&)>& visit) const;
  Result<std::uint64_t> head_sequence() const;

  // --- Projections and audit.
  // Clears every projection (built-in and user) and replays the whole log, in
  // batches of Options::replay_batch_events per transaction (a crash midway
  // resumes on the next open). Writers wait; readers running meanwhile may see
  // partly rebuilt projections, so treat it as maintenance.
  Result<void> rebuild_projections(const ProgressCallback& progress = {});
  // Checks every event (checksums, density, hash chain, head record) and that the
  // built-in projections equal a fresh replay. Issues are listed in the report;
  // the Error path is for failing to read at all — including damage to LMDB's
  // own pages, found by a structural check of data.mdb first (corruption).
  // Everything is judged in one read transaction (one snapshot, whatever other
  // processes write meanwhile); `progress` is called inside it and must not
  // call this manager (a map resize of this process waits for verify).
  Result<VerifyReport> verify(const ProgressCallback& progress = {}) const;
  // Registers a user projection and catches it up before returning.
  Result<void> register_projection(std::shared_ptr<Projection> projection);
  Result<std::vector<ProjectionInfo>> projections() const;
  // Reads a user projection's stored value (its own key space).
  Result<std::optional<std::string>> projection_value(std::string_view projection,
                                                      std::string_view key) const;
  Result<StoreInfo> info() const;
  // Consistent hot copy of the store into the directory `destination` (created if
  // missing, must be empty). `compact` omits free pages.
  Result<void> backup(const std::filesystem::path& destination, bool compact = false) const;
  // Moves this embedded store onto a shared log (docs/SCALING.md): uploads its
  // whole log, frames and chain hashes unchanged, into the empty shared log at
  // `shared_log` (a libpq connection string), in transactions of 1,000 events.
  // A shared log holding anything but a prefix of this log (what an interrupted
  // share leaves, which this resumes) is refused: invalid_state. Afterwards open
  // the store with Options::shared_log to run it as a node. Returns the number
  // of events uploaded. Fails with invalid_state on a store opened as a node.
  Result<std::uint64_t> share(std::string_view shared_log);

  // --- Export / import (JSON Lines, one event per line; see docs/FORMAT.md).
  Result<std::uint64_t> export_events(std::ostream& out, const EventQuery& query = {}) const;
  // Validates every line first (JSON, fields, dense sequences continuing the
  // head, the state machine, the hash chain as recorded), then appends all of
  // them in one transaction — or nothing.
  Result<std::uint64_t> import_events(std::istream& in);

  Signals& signals() noexcept;
  const Options& options() const noexcept;

  class Impl;  // opaque: defined inside the library

 private:
  explicit SessionManager(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
  friend class SessionRecovery;
};

}  // namespace planning
