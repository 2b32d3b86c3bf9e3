// planctl: output formatting — colours, aligned tables, relative times, JSON
// documents, and the human views of sessions, versions and events.
#pragma once

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include <planning/planning.hpp>

namespace planctl {

enum class Color { none, bold, dim, red, green, yellow, blue, magenta, cyan };

// ANSI styling, or none at all when disabled (not a terminal, --json, NO_COLOR).
class Style {
 public:
  explicit Style(bool enabled) : enabled_(enabled) {}
  bool enabled() const { return enabled_; }
  std::string paint(std::string_view text, Color color) const;

 private:
  bool enabled_;
};

Color color_of(planning::Status status);
Color color_of(planning::EventType type);

// Text from the store made safe to print on a terminal (human output only; JSON
// escapes by itself): C0 controls, DEL and C1 controls (U+0080..U+009F) become
// visible escapes (\x1b, \r, \x7f, \u009b), as do bytes that are not UTF-8
// (\xff), so stored text cannot move the cursor, retitle or clear a terminal.
// With `multiline`, newlines and tabs are kept (markdown content, diffs);
// otherwise they are shown as \n and \t.
std::string terminal_safe(std::string_view text, bool multiline = false);

// Number of code points of UTF-8 text (the column width of most text).
std::size_t display_width(std::string_view text);
// At most `width` code points; "…" marks a cut. Newlines become spaces.
std::string one_line(std::string_view text, std::size_t width);

struct Cell {
  std::string text;
  Color color = Color::none;
};

// Columns aligned to their widest cell; a bold header row; no trailing blanks.
class Table {
 public:
  struct Column {
    std::string header;
    bool right_aligned = false;
  };
  explicit Table(std::vector<Column> columns) : columns_(std::move(columns)) {}
  void add_row(std::vector<Cell> cells);
  bool empty() const { return rows_.empty(); }
  std::string render(const Style& style) const;

 private:
  std::vector<Column> columns_;
  std::vector<std::vector<Cell>> rows_;
};

// "name   value" lines with the names aligned.
class Fields {
 public:
  void add(std::string name, std::string value, Color color = Color::none);
  std::string render(const Style& style) const;

 private:
  std::vector<std::pair<std::string, Cell>> rows_;
};

// "just now", "3 minutes ago", "in 2 hours", ...
std::string relative_time(planning::Timestamp t, planning::Timestamp now);
// ISO text plus the relative time: "2025-01-01T12:00:00.000000Z (3 minutes ago)".
std::string time_with_age(planning::Timestamp t, planning::Timestamp now);
planning::Timestamp now();
// "12.0 MiB"
std::string human_bytes(std::uint64_t bytes);

// --- JSON output: one document (indented) or one line of a JSON Lines stream.
void print_json(const nlohmann::json& document);
void print_json_line(const nlohmann::json& document);
// The exact text print_json / print_json_line write (serve's /api/ returns it).
std::string json_document(const nlohmann::json& document);
std::string json_line(const nlohmann::json& document);

// JSON forms of the API's result types that <planning/json.hpp> does not cover.
// Field names are the C++ member names.
nlohmann::json to_json(const planning::Statistics& stats);
nlohmann::json to_json(const planning::VersionDiff& diff);
nlohmann::json to_json(const planning::VerifyReport& report);
nlohmann::json to_json(const planning::StoreInfo& info);
nlohmann::json to_json(const planning::ProjectionInfo& projection);
nlohmann::json to_json(const planning::StaleReport& report);

// --- Human views.
std::string render_session(const planning::Session& session, const Style& style, bool with_content);
std::string render_version(const planning::Version& version, const Style& style);
// A table of sessions (list, replay, stale add their own columns).
std::string render_session_table(const std::vector<planning::Session>& sessions,
                                 const Style& style);
// One line of `log`: sequence, time, session, type, actor and a payload summary.
std::string render_event_line(const planning::Event& event, const Style& style);
std::string render_event_header(const Style& style);
// The unified diff with +/-/@@ lines coloured.
std::string render_diff(const std::string& unified, const Style& style);

// Writes `text` to stdout as is. A failed write (a full disk, a closed pipe)
// ends the verb with exit 8 naming stdout (main checks the final flush too).
void print(std::string_view text);
// The same check after an explicit flush (log --follow).
void flush_stdout();

// A progress bar on stderr, redrawn at most every 1% (only when enabled).
class ProgressBar {
 public:
  ProgressBar(std::string label, bool enabled, std::string unit = "events")
      : label_(std::move(label)), unit_(std::move(unit)), enabled_(enabled) {}
  ~ProgressBar();
  void update(std::uint64_t done, std::uint64_t total);
  void finish();

 private:
  std::string label_;
  std::string unit_;
  bool enabled_;
  bool drawn_ = false;
  int last_permille_ = -1;
};

}  // namespace planctl
