// Fuzz target: request validation at the API boundary — metadata JSON and the
// text fields of create() and update() (engine/src/validation.cpp,
// docs/BEHAVIOUR.md "Limits").
//
// Input: fields separated by NUL bytes (an input without NUL is all metadata):
//   title \0 description \0 repository_path \0 repository_url \0 working_directory
//   \0 created_by \0 initial_content (empty = none) \0 metadata
//   [\0 update metadata [\0 update title]]
// A metadata part is parsed with nlohmann::json::parse; when it is not JSON it
// becomes {"raw": <the bytes>}, whose string may be invalid UTF-8. Text fields
// are raw bytes: any length, any encoding.
//
// The create (and, with the 9th part, an update of the created session — or of
// a session made at start-up when the create was rejected) must return a value.
// Oracle, independent of the engine's validator: a request is valid exactly when
// every text is valid UTF-8 by nlohmann's decoder and within its limit, the
// title holds a character that is not Unicode white space or zero-width, and
// the metadata is an object at most 64 levels deep that serializes within
// limits::metadata. Valid => the call succeeds and
// get() returns the request's fields, metadata equal to parse(dump(metadata));
// invalid => invalid_argument and the head does not move.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "fuzz/fuzz_support.hpp"

namespace {

using namespace planning;
using nlohmann::json;
using planning::fuzz::fuzz_check;

struct Store {
  fuzz::ScratchDir dir;
  std::unique_ptr<SessionManager> manager;
  std::string fallback_id;  // an active session to update when a create is rejected
  unsigned creates = 0;

  void reset() {
    manager.reset();
    std::error_code ec;
    std::filesystem::remove_all(dir.path() / "store", ec);
    manager = fuzz::open_or_die(dir.path() / "store");
    auto s = manager->create({.title = "fallback"});
    fuzz_check(s.has_value(), "creating the fallback session failed");
    fallback_id = s->id;
    creates = 0;
  }
};

Store& store() {
  static Store s;
  // Bound the store's growth: start again every 5,000 accepted creates.
  if (!s.manager || s.creates >= 5000) s.reset();
  return s;
}

std::vector<std::string> split_parts(std::string_view input) {
  std::vector<std::string> parts;
  std::size_t start = 0;
  for (;;) {
    const std::size_t nul = input.find('\0', start);
    if (nul == std::string_view::npos || parts.size() == 9) {
      parts.emplace_back(input.substr(start));
      return parts;
    }
    parts.emplace_back(input.substr(start, nul - start));
    start = nul + 1;
  }
}

json metadata_from(const std::string& text) {
  auto parsed = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (parsed.is_discarded()) return json{{"raw", text}};
  return parsed;
}

bool text_ok(const std::string& s, std::size_t limit) {
  return s.size() <= limit && fuzz::json_serializable(s);
}

// Whether valid UTF-8 `s` holds a code point that is neither Unicode
// White_Space nor zero-width (U+180E, U+200B-U+200D, U+2060, U+FEFF).
bool has_visible(const std::string& s) {
  static const std::u32string blank = U"\t\n\v\f\r \u0085\u00a0\u1680\u180e"
                                      U"\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007"
                                      U"\u2008\u2009\u200a\u200b\u200c\u200d\u2028\u2029"
                                      U"\u202f\u205f\u2060\u3000\ufeff";
  for (std::size_t i = 0; i < s.size();) {
    const auto c = static_cast<unsigned char>(s[i]);
    const std::size_t len = c < 0x80 ? 1 : c < 0xE0 ? 2 : c < 0xF0 ? 3 : 4;
    char32_t cp = len == 1 ? c : len == 2 ? c & 0x1F : len == 3 ? c & 0x0F : c & 0x07;
    for (std::size_t k = 1; k < len && i + k < s.size(); ++k)
      cp = (cp << 6) | (static_cast<unsigned char>(s[i + k]) & 0x3F);
    if (blank.find(cp) == std::u32string::npos) return true;
    i += len;
  }
  return false;
}

bool title_ok(const std::string& s) { return text_ok(s, limits::title) && has_visible(s); }

// Nesting depth of arrays and objects (a scalar is 0), without recursion.
std::size_t depth_of(const json& value) {
  std::size_t deepest = 0;
  std::vector<std::pair<const json*, std::size_t>> stack;
  if (value.is_structured()) stack.emplace_back(&value, 1);
  while (!stack.empty()) {
    const auto [node, depth] = stack.back();
    stack.pop_back();
    deepest = std::max(deepest, depth);
    for (const auto& child : *node)
      if (child.is_structured()) stack.emplace_back(&child, depth + 1);
  }
  return deepest;
}

// The stored form of valid metadata: what a reader gets back.
std::optional<json> stored_form(const json& metadata) {
  if (!metadata.is_object() || depth_of(metadata) > 64) return std::nullopt;
  std::string text;
  try {
    text = metadata.dump();
  } catch (const json::exception&) {
    return std::nullopt;
  }
  if (text.size() > limits::metadata) return std::nullopt;
  return json::parse(text);
}

std::uint64_t head_of(const SessionManager& m) {
  auto head = m.head_sequence();
  fuzz_check(head.has_value(), "head_sequence() failed");
  return *head;
}

// Returns the created session's id when the create was accepted.
std::optional<std::string> fuzz_create(Store& s, const std::vector<std::string>& parts) {
  SessionManager& m = *s.manager;
  auto part = [&](std::size_t i) { return i < parts.size() ? parts[i] : std::string(); };
  CreateRequest request;
  const bool fields_given = parts.size() > 1;
  request.title = fields_given ? part(0) : "metadata only";
  request.description = part(1);
  request.repository_path = part(2);
  request.repository_url = part(3);
  request.working_directory = part(4);
  request.created_by = part(5);
  if (!part(6).empty()) request.initial_content = part(6);
  request.metadata = metadata_from(fields_given ? part(7) : parts[0]);

  const std::optional<json> stored = stored_form(request.metadata);
  const bool valid = title_ok(request.title) && text_ok(request.description, limits::description) &&
                     text_ok(request.repository_path, limits::repository_field) &&
                     text_ok(request.repository_url, limits::repository_field) &&
                     text_ok(request.working_directory, limits::repository_field) &&
                     text_ok(request.created_by, limits::actor) &&
                     (!request.initial_content || text_ok(*request.initial_content, limits::content)) &&
                     stored.has_value();

  const std::uint64_t head = head_of(m);
  auto created = m.create(request);
  if (!created) {
    fuzz_check(created.error().code == ErrorCode::invalid_argument,
               "create() failed with a code other than invalid_argument",
               fuzz::describe(created.error()));
    fuzz_check(!valid, "create() rejected a valid request", created.error().message);
    fuzz_check(head_of(m) == head, "a rejected create() appended an event");
    return std::nullopt;
  }
  fuzz_check(valid, "create() accepted an invalid request (bad UTF-8, limit, title or metadata)");
  ++s.creates;
  fuzz_check(head_of(m) == head + 1, "an accepted create() did not append exactly one event");
  auto got = m.get(created->id);
  fuzz_check(got.has_value(), "get() of a created session failed");
  fuzz_check(*got == *created, "get() differs from the session create() returned");
  fuzz_check(got->title == request.title && got->description == request.description &&
                 got->repository_path == request.repository_path &&
                 got->repository_url == request.repository_url &&
                 got->working_directory == request.working_directory &&
                 got->created_by == request.created_by &&
                 got->content == request.initial_content.value_or("") &&
                 got->current_version == (request.initial_content ? 1u : 0u) &&
                 got->status == Status::active && got->stream_version == 1,
             "a created session does not hold the request's fields");
  fuzz_check(got->metadata == *stored, "stored metadata differs from parse(dump(metadata))",
             got->metadata.dump(-1, ' ', false, json::error_handler_t::replace));
  return created->id;
}

void fuzz_update(Store& s, const std::string& id, const std::vector<std::string>& parts) {
  SessionManager& m = *s.manager;
  auto before = m.get(id);
  fuzz_check(before.has_value(), "get() before update failed");
  UpdateRequest request;
  request.metadata = metadata_from(parts[8]);
  if (parts.size() > 9) request.title = parts[9];

  const std::optional<json> stored = stored_form(*request.metadata);
  const bool valid = stored.has_value() && (!request.title || title_ok(*request.title));
  const std::uint64_t head = head_of(m);
  auto updated = m.update(id, request);
  if (!updated) {
    fuzz_check(updated.error().code == ErrorCode::invalid_argument,
               "update() failed with a code other than invalid_argument",
               fuzz::describe(updated.error()));
    fuzz_check(!valid, "update() rejected a valid request", updated.error().message);
    fuzz_check(head_of(m) == head, "a rejected update() appended an event");
    return;
  }
  fuzz_check(valid, "update() accepted an invalid request");
  const bool changes = *stored != before->metadata || (request.title && *request.title != before->title);
  fuzz_check(head_of(m) == head + (changes ? 1 : 0),
             "update() appended other than one event per effective change (no-ops append nothing)");
  fuzz_check(updated->metadata == *stored, "updated metadata differs from parse(dump(metadata))");
  if (request.title) fuzz_check(updated->title == *request.title, "updated title not stored");
  auto got = m.get(id);
  fuzz_check(got.has_value() && *got == *updated, "get() differs from the session update() returned");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  Store& s = store();
  const std::vector<std::string> parts = split_parts(input);
  const auto id = fuzz_create(s, parts);
  if (parts.size() > 8) fuzz_update(s, id ? *id : s.fallback_id, parts);
  return 0;
}
