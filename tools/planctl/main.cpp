// planctl — the replay/audit tool of the planning engine (docs/planctl.md).
//
//   planctl [--db PATH] [--json] VERB ...
//
// A thin main over library calls: CLI11 parses, the verb calls the public API,
// output.cpp formats. Every failure is one line on stderr and a distinct exit
// code (context.hpp); nothing is written to stdout on failure.
#include <algorithm>
#include <cstdio>
#include <exception>
#include <string>

#include <fmt/format.h>
#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "context.hpp"
#include "serve/serve.hpp"
#include "std_fds.hpp"

namespace {

// The one error line on stderr: plain text, or with --json a JSON document
// {"error":{"code":"not_found","message":"...","exit":3}}. The message is made
// terminal-safe (it may quote stored or typed text).
int report(planctl::Exit code, std::string_view message, bool json,
           std::string_view error_code = {}) {
  std::fflush(stdout);
  std::string line;
  if (json) {
    const nlohmann::json document = {
        {"error",
         {{"code", error_code.empty() ? planctl::exit_name(code) : error_code},
          {"message", message},
          {"exit", static_cast<int>(code)}}}};
    line = document.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
  } else {
    line = fmt::format("planctl: error: {}\n", planctl::terminal_safe(message));
  }
  // Unchecked: there is nowhere left to report a failing stderr (fmt::print
  // would throw out of main).
  std::fputs(line.c_str(), stderr);
  return static_cast<int>(code);
}

// --json anywhere on the command line (also when parsing it failed).
bool json_requested(int argc, char** argv) {
  for (int i = 1; i < argc; ++i)
    if (std::string_view(argv[i]) == "--json") return true;
  return false;
}

}  // namespace

int main(int argc, char** argv) {
  using planctl::Exit;
  planctl::guard_standard_fds();  // before any file is opened
  CLI::App app{"planctl — inspect, change, replay and audit a planning-session store", "planctl"};
  app.footer(
      "The store is --db, else $PLANCTL_DB, else ./.planning (created by the first write).\n"
      "With --shared-log (or $PLANCTL_SHARED_LOG) it is a node of that shared log "
      "(docs/SCALING.md).\n"
      "Exit codes: 0 ok, 1 verify found mismatches, 2 usage, 3 not found, 4 invalid argument,\n"
      "5 invalid transition or state, 6 conflict, 7 corruption, 8 storage.\n"
      "Run 'planctl VERB --help' for a verb's options.");
  // At most one verb; "no verb" is reported after parsing, so that an unknown
  // word is reported as an unknown verb rather than as a missing one.
  app.require_subcommand(0, 1);
  // Global options are accepted after the verb too ("planctl show ID --json").
  app.fallthrough();

  planctl::Context context;
  auto* db_option = app.add_option("--db", context.db_option,
                                   "Store directory (default: $PLANCTL_DB or ./.planning)")
                        ->type_name("PATH");
  app.set_version_flag(
      "--version",
      fmt::format("planctl {}.{}.{} (store format {})", planning::kVersionMajor,
                  planning::kVersionMinor, planning::kVersionPatch, planning::kFormatVersion),
      "Print the version and exit");
  app.add_flag("--json", context.json, "Machine-readable output (JSON; JSON Lines for log)");
  app.add_option("--shared-log", context.shared_log_option,
                 "Run the store as a node of this shared log (a libpq connection string or "
                 "postgresql:// URL; default: $PLANCTL_SHARED_LOG, else embedded)")
      ->type_name("URL");

  planctl::Verbs verbs;
  planctl::add_session_verbs(app, context, verbs);
  planctl::add_version_verbs(app, context, verbs);
  planctl::add_audit_verbs(app, context, verbs);
  planctl::add_serve_verb(app, context, verbs);

  const bool json = json_requested(argc, argv);
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);  // --help: usage on stdout, exit 0
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);  // --version: one line on stdout, exit 0
  } catch (const CLI::ExtrasError& e) {
    if (app.get_subcommands().empty() && !app.remaining().empty())
      return report(Exit::usage,
                    fmt::format("unknown verb '{}' (see planctl --help)", app.remaining().front()),
                    json);
    return report(Exit::usage, std::string(e.what()) + " (see planctl --help)", json);
  } catch (const CLI::ParseError& e) {
    std::string message = e.what();
    std::replace(message.begin(), message.end(), '\n', ' ');
    return report(Exit::usage, message + " (see planctl --help)", json);
  }
  context.db_given = db_option->count() > 0;

  for (const auto& verb : verbs) {
    if (!verb.command->parsed()) continue;
    try {
      const Exit code = verb.run();
      // Every print() was checked; the last buffered bytes are written here.
      planctl::flush_stdout();
      return static_cast<int>(code);
    } catch (const planctl::Failure& failure) {
      context.discard_store_created_by_failure();
      return report(failure.code, failure.message, context.json, failure.error_code);
    } catch (const std::exception& e) {
      // The library reports errors as values; this is the tool's own safety net
      // (e.g. allocation failure while formatting).
      context.discard_store_created_by_failure();
      return report(Exit::storage, e.what(), context.json);
    }
  }
  return report(Exit::usage, "no verb given: a subcommand is required (see planctl --help)", json);
}
