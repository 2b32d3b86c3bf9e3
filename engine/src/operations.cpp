// Every mutating operation as a prepared write: validate the input once, then
// build the decision that turns the session's current state into one event (or
// an error, or a no-op). Single calls and batches both go through prepare().
#include <fmt/format.h>

#include "engine/src/manager_impl.hpp"
#include "engine/src/validation.hpp"

namespace planning {

using detail::Txn;
using Kind = WriteBatch::Kind;
using Decision = SessionManager::Impl::Decision;

namespace {

std::unexpected<Error> not_found(std::string_view id) {
  return fail(ErrorCode::not_found, "session " + std::string(id) + " not found");
}

std::unexpected<Error> not_active(const Session& s, std::string_view operation) {
  return fail(ErrorCode::invalid_state,
              fmt::format("cannot {} session {}: it is {} (only active sessions allow it)",
                          operation, s.id, to_string(s.status)));
}

// A decision for operations that only need the session to exist; the state
// machine check (check_event) names the transition error.
template <typename Payload>
SessionManager::Impl::Decide simple(std::string id, Payload payload) {
  return [id = std::move(id), payload = std::move(payload)](const std::optional<Session>& current,
                                                             const Txn&) -> Decision {
    if (!current) return not_found(id);
    return EventPayload{payload};
  };
}

}  // namespace

Result<SessionManager::Impl::WriteOp> SessionManager::Impl::prepare(WriteBatch::Operation o) {
  if (o.kind != Kind::create) {
    if (auto c = detail::check_session_id(o.session_id); !c) return std::unexpected(c.error());
    o.session_id = detail::canonical_session_id(o.session_id);  // ids are case-insensitive
  }
  WriteOp op;
  op.session_id = o.session_id;
  op.actor = o.by;
  switch (o.kind) {
    case Kind::create: {
      if (auto v = detail::validate(o.create); !v) return std::unexpected(v.error());
      auto metadata = detail::check_metadata(o.create.metadata);
      if (!metadata) return std::unexpected(metadata.error());
      op.session_id = uuids.next(now());
      op.actor = o.create.created_by;
      SessionCreated created{o.create.title,           o.create.description,
                             o.create.repository_path, o.create.repository_url,
                             o.create.working_directory, o.create.initial_content,
                             *metadata};
      // A UUIDv7 collision is practically impossible; the write door refuses a
      // used id (conflict), even one whose session was removed.
      op.decide = [created = std::move(created)](const std::optional<Session>&,
                                                 const Txn&) -> Decision {
        return EventPayload{created};
      };
      break;
    }
    case Kind::update: {
      if (auto v = detail::validate(o.update); !v) return std::unexpected(v.error());
      std::optional<std::string> metadata_text;
      if (o.update.metadata) metadata_text = *detail::check_metadata(*o.update.metadata);
      op.actor = o.update.updated_by;
      op.decide = [this, id = o.session_id, r = std::move(o.update), metadata_text](
                      const std::optional<Session>& current, const Txn&) -> Decision {
        if (!current) return not_found(id);
        const Session& s = *current;
        if (s.status != Status::active) return not_active(s, "update");
        if (r.expected_stream_version && *r.expected_stream_version != s.stream_version) {
          return fail(ErrorCode::conflict,
                      fmt::format("session {} is at stream version {}, expected {}", s.id,
                                  s.stream_version, *r.expected_stream_version));
        }
        SessionUpdated u;
        // changed_fields order is documented in docs/BEHAVIOUR.md.
        auto change = [&](const char* name, const std::optional<std::string>& wanted,
                          const std::string& have, std::optional<std::string>& out) {
          if (wanted && *wanted != have) {
            out = *wanted;
            u.changed_fields.emplace_back(name);
          }
        };
        change("title", r.title, s.title, u.title);
        change("description", r.description, s.description, u.description);
        change("content", r.content, s.content, u.content);
        change("repository_path", r.repository_path, s.repository_path, u.repository_path);
        change("repository_url", r.repository_url, s.repository_url, u.repository_url);
        change("working_directory", r.working_directory, s.working_directory,
               u.working_directory);
        if (r.metadata && *r.metadata != s.metadata) {
          u.metadata_json = metadata_text;
          u.changed_fields.emplace_back("metadata");
        }
        if (u.changed_fields.empty()) return std::optional<EventPayload>{};  // no-op
        u.change_summary = r.change_summary;
        if (u.content && options.auto_version) u.version_number = s.current_version + 1;
        return EventPayload{std::move(u)};
      };
      break;
    }
    case Kind::pause:
      if (auto c = detail::check_text("reason", o.text, limits::pause_reason); !c) {
        return std::unexpected(c.error());
      }
      op.decide = simple(o.session_id, SessionPaused{o.text});
      break;
    case Kind::resume:
      op.decide = simple(o.session_id, SessionResumed{});
      break;
    case Kind::archive:
      op.decide = simple(o.session_id, SessionArchived{});
      break;
    case Kind::remove:
      op.decide = simple(o.session_id, SessionRemoved{});
      break;
    case Kind::mark_converted: {
      if (auto v = detail::validate(o.convert); !v) return std::unexpected(v.error());
      op.actor = o.convert.converted_by;
      op.decide = [id = o.session_id, converted = SessionConverted{o.convert.project_id,
                                                                   o.convert.work_item_ids}](
                      const std::optional<Session>& current, const Txn&) -> Decision {
        if (!current) return not_found(id);
        if (current->status != Status::active) return not_active(*current, "convert");
        return EventPayload{converted};
      };
      break;
    }
    case Kind::create_version:
      if (auto c = detail::check_text("change_summary", o.text, limits::change_summary); !c) {
        return std::unexpected(c.error());
      }
      op.decide = [this, id = o.session_id, summary = o.text](
                      const std::optional<Session>& current, const Txn& txn) -> Decision {
        if (!current) return not_found(id);
        if (current->status != Status::active) return not_active(*current, "create a version of");
        // 0 when the session never had content: the version is the empty document.
        const std::uint64_t content_seq = latest_content_seq(txn, *current);
        return EventPayload{VersionCreated{current->current_version + 1, summary, content_seq}};
      };
      break;
    case Kind::restore_version:
      if (auto c = detail::check_version_number(o.version_number); !c) {
        return std::unexpected(c.error());
      }
      op.decide = [this, id = o.session_id, number = o.version_number](
                      const std::optional<Session>& current, const Txn& txn) -> Decision {
        if (!current) return not_found(id);
        if (current->status != Status::active) return not_active(*current, "restore a version of");
        auto v = version(txn, *current, number);
        if (!v) return std::unexpected(v.error());
        return EventPayload{
            VersionRestored{number, current->current_version + 1, std::move(v->content)}};
      };
      break;
  }
  if (auto c = detail::check_text("actor", op.actor, limits::actor); !c) {
    return std::unexpected(c.error());
  }
  return op;
}

// --- WriteBatch -----------------------------------------------------------------

WriteBatch& WriteBatch::create(CreateRequest request) {
  operations_.push_back(Operation{.kind = Kind::create, .create = std::move(request)});
  return *this;
}
WriteBatch& WriteBatch::update(std::string id, UpdateRequest request) {
  operations_.push_back(
      Operation{.kind = Kind::update, .session_id = std::move(id), .update = std::move(request)});
  return *this;
}
WriteBatch& WriteBatch::pause(std::string id, std::string reason, std::string by) {
  operations_.push_back(Operation{.kind = Kind::pause, .session_id = std::move(id),
                                  .text = std::move(reason), .by = std::move(by)});
  return *this;
}
WriteBatch& WriteBatch::resume(std::string id, std::string by) {
  operations_.push_back(
      Operation{.kind = Kind::resume, .session_id = std::move(id), .by = std::move(by)});
  return *this;
}
WriteBatch& WriteBatch::archive(std::string id, std::string by) {
  operations_.push_back(
      Operation{.kind = Kind::archive, .session_id = std::move(id), .by = std::move(by)});
  return *this;
}
WriteBatch& WriteBatch::mark_converted(std::string id, ConvertRequest request) {
  operations_.push_back(Operation{
      .kind = Kind::mark_converted, .session_id = std::move(id), .convert = std::move(request)});
  return *this;
}
WriteBatch& WriteBatch::remove(std::string id, std::string by) {
  operations_.push_back(
      Operation{.kind = Kind::remove, .session_id = std::move(id), .by = std::move(by)});
  return *this;
}
WriteBatch& WriteBatch::create_version(std::string id, std::string change_summary,
                                       std::string by) {
  operations_.push_back(Operation{.kind = Kind::create_version, .session_id = std::move(id),
                                  .text = std::move(change_summary), .by = std::move(by)});
  return *this;
}
WriteBatch& WriteBatch::restore_version(std::string id, std::uint32_t version_number,
                                        std::string by) {
  operations_.push_back(Operation{.kind = Kind::restore_version, .session_id = std::move(id),
                                  .by = std::move(by), .version_number = version_number});
  return *this;
}

}  // namespace planning
