#include "convert.hpp"

#include <cmath>
#include <limits>

namespace pnode {
namespace {

using planning::ErrorCode;

std::int64_t ns_since_epoch(planning::Timestamp t) { return t.time_since_epoch().count(); }

Napi::Value optional_date(Napi::Env env, const std::optional<planning::Timestamp>& t) {
  return t ? date(env, *t) : env.Null();
}

Napi::Array strings(Napi::Env env, const std::vector<std::string>& items) {
  Napi::Array out = Napi::Array::New(env, items.size());
  for (std::size_t i = 0; i < items.size(); ++i)
    out.Set(static_cast<std::uint32_t>(i), Napi::String::New(env, items[i]));
  return out;
}

Napi::Value u64(Napi::Env env, std::uint64_t n) {
  return Napi::Number::New(env, static_cast<double>(n));
}

[[noreturn]] void type_error(Napi::Env env, const std::string& message) {
  throw Napi::TypeError::New(env, message);
}

Napi::Object object_arg(const Napi::Value& value, const char* what) {
  if (!value.IsObject()) type_error(value.Env(), std::string(what) + " must be an object");
  return value.As<Napi::Object>();
}

std::optional<std::string> optional_string(const Napi::Object& object, const char* key) {
  Napi::Value v = object.Get(key);
  if (v.IsUndefined() || v.IsNull()) return std::nullopt;
  return string_arg(v, key);
}

std::string string_or_empty(const Napi::Object& object, const char* key) {
  return optional_string(object, key).value_or(std::string{});
}

std::optional<planning::Timestamp> optional_time(const Napi::Object& object, const char* key) {
  Napi::Value v = object.Get(key);
  if (v.IsUndefined() || v.IsNull()) return std::nullopt;
  return timestamp_from_ms(v, key);
}

std::vector<std::string> string_array(const Napi::Value& value, const char* what) {
  std::vector<std::string> out;
  if (value.IsUndefined() || value.IsNull()) return out;
  if (!value.IsArray()) type_error(value.Env(), std::string(what) + " must be an array of strings");
  Napi::Array array = value.As<Napi::Array>();
  out.reserve(array.Length());
  for (std::uint32_t i = 0; i < array.Length(); ++i) out.push_back(string_arg(array.Get(i), what));
  return out;
}

planning::Result<nlohmann::json> metadata(const Napi::Object& object) {
  auto text = optional_string(object, "metadata_json");
  if (!text) return nlohmann::json::object();
  auto parsed = planning::parse_json(*text, "metadata");
  if (!parsed) return std::unexpected(parsed.error());
  if (!parsed->is_object())
    return planning::fail(ErrorCode::invalid_argument, "metadata must be a JSON object");
  return parsed;
}

}  // namespace

// --- C++ -> JS ---------------------------------------------------------------

Napi::Value date(Napi::Env env, planning::Timestamp t) {
  return Napi::Date::New(env, static_cast<double>(ns_since_epoch(t)) / 1e6);
}

Napi::Value json_to_js(Napi::Env env, const nlohmann::json& value) {
  switch (value.type()) {
    case nlohmann::json::value_t::null:
      return env.Null();
    case nlohmann::json::value_t::boolean:
      return Napi::Boolean::New(env, value.get<bool>());
    case nlohmann::json::value_t::number_integer:
      return Napi::Number::New(env, static_cast<double>(value.get<std::int64_t>()));
    case nlohmann::json::value_t::number_unsigned:
      return Napi::Number::New(env, static_cast<double>(value.get<std::uint64_t>()));
    case nlohmann::json::value_t::number_float:
      return Napi::Number::New(env, value.get<double>());
    case nlohmann::json::value_t::string:
      return Napi::String::New(env, value.get_ref<const std::string&>());
    case nlohmann::json::value_t::array: {
      Napi::Array out = Napi::Array::New(env, value.size());
      std::uint32_t i = 0;
      for (const auto& item : value) out.Set(i++, json_to_js(env, item));
      return out;
    }
    case nlohmann::json::value_t::object: {
      Napi::Object out = Napi::Object::New(env);
      for (const auto& [key, item] : value.items()) out.Set(key, json_to_js(env, item));
      return out;
    }
    default:
      return env.Undefined();
  }
}

Napi::Value to_js(Napi::Env env, const planning::Session& s) {
  Napi::Object o = Napi::Object::New(env);
  o.Set("id", s.id);
  o.Set("title", s.title);
  o.Set("description", s.description);
  o.Set("repository_url", s.repository_url);
  o.Set("repository_path", s.repository_path);
  o.Set("working_directory", s.working_directory);
  o.Set("status", std::string(planning::to_string(s.status)));
  o.Set("content", s.content);
  o.Set("current_version", Napi::Number::New(env, s.current_version));
  o.Set("pause_reason", s.pause_reason);
  o.Set("paused_at", optional_date(env, s.paused_at));
  o.Set("archived_at", optional_date(env, s.archived_at));
  o.Set("project_id", s.project_id);
  o.Set("work_item_ids", strings(env, s.work_item_ids));
  o.Set("converted_by", s.converted_by);
  o.Set("converted_at", optional_date(env, s.converted_at));
  o.Set("metadata", json_to_js(env, s.metadata));
  o.Set("created_at", date(env, s.created_at));
  o.Set("updated_at", date(env, s.updated_at));
  o.Set("last_activity_at", date(env, s.last_activity_at));
  o.Set("created_by", s.created_by);
  o.Set("updated_by", s.updated_by);
  o.Set("stream_version", Napi::Number::New(env, s.stream_version));
  return o;
}

Napi::Value to_js(Napi::Env env, const planning::Version& v) {
  Napi::Object o = Napi::Object::New(env);
  o.Set("session_id", v.session_id);
  o.Set("version_number", Napi::Number::New(env, v.version_number));
  o.Set("content", v.content);
  o.Set("change_summary", v.change_summary);
  o.Set("changed_fields", strings(env, v.changed_fields));
  o.Set("created_at", date(env, v.created_at));
  o.Set("created_by", v.created_by);
  o.Set("event_seq", u64(env, v.event_seq));
  return o;
}

Napi::Value to_js(Napi::Env env, const planning::VersionDiff& d) {
  Napi::Object o = Napi::Object::New(env);
  o.Set("from_version", Napi::Number::New(env, d.from_version));
  o.Set("to_version", Napi::Number::New(env, d.to_version));
  o.Set("lines_added", u64(env, d.lines_added));
  o.Set("lines_removed", u64(env, d.lines_removed));
  o.Set("lines_unchanged", u64(env, d.lines_unchanged));
  o.Set("unified", d.unified);
  return o;
}

Napi::Value to_js(Napi::Env env, const planning::Statistics& s) {
  Napi::Object o = Napi::Object::New(env);
  o.Set("total_sessions", u64(env, s.total_sessions));
  o.Set("active_sessions", u64(env, s.active_sessions));
  o.Set("paused_sessions", u64(env, s.paused_sessions));
  o.Set("converted_sessions", u64(env, s.converted_sessions));
  o.Set("archived_sessions", u64(env, s.archived_sessions));
  o.Set("removed_sessions", u64(env, s.removed_sessions));
  o.Set("sessions_with_content", u64(env, s.sessions_with_content));
  o.Set("total_versions", u64(env, s.total_versions));
  o.Set("average_versions_per_session", Napi::Number::New(env, s.average_versions_per_session));
  o.Set("total_events", u64(env, s.total_events));
  return o;
}

Napi::Value to_js(Napi::Env env, const planning::Event& e) {
  // The JSON form (planning::to_json) names every field; timestamps become Dates.
  Napi::Object o = json_to_js(env, planning::to_json(e)).As<Napi::Object>();
  o.Set("timestamp", date(env, e.timestamp));
  o.Set("timestamp_ns", Napi::BigInt::New(env, static_cast<int64_t>(ns_since_epoch(e.timestamp))));
  o.Set("sequence", u64(env, e.sequence));
  return o;
}

Napi::Value to_js(Napi::Env env, const planning::ProjectionInfo& p) {
  Napi::Object o = Napi::Object::New(env);
  o.Set("name", p.name);
  o.Set("built_in", Napi::Boolean::New(env, p.built_in));
  o.Set("schema_version", Napi::Number::New(env, p.schema_version));
  o.Set("checkpoint", u64(env, p.checkpoint));
  return o;
}

Napi::Value to_js(Napi::Env env, const planning::StoreInfo& i) {
  Napi::Object o = Napi::Object::New(env);
  o.Set("path", i.path.string());
  o.Set("format_version", Napi::Number::New(env, i.format_version));
  o.Set("head_sequence", u64(env, i.head_sequence));
  o.Set("head_hash", planning::to_hex(i.head_hash));
  o.Set("sessions", u64(env, i.sessions));
  o.Set("versions", u64(env, i.versions));
  o.Set("map_size", u64(env, i.map_size));
  o.Set("map_used", u64(env, i.map_used));
  o.Set("file_size", u64(env, i.file_size));
  o.Set("page_size", Napi::Number::New(env, i.page_size));
  o.Set("max_readers", Napi::Number::New(env, i.max_readers));
  o.Set("readers_in_use", Napi::Number::New(env, i.readers_in_use));
  o.Set("projections", to_js(env, i.projections));
  return o;
}

Napi::Value to_js(Napi::Env env, const planning::VerifyReport& r) {
  Napi::Object o = Napi::Object::New(env);
  o.Set("ok", Napi::Boolean::New(env, r.ok()));
  o.Set("events_checked", u64(env, r.events_checked));
  o.Set("sessions_checked", u64(env, r.sessions_checked));
  Napi::Array issues = Napi::Array::New(env, r.issues.size());
  for (std::size_t k = 0; k < r.issues.size(); ++k) {
    Napi::Object issue = Napi::Object::New(env);
    issue.Set("sequence", u64(env, r.issues[k].sequence));
    issue.Set("what", r.issues[k].what);
    issues.Set(static_cast<std::uint32_t>(k), issue);
  }
  o.Set("issues", issues);
  return o;
}

Napi::Value to_js(Napi::Env env, const planning::StaleReport& r) {
  Napi::Object o = Napi::Object::New(env);
  o.Set("stale_sessions", to_js(env, r.stale_sessions));
  Napi::Object recommendations = Napi::Object::New(env);
  for (const auto& [id, action] : r.recommendations)
    recommendations.Set(id, std::string(planning::to_string(action)));
  o.Set("recommendations", recommendations);
  return o;
}

Napi::Value to_js(Napi::Env env, const planning::SalvageReport& r) {
  Napi::Object o = Napi::Object::New(env);
  o.Set("recovered_head", u64(env, r.recovered_head));
  o.Set("damaged_head", u64(env, r.damaged_head));
  Napi::Array beyond = Napi::Array::New(env, r.beyond_prefix.size());
  for (std::size_t k = 0; k < r.beyond_prefix.size(); ++k)
    beyond.Set(static_cast<std::uint32_t>(k), u64(env, r.beyond_prefix[k]));
  o.Set("beyond_prefix", beyond);
  o.Set("beyond_prefix_file", r.beyond_prefix_file.string());
  Napi::Array lost = Napi::Array::New(env, r.lost.size());
  for (std::size_t k = 0; k < r.lost.size(); ++k)
    lost.Set(static_cast<std::uint32_t>(k), u64(env, r.lost[k]));
  o.Set("lost", lost);
  o.Set("frames_found", u64(env, r.frames_found));
  return o;
}

Napi::Value to_js(Napi::Env env, const std::string& text) { return Napi::String::New(env, text); }
Napi::Value to_js(Napi::Env env, std::uint64_t number) { return u64(env, number); }
Napi::Value to_js(Napi::Env env, std::monostate) { return env.Undefined(); }

Napi::Object error_result(Napi::Env env, const planning::Error& error) {
  Napi::Object e = Napi::Object::New(env);
  e.Set("code", std::string(planning::to_string(error.code)));
  e.Set("message", error.message);
  Napi::Object o = Napi::Object::New(env);
  o.Set("success", Napi::Boolean::New(env, false));
  o.Set("error", e);
  return o;
}

Napi::Object ok_result(Napi::Env env, Napi::Value data) {
  Napi::Object o = Napi::Object::New(env);
  o.Set("success", Napi::Boolean::New(env, true));
  o.Set("data", data);
  return o;
}

// --- JS -> C++ ---------------------------------------------------------------

planning::Timestamp timestamp_from_ms(const Napi::Value& value, const char* what) {
  Napi::Env env = value.Env();
  if (value.IsBigInt()) {  // nanoseconds since the epoch (as events' timestamp_ns)
    bool lossless = true;
    std::int64_t ns = value.As<Napi::BigInt>().Int64Value(&lossless);
    if (!lossless) type_error(env, std::string(what) + " is out of range");
    return planning::Timestamp(std::chrono::nanoseconds(ns));
  }
  if (value.IsDate()) return timestamp_from_ms(Napi::Number::New(env, value.As<Napi::Date>().ValueOf()), what);
  if (!value.IsNumber()) type_error(env, std::string(what) + " must be a Date");
  double ms = value.As<Napi::Number>().DoubleValue();
  // int64 nanoseconds reach about ±9.2e12 ms (years 1677..2262).
  if (!std::isfinite(ms) || std::fabs(ms) > 9.2e12)
    type_error(env, std::string(what) + " must be a valid Date between 1678 and 2261");
  return planning::Timestamp(std::chrono::nanoseconds(std::llround(ms * 1e6)));
}

std::string string_arg(const Napi::Value& value, const char* what) {
  if (!value.IsString()) type_error(value.Env(), std::string(what) + " must be a string");
  return value.As<Napi::String>().Utf8Value();
}

std::uint32_t u32_arg(const Napi::Value& value, const char* what) {
  if (!value.IsNumber()) type_error(value.Env(), std::string(what) + " must be an integer");
  double d = value.As<Napi::Number>().DoubleValue();
  if (!(d >= 0 && d <= 4294967295.0) || std::floor(d) != d)
    type_error(value.Env(), std::string(what) + " must be an integer in [0, 2^32)");
  return static_cast<std::uint32_t>(d);
}

planning::Result<planning::CreateRequest> create_request(const Napi::Value& value) {
  Napi::Object o = object_arg(value, "request");
  planning::CreateRequest r;
  r.title = string_or_empty(o, "title");
  r.description = string_or_empty(o, "description");
  r.repository_path = string_or_empty(o, "repository_path");
  r.repository_url = string_or_empty(o, "repository_url");
  r.working_directory = string_or_empty(o, "working_directory");
  r.initial_content = optional_string(o, "initial_content");
  r.created_by = string_or_empty(o, "created_by");
  auto meta = metadata(o);
  if (!meta) return std::unexpected(meta.error());
  r.metadata = std::move(*meta);
  return r;
}

planning::Result<planning::UpdateRequest> update_request(const Napi::Value& value) {
  Napi::Object o = object_arg(value, "updates");
  planning::UpdateRequest r;
  r.title = optional_string(o, "title");
  r.description = optional_string(o, "description");
  r.content = optional_string(o, "content");
  r.repository_path = optional_string(o, "repository_path");
  r.repository_url = optional_string(o, "repository_url");
  r.working_directory = optional_string(o, "working_directory");
  if (optional_string(o, "metadata_json")) {
    auto meta = metadata(o);
    if (!meta) return std::unexpected(meta.error());
    r.metadata = std::move(*meta);
  }
  r.change_summary = string_or_empty(o, "change_summary");
  r.updated_by = string_or_empty(o, "updated_by");
  Napi::Value expected = o.Get("expected_stream_version");
  if (!expected.IsUndefined() && !expected.IsNull())
    r.expected_stream_version = u32_arg(expected, "expected_stream_version");
  return r;
}

planning::ConvertRequest convert_request(const Napi::Value& value) {
  Napi::Object o = object_arg(value, "conversion");
  planning::ConvertRequest r;
  r.project_id = string_or_empty(o, "project_id");
  r.work_item_ids = string_array(o.Get("work_item_ids"), "work_item_ids");
  r.converted_by = string_or_empty(o, "converted_by");
  return r;
}

planning::SessionFilters session_filters(const Napi::Value& value) {
  planning::SessionFilters f;
  if (value.IsUndefined() || value.IsNull()) return f;
  Napi::Object o = object_arg(value, "filters");
  for (const auto& s : string_array(o.Get("status"), "status")) {
    auto status = planning::parse_status(s);
    if (!status) type_error(value.Env(), "status: " + status.error().message);
    f.status.insert(*status);
  }
  f.repository_path = optional_string(o, "repository_path");
  f.repository_url = optional_string(o, "repository_url");
  f.project_id = optional_string(o, "project_id");
  f.created_by = optional_string(o, "created_by");
  f.created_after = optional_time(o, "created_after");
  f.created_before = optional_time(o, "created_before");
  f.updated_after = optional_time(o, "updated_after");
  f.updated_before = optional_time(o, "updated_before");
  Napi::Value has_content = o.Get("has_content");
  if (has_content.IsBoolean()) f.has_content = has_content.As<Napi::Boolean>().Value();
  f.title_contains = optional_string(o, "title_contains");
  if (auto order = optional_string(o, "order_by")) {
    auto parsed = planning::parse_order_by(*order);
    if (!parsed) type_error(value.Env(), "order_by: " + parsed.error().message);
    f.order_by = *parsed;
  }
  Napi::Value descending = o.Get("descending");
  if (descending.IsBoolean()) f.descending = descending.As<Napi::Boolean>().Value();
  Napi::Value limit = o.Get("limit");
  if (!limit.IsUndefined() && !limit.IsNull()) f.limit = u32_arg(limit, "limit");
  Napi::Value offset = o.Get("offset");
  if (!offset.IsUndefined() && !offset.IsNull()) f.offset = u32_arg(offset, "offset");
  return f;
}

planning::EventQuery event_query(const Napi::Value& value) {
  planning::EventQuery q;
  if (value.IsUndefined() || value.IsNull()) return q;
  Napi::Object o = object_arg(value, "query");
  auto seq = [&](const char* key) -> std::optional<std::uint64_t> {
    Napi::Value v = o.Get(key);
    if (v.IsUndefined() || v.IsNull()) return std::nullopt;
    if (v.IsBigInt()) {
      bool lossless = true;
      std::uint64_t n = v.As<Napi::BigInt>().Uint64Value(&lossless);
      if (!lossless) type_error(value.Env(), std::string(key) + " is out of range");
      return n;
    }
    if (!v.IsNumber()) type_error(value.Env(), std::string(key) + " must be a number");
    double d = v.As<Napi::Number>().DoubleValue();
    if (!(d >= 0) || std::floor(d) != d || d > 9007199254740991.0)
      type_error(value.Env(), std::string(key) + " must be a non-negative integer");
    return static_cast<std::uint64_t>(d);
  };
  if (auto n = seq("from_sequence")) q.from_sequence = *n;
  if (auto n = seq("to_sequence")) q.to_sequence = *n;
  if (auto n = seq("limit")) q.limit = static_cast<std::size_t>(*n);
  q.session_id = optional_string(o, "session_id");
  for (const auto& t : string_array(o.Get("types"), "types")) {
    auto type = planning::parse_event_type(t);
    if (!type) type_error(value.Env(), "types: " + type.error().message);
    q.types.insert(*type);
  }
  q.from_time = optional_time(o, "from_time");
  q.to_time = optional_time(o, "to_time");
  return q;
}

planning::StaleOptions stale_options(const Napi::Value& value) {
  planning::StaleOptions s;
  if (value.IsUndefined() || value.IsNull()) return s;
  Napi::Object o = object_arg(value, "options");
  auto duration = [&](const char* key) -> std::optional<std::chrono::nanoseconds> {
    Napi::Value v = o.Get(key);
    if (v.IsUndefined() || v.IsNull()) return std::nullopt;
    if (!v.IsNumber()) type_error(value.Env(), std::string(key) + " must be a number of milliseconds");
    double ms = v.As<Napi::Number>().DoubleValue();
    if (!std::isfinite(ms) || ms < 0 || ms > 9.2e12)
      type_error(value.Env(), std::string(key) + " must be a non-negative number of milliseconds");
    return std::chrono::nanoseconds(std::llround(ms * 1e6));
  };
  if (auto d = duration("inactive_for_ms")) s.inactive_for = *d;
  if (auto d = duration("archive_after_ms")) s.archive_after = *d;
  s.now = optional_time(o, "now");
  return s;
}

planning::Result<planning::WriteBatch::Operation> batch_operation(const Napi::Value& value) {
  using Kind = planning::WriteBatch::Kind;
  Napi::Object o = object_arg(value, "operation");
  planning::WriteBatch::Operation op;
  std::string kind = string_arg(o.Get("op"), "op");
  if (kind != "create") op.session_id = string_arg(o.Get("id"), "id");
  op.by = string_or_empty(o, "by");
  if (kind == "create") {
    op.kind = Kind::create;
    auto r = create_request(o.Get("request"));
    if (!r) return std::unexpected(r.error());
    op.create = std::move(*r);
  } else if (kind == "update") {
    op.kind = Kind::update;
    auto r = update_request(o.Get("request"));
    if (!r) return std::unexpected(r.error());
    op.update = std::move(*r);
  } else if (kind == "pause") {
    op.kind = Kind::pause;
    op.text = string_or_empty(o, "text");
  } else if (kind == "resume") {
    op.kind = Kind::resume;
  } else if (kind == "archive") {
    op.kind = Kind::archive;
  } else if (kind == "mark_converted") {
    op.kind = Kind::mark_converted;
    op.convert = convert_request(o.Get("request"));
  } else if (kind == "remove") {
    op.kind = Kind::remove;
  } else if (kind == "create_version") {
    op.kind = Kind::create_version;
    op.text = string_or_empty(o, "text");
  } else if (kind == "restore_version") {
    op.kind = Kind::restore_version;
    op.version_number = u32_arg(o.Get("version_number"), "version_number");
  } else {
    type_error(value.Env(), "op must name an operation, not '" + kind + "'");
  }
  return op;
}

}  // namespace pnode
