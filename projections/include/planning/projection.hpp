// planning/projection.hpp — user-defined projections.
//
// A projection folds events into state of its own. The engine stores that state in
// LMDB (a private key/value database per projection, named "user:<name>") and
// applies every committed event to it in the same write transaction as the
// append, so the projection never disagrees with the log. Each projection has a
// checkpoint (the last sequence it applied); on open, or when registered late,
// the engine replays the log from that checkpoint. Bumping schema_version()
// clears the projection's data and replays it from sequence 1.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include <planning/events.hpp>

namespace planning {

// The projection's own key/value space, valid only inside apply()/reset().
// Keys: 1..400 bytes. Values: any size. Errors throw internally and abort the
// whole write (the operation then fails with ErrorCode::storage); never catch them.
class ProjectionStore {
 public:
  virtual ~ProjectionStore() = default;
  virtual std::optional<std::string> get(std::string_view key) const = 0;
  virtual void put(std::string_view key, std::string_view value) = 0;
  virtual void erase(std::string_view key) = 0;
  // Visits keys starting with `prefix` in byte order; stop by returning false.
  virtual void scan(std::string_view prefix,
                    const std::function<bool(std::string_view key, std::string_view value)>&
                        visit) const = 0;
};

class Projection {
 public:
  virtual ~Projection() = default;
  // Unique, persistent name: [a-z0-9_-]{1,64}.
  virtual std::string name() const = 0;
  // Bump to discard the stored state and replay from sequence 1.
  virtual std::uint32_t schema_version() const = 0;
  // Fold one event. Runs inside the engine's write transaction, on the writing
  // thread. Must be deterministic: the same log must always give the same state.
  // A throw rolls back this event's write; the operation returns ErrorCode::storage
  // (and, at open / registration, the projection is refused). Must not call the
  // SessionManager: it runs while the engine holds its write lock.
  virtual void apply(const Event& event, ProjectionStore& store) = 0;
};

// A projection's state as SessionManager::info() reports it.
struct ProjectionInfo {
  std::string name;
  bool built_in = false;
  std::uint32_t schema_version = 0;
  std::uint64_t checkpoint = 0;  // last applied sequence
};

// Progress of a replay or scan: (done, total) — total is the head sequence at the start.
using ProgressCallback = std::function<void(std::uint64_t done, std::uint64_t total)>;

}  // namespace planning
