#include "output.hpp"

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <variant>

#include <fmt/format.h>

#include "context.hpp"
#include "std_fds.hpp"

namespace planctl {

using planning::Timestamp;

// --- Styling ------------------------------------------------------------------

std::string Style::paint(std::string_view text, Color color) const {
  if (!enabled_ || color == Color::none || text.empty()) return std::string(text);
  const char* code = "";
  switch (color) {
    case Color::none:
      break;
    case Color::bold:
      code = "1";
      break;
    case Color::dim:
      code = "2";
      break;
    case Color::red:
      code = "31";
      break;
    case Color::green:
      code = "32";
      break;
    case Color::yellow:
      code = "33";
      break;
    case Color::blue:
      code = "34";
      break;
    case Color::magenta:
      code = "35";
      break;
    case Color::cyan:
      code = "36";
      break;
  }
  return fmt::format("\x1b[{}m{}\x1b[0m", code, text);
}

Color color_of(planning::Status status) {
  switch (status) {
    case planning::Status::active:
      return Color::green;
    case planning::Status::paused:
      return Color::yellow;
    case planning::Status::converted:
      return Color::blue;
    case planning::Status::archived:
      return Color::dim;
  }
  return Color::none;
}

Color color_of(planning::EventType type) {
  using planning::EventType;
  switch (type) {
    case EventType::session_created:
      return Color::green;
    case EventType::session_updated:
      return Color::cyan;
    case EventType::version_created:
    case EventType::version_restored:
      return Color::magenta;
    case EventType::session_removed:
      return Color::red;
    case EventType::session_paused:
    case EventType::session_resumed:
    case EventType::session_converted:
    case EventType::session_archived:
      return Color::yellow;
  }
  return Color::none;
}

std::string terminal_safe(std::string_view text, bool multiline) {
  std::string out;
  out.reserve(text.size());
  std::size_t i = 0;
  while (i < text.size()) {
    const auto c = static_cast<unsigned char>(text[i]);
    if (c < 0x80) {
      if (c == '\n' || c == '\t') {
        if (multiline)
          out += static_cast<char>(c);
        else
          out += c == '\n' ? "\\n" : "\\t";
      } else if (c == '\r') {
        out += "\\r";
      } else if (c < 0x20 || c == 0x7F) {
        out += fmt::format("\\x{:02x}", c);
      } else {
        out += static_cast<char>(c);
      }
      ++i;
      continue;
    }
    // A multi-byte sequence: copied when it is well-formed UTF-8 and not a C1
    // control; otherwise each byte is shown as \xNN.
    std::size_t len = 0;
    std::uint32_t cp = 0;
    if ((c & 0xE0) == 0xC0) {
      len = 2;
      cp = c & 0x1F;
    } else if ((c & 0xF0) == 0xE0) {
      len = 3;
      cp = c & 0x0F;
    } else if ((c & 0xF8) == 0xF0) {
      len = 4;
      cp = c & 0x07;
    }
    bool valid = len != 0 && i + len <= text.size();
    for (std::size_t k = 1; valid && k < len; ++k) {
      const auto cc = static_cast<unsigned char>(text[i + k]);
      valid = (cc & 0xC0) == 0x80;
      cp = (cp << 6) | (cc & 0x3F);
    }
    valid =
        valid && !((len == 2 && cp < 0x80) || (len == 3 && cp < 0x800) ||
                   (len == 4 && cp < 0x10000) || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF));
    if (!valid) {
      out += fmt::format("\\x{:02x}", c);
      ++i;
    } else if (cp <= 0x9F) {
      out += fmt::format("\\u{:04x}", cp);
      i += len;
    } else {
      out.append(text.substr(i, len));
      i += len;
    }
  }
  return out;
}

std::size_t display_width(std::string_view text) {
  return static_cast<std::size_t>(std::count_if(text.begin(), text.end(), [](char c) {
    return (static_cast<unsigned char>(c) & 0xC0) != 0x80;
  }));
}

std::string one_line(std::string_view text, std::size_t width) {
  std::string out;
  std::size_t points = 0;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const auto c = static_cast<unsigned char>(text[i]);
    const bool starts_point = (c & 0xC0) != 0x80;
    if (starts_point) {
      if (points == width) {
        // Cut: replace the last code point by an ellipsis.
        while (!out.empty() && (static_cast<unsigned char>(out.back()) & 0xC0) == 0x80)
          out.pop_back();
        if (!out.empty()) out.pop_back();
        out += "\xE2\x80\xA6";
        return out;
      }
      ++points;
    }
    out += (c == '\n' || c == '\r' || c == '\t') ? ' ' : static_cast<char>(c);
  }
  return out;
}

namespace {

std::string pad(std::string_view text, std::size_t width, bool right) {
  const auto w = display_width(text);
  if (w >= width) return std::string(text);
  std::string spaces(width - w, ' ');
  return right ? spaces + std::string(text) : std::string(text) + spaces;
}

std::string rstrip(std::string line) {
  while (!line.empty() && line.back() == ' ') line.pop_back();
  return line;
}

}  // namespace

// --- Tables -------------------------------------------------------------------

void Table::add_row(std::vector<Cell> cells) {
  cells.resize(columns_.size());
  for (auto& cell : cells) cell.text = terminal_safe(cell.text);
  rows_.push_back(std::move(cells));
}

std::string Table::render(const Style& style) const {
  std::vector<std::size_t> widths(columns_.size());
  for (std::size_t c = 0; c < columns_.size(); ++c) {
    widths[c] = display_width(columns_[c].header);
    for (const auto& row : rows_) widths[c] = std::max(widths[c], display_width(row[c].text));
  }
  // Padding is computed on the plain text, so escape codes never count as width.
  auto render_row = [&](auto cell_of, bool header) {
    std::string line;
    for (std::size_t c = 0; c < columns_.size(); ++c) {
      const Cell cell = cell_of(c);
      const auto gap = widths[c] - std::min(widths[c], display_width(cell.text));
      const std::string spaces(gap, ' ');
      const auto painted = style.paint(cell.text, header ? Color::bold : cell.color);
      line += columns_[c].right_aligned ? spaces + painted : painted + spaces;
      if (c + 1 != columns_.size()) line += "  ";
    }
    return rstrip(std::move(line)) + "\n";
  };
  std::string out = render_row([&](std::size_t c) { return Cell{columns_[c].header}; }, true);
  for (const auto& row : rows_) out += render_row([&](std::size_t c) { return row[c]; }, false);
  return out;
}

void Fields::add(std::string name, std::string value, Color color) {
  rows_.emplace_back(std::move(name), Cell{terminal_safe(value, /*multiline=*/true), color});
}

std::string Fields::render(const Style& style) const {
  std::size_t width = 0;
  for (const auto& [name, cell] : rows_) width = std::max(width, display_width(name));
  std::string out;
  const std::string indent(width + 2, ' ');
  for (const auto& [name, cell] : rows_) {
    std::string line = style.paint(pad(name, width, false), Color::bold) + "  ";
    // Multi-line values continue under the first line's value column.
    std::string_view value = cell.text;
    bool first = true;
    for (;;) {
      const auto nl = value.find('\n');
      const auto part = value.substr(0, nl);
      if (!first) line += "\n" + indent;
      line += style.paint(part, cell.color);
      first = false;
      if (nl == std::string_view::npos) break;
      value.remove_prefix(nl + 1);
    }
    out += rstrip(std::move(line)) + "\n";
  }
  return out;
}

// --- Times and sizes ----------------------------------------------------------

Timestamp now() {
  return std::chrono::time_point_cast<std::chrono::nanoseconds>(std::chrono::system_clock::now());
}

std::string relative_time(Timestamp t, Timestamp reference) {
  // In whole seconds first: reference - t in nanoseconds overflows int64 for
  // times far apart (1677 seen from today).
  const std::int64_t delta = reference.time_since_epoch().count() / 1'000'000'000 -
                             t.time_since_epoch().count() / 1'000'000'000;
  const bool future = delta < 0;
  const std::int64_t secs = future ? -delta : delta;
  if (secs < 5) return "just now";
  struct Unit {
    std::int64_t seconds;
    const char* name;
  };
  static constexpr Unit units[] = {
      {365 * 86400, "year"}, {30 * 86400, "month"}, {7 * 86400, "week"}, {86400, "day"},
      {3600, "hour"},        {60, "minute"},        {1, "second"}};
  for (const auto& unit : units) {
    if (secs >= unit.seconds) {
      const auto n = secs / unit.seconds;
      const auto text = fmt::format("{} {}{}", n, unit.name, n == 1 ? "" : "s");
      return future ? "in " + text : text + " ago";
    }
  }
  return "just now";
}

std::string time_with_age(Timestamp t, Timestamp reference) {
  return fmt::format("{} ({})", planning::format_timestamp(t), relative_time(t, reference));
}

std::string human_bytes(std::uint64_t bytes) {
  static constexpr const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB", "PiB"};
  double value = static_cast<double>(bytes);
  std::size_t unit = 0;
  while (value >= 1024.0 && unit + 1 < std::size(units)) {
    value /= 1024.0;
    ++unit;
  }
  return unit == 0 ? fmt::format("{} B", bytes) : fmt::format("{:.1f} {}", value, units[unit]);
}

// --- JSON ---------------------------------------------------------------------

void print(std::string_view text) {
  if (stdout_was_closed()) fail(Exit::storage, "cannot write to stdout: it is closed");
  if (std::fwrite(text.data(), 1, text.size(), stdout) != text.size() || std::ferror(stdout))
    fail(Exit::storage, fmt::format("cannot write to stdout: {}", std::strerror(errno)));
}

void flush_stdout() {
  if (std::fflush(stdout) != 0 || std::ferror(stdout))
    fail(Exit::storage, fmt::format("cannot write to stdout: {}", std::strerror(errno)));
}

std::string json_document(const nlohmann::json& document) {
  return document.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
}

std::string json_line(const nlohmann::json& document) {
  return document.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
}

void print_json(const nlohmann::json& document) { print(json_document(document)); }

void print_json_line(const nlohmann::json& document) { print(json_line(document)); }

nlohmann::json to_json(const planning::Statistics& s) {
  return {{"total_sessions", s.total_sessions},
          {"active_sessions", s.active_sessions},
          {"paused_sessions", s.paused_sessions},
          {"converted_sessions", s.converted_sessions},
          {"archived_sessions", s.archived_sessions},
          {"removed_sessions", s.removed_sessions},
          {"sessions_with_content", s.sessions_with_content},
          {"total_versions", s.total_versions},
          {"average_versions_per_session", s.average_versions_per_session},
          {"total_events", s.total_events}};
}

nlohmann::json to_json(const planning::VersionDiff& d) {
  return {{"from_version", d.from_version},       {"to_version", d.to_version},
          {"lines_added", d.lines_added},         {"lines_removed", d.lines_removed},
          {"lines_unchanged", d.lines_unchanged}, {"unified", d.unified}};
}

nlohmann::json to_json(const planning::VerifyReport& r) {
  auto issues = nlohmann::json::array();
  for (const auto& issue : r.issues)
    issues.push_back({{"sequence", issue.sequence}, {"what", issue.what}});
  return {{"ok", r.ok()},
          {"events_checked", r.events_checked},
          {"sessions_checked", r.sessions_checked},
          {"issues", std::move(issues)}};
}

nlohmann::json to_json(const planning::ProjectionInfo& p) {
  return {{"name", p.name},
          {"built_in", p.built_in},
          {"schema_version", p.schema_version},
          {"checkpoint", p.checkpoint}};
}

nlohmann::json to_json(const planning::StoreInfo& i) {
  auto projections = nlohmann::json::array();
  for (const auto& p : i.projections) projections.push_back(to_json(p));
  return {
      {"path", i.path.string()},
      {"format_version", i.format_version},
      {"head_sequence", i.head_sequence},
      {"head_hash", planning::to_hex(i.head_hash)},
      {"sessions", i.sessions},
      {"versions", i.versions},
      {"map_size", i.map_size},
      {"map_used", i.map_used},
      {"file_size", i.file_size},
      {"page_size", i.page_size},
      {"max_readers", i.max_readers},
      {"readers_in_use", i.readers_in_use},
      {"projections", std::move(projections)},
      {"shared_log", i.shared_log.empty() ? nlohmann::json(nullptr) : nlohmann::json(i.shared_log)},
      {"shared_head_sequence", i.shared_head_sequence},
      {"lag",
       i.shared_head_sequence > i.head_sequence ? i.shared_head_sequence - i.head_sequence : 0}};
}

nlohmann::json to_json(const planning::StaleReport& r) {
  auto sessions = nlohmann::json::array();
  for (const auto& s : r.stale_sessions) sessions.push_back(planning::to_json(s));
  auto recommendations = nlohmann::json::object();
  for (const auto& [id, action] : r.recommendations)
    recommendations[id] = std::string(planning::to_string(action));
  return {{"stale_sessions", std::move(sessions)}, {"recommendations", std::move(recommendations)}};
}

// --- Human views --------------------------------------------------------------

namespace {

std::string join(const std::vector<std::string>& items, std::string_view separator) {
  std::string out;
  for (const auto& item : items) {
    if (!out.empty()) out += separator;
    out += item;
  }
  return out;
}

void add_if(Fields& fields, std::string name, const std::string& value) {
  if (!value.empty()) fields.add(std::move(name), value);
}

std::string with_trailing_newline(std::string text) {
  if (!text.empty() && text.back() != '\n') text += '\n';
  return text;
}

}  // namespace

std::string render_session(const planning::Session& s, const Style& style, bool with_content) {
  const auto reference = now();
  Fields f;
  f.add("id", s.id);
  f.add("title", s.title, Color::bold);
  f.add("status", std::string(planning::to_string(s.status)), color_of(s.status));
  add_if(f, "description", s.description);
  add_if(f, "repository_path", s.repository_path);
  add_if(f, "repository_url", s.repository_url);
  add_if(f, "working_directory", s.working_directory);
  f.add("current_version", std::to_string(s.current_version));
  add_if(f, "pause_reason", s.pause_reason);
  if (s.paused_at) f.add("paused_at", time_with_age(*s.paused_at, reference));
  add_if(f, "project_id", s.project_id);
  if (!s.work_item_ids.empty()) f.add("work_item_ids", join(s.work_item_ids, ", "));
  add_if(f, "converted_by", s.converted_by);
  if (s.converted_at) f.add("converted_at", time_with_age(*s.converted_at, reference));
  if (s.archived_at) f.add("archived_at", time_with_age(*s.archived_at, reference));
  if (s.metadata.is_object() && !s.metadata.empty())
    f.add("metadata", s.metadata.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
  f.add("created_at", time_with_age(s.created_at, reference));
  add_if(f, "created_by", s.created_by);
  f.add("updated_at", time_with_age(s.updated_at, reference));
  add_if(f, "updated_by", s.updated_by);
  f.add("last_activity_at", time_with_age(s.last_activity_at, reference));
  f.add("stream_version", std::to_string(s.stream_version));
  std::string out = f.render(style);
  if (with_content && !s.content.empty()) {
    out += "\n" +
           style.paint(fmt::format("--- content (version {}) ---", s.current_version), Color::dim) +
           "\n";
    out += with_trailing_newline(terminal_safe(s.content, /*multiline=*/true));
  }
  return out;
}

std::string render_version(const planning::Version& v, const Style& style) {
  Fields f;
  f.add("session_id", v.session_id);
  f.add("version_number", std::to_string(v.version_number), Color::bold);
  add_if(f, "change_summary", v.change_summary);
  f.add("changed_fields", join(v.changed_fields, ", "));
  f.add("created_at", time_with_age(v.created_at, now()));
  add_if(f, "created_by", v.created_by);
  f.add("event_seq", std::to_string(v.event_seq));
  std::string out = f.render(style);
  if (!v.content.empty()) {
    out += "\n" +
           style.paint(fmt::format("--- content (version {}) ---", v.version_number), Color::dim) +
           "\n";
    out += with_trailing_newline(terminal_safe(v.content, /*multiline=*/true));
  }
  return out;
}

std::string render_session_table(const std::vector<planning::Session>& sessions,
                                 const Style& style) {
  const auto reference = now();
  Table table({{"ID"}, {"STATUS"}, {"VER", true}, {"UPDATED"}, {"TITLE"}});
  for (const auto& s : sessions)
    table.add_row({{s.id},
                   {std::string(planning::to_string(s.status)), color_of(s.status)},
                   {std::to_string(s.current_version)},
                   {relative_time(s.updated_at, reference)},
                   {one_line(s.title, 60)}});
  return table.render(style);
}

namespace {

constexpr std::size_t kSequenceWidth = 6;
constexpr std::size_t kTypeWidth = 17;  // "session_converted"
// format_timestamp writes microseconds, or nanoseconds when needed (30 chars).
constexpr std::size_t kTimeWidth = 30;

std::string in_quotes(std::string_view text) { return fmt::format("\"{}\"", one_line(text, 60)); }

struct EventSummary {
  std::string operator()(const planning::SessionCreated& p) const {
    return in_quotes(p.title) + (p.initial_content ? " (version 1)" : "");
  }
  std::string operator()(const planning::SessionUpdated& p) const {
    std::string out = "changed " + join(p.changed_fields, ", ");
    if (p.version_number != 0) out += fmt::format(" -> version {}", p.version_number);
    if (!p.change_summary.empty()) out += ": " + in_quotes(p.change_summary);
    return out;
  }
  std::string operator()(const planning::SessionPaused& p) const {
    return p.reason.empty() ? "" : "reason " + in_quotes(p.reason);
  }
  std::string operator()(const planning::SessionResumed&) const { return ""; }
  std::string operator()(const planning::SessionConverted& p) const {
    std::string out = "project " + p.project_id;
    if (!p.work_item_ids.empty()) out += ", work items " + join(p.work_item_ids, ", ");
    return out;
  }
  std::string operator()(const planning::SessionArchived&) const { return ""; }
  std::string operator()(const planning::VersionRestored& p) const {
    return fmt::format("version {} from version {}", p.version_number, p.restored_from);
  }
  std::string operator()(const planning::VersionCreated& p) const {
    std::string out = fmt::format("version {}", p.version_number);
    if (!p.change_summary.empty()) out += ": " + in_quotes(p.change_summary);
    return out;
  }
  std::string operator()(const planning::SessionRemoved&) const { return ""; }
};

}  // namespace

std::string render_event_header(const Style& style) {
  const std::string line =
      fmt::format("{:>{}}  {:<{}}  {:<36}  {:<{}}  {}", "SEQ", kSequenceWidth, "TIME", kTimeWidth,
                  "SESSION", "TYPE", kTypeWidth, "DETAILS");
  return style.paint(line, Color::bold) + "\n";
}

std::string render_event_line(const planning::Event& e, const Style& style) {
  std::string details = std::visit(EventSummary{}, e.payload);
  if (!e.actor.empty()) details += (details.empty() ? "by " : " by ") + e.actor;
  details = terminal_safe(details);
  const auto type = std::string(planning::to_string(e.type));
  std::string line = fmt::format("{:>{}}  {:<{}}  {:<36}  ", e.sequence, kSequenceWidth,
                                 planning::format_timestamp(e.timestamp), kTimeWidth, e.session_id);
  line += style.paint(type, color_of(e.type)) +
          std::string(kTypeWidth - std::min(kTypeWidth, type.size()), ' ');
  line += "  " + details;
  return rstrip(std::move(line)) + "\n";
}

std::string render_diff(const std::string& unified_text, const Style& style) {
  const std::string unified = terminal_safe(unified_text, /*multiline=*/true);
  if (!style.enabled()) return with_trailing_newline(unified);
  std::string out;
  std::string_view rest = unified;
  while (!rest.empty()) {
    const auto nl = rest.find('\n');
    const auto line = rest.substr(0, nl);
    Color color = Color::none;
    if (line.starts_with("+++") || line.starts_with("---"))
      color = Color::bold;
    else if (line.starts_with("@@"))
      color = Color::cyan;
    else if (line.starts_with("+"))
      color = Color::green;
    else if (line.starts_with("-"))
      color = Color::red;
    out += style.paint(line, color) + "\n";
    if (nl == std::string_view::npos) break;
    rest.remove_prefix(nl + 1);
  }
  return out;
}

// --- Progress -----------------------------------------------------------------

ProgressBar::~ProgressBar() { finish(); }

void ProgressBar::update(std::uint64_t done, std::uint64_t total) {
  if (!enabled_) return;
  const int permille =
      total == 0 ? 1000 : static_cast<int>(std::min<std::uint64_t>(done, total) * 1000 / total);
  if (permille / 10 == last_permille_ / 10 && drawn_) return;
  last_permille_ = permille;
  constexpr int width = 30;
  const int filled = permille * width / 1000;
  // fputs, not fmt::print: this runs inside library calls (progress callbacks),
  // where nothing may throw, and a failing stderr is not worth failing for.
  std::fputs(fmt::format("\r{} [{}{}] {:3}%  {}/{} {}", label_, std::string(filled, '#'),
                         std::string(width - filled, '.'), permille / 10, done, total, unit_)
                 .c_str(),
             stderr);
  std::fflush(stderr);
  drawn_ = true;
}

void ProgressBar::finish() {
  if (drawn_) {
    std::fputs("\n", stderr);
    std::fflush(stderr);
    drawn_ = false;
  }
}

}  // namespace planctl
