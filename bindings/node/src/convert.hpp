// Conversions between the engine's C++ values and JavaScript values.
// Every function here runs on the JavaScript thread only.
#pragma once

#include <napi.h>

#include <cstdint>
#include <string>
#include <utility>

#include <planning/planning.hpp>

namespace pnode {

// --- C++ -> JS. Field names are the seed package's (snake_case); timestamps are
// Date objects (milliseconds; events also carry timestamp_ns as a BigInt).
Napi::Value date(Napi::Env env, planning::Timestamp t);
Napi::Value json_to_js(Napi::Env env, const nlohmann::json& value);
Napi::Value to_js(Napi::Env env, const planning::Session& session);
Napi::Value to_js(Napi::Env env, const planning::Version& version);
Napi::Value to_js(Napi::Env env, const planning::VersionDiff& diff);
Napi::Value to_js(Napi::Env env, const planning::Statistics& stats);
Napi::Value to_js(Napi::Env env, const planning::Event& event);
Napi::Value to_js(Napi::Env env, const planning::StoreInfo& info);
Napi::Value to_js(Napi::Env env, const planning::VerifyReport& report);
Napi::Value to_js(Napi::Env env, const planning::ProjectionInfo& projection);
Napi::Value to_js(Napi::Env env, const planning::StaleReport& report);
Napi::Value to_js(Napi::Env env, const planning::SalvageReport& report);
Napi::Value to_js(Napi::Env env, const std::string& text);
Napi::Value to_js(Napi::Env env, std::uint64_t number);
Napi::Value to_js(Napi::Env env, std::monostate);
template <typename T>
Napi::Value to_js(Napi::Env env, const std::vector<T>& items) {
  Napi::Array out = Napi::Array::New(env, items.size());
  for (std::size_t i = 0; i < items.size(); ++i) out.Set(static_cast<std::uint32_t>(i), to_js(env, items[i]));
  return out;
}
template <typename T>
Napi::Value to_js(Napi::Env env, const std::optional<T>& value) {
  return value ? to_js(env, *value) : env.Null();
}

// { success: false, error: { code, message } }
Napi::Object error_result(Napi::Env env, const planning::Error& error);
// { success: true, data }
Napi::Object ok_result(Napi::Env env, Napi::Value data);
template <typename T>
Napi::Object result_to_js(Napi::Env env, const planning::Result<T>& result) {
  if (!result) return error_result(env, result.error());
  return ok_result(env, to_js(env, *result));
}
template <typename T>
Napi::Object result_to_js(Napi::Env env, const planning::Result<std::vector<planning::Result<T>>>& result) {
  if (!result) return error_result(env, result.error());
  Napi::Array out = Napi::Array::New(env, result->size());
  for (std::size_t i = 0; i < result->size(); ++i)
    out.Set(static_cast<std::uint32_t>(i), result_to_js(env, (*result)[i]));
  return ok_result(env, out);
}

// --- JS -> C++. The JavaScript layer (index.js) has already checked every
// argument's type and thrown a TypeError naming it; these throw a TypeError
// too (never crash) if they are called with anything else.
planning::Timestamp timestamp_from_ms(const Napi::Value& value, const char* what);
std::string string_arg(const Napi::Value& value, const char* what);
std::uint32_t u32_arg(const Napi::Value& value, const char* what);
// Metadata arrives as JSON text (JSON.stringify in index.js); text nested
// deeper than the engine's limit is an invalid_argument error value.
planning::Result<planning::CreateRequest> create_request(const Napi::Value& value);
planning::Result<planning::UpdateRequest> update_request(const Napi::Value& value);
planning::ConvertRequest convert_request(const Napi::Value& value);
planning::SessionFilters session_filters(const Napi::Value& value);
planning::EventQuery event_query(const Napi::Value& value);
planning::StaleOptions stale_options(const Napi::Value& value);
// One operation of applyBatch: { op: 'create' | 'update' | ..., id, ... }.
planning::Result<planning::WriteBatch::Operation> batch_operation(const Napi::Value& value);

}  // namespace pnode
