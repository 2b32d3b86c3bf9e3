// planctl version verbs: history, diff, restore. (`show ID --version N` lives
// beside show in cli_sessions.cpp.)
#include <memory>
#include <string>

#include <fmt/format.h>

#include "context.hpp"
#include "input.hpp"
#include "output.hpp"

namespace planctl {
namespace {

struct HistoryOptions {
  std::string id;
};

Exit run_history(Context& context, const HistoryOptions& o) {
  const auto versions = unwrap(context.store(Access::read).get_versions(o.id));
  if (context.json) {
    auto out = nlohmann::json::array();
    for (const auto& v : versions) out.push_back(planning::to_json(v));
    print_json(out);
    return Exit::ok;
  }
  if (versions.empty()) {
    print(fmt::format("Session {} has no versions yet.\n", o.id));
    return Exit::ok;
  }
  const auto reference = now();
  Table table({{"VERSION", true}, {"CREATED"}, {"BY"}, {"SEQ", true}, {"CHANGED"}, {"SUMMARY"}});
  for (const auto& v : versions) {
    std::string changed;
    for (const auto& field : v.changed_fields) changed += (changed.empty() ? "" : ",") + field;
    table.add_row({{std::to_string(v.version_number), Color::bold},
                   {relative_time(v.created_at, reference)},
                   {v.created_by},
                   {std::to_string(v.event_seq)},
                   {changed},
                   {one_line(v.change_summary, 60)}});
  }
  print(table.render(context.out_style()));
  return Exit::ok;
}

struct DiffOptions {
  std::string id, a, b;
};

Exit run_diff(Context& context, const DiffOptions& o) {
  const auto a = parse_u32("version A", o.a);
  const auto b = parse_u32("version B", o.b);
  const auto diff = unwrap(context.store(Access::read).compare_versions(o.id, a, b));
  if (context.json)
    print_json(to_json(diff));
  else
    print(render_diff(diff.unified, context.out_style()));
  return Exit::ok;
}

struct RestoreOptions {
  std::string id, version, by;
};

Exit run_restore(Context& context, const RestoreOptions& o) {
  const auto n = parse_u32("version", o.version);
  const auto s = unwrap(context.store(Access::write).restore_version(o.id, n, o.by));
  if (context.json)
    print_json(planning::to_json(s));
  else
    print(fmt::format("Restored version {} of session {} as version {}\n", n, s.id,
                      s.current_version));
  return Exit::ok;
}

}  // namespace

void add_version_verbs(CLI::App& app, Context& context, Verbs& verbs) {
  {
    auto* cmd = app.add_subcommand("history", "List a session's versions");
    auto o = std::make_shared<HistoryOptions>();
    cmd->add_option("id", o->id, "Session id")->required();
    add_verb(verbs, cmd, context, o, run_history);
  }
  {
    auto* cmd = app.add_subcommand("diff", "Unified diff between two versions of a session");
    auto o = std::make_shared<DiffOptions>();
    cmd->add_option("id", o->id, "Session id")->required();
    cmd->add_option("a", o->a, "From version")->required();
    cmd->add_option("b", o->b, "To version")->required();
    add_verb(verbs, cmd, context, o, run_diff);
  }
  {
    auto* cmd = app.add_subcommand(
        "restore", "Make a new version whose content equals version N (history is kept)");
    auto o = std::make_shared<RestoreOptions>();
    cmd->add_option("id", o->id, "Session id")->required();
    cmd->add_option("n", o->version, "Version to restore")->required();
    cmd->add_option("--by", o->by, "Actor recorded as created_by of the new version")
        ->type_name("ACTOR");
    add_verb(verbs, cmd, context, o, run_restore);
  }
}

}  // namespace planctl
