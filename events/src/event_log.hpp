// The event log: database "log" (u64 BE sequence -> event frame) plus the head
// record in "meta". Appends are dense (head + 1), chained (prev_hash = SHA-256 of
// the previous event's canonical frame) and use MDB_APPEND. Format: docs/FORMAT.md.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string_view>

#include <planning/events.hpp>

#include "events/src/lmdb_env.hpp"
#include "events/src/content_codec.hpp"
#include "events/src/event_codec.hpp"

namespace planning::detail {

// The log's databases (names are part of the format, docs/FORMAT.md).
inline constexpr DatabaseSpec kMetaDatabase{"meta"};  // format version, head record
inline constexpr DatabaseSpec kLogDatabase{"log"};    // u64 BE sequence -> event frame
inline constexpr DatabaseSpec kLogDatabases[] = {kMetaDatabase, kLogDatabase};

struct LogHead {
  std::uint64_t sequence = 0;  // 0 = empty log
  Hash256 hash{};              // SHA-256 of the canonical frame at `sequence`; zeros when empty
};

class EventLog {
 public:
  // REQUIRES: `env` was opened with kLogDatabases.
  explicit EventLog(const Environment& env)
      : meta_(env.dbi(kMetaDatabase)), log_(env.dbi(kLogDatabase)) {}

  LogHead head(const Txn& txn) const;
  // Sets event.sequence = head + 1 and event.prev_hash = head hash, encodes
  // (content as a delta against `base` when given and smaller: content_resolver.hpp
  // content_base_for), appends, and advances the head record. Returns the
  // encoded event (its frame, hash and how its content is stored).
  // `schema_version` is the payload schema to write: the current one, except
  // for an imported event that keeps the schema it was exported in (so that a
  // re-export is byte-identical); schema 1 stores content raw and ignores `base`.
  EncodedEvent append(const Txn& txn, Event& event, const ContentBase* base,
                      std::uint16_t schema_version = kCurrentSchemaVersion) const;
  // Raw frame at `sequence`, or nullopt. Decoding it may need the content of
  // earlier events: see ContentResolver.
  std::optional<std::string_view> frame(const Txn& txn, std::uint64_t sequence) const;
  // Visits raw frames with from <= sequence <= to, in order; stop by returning false.
  void scan(const Txn& txn, std::uint64_t from, std::uint64_t to,
            const std::function<bool(std::uint64_t, std::string_view)>& visit) const;

  // Restoring writes, for salvage only: they put, remove and name frames
  // without linking the chain; the caller re-establishes it before commit.
  void put_frame(const Txn& txn, std::uint64_t sequence, std::string_view frame) const;
  void erase_frame(const Txn& txn, std::uint64_t sequence) const;
  void set_head(const Txn& txn, const LogHead& head) const;

  // Format version record ("format" in meta). nullopt on a brand-new store.
  std::optional<std::uint32_t> format_version(const Txn& txn) const;
  void set_format_version(const Txn& txn, std::uint32_t version) const;

 private:
  friend class FrameCursor;
  MDB_dbi meta_;
  MDB_dbi log_;
};

// Reads frames of one transaction through one cursor, for a reader asking for
// them in ascending order (a session's history): a frame a step or two past
// the last one is reached by stepping the cursor, and LMDB finds a key on the
// leaf the cursor is on without searching from the root. Any order works; it
// is only slower. Valid while `txn` is.
class FrameCursor {
 public:
  FrameCursor(const EventLog& log, const Txn& txn) : cursor_(txn, log.log_) {}
  // As EventLog::frame.
  std::optional<std::string_view> frame(std::uint64_t sequence);

 private:
  Cursor cursor_;
  std::uint64_t at_ = 0;  // the key the cursor is on; 0 = not positioned
};

}  // namespace planning::detail
