// Fuzz target: JSON Lines import, SessionManager::import_events, and the
// event parser behind it, planning::event_from_json (engine/src/export_import.cpp,
// events/src/event_json.cpp).
//
// Input, by its first byte:
//   '!'  JSON Lines, *sealed* before the import: each line that parses as an
//        event object gets the next sequence number, a "timestamp" text matching
//        its "timestamp_ns", the prev_hash continuing the store's hash chain and
//        its true payload_checksum — so mutations of the payload get past the
//        chain checks and reach the state machine, the projections and queries;
//   '?'  generated: the rest drives a FuzzedDataProvider that builds 1-12 events
//        over two session ids with mostly plausible stream versions, version
//        numbers, content_seqs and timestamps (edge values included), sealed
//        and imported — structure-aware, so event *sequences* get explored;
//   else JSON Lines imported as they are.
//
// One scratch store per process, reopened empty after every successful import
// (a rejected import changes nothing, so the store stays empty until then).
//
// Properties (any violation aborts): no crash, leak or UB; event_from_json
// either fails with invalid_argument or gives an event that survives
// to_json -> dump -> parse -> event_from_json unchanged; import_events returns a
// value; a rejected import is invalid_argument and leaves the head (sequence and
// hash) unchanged; an accepted import of n events moves the head by n, and then
// every imported session reads back consistently: get, get_versions (one per
// version number), session_at(head) == get, list/statistics agree, find_stale
// works, export reproduces the imported lines and verify() reports no issue.
#include <algorithm>
#include <cstddef>
#include <cstdlib>
#include <cstdint>
#include <iterator>
#include <limits>
#include <set>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include "fuzz/event_chain.hpp"
#include "fuzz/fuzz_support.hpp"

namespace {

using namespace planning;
using nlohmann::json;
using planning::fuzz::fuzz_check;

struct Store {
  fuzz::ScratchDir dir;
  std::unique_ptr<SessionManager> manager;

  void reset() {
    manager.reset();
    std::error_code ec;
    std::filesystem::remove_all(dir.path() / "store", ec);
    manager = fuzz::open_or_die(dir.path() / "store");
  }
};

Store& store() {
  static Store s;
  if (!s.manager) s.reset();
  return s;
}

std::vector<std::string> split_lines(std::string_view text) {
  std::vector<std::string> lines;
  std::size_t start = 0;
  while (start < text.size()) {
    std::size_t nl = text.find('\n', start);
    if (nl == std::string_view::npos) nl = text.size();
    lines.emplace_back(text.substr(start, nl - start));
    start = nl + 1;
  }
  return lines;
}

// event_from_json on one parsed line; checks the JSON round trip of what it accepts.
std::optional<Event> parse_checked(const json& j) {
  auto event = event_from_json(j);
  if (!event) {
    fuzz_check(event.error().code == ErrorCode::invalid_argument,
               "event_from_json failed with a code other than invalid_argument",
               fuzz::describe(event.error()));
    return std::nullopt;
  }
  std::string text;
  try {
    text = to_json(*event).dump();
  } catch (const std::exception& e) {
    fuzz_check(false, "to_json(event).dump() threw for an event event_from_json accepted",
               e.what());
  }
  auto reparsed = json::parse(text, nullptr, false);
  fuzz_check(!reparsed.is_discarded(), "the dump of to_json(event) is not JSON", text);
  auto again = event_from_json(reparsed);
  fuzz_check(again.has_value(), "event_from_json rejects the dump of to_json(event)",
             again ? text : again.error().message + " in " + text);
  fuzz_check(*again == *event, "event_from_json(to_json(e)) != e", text);
  return std::move(*event);
}

// Rewrites the lines that parse as event objects so that they continue the
// store's log: sequence, timestamp text, prev_hash and payload_checksum.
std::string seal(const std::vector<std::string>& lines, const StoreInfo& head) {
  std::string out;
  fuzz::ChainHead chain{head.head_sequence, head.head_hash};
  for (const std::string& line : lines) {
    auto j = json::parse(line, nullptr, false);
    if (j.is_discarded() || !j.is_object()) {
      out += line + "\n";
      continue;
    }
    j["sequence"] = chain.sequence + 1;
    if (auto ns = j.find("timestamp_ns"); ns != j.end() && ns->is_number_integer() &&
                                          (!ns->is_number_unsigned() ||
                                           ns->get<std::uint64_t>() <=
                                               std::numeric_limits<std::int64_t>::max())) {
      j["timestamp"] =
          format_timestamp(Timestamp{std::chrono::nanoseconds{ns->get<std::int64_t>()}});
    }
    auto event = event_from_json(j);
    if (!event) {
      out += j.dump(-1, ' ', false, json::error_handler_t::replace) + "\n";
      continue;
    }
    fuzz::seal_next(*event, chain);
    out += to_json(*event).dump() + "\n";
  }
  return out;
}

// --- Generated mode -----------------------------------------------------------

constexpr const char* kIds[] = {"0193f5a2-7c00-7000-8000-000000000001",
                                "0193f5a2-7c00-7000-8000-000000000002"};

// Printable ASCII (valid UTF-8), so that validation passes and the state machine,
// the projections and the reads are what gets exercised.
std::string ascii(FuzzedDataProvider& p, std::size_t max) {
  std::string s = p.ConsumeRandomLengthString(max);
  for (char& c : s) c = static_cast<char>(0x20 + static_cast<unsigned char>(c) % 95);
  return s;
}
std::optional<std::string> maybe_text(FuzzedDataProvider& p, std::size_t max) {
  if (!p.ConsumeBool()) return std::nullopt;
  return ascii(p, max);
}
std::string metadata_text(FuzzedDataProvider& p) {
  static const char* kChoices[] = {"{}", "{\"priority\":\"high\"}", "{\"n\":1,\"tags\":[\"a\"]}"};
  return kChoices[p.ConsumeIntegralInRange<int>(0, 2)];
}
// Mostly the next value the engine would use, sometimes any value.
std::uint32_t plausible(FuzzedDataProvider& p, std::uint32_t next) {
  switch (p.ConsumeIntegralInRange<int>(0, 7)) {
    case 0: return p.ConsumeIntegral<std::uint32_t>();
    case 1: return next - 1;
    default: return next;
  }
}

// What the generator believes a session looks like after the events so far
// (assuming the engine accepts them).
enum class Life { absent, active, paused, converted, archived };
struct SessionShape {
  Life life = Life::absent;
  std::uint32_t stream_version = 0;
  std::uint32_t versions = 0;
  std::vector<std::uint64_t> content_seqs;  // sequences that carried its content
};

// An event type id: usually one the state machine allows next, sometimes any.
int plausible_type(FuzzedDataProvider& p, const SessionShape& shape) {
  if (p.ConsumeIntegralInRange<int>(0, 3) == 0) return p.ConsumeIntegralInRange<int>(1, 9);
  // Type ids: 1 created, 2 updated, 3 paused, 4 resumed, 5 converted, 6 archived,
  // 7 version_restored, 8 version_created, 9 removed.
  static const std::vector<int> kAllowed[] = {
      {1},                    // absent (never created, or removed: ids may come back)
      {2, 2, 3, 5, 6, 7, 8, 9},  // active
      {4, 6, 9},              // paused
      {6, 9},                 // converted
      {9},                    // archived
  };
  const auto& allowed = kAllowed[static_cast<int>(shape.life)];
  return allowed[p.ConsumeIntegralInRange<std::size_t>(0, allowed.size() - 1)];
}

EventPayload plausible_payload(FuzzedDataProvider& p, int type, const SessionShape& shape,
                               std::uint64_t head) {
  // Saturates: the shape follows generated events, and an implausible one may
  // have claimed version 2^32 - 1 (a wrap to 0 made the range below abort).
  const std::uint32_t next_version =
      shape.versions == std::numeric_limits<std::uint32_t>::max() ? shape.versions
                                                                   : shape.versions + 1;
  switch (type) {
    case 1: {
      SessionCreated c;
      c.title = "t" + ascii(p, 16);
      c.description = ascii(p, 16);
      c.repository_path = p.ConsumeBool() ? "/repo" : ascii(p, 8);
      c.repository_url = ascii(p, 8);
      c.working_directory = ascii(p, 8);
      c.initial_content = maybe_text(p, 32);
      c.metadata_json = metadata_text(p);
      return c;
    }
    case 2: {
      SessionUpdated u;
      u.title = p.ConsumeBool() ? std::optional<std::string>("t" + ascii(p, 8)) : std::nullopt;
      u.description = maybe_text(p, 16);
      u.repository_path = maybe_text(p, 8);
      u.metadata_json = p.ConsumeBool() ? std::optional<std::string>(metadata_text(p)) : std::nullopt;
      u.content = maybe_text(p, 32);
      u.change_summary = ascii(p, 16);
      if (u.title) u.changed_fields.push_back("title");
      if (u.content) u.changed_fields.push_back("content");
      u.version_number = p.ConsumeBool() ? plausible(p, next_version) : 0;
      return u;
    }
    case 3: return SessionPaused{ascii(p, 16)};
    case 4: return SessionResumed{};
    case 5: {
      SessionConverted c;
      c.project_id = "p" + ascii(p, 8);
      if (p.ConsumeBool()) c.work_item_ids = {"wi-1", "wi-" + ascii(p, 4)};
      return c;
    }
    case 6: return SessionArchived{};
    case 7: {
      VersionRestored r;
      r.restored_from = plausible(p, p.ConsumeIntegralInRange<std::uint32_t>(1, next_version));
      r.version_number = plausible(p, next_version);
      r.content = ascii(p, 32);
      return r;
    }
    case 8: {
      VersionCreated v;
      v.version_number = plausible(p, next_version);
      v.change_summary = ascii(p, 16);
      if (!shape.content_seqs.empty() && p.ConsumeBool()) {
        v.content_seq = shape.content_seqs[p.ConsumeIntegralInRange<std::size_t>(
            0, shape.content_seqs.size() - 1)];
      } else {
        v.content_seq = p.ConsumeBool() ? 0 : p.ConsumeIntegralInRange<std::uint64_t>(0, head + 2);
      }
      return v;
    }
    default: return SessionRemoved{};
  }
}

std::int64_t next_timestamp(FuzzedDataProvider& p, std::int64_t last) {
  static constexpr std::int64_t kEdges[] = {std::numeric_limits<std::int64_t>::min(),
                                            std::numeric_limits<std::int64_t>::min() + 1,
                                            -9223286400000000001, -8000000000000000000, -1, 0,
                                            std::numeric_limits<std::int64_t>::max()};
  switch (p.ConsumeIntegralInRange<int>(0, 15)) {
    case 0: return kEdges[p.ConsumeIntegralInRange<std::size_t>(0, std::size(kEdges) - 1)];
    case 1: return p.ConsumeIntegral<std::int64_t>();
    default: {
      const auto step = p.ConsumeIntegralInRange<std::int64_t>(0, 1000000000000);
      return last > std::numeric_limits<std::int64_t>::max() - step ? last : last + step;
    }
  }
}

// JSON Lines of 1-12 generated events continuing `head`.
std::string generate(FuzzedDataProvider& p, const StoreInfo& head) {
  std::vector<Event> events;
  SessionShape shapes[2];
  std::int64_t time = 1735689600000000000;  // 2025-01-01
  const int n = p.ConsumeIntegralInRange<int>(1, 12);
  for (int i = 0; i < n; ++i) {
    const int k = p.ConsumeIntegralInRange<int>(0, 1);
    SessionShape& shape = shapes[k];
    Event e;
    e.session_id = kIds[k];
    e.actor = p.ConsumeBool() ? "importer" : ascii(p, 8);
    time = next_timestamp(p, time);
    e.timestamp = Timestamp{std::chrono::nanoseconds{time}};
    const int type = plausible_type(p, shape);
    e.payload = plausible_payload(p, type, shape, head.head_sequence + events.size());
    e.stream_version = plausible(p, type == 1 ? 1 : shape.stream_version + 1);
    // Follow what the engine would make of it (if it accepts it).
    const std::uint64_t sequence = head.head_sequence + events.size() + 1;
    shape.stream_version = e.stream_version;
    std::visit(
        [&](const auto& payload) {
          using T = std::decay_t<decltype(payload)>;
          if constexpr (std::is_same_v<T, SessionCreated>) {
            shape.life = Life::active;
            shape.versions = payload.initial_content ? 1 : 0;
            shape.content_seqs.clear();
            if (payload.initial_content) shape.content_seqs.push_back(sequence);
          } else if constexpr (std::is_same_v<T, SessionPaused>) {
            shape.life = Life::paused;
          } else if constexpr (std::is_same_v<T, SessionResumed>) {
            shape.life = Life::active;
          } else if constexpr (std::is_same_v<T, SessionConverted>) {
            shape.life = Life::converted;
          } else if constexpr (std::is_same_v<T, SessionArchived>) {
            shape.life = Life::archived;
          } else if constexpr (std::is_same_v<T, SessionRemoved>) {
            shape = SessionShape{};
          } else if constexpr (std::is_same_v<T, SessionUpdated>) {
            if (payload.version_number != 0) shape.versions = payload.version_number;
            if (payload.content) shape.content_seqs.push_back(sequence);
          } else if constexpr (std::is_same_v<T, VersionRestored>) {
            shape.versions = payload.version_number;
            shape.content_seqs.push_back(sequence);
          } else if constexpr (std::is_same_v<T, VersionCreated>) {
            shape.versions = payload.version_number;
          }
        },
        e.payload);
    events.push_back(std::move(e));
  }
  return fuzz::sealed_json_lines(std::move(events), {head.head_sequence, head.head_hash});
}

StoreInfo info_of(const SessionManager& m) {
  auto info = m.info();
  fuzz_check(info.has_value(), "info() failed", info ? std::string() : fuzz::describe(info.error()));
  return std::move(*info);
}

// Everything a reader can ask about the imported sessions must work and agree.
void check_store_after_import(SessionManager& m, const std::set<std::string>& ids,
                              std::uint64_t head, const std::string& imported_text,
                              std::uint64_t first_imported) {
  for (const std::string& id : ids) {
    auto s = m.get(id);
    if (!s) {
      fuzz_check(s.error().code == ErrorCode::not_found, "get() of an imported session failed",
                 fuzz::describe(s.error()));
      continue;
    }
    auto versions = m.get_versions(id);
    fuzz_check(versions.has_value(), "get_versions() of an imported session failed",
               versions ? std::string() : fuzz::describe(versions.error()));
    fuzz_check(versions->size() == s->current_version,
               "get_versions() count differs from current_version");
    for (std::size_t i = 0; i < versions->size(); ++i) {
      fuzz_check((*versions)[i].version_number == i + 1, "version numbers are not 1..n");
    }
    auto replayed = m.session_at(id, head);
    fuzz_check(replayed.has_value(), "session_at(head) of an imported session failed",
               replayed ? std::string() : fuzz::describe(replayed.error()));
    fuzz_check(*replayed == *s, "session_at(head) differs from get()");
    EventQuery stream;
    stream.session_id = id;
    auto events = m.events(stream);
    fuzz_check(events.has_value() && events->size() == s->stream_version,
               "events(session) does not list the session's stream");
    for (std::size_t i = 1; i < events->size(); ++i) {
      fuzz_check((*events)[i - 1].sequence < (*events)[i].sequence,
                 "events(session) is not in log order");
    }
  }
  auto all = m.list();
  fuzz_check(all.has_value(), "list() failed after an import",
             all ? std::string() : fuzz::describe(all.error()));
  auto stats = m.get_statistics();
  fuzz_check(stats.has_value(), "get_statistics() failed after an import");
  fuzz_check(stats->total_sessions == all->size(), "statistics total differs from list() size");
  fuzz_check(stats->total_events == head, "statistics total_events differs from the head");
  auto stale = SessionRecovery::find_stale(m);
  fuzz_check(stale.has_value(), "find_stale() failed after an import",
             stale ? std::string() : fuzz::describe(stale.error()));

  std::ostringstream exported;
  EventQuery from_import;
  from_import.from_sequence = first_imported;
  auto n = m.export_events(exported, from_import);
  fuzz_check(n.has_value(), "export_events() failed after an import",
             n ? std::string() : fuzz::describe(n.error()));
  fuzz_check(exported.str() == imported_text, "export does not reproduce the imported events",
             exported.str());

  auto report = m.verify();
  fuzz_check(report.has_value(), "verify() failed after an import");
  std::string issues;
  for (const auto& issue : report->issues) issues += "[" + std::to_string(issue.sequence) + "] " + issue.what + "; ";
  fuzz_check(report->ok(), "verify() reports issues after an import", issues);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view input(reinterpret_cast<const char*>(data), size);
  Store& s = store();
  SessionManager& m = *s.manager;
  const StoreInfo before = info_of(m);

  std::string text;
  if (input.starts_with('?')) {
    FuzzedDataProvider p(data + 1, size - 1);
    text = generate(p, before);
  } else {
    const bool sealed = input.starts_with('!');
    if (sealed) input.remove_prefix(1);
    text = sealed ? seal(split_lines(input), before) : std::string(input);
  }
  const std::vector<std::string> lines = split_lines(text);

  // The parser on its own, line by line (import stops at the first bad line).
  std::set<std::string> ids;
  std::string normalized;  // what export should print back if the import succeeds
  for (const std::string& line : lines) {
    if (line.empty() || line == "\r") continue;
    auto j = json::parse(line, nullptr, false);
    if (j.is_discarded()) continue;
    if (auto event = parse_checked(j)) {
      ids.insert(event->session_id);
      normalized += to_json(*event).dump() + "\n";
    }
  }

  std::istringstream in(text);
  auto imported = m.import_events(in);
  const StoreInfo after = info_of(m);
  if (!imported) {
    fuzz_check(imported.error().code == ErrorCode::invalid_argument,
               "import failed with a code other than invalid_argument",
               fuzz::describe(imported.error()));
    fuzz_check(after.head_sequence == before.head_sequence && after.head_hash == before.head_hash,
               "a rejected import changed the log head");
    return 0;
  }
  fuzz_check(after.head_sequence == before.head_sequence + *imported,
             "an accepted import moved the head by other than its count");
  if (*imported > 0) {
    check_store_after_import(m, ids, after.head_sequence, normalized, before.head_sequence + 1);
    s.reset();  // the next input starts from an empty store again
  }
  return 0;
}
