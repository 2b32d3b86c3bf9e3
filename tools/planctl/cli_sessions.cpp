// planctl session verbs: create, update, pause, resume, archive, remove,
// convert, show, list, stats, stale.
//
// Each verb is an options struct filled by CLI11, a run_* function (parse the
// values, call the library, format), and its registration in add_session_verbs.
#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "context.hpp"
#include "input.hpp"
#include "output.hpp"

namespace planctl {
namespace {

using planning::Session;

// A mutating verb's result: the session as JSON, or one confirming line.
Exit report_session(Context& context, const Session& session, const std::string& line) {
  if (context.json)
    print_json(planning::to_json(session));
  else
    print(line + "\n");
  return Exit::ok;
}

// --- create, update -------------------------------------------------------------

// The session's text fields, shared by create and update.
struct FieldOptions {
  std::string title, description, repo_path, repo_url, workdir, content_file, metadata, by;
  CLI::Option *title_opt, *description_opt, *repo_path_opt, *repo_url_opt, *workdir_opt,
      *content_opt, *metadata_opt;

  void add_to(CLI::App* cmd, const char* by_help) {
    title_opt = cmd->add_option("--title", title, "Title (non-empty)");
    description_opt = cmd->add_option("--description", description, "Description");
    repo_path_opt = cmd->add_option("--repo-path", repo_path, "Repository path")->type_name("PATH");
    repo_url_opt = cmd->add_option("--repo-url", repo_url, "Repository URL")->type_name("URL");
    workdir_opt = cmd->add_option("--workdir", workdir, "Working directory")->type_name("PATH");
    content_opt =
        cmd->add_option("--content", content_file, "Markdown content from FILE, or - for stdin")
            ->type_name("FILE");
    metadata_opt =
        cmd->add_option("--metadata", metadata, "Metadata as a JSON object")->type_name("JSON");
    cmd->add_option("--by", by, by_help)->type_name("ACTOR");
  }
  std::optional<std::string> content() const {
    if (content_opt->count() == 0) return std::nullopt;
    return read_file_or_stdin("--content", content_file);
  }
  std::optional<nlohmann::json> metadata_json() const {
    if (metadata_opt->count() == 0) return std::nullopt;
    return parse_json("--metadata", metadata);
  }
};

Exit run_create(Context& context, const FieldOptions& o) {
  planning::CreateRequest request;
  request.title = o.title;
  request.description = o.description;
  request.repository_path = o.repo_path;
  request.repository_url = o.repo_url;
  request.working_directory = o.workdir;
  request.initial_content = o.content();
  if (auto metadata = o.metadata_json()) request.metadata = std::move(*metadata);
  request.created_by = o.by;
  const auto s = unwrap(context.store(Access::write).create(request));
  return report_session(context, s,
                        fmt::format("Created session {} (version {})", s.id, s.current_version));
}

struct UpdateOptions : FieldOptions {
  std::string id, summary, expect;
  CLI::Option* expect_opt;
};

Exit run_update(Context& context, const UpdateOptions& o) {
  planning::UpdateRequest request;
  request.title = given(o.title_opt, o.title);
  request.description = given(o.description_opt, o.description);
  request.repository_path = given(o.repo_path_opt, o.repo_path);
  request.repository_url = given(o.repo_url_opt, o.repo_url);
  request.working_directory = given(o.workdir_opt, o.workdir);
  request.content = o.content();
  request.metadata = o.metadata_json();
  request.change_summary = o.summary;
  request.updated_by = o.by;
  if (o.expect_opt->count() > 0)
    request.expected_stream_version = parse_u32("--expect-version", o.expect);
  auto& store = context.store(Access::write);
  // An update whose fields all equal the current values appends nothing; say so
  // rather than "Updated" (the stream version tells whether an event was added).
  const auto before = store.get(o.id);
  const auto s = unwrap(store.update(o.id, request));
  if (before && before->stream_version == s.stream_version)
    return report_session(context, s,
                          fmt::format("No change: session {} already has these values (stream "
                                      "version {})",
                                      s.id, s.stream_version));
  return report_session(context, s,
                        fmt::format("Updated session {} (version {}, stream version {})", s.id,
                                    s.current_version, s.stream_version));
}

// --- pause, resume, archive, remove, convert ------------------------------------

struct StatusOptions {
  std::string id, by, reason;
};

Exit run_pause(Context& context, const StatusOptions& o) {
  const auto s = unwrap(context.store(Access::write).pause(o.id, o.reason, o.by));
  return report_session(context, s, fmt::format("Paused session {}", s.id));
}

Exit run_resume(Context& context, const StatusOptions& o) {
  const auto s = unwrap(context.store(Access::write).resume(o.id, o.by));
  return report_session(context, s, fmt::format("Resumed session {}", s.id));
}

Exit run_archive(Context& context, const StatusOptions& o) {
  const auto s = unwrap(context.store(Access::write).archive(o.id, o.by));
  return report_session(context, s, fmt::format("Archived session {}", s.id));
}

Exit run_remove(Context& context, const StatusOptions& o) {
  const auto s = unwrap(context.store(Access::write).remove(o.id, o.by));
  return report_session(context, s, fmt::format("Removed session {}", s.id));
}

// An id and --by (plus --reason for pause).
template <typename Run>
void add_status_verb(CLI::App& app, Context& context, Verbs& verbs, const std::string& name,
                     const std::string& help, Run run) {
  auto* cmd = app.add_subcommand(name, help);
  auto o = std::make_shared<StatusOptions>();
  cmd->add_option("id", o->id, "Session id")->required();
  if (name == "pause") cmd->add_option("--reason", o->reason, "Why it is paused");
  cmd->add_option("--by", o->by, "Actor recorded as updated_by")->type_name("ACTOR");
  add_verb(verbs, cmd, context, o, run);
}

struct ConvertOptions {
  std::string id, project, by;
  std::vector<std::string> work_items;
};

Exit run_convert(Context& context, const ConvertOptions& o) {
  const planning::ConvertRequest request{o.project, o.work_items, o.by};
  const auto s = unwrap(context.store(Access::write).mark_converted(o.id, request));
  return report_session(context, s,
                        fmt::format("Converted session {} to project {} ({} work items)", s.id,
                                    s.project_id, s.work_item_ids.size()));
}

// --- show, list, stats ----------------------------------------------------------

struct ShowOptions {
  std::string id, version;
  CLI::Option* version_opt;
};

Exit run_show(Context& context, const ShowOptions& o) {
  auto& store = context.store(Access::read);
  if (o.version_opt->count() > 0) {
    const auto v = unwrap(store.get_version(o.id, parse_u32("--version", o.version)));
    if (context.json)
      print_json(planning::to_json(v));
    else
      print(render_version(v, context.out_style()));
    return Exit::ok;
  }
  const auto s = unwrap(store.get(o.id));
  if (context.json)
    print_json(planning::to_json(s));
  else
    print(render_session(s, context.out_style(), /*with_content=*/true));
  return Exit::ok;
}

struct ListOptions {
  std::vector<std::string> status;
  std::string repo_path, repo_url, project, created_by, created_after, created_before,
      updated_after, updated_before, title_contains, order_by, limit, offset;
  bool has_content = false, no_content = false, desc = false;
  CLI::Option *repo_path_opt, *repo_url_opt, *project_opt, *created_by_opt, *created_after_opt,
      *created_before_opt, *updated_after_opt, *updated_before_opt, *title_opt, *order_opt,
      *limit_opt, *offset_opt;
};

std::optional<planning::Timestamp> time_option(const CLI::Option* option, const char* flag,
                                               const std::string& text) {
  if (option->count() == 0) return std::nullopt;
  return parse_time(flag, text);
}

Exit run_list(Context& context, const ListOptions& o) {
  planning::SessionFilters f;
  for (const auto& s : o.status) f.status.insert(parse_status("--status", s));
  f.repository_path = given(o.repo_path_opt, o.repo_path);
  f.repository_url = given(o.repo_url_opt, o.repo_url);
  f.project_id = given(o.project_opt, o.project);
  f.created_by = given(o.created_by_opt, o.created_by);
  f.created_after = time_option(o.created_after_opt, "--created-after", o.created_after);
  f.created_before = time_option(o.created_before_opt, "--created-before", o.created_before);
  f.updated_after = time_option(o.updated_after_opt, "--updated-after", o.updated_after);
  f.updated_before = time_option(o.updated_before_opt, "--updated-before", o.updated_before);
  if (o.has_content) f.has_content = true;
  if (o.no_content) f.has_content = false;
  f.title_contains = given(o.title_opt, o.title_contains);
  if (o.order_opt->count() > 0) f.order_by = parse_order_by("--order-by", o.order_by);
  f.descending = o.desc;
  if (o.limit_opt->count() > 0) f.limit = parse_unsigned("--limit", o.limit);
  if (o.offset_opt->count() > 0) f.offset = parse_unsigned("--offset", o.offset);

  const auto sessions = unwrap(context.store(Access::read).list(f));
  if (context.json) {
    auto out = nlohmann::json::array();
    for (const auto& s : sessions) out.push_back(planning::to_json(s));
    print_json(out);
  } else if (sessions.empty()) {
    print("No sessions.\n");
  } else {
    print(render_session_table(sessions, context.out_style()));
  }
  return Exit::ok;
}

Exit run_stats(Context& context) {
  const auto s = unwrap(context.store(Access::read).get_statistics());
  if (context.json) {
    print_json(to_json(s));
    return Exit::ok;
  }
  Fields f;
  f.add("total_sessions", std::to_string(s.total_sessions));
  f.add("active_sessions", std::to_string(s.active_sessions), Color::green);
  f.add("paused_sessions", std::to_string(s.paused_sessions), Color::yellow);
  f.add("converted_sessions", std::to_string(s.converted_sessions), Color::blue);
  f.add("archived_sessions", std::to_string(s.archived_sessions), Color::dim);
  f.add("removed_sessions", std::to_string(s.removed_sessions));
  f.add("sessions_with_content", std::to_string(s.sessions_with_content));
  f.add("total_versions", std::to_string(s.total_versions));
  f.add("average_versions_per_session", fmt::format("{:.2f}", s.average_versions_per_session));
  f.add("total_events", std::to_string(s.total_events));
  print(f.render(context.out_style()));
  return Exit::ok;
}

// --- stale ------------------------------------------------------------------------

struct StaleOptions {
  std::string inactive_for, archive_after, by = "planning:recovery";
  bool apply = false;
  CLI::Option *inactive_opt, *archive_opt;
};

Exit run_stale(Context& context, const StaleOptions& o) {
  planning::StaleOptions options;
  if (o.inactive_opt->count() > 0)
    options.inactive_for = parse_duration("--inactive-for", o.inactive_for);
  if (o.archive_opt->count() > 0) {
    options.archive_after = parse_duration("--archive-after", o.archive_after);
    if (options.archive_after < options.inactive_for)
      fail(Exit::invalid_argument,
           fmt::format("--archive-after {} is shorter than --inactive-for {}", o.archive_after,
                       o.inactive_for.empty() ? "24h" : o.inactive_for));
  } else if (options.archive_after < options.inactive_for) {
    // The default 7d never undercuts a longer --inactive-for: keep the default
    // ratio (24h : 7d), so such sessions are paused long before they are
    // archived (saturating; 2^63 ns is about 292 years).
    const auto max = std::chrono::nanoseconds::max();
    options.archive_after = options.inactive_for > max / 7 ? max : options.inactive_for * 7;
  }
  // --apply writes, but never creates a store at a mistyped path.
  auto& store = context.store(o.apply ? Access::update_existing : Access::read);
  const auto report = unwrap(planning::SessionRecovery::find_stale(store, options));
  std::optional<std::size_t> applied;
  if (o.apply) {
    ProgressBar bar("applying", context.stderr_is_terminal() && !context.json, "sessions");
    applied = unwrap(planning::SessionRecovery::apply(
        store, report, o.by,
        [&bar](std::uint64_t done, std::uint64_t total) { bar.update(done, total); }));
    bar.finish();
  }

  if (context.json) {
    auto out = to_json(report);
    out["applied"] = applied ? nlohmann::json(*applied) : nlohmann::json();
    print_json(out);
    return Exit::ok;
  }
  if (report.stale_sessions.empty()) {
    print("No stale sessions.\n");
    return Exit::ok;
  }
  const auto reference = now();
  Table table({{"ID"}, {"STATUS"}, {"LAST ACTIVITY"}, {"RECOMMEND"}, {"TITLE"}});
  for (const auto& s : report.stale_sessions) {
    const auto it = report.recommendations.find(s.id);
    const std::string action =
        it == report.recommendations.end() ? "-" : std::string(planning::to_string(it->second));
    table.add_row({{s.id},
                   {std::string(planning::to_string(s.status)), color_of(s.status)},
                   {relative_time(s.last_activity_at, reference)},
                   {action, action == "archive" ? Color::red : Color::yellow},
                   {one_line(s.title, 60)}});
  }
  std::string out = table.render(context.out_style());
  if (applied)
    out += fmt::format("Applied: {} session{} changed.\n", *applied, *applied == 1 ? "" : "s");
  else
    out += "Run again with --apply to apply the recommendations.\n";
  print(out);
  return Exit::ok;
}

}  // namespace

void add_session_verbs(CLI::App& app, Context& context, Verbs& verbs) {
  {
    auto* cmd = app.add_subcommand("create", "Create a planning session");
    auto o = std::make_shared<FieldOptions>();
    o->add_to(cmd, "Actor recorded as created_by");
    o->title_opt->required();
    add_verb(verbs, cmd, context, o, run_create);
  }
  {
    auto* cmd = app.add_subcommand("update", "Change a session's fields or content");
    auto o = std::make_shared<UpdateOptions>();
    cmd->add_option("id", o->id, "Session id")->required();
    o->add_to(cmd, "Actor recorded as updated_by");
    cmd->add_option("--summary", o->summary, "Change summary of the version this update makes");
    o->expect_opt =
        cmd->add_option("--expect-version", o->expect,
                        "Apply only if the session's stream_version is N (else conflict)")
            ->type_name("N");
    add_verb(verbs, cmd, context, o, run_update);
  }
  add_status_verb(app, context, verbs, "pause", "Pause an active session", run_pause);
  add_status_verb(app, context, verbs, "resume", "Resume a paused session", run_resume);
  {
    auto* cmd = app.add_subcommand("convert", "Mark an active session converted to a project");
    auto o = std::make_shared<ConvertOptions>();
    cmd->add_option("id", o->id, "Session id")->required();
    cmd->add_option("--project", o->project, "Project id")->required()->type_name("P");
    cmd->add_option("--work-item", o->work_items, "Work item id (repeatable)")->type_name("W");
    cmd->add_option("--by", o->by, "Actor recorded as converted_by")->type_name("ACTOR");
    add_verb(verbs, cmd, context, o, run_convert);
  }
  add_status_verb(app, context, verbs, "archive", "Archive a session (terminal)", run_archive);
  add_status_verb(app, context, verbs, "remove",
                  "Remove a session (a tombstone; its history stays in the log)", run_remove);
  {
    auto* cmd = app.add_subcommand("show", "Show a session, or one of its versions");
    auto o = std::make_shared<ShowOptions>();
    cmd->add_option("id", o->id, "Session id")->required();
    o->version_opt =
        cmd->add_option("--version", o->version, "Show version N instead")->type_name("N");
    add_verb(verbs, cmd, context, o, run_show);
  }
  {
    auto* cmd = app.add_subcommand("list", "List sessions matching every given filter");
    auto o = std::make_shared<ListOptions>();
    cmd->add_option("--status", o->status, "active, paused, converted or archived (repeatable)")
        ->type_name("STATUS");
    o->repo_path_opt =
        cmd->add_option("--repo-path", o->repo_path, "repository_path equals")->type_name("PATH");
    o->repo_url_opt =
        cmd->add_option("--repo-url", o->repo_url, "repository_url equals")->type_name("URL");
    o->project_opt = cmd->add_option("--project", o->project, "project_id equals")->type_name("P");
    o->created_by_opt =
        cmd->add_option("--created-by", o->created_by, "created_by equals")->type_name("ACTOR");
    o->created_after_opt =
        cmd->add_option("--created-after", o->created_after, "Created after (ISO-8601, exclusive)")
            ->type_name("TIME");
    o->created_before_opt =
        cmd->add_option("--created-before", o->created_before, "Created before (exclusive)")
            ->type_name("TIME");
    o->updated_after_opt =
        cmd->add_option("--updated-after", o->updated_after, "Updated after (exclusive)")
            ->type_name("TIME");
    o->updated_before_opt =
        cmd->add_option("--updated-before", o->updated_before, "Updated before (exclusive)")
            ->type_name("TIME");
    auto* has = cmd->add_flag("--has-content", o->has_content, "Only sessions with content");
    auto* none = cmd->add_flag("--no-content", o->no_content, "Only sessions without content");
    has->excludes(none);
    o->title_opt = cmd->add_option("--title-contains", o->title_contains,
                                   "Title contains TEXT (ASCII case-insensitive)")
                       ->type_name("TEXT");
    o->order_opt = cmd->add_option("--order-by", o->order_by,
                                   "created_at (default), updated_at, last_activity_at or title")
                       ->type_name("FIELD");
    cmd->add_flag("--desc", o->desc, "Descending order");
    o->limit_opt = cmd->add_option("--limit", o->limit, "At most N sessions")->type_name("N");
    o->offset_opt = cmd->add_option("--offset", o->offset, "Skip N sessions first")->type_name("N");
    add_verb(verbs, cmd, context, o, run_list);
  }
  {
    auto* cmd = app.add_subcommand("stats", "Session and version statistics");
    add_verb(verbs, cmd, context, run_stats);
  }
  {
    auto* cmd = app.add_subcommand(
        "stale", "Find sessions without activity (and pause or archive them with --apply)");
    auto o = std::make_shared<StaleOptions>();
    o->inactive_opt = cmd->add_option("--inactive-for", o->inactive_for,
                                      "Active sessions idle this long are stale (default 24h)")
                          ->type_name("DURATION");
    o->archive_opt = cmd->add_option("--archive-after", o->archive_after,
                                     "Recommend archiving after this long idle (default 7d, or 7 x "
                                     "--inactive-for when that is longer)")
                         ->type_name("DURATION");
    cmd->add_flag("--apply", o->apply, "Apply the recommendations");
    cmd->add_option("--by", o->by, "Actor recorded by --apply (default planning:recovery)")
        ->type_name("ACTOR");
    add_verb(verbs, cmd, context, o, run_stale);
  }
}

}  // namespace planctl
