#include "projections/src/records.hpp"

#include "events/src/bytes.hpp"
#include "events/src/cereal_fields.hpp"

namespace planning::detail {

namespace {

// Record format version, first field of every record (docs/FORMAT.md).
constexpr std::uint8_t kRecordVersion = 1;

template <class Archive>
void record_version(Archive& ar) {
  std::uint8_t v = kRecordVersion;
  field(ar, v);
  if (v != kRecordVersion) throw DecodeError("unknown record version " + std::to_string(v));
}

template <class Archive>
void session_fields(Archive& ar, Session& s, std::string& metadata) {
  record_version(ar);
  fields(ar, s.id, s.title, s.description, s.repository_url, s.repository_path,
         s.working_directory, s.status, s.content, s.current_version, s.pause_reason, s.paused_at,
         s.archived_at, s.project_id, s.work_item_ids, s.converted_by, s.converted_at, metadata,
         s.created_at, s.updated_at, s.last_activity_at, s.created_by, s.updated_by,
         s.stream_version);
}

template <class Archive>
void version_fields(Archive& ar, VersionRecord& r) {
  record_version(ar);
  fields(ar, r.event_seq, r.content_seq, r.created_at, r.created_by, r.change_summary,
         r.changed_fields);
}

}  // namespace

std::string encode_session(const Session& session) {
  return encode_session(session, session.metadata.dump());
}

std::string encode_session(const Session& session, const std::string& metadata_json) {
  // Saving only reads the fields: the non-const references never write.
  Session& s = const_cast<Session&>(session);
  std::string& metadata = const_cast<std::string&>(metadata_json);
  return encode_record([&](auto& ar) { session_fields(ar, s, metadata); });
}

Session decode_session(std::string_view bytes) {
  std::string metadata;
  Session s = decode_session(bytes, metadata);
  auto parsed = nlohmann::json::parse(metadata, nullptr, false);
  if (!parsed.is_object()) throw DecodeError("session record metadata is not a JSON object");
  s.metadata = std::move(parsed);
  return s;
}

Session decode_session(std::string_view bytes, std::string& metadata_json) {
  Session s;
  decode_record(bytes, [&](auto& ar) { session_fields(ar, s, metadata_json); });
  return s;
}

std::string encode_version(const VersionRecord& record) {
  VersionRecord& r = const_cast<VersionRecord&>(record);  // saving only reads
  return encode_record([&](auto& ar) { version_fields(ar, r); });
}

VersionRecord decode_version(std::string_view bytes) {
  VersionRecord r;
  decode_record(bytes, [&](auto& ar) { version_fields(ar, r); });
  return r;
}

std::string version_key(std::string_view session_id, std::uint32_t version_number) {
  std::string key(session_id);
  put_be<std::uint32_t>(key, version_number);
  return key;
}

std::string stream_key(std::string_view session_id, std::uint32_t stream_version) {
  std::string key(session_id);
  put_be<std::uint32_t>(key, stream_version);
  return key;
}

}  // namespace planning::detail
