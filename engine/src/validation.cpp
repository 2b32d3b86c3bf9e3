#include "engine/src/validation.hpp"

#include <cstring>

#include <fmt/format.h>

#include "engine/src/uuid.hpp"

namespace planning::detail {

bool is_valid_utf8(std::string_view s) noexcept {
  std::size_t i = 0;
  const std::size_t n = s.size();
  while (i < n) {
    // ASCII runs (most text) eight bytes at a time.
    if (i + 8 <= n) {
      std::uint64_t word = 0;
      std::memcpy(&word, s.data() + i, sizeof word);
      if ((word & 0x8080808080808080ULL) == 0) {
        i += 8;
        continue;
      }
    }
    const auto c = static_cast<unsigned char>(s[i]);
    std::size_t len = 0;
    std::uint32_t cp = 0;
    if (c < 0x80) {
      ++i;
      continue;
    } else if ((c & 0xE0) == 0xC0) {
      len = 2;
      cp = c & 0x1F;
    } else if ((c & 0xF0) == 0xE0) {
      len = 3;
      cp = c & 0x0F;
    } else if ((c & 0xF8) == 0xF0) {
      len = 4;
      cp = c & 0x07;
    } else {
      return false;
    }
    if (i + len > n) return false;
    for (std::size_t k = 1; k < len; ++k) {
      const auto cc = static_cast<unsigned char>(s[i + k]);
      if ((cc & 0xC0) != 0x80) return false;
      cp = (cp << 6) | (cc & 0x3F);
    }
    // Reject overlong forms, surrogates and values beyond U+10FFFF.
    if ((len == 2 && cp < 0x80) || (len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) ||
        cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) {
      return false;
    }
    i += len;
  }
  return true;
}

std::string trim(std::string_view text) {
  const auto first = text.find_first_not_of(" \t\r\n\f\v");
  if (first == std::string_view::npos) return {};
  const auto last = text.find_last_not_of(" \t\r\n\f\v");
  return std::string(text.substr(first, last - first + 1));
}

bool is_blank(std::string_view text) noexcept {
  std::size_t i = 0;
  while (i < text.size()) {
    const auto c = static_cast<unsigned char>(text[i]);
    std::uint32_t cp = c;
    std::size_t len = 1;
    if (c >= 0xF0) {
      len = 4;
      cp = c & 0x07;
    } else if (c >= 0xE0) {
      len = 3;
      cp = c & 0x0F;
    } else if (c >= 0xC0) {
      len = 2;
      cp = c & 0x1F;
    }
    if (i + len > text.size()) return false;
    for (std::size_t k = 1; k < len; ++k) {
      cp = (cp << 6) | (static_cast<unsigned char>(text[i + k]) & 0x3F);
    }
    // Unicode White_Space, plus the zero-width spaces and joiners and the BOM
    // that render as nothing.
    const bool blank = (cp >= 0x09 && cp <= 0x0D) || cp == 0x20 || cp == 0x85 || cp == 0xA0 ||
                       cp == 0x1680 || (cp >= 0x2000 && cp <= 0x200D) || cp == 0x2028 ||
                       cp == 0x2029 || cp == 0x202F || cp == 0x205F || cp == 0x2060 ||
                       cp == 0x3000 || cp == 0xFEFF || cp == 0x180E;
    if (!blank) return false;
    i += len;
  }
  return true;
}

Result<void> check_text(std::string_view field, std::string_view value, std::size_t limit) {
  if (value.size() > limit) {
    return fail(ErrorCode::invalid_argument,
                fmt::format("{} is {} bytes; the limit is {}", field, value.size(), limit));
  }
  if (!is_valid_utf8(value)) {
    return fail(ErrorCode::invalid_argument, fmt::format("{} is not valid UTF-8", field));
  }
  return {};
}

Result<void> check_title(std::string_view value) {
  if (auto r = check_text("title", value, limits::title); !r) return r;
  if (is_blank(value)) {
    return fail(ErrorCode::invalid_argument, "title must not be empty or whitespace");
  }
  return {};
}

Result<void> check_metadata_depth(const nlohmann::json& metadata) {
  // json_depth does not recurse; dump(), copies and comparisons do, once per level.
  if (json_depth(metadata, limits::json_depth) > limits::json_depth) {
    return fail(
        ErrorCode::invalid_argument,
        fmt::format("metadata nests deeper than the limit of {} levels", limits::json_depth));
  }
  return {};
}

Result<std::string> check_metadata(const nlohmann::json& metadata) {
  if (!metadata.is_object()) {
    return fail(ErrorCode::invalid_argument,
                fmt::format("metadata must be a JSON object, not {}", metadata.type_name()));
  }
  if (auto d = check_metadata_depth(metadata); !d) return std::unexpected(d.error());
  std::string text;
  try {
    text = metadata.dump();
  } catch (const nlohmann::json::exception& e) {
    return fail(ErrorCode::invalid_argument, fmt::format("metadata: {}", e.what()));
  }
  if (text.size() > limits::metadata) {
    return fail(ErrorCode::invalid_argument,
                fmt::format("metadata is {} bytes serialized; the limit is {}", text.size(),
                            limits::metadata));
  }
  return text;
}

Result<void> validate(const CreateRequest& r) {
  if (auto c = check_title(r.title); !c) return c;
  for (auto [name, value, limit] :
       {std::tuple{"description", &r.description, limits::description},
        std::tuple{"repository_path", &r.repository_path, limits::repository_field},
        std::tuple{"repository_url", &r.repository_url, limits::repository_field},
        std::tuple{"working_directory", &r.working_directory, limits::repository_field},
        std::tuple{"created_by", &r.created_by, limits::actor}}) {
    if (auto c = check_text(name, *value, limit); !c) return c;
  }
  if (r.initial_content) {
    if (auto c = check_text("initial_content", *r.initial_content, limits::content); !c) return c;
  }
  if (auto m = check_metadata(r.metadata); !m) return std::unexpected(m.error());
  return {};
}

Result<void> validate(const UpdateRequest& r) {
  if (!r.title && !r.description && !r.content && !r.repository_path && !r.repository_url &&
      !r.working_directory && !r.metadata) {
    return fail(ErrorCode::invalid_argument, "update request sets no field");
  }
  if (r.title) {
    if (auto c = check_title(*r.title); !c) return c;
  }
  for (auto [name, value, limit] :
       {std::tuple{"description", &r.description, limits::description},
        std::tuple{"content", &r.content, limits::content},
        std::tuple{"repository_path", &r.repository_path, limits::repository_field},
        std::tuple{"repository_url", &r.repository_url, limits::repository_field},
        std::tuple{"working_directory", &r.working_directory, limits::repository_field}}) {
    if (*value) {
      if (auto c = check_text(name, **value, limit); !c) return c;
    }
  }
  if (auto c = check_text("change_summary", r.change_summary, limits::change_summary); !c) return c;
  if (auto c = check_text("updated_by", r.updated_by, limits::actor); !c) return c;
  if (r.metadata) {
    if (auto m = check_metadata(*r.metadata); !m) return std::unexpected(m.error());
  }
  return {};
}

Result<void> validate(const ConvertRequest& r) {
  if (auto c = check_text("project_id", r.project_id, limits::project_id); !c) return c;
  if (is_blank(r.project_id)) {
    return fail(ErrorCode::invalid_argument, "project_id must not be empty or whitespace");
  }
  if (auto c = check_text("converted_by", r.converted_by, limits::actor); !c) return c;
  if (r.work_item_ids.size() > limits::work_item_count) {
    return fail(ErrorCode::invalid_argument,
                fmt::format("{} work item ids; the limit is {}", r.work_item_ids.size(),
                            limits::work_item_count));
  }
  for (std::size_t i = 0; i < r.work_item_ids.size(); ++i) {
    const auto name = fmt::format("work_item_ids[{}]", i);
    if (auto c = check_text(name, r.work_item_ids[i], limits::work_item_id); !c) return c;
    if (is_blank(r.work_item_ids[i])) {
      return fail(ErrorCode::invalid_argument, name + " must not be empty or whitespace");
    }
  }
  return {};
}

std::string canonical_session_id(std::string_view id) {
  std::string out(id);
  if (out.size() != 36) return out;
  for (char& c : out) {
    if (c >= 'A' && c <= 'F') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

Result<void> check_session_id(std::string_view id) {
  // Ids are 36-character UUID text (either case); anything else cannot name a session.
  if (!is_uuid_text(canonical_session_id(id))) {
    std::string shown(id.substr(0, 64));
    if (!is_valid_utf8(shown)) shown = "(invalid UTF-8)";
    return fail(ErrorCode::not_found, "session " + shown + " not found");
  }
  return {};
}

Result<void> check_version_number(std::uint32_t number) {
  if (number == 0) {
    return fail(ErrorCode::invalid_argument, "version numbers start at 1; got 0");
  }
  return {};
}

Result<void> validate_event_fields(const Event& event) {
  if (!is_uuid_text(event.session_id)) {
    return fail(ErrorCode::invalid_argument, "session_id is not a UUID");
  }
  if (auto c = check_text("actor", event.actor, limits::actor); !c) return c;
  auto metadata_ok = [](const std::string& text) -> Result<void> {
    if (text.size() > limits::metadata) {
      return fail(
          ErrorCode::invalid_argument,
          fmt::format("metadata_json is {} bytes; the limit is {}", text.size(), limits::metadata));
    }
    auto parsed = parse_json(text, "metadata_json");
    if (!parsed) return std::unexpected(parsed.error());
    if (auto m = check_metadata(*parsed); !m) return std::unexpected(m.error());
    return {};
  };
  return std::visit(
      [&](const auto& p) -> Result<void> {
        using T = std::decay_t<decltype(p)>;
        if constexpr (std::is_same_v<T, SessionCreated>) {
          CreateRequest r{p.title, p.description, p.repository_path, p.repository_url,
                          p.working_directory, p.initial_content, event.actor,
                          nlohmann::json::object()};
          if (auto v = validate(r); !v) return v;
          return metadata_ok(p.metadata_json);
        } else if constexpr (std::is_same_v<T, SessionUpdated>) {
          UpdateRequest r{p.title, p.description, p.content, p.repository_path,
                          p.repository_url, p.working_directory, std::nullopt,
                          p.change_summary, event.actor, std::nullopt};
          if (p.metadata_json) {
            if (auto m = metadata_ok(*p.metadata_json); !m) return m;
            r.metadata = nlohmann::json::object();
          }
          return validate(r);
        } else if constexpr (std::is_same_v<T, SessionPaused>) {
          return check_text("reason", p.reason, limits::pause_reason);
        } else if constexpr (std::is_same_v<T, SessionConverted>) {
          return validate(ConvertRequest{p.project_id, p.work_item_ids, event.actor});
        } else if constexpr (std::is_same_v<T, VersionRestored>) {
          return check_text("content", p.content, limits::content);
        } else if constexpr (std::is_same_v<T, VersionCreated>) {
          return check_text("change_summary", p.change_summary, limits::change_summary);
        } else {
          return {};
        }
      },
      event.payload);
}

bool is_projection_name(std::string_view name) noexcept {
  if (name.empty() || name.size() > 64) return false;
  for (char c : name) {
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-')) return false;
  }
  return true;
}

}  // namespace planning::detail
