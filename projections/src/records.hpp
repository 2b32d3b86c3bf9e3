// Encodings of projection records (the values of the projection databases),
// Cereal portable binary through the checked field helpers, except version
// records, packed by hand (bounds-checked the same way). Layouts:
// docs/FORMAT.md, "Projection records". Decoders throw DecodeError on damage.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <planning/model.hpp>

namespace planning::detail {

std::string encode_session(const Session& session);
Session decode_session(std::string_view bytes);
// The same record with the metadata as its stored JSON text (`metadata_json`),
// neither dumped nor parsed; the returned Session's metadata is left empty.
std::string encode_session(const Session& session, const std::string& metadata_json);
Session decode_session(std::string_view bytes, std::string& metadata_json);

// A version entry; its content is set by the log's event `content_seq`.
struct VersionRecord {
  std::uint64_t event_seq = 0;
  std::uint64_t content_seq = 0;
  Timestamp created_at{};
  std::string created_by;
  std::string change_summary;
  std::vector<std::string> changed_fields;
};
// decode_version reads both record versions (1: Cereal, 2: packed).
std::string encode_version(const VersionRecord& record);
VersionRecord decode_version(std::string_view bytes);

// Keys.
std::string version_key(std::string_view session_id, std::uint32_t version_number);
// The session id of a version_key (REQUIRES: one).
std::string_view session_of_version_key(std::string_view key);
std::string stream_key(std::string_view session_id, std::uint32_t stream_version);

}  // namespace planning::detail
