// planning/result.hpp — the error model of the whole public API.
//
// Every fallible call returns Result<T> = std::expected<T, Error>. No exception
// crosses the public API: LMDB, Cereal and JSON exceptions are translated inside
// the library into one of the codes below.
#pragma once

#include <expected>
#include <string>
#include <string_view>

namespace planning {

// Closed vocabulary, like LevelDB's Status. Values are stable (used as planctl
// exit-code inputs and in JSON output); never reorder.
enum class ErrorCode : int {
  not_found = 1,           // no session / version / projection with that id or number
  invalid_argument = 2,    // bad input: empty title, oversized field, bad JSON, ...
  invalid_transition = 3,  // status change not allowed by the state machine
  invalid_state = 4,       // operation not allowed in the session's current status
  conflict = 5,            // expected_stream_version did not match
  corruption = 6,          // stored bytes fail a checksum, the hash chain or decoding
  storage = 7,             // LMDB / file system failure (disk full, I/O error, ...)
};

struct Error {
  ErrorCode code;
  std::string message;  // one line naming what was wrong
};

template <typename T>
using Result = std::expected<T, Error>;

// Lower-case name of a code ("not_found", ...).
std::string_view to_string(ErrorCode code) noexcept;

// Convenience factory: `return fail(ErrorCode::not_found, "session X not found");`
inline std::unexpected<Error> fail(ErrorCode code, std::string message) {
  return std::unexpected(Error{code, std::move(message)});
}

}  // namespace planning
