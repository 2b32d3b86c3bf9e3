// planctl: exit codes, the error that ends a verb, and the per-run context
// (global options, the lazily opened store).
#pragma once

#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include <CLI/CLI.hpp>

#include <planning/planning.hpp>

#include "output.hpp"

namespace planctl {

// Process exit codes (documented in docs/planctl.md). DO NOT CHANGE: scripts
// depend on them.
enum class Exit : int {
  ok = 0,
  verify_failed = 1,  // verify found mismatches
  usage = 2,          // bad command line (unknown verb or flag, malformed number, ...)
  not_found = 3,
  invalid_argument = 4,
  invalid_state = 5,  // invalid transition or operation not allowed in this status
  conflict = 6,
  corruption = 7,
  storage = 8,
};

Exit exit_for(planning::ErrorCode code) noexcept;

// Ends the running verb: main() prints "planctl: error: <message>" on stderr and
// exits with `code`. Verbs throw it (through the helpers below) before writing
// anything, so a failed verb leaves stdout empty.
struct Failure {
  Exit code;
  std::string message;
  std::string error_code = {};  // the library's ErrorCode name, when it came from one
};

// The name --json errors carry for an exit code ("not_found", "usage", ...).
std::string_view exit_name(Exit code) noexcept;

[[noreturn]] void fail(Exit code, std::string message);
// Library errors keep their message; `context` (e.g. "--created-after") is prefixed.
[[noreturn]] void fail(const planning::Error& error, std::string_view context = {});

template <typename T>
T unwrap(planning::Result<T> result, std::string_view context = {}) {
  if (!result) fail(result.error(), context);
  return std::move(*result);
}
inline void unwrap(planning::Result<void> result, std::string_view context = {}) {
  if (!result) fail(result.error(), context);
}

// Whether a verb may create the store. Read-only verbs refuse a missing store
// (not_found) instead of creating an empty one at a mistyped path; so does
// `update_existing` (stale --apply: it writes, but only to a store that exists).
enum class Access { read, write, update_existing };

class Context {
 public:
  // Global options, filled by CLI11.
  std::string db_option;
  bool db_given = false;  // --db was on the command line (an empty value is an error)
  bool json = false;
  std::string shared_log_option;  // --shared-log URL
  // Set by `share`: open the store embedded even when a shared log is named.
  bool embedded_only = false;

  // Resolved store path: --db, else $PLANCTL_DB, else ./.planning.
  std::filesystem::path db_path() const;
  // Resolved shared log: --shared-log, else $PLANCTL_SHARED_LOG, else "" (embedded).
  std::string shared_log() const;
  // Opens the store on first use (REQUIRES: called after parsing).
  planning::SessionManager& store(Access access);
  // Styling for stdout: colour only on a terminal, never with --json or NO_COLOR.
  const Style& out_style();
  // Whether stderr is a terminal (progress bars go there).
  bool stderr_is_terminal() const;
  // After a failed verb: closes the store and, when this run created it and it
  // is still empty, removes it again, so a failure leaves nothing behind.
  void discard_store_created_by_failure() noexcept;

 private:
  std::unique_ptr<planning::SessionManager> manager_;
  bool created_store_ = false;  // the store directory did not exist before open
  std::unique_ptr<Style> style_;
};

// A verb: its CLI11 subcommand and what runs when it was the one given.
struct Verb {
  CLI::App* command;
  std::function<Exit()> run;
};
using Verbs = std::vector<Verb>;

// Registers `command`: when it is the verb given, `run(context, *options)` runs
// (`options` was filled by CLI11 while parsing).
template <typename Options, typename Run>
void add_verb(Verbs& verbs, CLI::App* command, Context& context, std::shared_ptr<Options> options,
              Run run) {
  verbs.push_back({command, [&context, options, run] { return run(context, *options); }});
}
// The same for a verb without options.
template <typename Run>
void add_verb(Verbs& verbs, CLI::App* command, Context& context, Run run) {
  verbs.push_back({command, [&context, run] { return run(context); }});
}

// Each file registers one group of verbs (cli_sessions.cpp, cli_versions.cpp,
// cli_audit.cpp).
void add_session_verbs(CLI::App& app, Context& context, Verbs& verbs);
void add_version_verbs(CLI::App& app, Context& context, Verbs& verbs);
void add_audit_verbs(CLI::App& app, Context& context, Verbs& verbs);

}  // namespace planctl
