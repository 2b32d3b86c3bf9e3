// Export and import of the log as JSON Lines (one event per line, the JSON form
// of <planning/json.hpp>). Import validates everything before writing anything.
#include <planning/session_manager.hpp>

#include <istream>
#include <unordered_map>
#include <ostream>

#include <date/date.h>
#include <fmt/format.h>

#include "engine/src/manager_impl.hpp"
#include "engine/src/validation.hpp"
#include "events/src/event_codec.hpp"
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
    bool published = false;  // shared mode: the events are in the shared log
    if (impl_->shared) {
      // As a write (write_path.cpp): hold the shared head, catch up to it; the
      // imported events must then continue it.
      if (auto ready = impl_->lock_and_catch_up(); !ready) return std::unexpected(ready.error());
    }
    try {
      result = impl_->env->write([&](Txn& txn) -> Result<std::uint64_t> {
        if (published) throw Impl::SharedPublished{};  // a commit redone after a map resize
        committed.clear();
        const detail::LogHead before = impl_->log->head(txn);
        // Recorded events enter through the one write door, which checks each
        // against the log (sequence, chain, time, checksum) and the session
        // rules; a rejected event aborts the whole import.
        impl_->door->begin(txn, /*defer=*/true);
        std::unordered_map<std::string, std::optional<Session>> states;
        for (std::size_t i = 0; i < events.size(); ++i) {
          Event e = events[i];
          auto [it, inserted] = states.try_emplace(e.session_id);
          if (inserted) it->second = impl_->load(txn, e.session_id);
          bool wrote = false;
          auto entered = impl_->door->enter(txn, e, it->second,
                                            detail::WriteDoor::Origin::recorded, wrote);
          if (!entered) {
            // A rejected event is bad input; a failing store stays what it is.
            const ErrorCode code = entered.error().code == ErrorCode::storage ||
                                           entered.error().code == ErrorCode::corruption
                                       ? entered.error().code
                                       : ErrorCode::invalid_argument;
            return fail(code,
                        fmt::format("event {} (line {}): {}", events[i].sequence, line_numbers[i],
                                    entered.error().message));
          }
          detail::fold(it->second, e);
          committed.push_back(std::move(e));
        }
        impl_->door->end(txn);
        if (impl_->shared) {
          impl_->publish_shared(txn, before);  // last: the LMDB commit follows
          published = true;
        }
        return static_cast<std::uint64_t>(committed.size());
      });
    } catch (const Impl::SharedBehind&) {  // the head lock was lost with its connection
      impl_->shared->unlock_head();
      return fail(ErrorCode::conflict,
                  "another node appended to the shared log meanwhile: the imported events no "
                  "longer continue its log; nothing was imported");
    } catch (const Impl::SharedPublished&) {
      // Published, and the local commit was redone: the events arrive from the
      // shared log as recorded ones (with their signals).
      committed.clear();
      auto pulled = impl_->pull_shared();
      if (!pulled) return std::unexpected(Impl::published_not_applied(pulled.error()));
      result = static_cast<std::uint64_t>(events.size());
    } catch (const Impl::SharedFailed& failed) {
      impl_->shared->unlock_head();
      return std::unexpected(failed.error);
    } catch (...) {
      if (impl_->shared) impl_->shared->unlock_head();
      return std::unexpected(detail::translate_exception(std::current_exception()));
    }
    if (impl_->shared && !result) impl_->shared->unlock_head();  // a refused import
    // A rejected import returned an error from the body: the transaction aborted.
    if (result) {
      for (auto& e : committed) impl_->signal_queue.push(std::move(e));
    }
  }
  if (result) impl_->signal_queue.deliver(*impl_->signals);
  return result;
}

}  // namespace planning
