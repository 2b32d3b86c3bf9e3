#include "projections/src/content_base.hpp"

#include <fmt/format.h>

#include "events/src/bytes.hpp"
#include "projections/src/databases.hpp"
#include "projections/src/records.hpp"

namespace planning::detail {

namespace {

// Event types that can set content (FORMAT.md §2); the others are skipped
// without decoding their payload.
bool may_set_content(EventType type) {
  return type == EventType::session_created || type == EventType::session_updated ||
         type == EventType::version_restored;
}

std::unexpected<Error> corrupt(std::uint64_t sequence, const std::string& what) {
  return fail(ErrorCode::corruption, fmt::format("event {}: {}", sequence, what));
}

}  // namespace

Result<std::optional<ContentEvent>> latest_content_event(const Txn& txn, const Environment& env,
                                                         const EventLog& log,
                                                         std::string_view session_id,
                                                         std::uint32_t stream_version) {
  for (std::uint32_t sv = stream_version; sv >= 1; --sv) {
    auto seq_bytes = kv_get(txn, env.dbi(txn, StreamsDatabases::records), stream_key(session_id, sv));
    if (!seq_bytes || seq_bytes->size() != 8) {
      return fail(ErrorCode::corruption,
                  fmt::format("stream {} of session {} is missing", sv, session_id));
    }
    const auto seq = get_be<std::uint64_t>(*seq_bytes, 0);
    auto frame = log.frame(txn, seq);
    if (!frame) return corrupt(seq, "is missing from the log");
    auto header = peek_header(seq, *frame);
    if (!header) return std::unexpected(header.error());
    if (!may_set_content(header->type)) continue;
    auto stored = peek_stored_content(seq, *frame);
    if (!stored) return std::unexpected(stored.error());
    if (*stored) return ContentEvent{seq, **stored};
  }
  return std::nullopt;
}

std::optional<ContentBase> content_base_for(const Txn& txn, const Environment& env,
                                            const EventLog& log, const Session& state) {
  if (state.content.empty()) return std::nullopt;
  auto latest = latest_content_event(txn, env, log, state.id, state.stream_version);
  if (!latest || !*latest) return std::nullopt;
  ContentBase base;
  base.seq = (*latest)->sequence;
  base.depth = (*latest)->stored.depth;
  base.checksum = (*latest)->stored.checksum;
  base.content = state.content;
  return base;
}

}  // namespace planning::detail
