// Export and import of the log as JSON Lines (one event per line, the JSON form
// of <planning/json.hpp>). Import validates everything before writing anything.
#include <planning/session_manager.hpp>

#include <istream>
#include <map>
#include <ostream>

#include <date/date.h>
#include <fmt/format.h>

#include "events/src/content_resolver.hpp"
#include "engine/src/manager_impl.hpp"
#include "engine/src/validation.hpp"
#include "events/src/event_codec.hpp"
#include "events/src/hashing.hpp"
#include "projections/src/session_fold.hpp"

namespace planning {

using detail::Txn;

namespace {

// Imported times lie in the years a Timestamp can name (as parse_timestamp
// accepts) and at most limits::import_skew ahead of the manager's clock: a future
// time would hold every later event at it (times never go backwards).
Result<void> check_import_time(Timestamp t, Timestamp now) {
  using namespace std::chrono;
  const auto days = std::chrono::floor<date::days>(t);  // never overflows: days are coarser
  const int year = static_cast<int>(date::year_month_day{days}.year());
  if (year < kFirstTimestampYear || year > kLastTimestampYear) {
    return fail(ErrorCode::invalid_argument,
                fmt::format("timestamp {} is outside the supported years {} to {}",
                            format_timestamp(t), kFirstTimestampYear, kLastTimestampYear));
  }
  if (now.time_since_epoch() <= nanoseconds::max() - limits::import_skew &&
      t > now + limits::import_skew) {
    return fail(
        ErrorCode::invalid_argument,
        fmt::format("timestamp {} is more than {} h ahead of the clock ({})", format_timestamp(t),
                    duration_cast<hours>(limits::import_skew).count(), format_timestamp(now)));
  }
  return {};
}

}  // namespace

Result<std::uint64_t> SessionManager::export_events(std::ostream& out,
                                                    const EventQuery& query) const {
  auto n = scan_events(query, [&](const Event& e) {
    out << to_json(e).dump() << '\n';
    return static_cast<bool>(out);
  });
  if (!n) return n;
  if (!out) return fail(ErrorCode::storage, "writing the export failed");
  return n;
}

Result<std::uint64_t> SessionManager::import_events(std::istream& in) {
  // 1. Parse every line.
  std::vector<Event> events;
  std::vector<std::uint64_t> line_numbers;  // of each event, for messages
  const Timestamp now = impl_->now();
  std::string line;
  std::uint64_t line_number = 0;
  while (std::getline(in, line)) {
    ++line_number;
    if (line.empty() || line == "\r") continue;
    // Depth-limited: a deeply nested line is rejected before it is built.
    auto json = parse_json(line, "the line");
    if (!json) {
      return fail(ErrorCode::invalid_argument,
                  fmt::format("line {}: {}", line_number, json.error().message));
    }
    auto event = event_from_json(*json);
    if (!event) {
      return fail(ErrorCode::invalid_argument,
                  fmt::format("line {}: {}", line_number, event.error().message));
    }
    if (auto v = detail::validate_event_fields(*event); !v) {
      return fail(ErrorCode::invalid_argument,
                  fmt::format("line {}: {}", line_number, v.error().message));
    }
    if (auto t = check_import_time(event->timestamp, now); !t) {
      return fail(ErrorCode::invalid_argument,
                  fmt::format("line {}: {}", line_number, t.error().message));
    }
    events.push_back(std::move(*event));
    line_numbers.push_back(line_number);
  }
  if (in.bad()) return fail(ErrorCode::storage, "reading the import failed");
  if (events.empty()) return std::uint64_t{0};

  // 2. Validate against the store and apply, in one write transaction.
  std::vector<Event> committed;
  Result<std::uint64_t> result;
  {
    std::lock_guard write(impl_->write_mutex);
    try {
      result = impl_->env->write([&](Txn& txn) -> Result<std::uint64_t> {
        committed.clear();
        detail::LogHead head = impl_->log->head(txn);
        std::int64_t last_time = INT64_MIN;
        if (head.sequence != 0) {
          auto frame = impl_->log->frame(txn, head.sequence);
          if (frame) {
            auto h = detail::peek_header(head.sequence, *frame);
            if (h) last_time = h->timestamp_ns;
          }
        }
        std::map<std::string, std::optional<Session>> states;
        std::map<std::uint64_t, std::string> content_events;  // seq -> session (this import)
        for (std::size_t i = 0; i < events.size(); ++i) {
          Event e = events[i];
          const std::string where = fmt::format("event {} (line {})", e.sequence, line_numbers[i]);
          if (e.sequence != head.sequence + 1) {
            return fail(ErrorCode::invalid_argument,
                        fmt::format("{}: expected sequence {} (imports continue the log head)",
                                    where, head.sequence + 1));
          }
          // Every schema this build reads imports, in the schema it was exported
          // in: the checksums and the hash chain cover that schema's canonical form.
          if (e.schema_version != detail::kCurrentSchemaVersion &&
              e.schema_version != detail::kFullContentSchemaVersion) {
            return fail(ErrorCode::invalid_argument,
                        fmt::format("{}: schema version {} is not one this build reads ({} to {})",
                                    where, e.schema_version, detail::kFullContentSchemaVersion,
                                    detail::kCurrentSchemaVersion));
          }
          if (e.timestamp.time_since_epoch().count() < last_time) {
            return fail(ErrorCode::invalid_argument, where + ": timestamp goes backwards");
          }
          last_time = e.timestamp.time_since_epoch().count();
          auto [it, inserted] = states.try_emplace(e.session_id);
          if (inserted) it->second = impl_->load(txn, e.session_id);
          // An id is never used twice, not even after its session was removed.
          if (e.type == EventType::session_created &&
              (!inserted || detail::kv_get(txn, impl_->env->dbi(detail::StreamsDatabases::records),
                                           detail::stream_key(e.session_id, 1)))) {
            return fail(ErrorCode::invalid_argument,
                        where + ": session id " + e.session_id + " was used before");
          }
          if (auto check = detail::check_event(it->second, e); !check) {
            return fail(ErrorCode::invalid_argument, where + ": " + check.error().message);
          }
          if (const auto* vc = std::get_if<VersionCreated>(&e.payload)) {
            bool ok = vc->content_seq == 0;
            if (ok) {
            } else if (auto found = content_events.find(vc->content_seq); found != content_events.end()) {
              ok = found->second == e.session_id;
            } else if (vc->content_seq < e.sequence) {
              if (auto frame = impl_->log->frame(txn, vc->content_seq)) {
                auto header = detail::peek_header(vc->content_seq, *frame);
                auto stored = detail::peek_stored_content(vc->content_seq, *frame);
                ok = header && stored && header->session_id == e.session_id && stored->has_value();
              }
            }
            if (!ok) {
              return fail(ErrorCode::invalid_argument,
                          where + ": content_seq does not name a content event of this session");
            }
          }
          const Hash256 recorded_prev = e.prev_hash;
          const std::uint64_t recorded_checksum = e.payload_checksum;
          // Stored compactly by this build's encoder. The payload checksum and the
          // hash chain cover the canonical form (full content), so the export's
          // carry over whatever encoder or zstd version wrote it (FORMAT.md §5).
          std::optional<detail::ContentBase> base;
          if (it->second && detail::content_of(e) != nullptr) {
            base = detail::content_base_for(txn, *impl_->env, *impl_->log, *it->second);
          }
          const std::string frame =
              impl_->log->append(txn, e, base ? &*base : nullptr, e.schema_version);
          if (e.prev_hash != recorded_prev) {
            return fail(ErrorCode::invalid_argument,
                        where + ": prev_hash does not continue the hash chain");
          }
          if (e.payload_checksum != recorded_checksum) {
            return fail(ErrorCode::invalid_argument,
                        where + ": payload_checksum does not match the event's content");
          }
          impl_->projections->apply_new_event(txn, e, head.sequence);
          if (detail::content_of(e) != nullptr) content_events[e.sequence] = e.session_id;
          detail::fold(it->second, e);
          head.sequence = e.sequence;
          committed.push_back(std::move(e));
        }
        return static_cast<std::uint64_t>(committed.size());
      });
    } catch (...) {
      return std::unexpected(detail::translate_exception(std::current_exception()));
    }
    // A rejected import returned an error from the body: the transaction aborted.
    if (result) {
      for (auto& e : committed) impl_->signal_queue.push(std::move(e));
    }
  }
  if (result) impl_->signal_queue.deliver(*impl_->signals);
  return result;
}

}  // namespace planning
