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

#include <fmt/format.h>
#include <CLI/CLI.hpp>

#include "context.hpp"

namespace {

int report(planctl::Exit code, std::string_view message) {
  std::fflush(stdout);
  fmt::print(stderr, "planctl: error: {}\n", message);
  return static_cast<int>(code);
}

}  // namespace

int main(int argc, char** argv) {
  using planctl::Exit;
  CLI::App app{"planctl — inspect, change, replay and audit a planning-session store", "planctl"};
  app.footer(
      "The store is --db, else $PLANCTL_DB, else ./.planning (created by the first write).\n"
      "Exit codes: 0 ok, 1 verify found mismatches, 2 usage, 3 not found, 4 invalid argument,\n"
      "5 invalid transition or state, 6 conflict, 7 corruption, 8 storage.\n"
      "Run 'planctl VERB --help' for a verb's options.");
  // At most one verb; "no verb" is reported after parsing, so that an unknown
  // word is reported as an unknown verb rather than as a missing one.
  app.require_subcommand(0, 1);
  // Global options are accepted after the verb too ("planctl show ID --json").
  app.fallthrough();

  planctl::Context context;
  app.add_option("--db", context.db_option, "Store directory (default: $PLANCTL_DB or ./.planning)")
      ->type_name("PATH");
  app.add_flag("--json", context.json, "Machine-readable output (JSON; JSON Lines for log)");

  planctl::Verbs verbs;
  planctl::add_session_verbs(app, context, verbs);
  planctl::add_version_verbs(app, context, verbs);
  planctl::add_audit_verbs(app, context, verbs);

  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);  // --help: usage on stdout, exit 0
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::ExtrasError& e) {
    if (app.get_subcommands().empty() && !app.remaining().empty())
      return report(Exit::usage,
                    fmt::format("unknown verb '{}' (see planctl --help)", app.remaining().front()));
    return report(Exit::usage, std::string(e.what()) + " (see planctl --help)");
  } catch (const CLI::ParseError& e) {
    std::string message = e.what();
    std::replace(message.begin(), message.end(), '\n', ' ');
    return report(Exit::usage, message + " (see planctl --help)");
  }

  for (const auto& verb : verbs) {
    if (!verb.command->parsed()) continue;
    try {
      const Exit code = verb.run();
      if (std::fflush(stdout) != 0) return report(Exit::storage, "cannot write to stdout");
      return static_cast<int>(code);
    } catch (const planctl::Failure& failure) {
      context.discard_store_created_by_failure();
      return report(failure.code, failure.message);
    } catch (const std::exception& e) {
      // The library reports errors as values; this is the tool's own safety net
      // (e.g. allocation failure while formatting).
      context.discard_store_created_by_failure();
      return report(Exit::storage, e.what());
    }
  }
  return report(Exit::usage, "no verb given: a subcommand is required (see planctl --help)");
}
