// SessionManager: open and the mutating operations. Each operation validates its
// input, then hands Impl::execute a decision function that turns the session's
// current state into one event (or an error, or a no-op).
#include <planning/session_manager.hpp>

#include <fmt/format.h>

#include "engine/src/manager_impl.hpp"
#include "engine/src/validation.hpp"
#include "projections/src/session_fold.hpp"

namespace planning {

using detail::Txn;

namespace {

std::unexpected<Error> not_found(std::string_view id) {
  return fail(ErrorCode::not_found, "session " + std::string(id) + " not found");
}

std::unexpected<Error> not_active(const Session& s, std::string_view operation) {
  return fail(ErrorCode::invalid_state,
              fmt::format("cannot {} session {}: it is {} (only active sessions allow it)",
                          operation, s.id, to_string(s.status)));
}

}  // namespace

SessionManager::SessionManager(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
SessionManager::~SessionManager() = default;

Result<std::unique_ptr<SessionManager>> SessionManager::open(Options options) {
  auto impl = Impl::open(std::move(options));
  if (!impl) return std::unexpected(impl.error());
  return std::unique_ptr<SessionManager>(new SessionManager(std::move(*impl)));
}

Signals& SessionManager::signals() noexcept { return *impl_->signals; }
const Options& SessionManager::options() const noexcept { return impl_->options; }

Result<Session> SessionManager::create(const CreateRequest& request) {
  if (auto v = detail::validate(request); !v) return std::unexpected(v.error());
  auto metadata = detail::check_metadata(request.metadata);
  if (!metadata) return std::unexpected(metadata.error());

  const std::string id = impl_->uuids.next(impl_->now());
  return impl_->execute(
      id, request.created_by,
      [&](const std::optional<Session>& current, const Txn& txn) -> Impl::Decision {
        // A UUIDv7 collision is practically impossible; never reuse an id, even
        // one whose session was removed.
        if (current || detail::kv_get(txn, impl_->env->dbs().streams, detail::stream_key(id, 1))) {
          return fail(ErrorCode::conflict, "generated id " + id + " is already taken; retry");
        }
        SessionCreated created;
        created.title = request.title;
        created.description = request.description;
        created.repository_path = request.repository_path;
        created.repository_url = request.repository_url;
        created.working_directory = request.working_directory;
        created.initial_content = request.initial_content;
        created.metadata_json = *metadata;
        return EventPayload{std::move(created)};
      });
}

Result<Session> SessionManager::update(std::string_view id, const UpdateRequest& request) {
  if (auto c = detail::check_session_id(id); !c) return std::unexpected(c.error());
  if (auto v = detail::validate(request); !v) return std::unexpected(v.error());
  std::optional<std::string> metadata_text;
  if (request.metadata) metadata_text = *detail::check_metadata(*request.metadata);

  return impl_->execute(
      std::string(id), request.updated_by,
      [&](const std::optional<Session>& current, const Txn&) -> Impl::Decision {
        if (!current) return not_found(id);
        const Session& s = *current;
        if (s.status != Status::active) return not_active(s, "update");
        if (request.expected_stream_version && *request.expected_stream_version != s.stream_version) {
          return fail(ErrorCode::conflict,
                      fmt::format("session {} is at stream version {}, expected {}", s.id,
                                  s.stream_version, *request.expected_stream_version));
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
        change("title", request.title, s.title, u.title);
        change("description", request.description, s.description, u.description);
        change("content", request.content, s.content, u.content);
        change("repository_path", request.repository_path, s.repository_path, u.repository_path);
        change("repository_url", request.repository_url, s.repository_url, u.repository_url);
        change("working_directory", request.working_directory, s.working_directory,
               u.working_directory);
        if (request.metadata && *request.metadata != s.metadata) {
          u.metadata_json = metadata_text;
          u.changed_fields.emplace_back("metadata");
        }
        if (u.changed_fields.empty()) return std::optional<EventPayload>{};  // no-op
        u.change_summary = request.change_summary;
        if (u.content && impl_->options.auto_version) u.version_number = s.current_version + 1;
        return EventPayload{std::move(u)};
      });
}

Result<Session> SessionManager::pause(std::string_view id, std::string_view reason,
                                      std::string_view by) {
  if (auto c = detail::check_session_id(id); !c) return std::unexpected(c.error());
  if (auto c = detail::check_text("reason", reason, limits::pause_reason); !c) {
    return std::unexpected(c.error());
  }
  return impl_->execute(std::string(id), by,
                        [&](const std::optional<Session>& current, const Txn&) -> Impl::Decision {
                          if (!current) return not_found(id);
                          return EventPayload{SessionPaused{std::string(reason)}};
                        });
}

Result<Session> SessionManager::resume(std::string_view id, std::string_view by) {
  if (auto c = detail::check_session_id(id); !c) return std::unexpected(c.error());
  return impl_->execute(std::string(id), by,
                        [&](const std::optional<Session>& current, const Txn&) -> Impl::Decision {
                          if (!current) return not_found(id);
                          return EventPayload{SessionResumed{}};
                        });
}

Result<Session> SessionManager::archive(std::string_view id, std::string_view by) {
  if (auto c = detail::check_session_id(id); !c) return std::unexpected(c.error());
  return impl_->execute(std::string(id), by,
                        [&](const std::optional<Session>& current, const Txn&) -> Impl::Decision {
                          if (!current) return not_found(id);
                          return EventPayload{SessionArchived{}};
                        });
}

Result<Session> SessionManager::mark_converted(std::string_view id,
                                               const ConvertRequest& request) {
  if (auto c = detail::check_session_id(id); !c) return std::unexpected(c.error());
  if (auto v = detail::validate(request); !v) return std::unexpected(v.error());
  return impl_->execute(std::string(id), request.converted_by,
                        [&](const std::optional<Session>& current, const Txn&) -> Impl::Decision {
                          if (!current) return not_found(id);
                          if (current->status != Status::active) {
                            return not_active(*current, "convert");
                          }
                          return EventPayload{
                              SessionConverted{request.project_id, request.work_item_ids}};
                        });
}

Result<Session> SessionManager::remove(std::string_view id, std::string_view by) {
  if (auto c = detail::check_session_id(id); !c) return std::unexpected(c.error());
  return impl_->execute(std::string(id), by,
                        [&](const std::optional<Session>& current, const Txn&) -> Impl::Decision {
                          if (!current) return not_found(id);
                          return EventPayload{SessionRemoved{}};
                        });
}

Result<Version> SessionManager::create_version(std::string_view id,
                                               std::string_view change_summary,
                                               std::string_view by) {
  if (auto c = detail::check_session_id(id); !c) return std::unexpected(c.error());
  if (auto c = detail::check_text("change_summary", change_summary, limits::change_summary); !c) {
    return std::unexpected(c.error());
  }
  auto session = impl_->execute(
      std::string(id), by,
      [&](const std::optional<Session>& current, const Txn& txn) -> Impl::Decision {
        if (!current) return not_found(id);
        if (current->status != Status::active) return not_active(*current, "create a version of");
        // 0 when the session never had content: the version is the empty document.
        const std::uint64_t content_seq = impl_->latest_content_seq(txn, *current);
        return EventPayload{VersionCreated{current->current_version + 1,
                                           std::string(change_summary), content_seq}};
      });
  if (!session) return std::unexpected(session.error());
  return get_version(id, session->current_version);
}

Result<Session> SessionManager::restore_version(std::string_view id, std::uint32_t number,
                                                std::string_view by) {
  if (auto c = detail::check_session_id(id); !c) return std::unexpected(c.error());
  if (auto c = detail::check_version_number(number); !c) return std::unexpected(c.error());
  return impl_->execute(
      std::string(id), by,
      [&](const std::optional<Session>& current, const Txn& txn) -> Impl::Decision {
        if (!current) return not_found(id);
        if (current->status != Status::active) return not_active(*current, "restore a version of");
        auto version = impl_->version(txn, *current, number);
        if (!version) return std::unexpected(version.error());
        return EventPayload{
            VersionRestored{number, current->current_version + 1, std::move(version->content)}};
      });
}

}  // namespace planning
