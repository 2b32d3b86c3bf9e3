// Names and rules of the data model: status names, the state machine, error names.
#include <planning/model.hpp>

#include <array>

namespace planning {

std::string_view to_string(ErrorCode code) noexcept {
  switch (code) {
    case ErrorCode::not_found: return "not_found";
    case ErrorCode::invalid_argument: return "invalid_argument";
    case ErrorCode::invalid_transition: return "invalid_transition";
    case ErrorCode::invalid_state: return "invalid_state";
    case ErrorCode::conflict: return "conflict";
    case ErrorCode::corruption: return "corruption";
    case ErrorCode::storage: return "storage";
  }
  return "unknown";
}

std::string_view to_string(Status status) noexcept {
  switch (status) {
    case Status::active: return "active";
    case Status::paused: return "paused";
    case Status::converted: return "converted";
    case Status::archived: return "archived";
  }
  return "unknown";
}

Result<Status> parse_status(std::string_view text) {
  for (Status s : {Status::active, Status::paused, Status::converted, Status::archived}) {
    if (to_string(s) == text) return s;
  }
  return fail(ErrorCode::invalid_argument,
              "unknown status '" + std::string(text) +
                  "' (expected active, paused, converted or archived)");
}

bool transition_allowed(Status from, Status to) noexcept {
  // The README's state machine; docs/BEHAVIOUR.md. Same-state transitions are never allowed.
  switch (from) {
    case Status::active:
      return to == Status::paused || to == Status::converted || to == Status::archived;
    case Status::paused:
      return to == Status::active || to == Status::archived;
    case Status::converted:
      return to == Status::archived;
    case Status::archived:
      return false;
  }
  return false;
}

}  // namespace planning
