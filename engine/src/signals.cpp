#include <planning/signals.hpp>

namespace planning {

Signals::Signals(IsolatingCombiner::ErrorHandler on_slot_error)
    : any(IsolatingCombiner(on_slot_error)),
      created(IsolatingCombiner(on_slot_error)),
      updated(IsolatingCombiner(on_slot_error)),
      version_created(IsolatingCombiner(on_slot_error)),
      status_changed(IsolatingCombiner(on_slot_error)),
      converted(IsolatingCombiner(on_slot_error)),
      archived(IsolatingCombiner(on_slot_error)),
      removed(IsolatingCombiner(on_slot_error)) {}

void Signals::emit(const Event& event) {
  any(event);
  switch (event.type) {
    case EventType::session_created:
      created(event);
      if (std::get<SessionCreated>(event.payload).initial_content) version_created(event);
      break;
    case EventType::session_updated:
      updated(event);
      if (std::get<SessionUpdated>(event.payload).version_number != 0) version_created(event);
      break;
    case EventType::version_restored:
    case EventType::version_created:
      version_created(event);
      break;
    case EventType::session_paused:
    case EventType::session_resumed:
      status_changed(event);
      break;
    case EventType::session_converted:
      status_changed(event);
      converted(event);
      break;
    case EventType::session_archived:
      status_changed(event);
      archived(event);
      break;
    case EventType::session_removed:
      removed(event);
      break;
  }
}

}  // namespace planning
