// planning/signals.hpp — Boost.Signals2 signals for committed events.
//
// Contract:
//  * A signal fires only for an event whose transaction has committed, never for
//    a rejected or failed operation, and signals fire in log (sequence) order.
//  * Slots run on the thread of the mutating call that committed the event, after
//    the commit and before that call returns — except that when several threads
//    commit at once, one of them may deliver the others' events (still in order),
//    and an event committed from inside a slot is delivered after the current
//    slot round finishes, on the same thread.
//  * No engine lock is held while slots run: slots may call any SessionManager
//    method, including mutating ones.
//  * A slot that throws is isolated: the exception is logged (LogLevel::error)
//    and the remaining slots still run; the engine and the log are unaffected.
#pragma once

#include <functional>
#include <string>

#include <boost/signals2/signal.hpp>

#include <planning/events.hpp>

namespace planning {

// Combiner that calls every slot and isolates exceptions thrown by any of them.
class IsolatingCombiner {
 public:
  using result_type = void;
  using ErrorHandler = std::function<void(const std::string& what)>;

  explicit IsolatingCombiner(ErrorHandler on_error = {}) : on_error_(std::move(on_error)) {}

  template <typename SlotIterator>
  void operator()(SlotIterator first, SlotIterator last) const {
    for (; first != last; ++first) {
      try {
        *first;
      } catch (const std::exception& e) {
        report(e.what());
      } catch (...) {
        report("unknown exception");
      }
    }
  }

 private:
  void report(const std::string& what) const noexcept {
    if (!on_error_) return;
    try {
      on_error_(what);
    } catch (...) {
    }
  }
  ErrorHandler on_error_;
};

using EventSignal = boost::signals2::signal<void(const Event&), IsolatingCombiner>;

// All signals of one SessionManager. Connect with e.g.
//   manager.signals().status_changed.connect([](const planning::Event& e) { ... });
// Pauses and resumes arrive on status_changed (check e.type).
class Signals {
 public:
  explicit Signals(IsolatingCombiner::ErrorHandler on_slot_error = {});
  Signals(const Signals&) = delete;
  Signals& operator=(const Signals&) = delete;

  EventSignal any;              // every committed event
  EventSignal created;          // session_created
  EventSignal updated;          // session_updated
  EventSignal version_created;  // any event that made a version (created with
                                // content, update with a version, restore, create_version)
  EventSignal status_changed;   // paused, resumed, converted, archived
  EventSignal converted;        // session_converted
  EventSignal archived;         // session_archived
  EventSignal removed;          // session_removed

  // Fires the catch-all signal and every matching per-kind signal.
  void emit(const Event& event);
};

}  // namespace planning
