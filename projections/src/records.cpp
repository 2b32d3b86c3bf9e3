#include "projections/src/records.hpp"

#include "events/src/bytes.hpp"
#include "events/src/cereal_fields.hpp"
#include "events/src/record_reader.hpp"

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

// Version records, record version 1 (stores of format 1 and 2): Cereal, no content.
template <class Archive>
void version_fields_v1(Archive& ar, VersionRecord& r) {
  record_version(ar);
  fields(ar, r.event_seq, r.content_seq, r.created_at, r.created_by, r.change_summary,
         r.changed_fields);
}

// Record version 2 is packed by hand (docs/FORMAT.md §4): a history decodes one
// per version, and Cereal's stream decode was half of decoding one. Byte 0
// is 1 in both versions (Cereal's endianness flag in version 1); byte 1 is the
// record version.
constexpr std::uint8_t kPackedVersionRecord = 2;

void put_text(std::string& out, std::string_view text) {
  put_be<std::uint32_t>(out, static_cast<std::uint32_t>(text.size()));
  out.append(text);
}

// Reads a packed record front to back; every read is bounded by the bytes left.
class Unpacker {
 public:
  explicit Unpacker(std::string_view bytes) : rest_(bytes) {}
  template <typename T>
  T integer() {
    return get_be<T>(take(sizeof(T)), 0);
  }
  std::string_view text() { return take(integer<std::uint32_t>()); }
  std::size_t left() const { return rest_.size(); }

 private:
  std::string_view take(std::size_t n) {
    if (n > rest_.size()) throw DecodeError("version record is cut short");
    const std::string_view out = rest_.substr(0, n);
    rest_.remove_prefix(n);
    return out;
  }
  std::string_view rest_;
};

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

std::string encode_version(const VersionRecord& r) {
  std::string out;
  out.reserve(64 + r.created_by.size() + r.change_summary.size());
  out.push_back('\1');
  out.push_back(static_cast<char>(kPackedVersionRecord));
  put_be<std::uint64_t>(out, r.event_seq);
  put_be<std::uint64_t>(out, r.content_seq);
  put_be<std::int64_t>(out, r.created_at.time_since_epoch().count());
  put_text(out, r.created_by);
  put_text(out, r.change_summary);
  put_be<std::uint32_t>(out, static_cast<std::uint32_t>(r.changed_fields.size()));
  for (const auto& f : r.changed_fields) put_text(out, f);
  return out;
}

VersionRecord decode_version(std::string_view bytes) {
  VersionRecord r;
  if (bytes.size() < 2) throw DecodeError("version record is cut short");
  if (static_cast<std::uint8_t>(bytes[1]) != kPackedVersionRecord) {
    decode_record(bytes, [&](auto& ar) { version_fields_v1(ar, r); });
    return r;
  }
  Unpacker in(bytes.substr(2));
  if (bytes[0] != '\1') throw DecodeError("version record has a bad first byte");
  r.event_seq = in.integer<std::uint64_t>();
  r.content_seq = in.integer<std::uint64_t>();
  r.created_at = Timestamp{std::chrono::nanoseconds{in.integer<std::int64_t>()}};
  r.created_by = in.text();
  r.change_summary = in.text();
  const auto count = in.integer<std::uint32_t>();
  // Every field costs at least its 4-byte length: bound the count first.
  if (count > in.left() / sizeof(std::uint32_t)) {
    throw DecodeError("version record field count exceeds the record");
  }
  r.changed_fields.reserve(count);
  for (std::uint32_t i = 0; i < count; ++i) r.changed_fields.emplace_back(in.text());
  if (in.left() != 0) throw DecodeError("trailing bytes in version record");
  return r;
}

std::string version_key(std::string_view session_id, std::uint32_t version_number) {
  std::string key(session_id);
  put_be<std::uint32_t>(key, version_number);
  return key;
}

std::string_view session_of_version_key(std::string_view key) {
  return key.substr(0, key.size() - sizeof(std::uint32_t));
}

std::string stream_key(std::string_view session_id, std::uint32_t stream_version) {
  std::string key(session_id);
  put_be<std::uint32_t>(key, stream_version);
  return key;
}

}  // namespace planning::detail
