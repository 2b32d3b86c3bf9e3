// planctl audit verbs: log (and --follow), replay, verify, rebuild, share, info,
// export, import, backup.
#include <algorithm>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <fcntl.h>
#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>

#include "context.hpp"
#include "input.hpp"
#include "output.hpp"
#include "std_fds.hpp"

namespace planctl {
namespace {

volatile std::sig_atomic_t g_interrupted = 0;
void on_interrupt(int) { g_interrupted = 1; }

// --- log ----------------------------------------------------------------------

struct LogOptions {
  std::string session, from, to, since, until, limit;
  std::vector<std::string> types;
  bool follow = false;
  CLI::Option *session_opt, *from_opt, *to_opt, *since_opt, *until_opt, *limit_opt;
};

planning::EventQuery make_query(const LogOptions& o) {
  planning::EventQuery q;
  q.session_id = given(o.session_opt, o.session);
  for (const auto& t : o.types) q.types.insert(parse_event_type("--type", t));
  if (o.from_opt->count() > 0) q.from_sequence = parse_unsigned("--from", o.from);
  if (o.to_opt->count() > 0) q.to_sequence = parse_unsigned("--to", o.to);
  if (o.since_opt->count() > 0) q.from_time = parse_time("--since", o.since);
  if (o.until_opt->count() > 0) q.to_time = parse_time("--until", o.until);
  if (o.limit_opt->count() > 0)
    q.limit = static_cast<std::size_t>(parse_unsigned("--limit", o.limit));
  return q;
}

// Prints events as they stream from the library: JSON Lines, or aligned lines
// under one header.
class EventPrinter {
 public:
  explicit EventPrinter(Context& context) : context_(context) {}
  // A failed write stops the scan (no exception crosses the library call);
  // rethrow() then ends the verb with it.
  bool operator()(const planning::Event& event) {
    try {
      if (context_.json) {
        print_json_line(planning::to_json(event));
      } else {
        if (count_ == 0) print(render_event_header(context_.out_style()));
        print(render_event_line(event, context_.out_style()));
      }
    } catch (const Failure& failure) {
      failed_ = failure;
      return false;
    }
    ++count_;
    return true;
  }
  std::uint64_t count() const { return count_; }
  void rethrow() const {
    if (failed_) throw *failed_;
  }

 private:
  Context& context_;
  std::uint64_t count_ = 0;
  std::optional<Failure> failed_;
};

Exit run_log(Context& context, const LogOptions& o) {
  const planning::EventQuery query = make_query(o);
  auto& store = context.store(Access::read);
  EventPrinter printer(context);
  auto visit = [&printer](const planning::Event& e) { return printer(e); };

  if (!o.follow) {
    auto scanned = store.scan_events(query, visit);
    printer.rethrow();
    unwrap(std::move(scanned));
    if (printer.count() == 0 && !context.json) print("No events.\n");
    return Exit::ok;
  }

  // --follow: read up to the head, then poll the head (each call is a fresh read
  // transaction, so events committed by other processes show up) and read the
  // new range. Reading [next, head] exactly means no event is printed twice.
  std::signal(SIGINT, on_interrupt);
  std::signal(SIGTERM, on_interrupt);
  std::uint64_t next = query.from_sequence;
  for (;;) {
    const auto head = unwrap(store.head_sequence());
    const auto upper = std::min(head, query.to_sequence);
    if (next <= upper) {
      planning::EventQuery range = query;
      range.from_sequence = next;
      range.to_sequence = upper;
      if (query.limit) range.limit = *query.limit - printer.count();
      auto scanned = store.scan_events(range, visit);
      printer.rethrow();
      unwrap(std::move(scanned));
      next = upper + 1;
      flush_stdout();
    }
    const bool limit_reached = query.limit && printer.count() >= *query.limit;
    if (limit_reached || query.to_sequence == upper || g_interrupted) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    if (g_interrupted) break;
  }
  return Exit::ok;
}

// --- replay -------------------------------------------------------------------

struct ReplayOptions {
  std::string to, at, session;
  CLI::Option *to_opt, *at_opt, *session_opt;
};

Exit run_replay(Context& context, const ReplayOptions& o) {
  if (o.to_opt->count() == 0 && o.at_opt->count() == 0)
    fail(Exit::usage, "replay: one of --to SEQ or --at TIME is required");
  std::optional<std::uint64_t> sequence;
  std::optional<planning::Timestamp> time;
  if (o.to_opt->count() > 0)
    sequence = parse_unsigned("--to", o.to);
  else
    time = parse_time("--at", o.at);
  const std::string point =
      sequence ? fmt::format("sequence {}", *sequence) : planning::format_timestamp(*time);
  auto& store = context.store(Access::read);
  auto state_of = [&](const std::string& id) {
    return sequence ? store.session_at(id, *sequence) : store.session_at_time(id, *time);
  };
  const auto& style = context.out_style();

  if (o.session_opt->count() > 0) {
    const auto s = unwrap(state_of(o.session));
    if (context.json) {
      print_json(planning::to_json(s));
    } else {
      print(style.paint(fmt::format("Session {} as of {}", s.id, point), Color::bold) + "\n" +
            render_session(s, style, /*with_content=*/true));
    }
    return Exit::ok;
  }

  // Every session created up to the point and not removed by then, in creation
  // order. Only ids are kept while the log streams by.
  planning::EventQuery q;
  if (sequence)
    q.to_sequence = *sequence;
  else
    q.to_time = time;
  q.types = {planning::EventType::session_created, planning::EventType::session_removed};
  std::vector<std::string> ids;
  std::set<std::string> removed;
  unwrap(store.scan_events(q, [&](const planning::Event& e) {
    if (e.type == planning::EventType::session_created)
      ids.push_back(e.session_id);
    else
      removed.insert(e.session_id);
    return true;
  }));
  std::vector<planning::Session> sessions;
  for (const auto& id : ids)
    if (!removed.contains(id)) sessions.push_back(unwrap(state_of(id), "session " + id));

  if (context.json) {
    auto out = nlohmann::json::array();
    for (const auto& s : sessions) out.push_back(planning::to_json(s));
    print_json(out);
    return Exit::ok;
  }
  std::string out = style.paint(fmt::format("{} session{} as of {}", sessions.size(),
                                            sessions.size() == 1 ? "" : "s", point),
                                Color::bold) +
                    "\n";
  if (!sessions.empty()) out += render_session_table(sessions, style);
  print(out);
  return Exit::ok;
}

// --- verify, rebuild, info ----------------------------------------------------

planning::ProgressCallback progress_to(ProgressBar& bar) {
  return [&bar](std::uint64_t done, std::uint64_t total) { bar.update(done, total); };
}

std::string plural(std::uint64_t n, std::string_view noun) {
  return fmt::format("{} {}{}", n, noun, n == 1 ? "" : "s");
}

Exit run_verify(Context& context) {
  auto& store = context.store(Access::read);
  ProgressBar bar("verifying", context.stderr_is_terminal() && !context.json);
  const auto report = unwrap(store.verify(progress_to(bar)));
  bar.finish();
  if (context.json) {
    print_json(to_json(report));
  } else {
    const auto& style = context.out_style();
    std::string out;
    for (const auto& issue : report.issues) {
      const auto where =
          issue.sequence == 0 ? std::string("store") : fmt::format("sequence {}", issue.sequence);
      // Say the sequence once even when the library's text repeats it.
      std::string_view what = issue.what;
      const auto repeated = fmt::format("event {}: ", issue.sequence);
      if (issue.sequence != 0 && what.starts_with(repeated)) what.remove_prefix(repeated.size());
      out += fmt::format("{}: {}\n", style.paint(where, Color::red), terminal_safe(what));
    }
    const auto checked = fmt::format("{} and {} checked", plural(report.events_checked, "event"),
                                     plural(report.sessions_checked, "session"));
    if (report.ok())
      out += fmt::format("{}: {}\n", style.paint("OK", Color::green), checked);
    else
      out += fmt::format("{}: {}; {}\n", style.paint("FAILED", Color::red),
                         plural(report.issues.size(), "issue"), checked);
    print(out);
  }
  if (report.ok()) return Exit::ok;
  // The details went to stdout; stderr gets the one-line error every failure has.
  flush_stdout();
  const auto found = fmt::format("verify found {}", plural(report.issues.size(), "issue"));
  const std::string line =
      context.json ? nlohmann::json{{"error",
                                     {{"code", "verify_failed"},
                                      {"message", found},
                                      {"exit", static_cast<int>(Exit::verify_failed)}}}}
                             .dump() +
                         "\n"
                   : fmt::format("planctl: error: {}\n", found);
  std::fputs(line.c_str(), stderr);
  return Exit::verify_failed;
}

Exit run_rebuild(Context& context) {
  auto& store = context.store(Access::update_existing);
  ProgressBar bar("rebuilding", context.stderr_is_terminal() && !context.json);
  unwrap(store.rebuild_projections(progress_to(bar)));
  bar.finish();
  const auto head = unwrap(store.head_sequence());
  if (context.json) {
    auto projections = nlohmann::json::array();
    for (const auto& p : unwrap(store.projections())) projections.push_back(to_json(p));
    print_json({{"head_sequence", head}, {"projections", std::move(projections)}});
  } else {
    print(fmt::format("Rebuilt projections from {}.\n", plural(head, "event")));
  }
  return Exit::ok;
}

Exit run_share(Context& context) {
  const std::string shared_log = context.shared_log();
  if (shared_log.empty()) {
    fail(Exit::usage, "share: name the shared log with --shared-log URL or $PLANCTL_SHARED_LOG");
  }
  context.embedded_only = true;  // the store is embedded until it is moved
  const auto uploaded = unwrap(context.store(Access::update_existing).share(shared_log), "share");
  if (context.json) {
    print_json({{"uploaded", uploaded}});
  } else {
    print(
        fmt::format("Moved {} events of {} onto the shared log; run it as a node with "
                    "--shared-log from now on\n",
                    uploaded, terminal_safe(context.db_path().string())));
  }
  return Exit::ok;
}

Exit run_info(Context& context) {
  const auto info = unwrap(context.store(Access::read).info());
  if (context.json) {
    print_json(to_json(info));
    return Exit::ok;
  }
  const auto& style = context.out_style();
  Fields f;
  f.add("path", info.path.string());
  f.add("format_version", std::to_string(info.format_version));
  f.add("head_sequence", std::to_string(info.head_sequence), Color::bold);
  f.add("head_hash", planning::to_hex(info.head_hash));
  f.add("sessions", std::to_string(info.sessions));
  f.add("versions", std::to_string(info.versions));
  const auto percent = info.map_size == 0 ? 0.0 : 100.0 * info.map_used / info.map_size;
  f.add("map_size", human_bytes(info.map_size));
  f.add("map_used", fmt::format("{} ({:.1f}%)", human_bytes(info.map_used), percent));
  f.add("file_size", human_bytes(info.file_size));
  f.add("page_size", std::to_string(info.page_size));
  f.add("readers", fmt::format("{} in use of {}", info.readers_in_use, info.max_readers));
  if (!info.shared_log.empty()) {
    const std::uint64_t lag = info.shared_head_sequence > info.head_sequence
                                  ? info.shared_head_sequence - info.head_sequence
                                  : 0;
    f.add("shared_log", info.shared_log);
    f.add("shared_head", fmt::format("{} (lag {} events)", info.shared_head_sequence, lag),
          lag > 0 ? Color::yellow : Color::none);
  }
  Table table({{"PROJECTION"}, {"BUILT-IN"}, {"SCHEMA", true}, {"CHECKPOINT", true}});
  for (const auto& p : info.projections) {
    const bool behind = p.checkpoint != info.head_sequence;
    table.add_row({{p.name},
                   {p.built_in ? "yes" : "no"},
                   {std::to_string(p.schema_version)},
                   {std::to_string(p.checkpoint), behind ? Color::yellow : Color::none}});
  }
  print(f.render(style) + "\n" + table.render(style));
  return Exit::ok;
}

// --- export, import, backup ---------------------------------------------------

struct FileOptions {
  std::string file;
};

// Where `export FILE` writes. A symlink is followed to its target (a chain of
// at most 40); then a new path or a regular file is replaced atomically, and
// anything else (a FIFO, a device, a terminal) is written in place, never
// renamed over.
struct ExportTarget {
  std::filesystem::path path;
  bool in_place = false;  // not a regular file: write into it
  mode_t mode = 0600;     // of the file that replaces it (a new one: 0600)
};

ExportTarget export_target(const std::string& file) {
  namespace fs = std::filesystem;
  ExportTarget target{file};
  struct stat st {};
  for (int hops = 0; ::lstat(target.path.c_str(), &st) == 0 && S_ISLNK(st.st_mode); ++hops) {
    std::error_code ec;
    const fs::path link = fs::read_symlink(target.path, ec);
    if (ec || hops == 40)
      fail(Exit::storage, fmt::format("export: cannot resolve the symlink '{}'", file));
    target.path = link.is_absolute() ? link : target.path.parent_path() / link;
  }
  if (::stat(target.path.c_str(), &st) != 0) return target;  // a new file
  if (S_ISDIR(st.st_mode))
    fail(Exit::storage, fmt::format("export: cannot write '{}': it is a directory", file));
  if (S_ISREG(st.st_mode))
    target.mode = st.st_mode & 07777;  // replacing it keeps its permissions
  else
    target.in_place = true;
  return target;
}

Exit run_export(Context& context, const FileOptions& o) {
  auto& store = context.store(Access::read);
  if (o.file == "-") {
    if (stdout_was_closed()) fail(Exit::storage, "export: cannot write to stdout: it is closed");
    unwrap(store.export_events(std::cout));
    std::cout.flush();
    if (!std::cout) fail(Exit::storage, "export: cannot write to stdout");
    return Exit::ok;
  }
  const ExportTarget target = export_target(o.file);
  std::uint64_t count = 0;
  if (target.in_place) {
    // No O_CREAT here: it exists. Appending leaves a device or FIFO as it is.
    std::ofstream out(target.path, std::ios::binary | std::ios::app);
    if (!out) fail(Exit::storage, fmt::format("export: cannot open '{}'", o.file));
    const auto result = store.export_events(out);
    out.close();
    if (!result && result.error().code != planning::ErrorCode::storage)
      fail(result.error(), "export");
    if (!result || !out) fail(Exit::storage, fmt::format("export: cannot write '{}'", o.file));
    count = *result;
  } else {
    // Written beside the target (created 0600, like the store's files) and
    // renamed into place: a failed export leaves no partial file behind.
    const std::string temp = fmt::format("{}.planctl-{}.tmp", target.path.string(), ::getpid());
    const int fd = ::open(temp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0)
      fail(Exit::storage,
           fmt::format("export: cannot create '{}': {}", o.file, std::strerror(errno)));
    ::fchmod(fd, target.mode);
    ::close(fd);
    std::ofstream out(temp, std::ios::binary | std::ios::trunc);
    const auto result = out ? store.export_events(out)
                            : planning::Result<std::uint64_t>(std::unexpected(planning::Error{
                                  planning::ErrorCode::storage, "cannot open the temporary file"}));
    out.close();
    if (!result || !out) {
      std::remove(temp.c_str());
      if (!result && result.error().code != planning::ErrorCode::storage)
        fail(result.error(), "export");
      fail(Exit::storage, fmt::format("export: cannot write '{}'", o.file));
    }
    count = *result;
    if (std::rename(temp.c_str(), target.path.c_str()) != 0) {
      std::remove(temp.c_str());
      fail(Exit::storage, fmt::format("export: cannot rename into '{}'", o.file));
    }
  }
  if (context.json)
    print_json({{"exported", count}, {"file", o.file}});
  else
    print(fmt::format("Exported {} to {}\n", plural(count, "event"), terminal_safe(o.file)));
  return Exit::ok;
}

Exit run_import(Context& context, const FileOptions& o) {
  std::ifstream file;
  if (o.file == "-") {
    require_stdin("import");
  } else {
    std::error_code ec;
    if (std::filesystem::is_directory(o.file, ec))
      fail(Exit::invalid_argument, fmt::format("import: '{}' is a directory", o.file));
    file.open(o.file, std::ios::binary);
    if (!file) fail(Exit::invalid_argument, fmt::format("import: cannot open '{}'", o.file));
  }
  auto& store = context.store(Access::write);
  const auto count = unwrap(
      store.import_events(o.file == "-" ? static_cast<std::istream&>(std::cin) : file), "import");
  const auto head = unwrap(store.head_sequence());
  if (context.json)
    print_json({{"imported", count}, {"head_sequence", head}});
  else
    print(fmt::format("Imported {} (head sequence {})\n", plural(count, "event"), head));
  return Exit::ok;
}

struct BackupOptions {
  std::string destination;
  bool compact = false;
};

Exit run_backup(Context& context, const BackupOptions& o) {
  unwrap(context.store(Access::read).backup(o.destination, o.compact), "backup");
  if (context.json)
    print_json({{"destination", o.destination}, {"compact", o.compact}});
  else
    print(fmt::format("Backed up {} to {}{}\n", terminal_safe(context.db_path().string()),
                      terminal_safe(o.destination), o.compact ? " (compacted)" : ""));
  return Exit::ok;
}

// --- salvage --------------------------------------------------------------------

struct SalvageOptions {
  std::string damaged, destination;
};

// "1, 4..9, 12"
std::string ranges(const std::vector<std::uint64_t>& sequences) {
  std::string out;
  for (std::size_t i = 0; i < sequences.size();) {
    std::size_t j = i;
    while (j + 1 < sequences.size() && sequences[j + 1] == sequences[j] + 1) ++j;
    if (!out.empty()) out += ", ";
    out += i == j ? std::to_string(sequences[i])
                  : fmt::format("{}..{}", sequences[i], sequences[j]);
    i = j + 1;
  }
  return out;
}

Exit run_salvage(Context& context, const SalvageOptions& o) {
  const auto r = unwrap(planning::salvage(o.damaged, o.destination));
  const bool whole = r.lost.empty() && r.beyond_prefix.empty();
  if (context.json) {
    print_json({{"recovered_head", r.recovered_head},
                {"damaged_head", r.damaged_head},
                {"lost", r.lost},
                {"beyond_prefix", r.beyond_prefix},
                {"beyond_prefix_file", r.beyond_prefix_file.string()},
                {"frames_found", r.frames_found}});
  } else {
    std::string out = fmt::format("Salvaged events 1..{} into {} (hash chain verified)\n",
                                  r.recovered_head, o.destination);
    if (r.recovered_head == 0) out = fmt::format("Salvaged no events into {}\n", o.destination);
    if (!r.lost.empty()) out += fmt::format("Lost: {}\n", ranges(r.lost));
    if (!r.beyond_prefix.empty()) {
      out += fmt::format("Intact but after the first loss, not in the new store: {} (written to {})\n",
                         ranges(r.beyond_prefix), r.beyond_prefix_file.string());
    }
    if (whole) out += "Nothing was lost.\n";
    print(out);
  }
  if (whole) return Exit::ok;
  std::fflush(stdout);
  fmt::print(stderr, "planctl: error: salvage lost {} event(s)\n",
             r.lost.size() + r.beyond_prefix.size());
  return Exit::verify_failed;
}

}  // namespace

void add_audit_verbs(CLI::App& app, Context& context, Verbs& verbs) {
  {
    auto* cmd = app.add_subcommand(
        "salvage",
        "Recover the events of a damaged store from its raw file into NEW_DIR; exit 1 if any "
        "was lost");
    auto o = std::make_shared<SalvageOptions>();
    cmd->add_option("damaged", o->damaged, "The damaged store's directory")->required();
    cmd->add_option("new_dir", o->destination, "A new or empty directory for the new store")
        ->required();
    add_verb(verbs, cmd, context, o, run_salvage);
  }
  {
    auto* cmd = app.add_subcommand("log", "Print events of the log (JSON Lines with --json)");
    auto o = std::make_shared<LogOptions>();
    o->session_opt =
        cmd->add_option("--session", o->session, "Only this session's events")->type_name("ID");
    cmd->add_option("--type", o->types, "Only events of this type (repeatable; e.g. created)")
        ->type_name("TYPE");
    o->from_opt =
        cmd->add_option("--from", o->from, "From this sequence (inclusive)")->type_name("SEQ");
    o->to_opt = cmd->add_option("--to", o->to, "Up to this sequence (inclusive)")->type_name("SEQ");
    o->since_opt = cmd->add_option("--since", o->since, "Events at or after TIME (ISO-8601)")
                       ->type_name("TIME");
    o->until_opt = cmd->add_option("--until", o->until, "Events at or before TIME (ISO-8601)")
                       ->type_name("TIME");
    o->limit_opt =
        cmd->add_option("--limit", o->limit, "At most N events (with --follow: stop after N)")
            ->type_name("N");
    cmd->add_flag("--follow,-f", o->follow,
                  "Keep printing events appended by any process until interrupted");
    add_verb(verbs, cmd, context, o, run_log);
  }
  {
    auto* cmd = app.add_subcommand(
        "replay", "State of one session, or of every session, as of a sequence number or a time");
    auto o = std::make_shared<ReplayOptions>();
    o->to_opt = cmd->add_option("--to", o->to, "As of this sequence number")->type_name("SEQ");
    o->at_opt = cmd->add_option("--at", o->at, "As of this time (ISO-8601)")->type_name("TIME");
    o->to_opt->excludes(o->at_opt);
    o->session_opt = cmd->add_option("--session", o->session, "Only this session")->type_name("ID");
    add_verb(verbs, cmd, context, o, run_replay);
  }
  add_verb(verbs,
           app.add_subcommand(
               "verify", "Check checksums, the hash chain and projections; exit 1 on any mismatch"),
           context, run_verify);
  add_verb(verbs,
           app.add_subcommand("rebuild", "Clear every projection and replay the whole log into it"),
           context, run_rebuild);
  add_verb(verbs,
           app.add_subcommand(
               "share", "Move this embedded store onto an empty shared log (--shared-log URL)"),
           context, run_share);
  add_verb(verbs,
           app.add_subcommand("info",
                              "Head sequence, counts, projection checkpoints, file and map usage"),
           context, run_info);
  {
    auto* cmd =
        app.add_subcommand("export", "Write every event as JSON Lines to FILE (- = stdout)");
    auto o = std::make_shared<FileOptions>();
    cmd->add_option("file", o->file, "Output file, or - for stdout")->required();
    add_verb(verbs, cmd, context, o, run_export);
  }
  {
    auto* cmd = app.add_subcommand(
        "import", "Append the events of a JSON Lines FILE (- = stdin): all of them or none");
    auto o = std::make_shared<FileOptions>();
    cmd->add_option("file", o->file, "Input file, or - for stdin")->required();
    add_verb(verbs, cmd, context, o, run_import);
  }
  {
    auto* cmd = app.add_subcommand(
        "backup", "Consistent hot copy of the store into DEST (a new or empty directory)");
    auto o = std::make_shared<BackupOptions>();
    cmd->add_option("dest", o->destination, "Destination directory")->required();
    cmd->add_flag("--compact", o->compact, "Omit free pages (smaller copy)");
    add_verb(verbs, cmd, context, o, run_backup);
  }
}

}  // namespace planctl
