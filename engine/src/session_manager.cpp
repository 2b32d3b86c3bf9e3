// SessionManager: open, and the mutating operations as thin wrappers. Each one
// describes itself as a WriteBatch::Operation; Impl::prepare validates it and
// Impl::execute group-commits it (operations.cpp, write_path.cpp).
#include <planning/session_manager.hpp>

#include "engine/src/manager_impl.hpp"
#include "engine/src/validation.hpp"

namespace planning {

using Kind = WriteBatch::Kind;
using Operation = WriteBatch::Operation;

SessionManager::SessionManager(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
SessionManager::~SessionManager() = default;

Result<std::unique_ptr<SessionManager>> SessionManager::open(Options options) {
  auto impl = Impl::open(std::move(options));
  if (!impl) return std::unexpected(impl.error());
  return std::unique_ptr<SessionManager>(new SessionManager(std::move(*impl)));
}

Signals& SessionManager::signals() noexcept { return *impl_->signals; }
const Options& SessionManager::options() const noexcept { return impl_->options; }

namespace {

Result<Session> run(SessionManager::Impl& impl, Operation operation) {
  auto op = impl.prepare(std::move(operation));
  if (!op) return std::unexpected(op.error());
  return impl.execute(std::move(*op));
}

}  // namespace

Result<Session> SessionManager::create(const CreateRequest& request) {
  // Before the request is copied into an Operation (copies recurse per level).
  if (auto d = detail::check_metadata_depth(request.metadata); !d)
    return std::unexpected(d.error());
  return run(*impl_, Operation{.kind = Kind::create, .create = request});
}

Result<Session> SessionManager::update(std::string_view id, const UpdateRequest& request) {
  if (request.metadata) {
    if (auto d = detail::check_metadata_depth(*request.metadata); !d) {
      return std::unexpected(d.error());
    }
  }
  return run(*impl_,
             Operation{.kind = Kind::update, .session_id = std::string(id), .update = request});
}

Result<Session> SessionManager::pause(std::string_view id, std::string_view reason,
                                      std::string_view by) {
  return run(*impl_, Operation{.kind = Kind::pause, .session_id = std::string(id),
                               .text = std::string(reason), .by = std::string(by)});
}

Result<Session> SessionManager::resume(std::string_view id, std::string_view by) {
  return run(*impl_,
             Operation{.kind = Kind::resume, .session_id = std::string(id), .by = std::string(by)});
}

Result<Session> SessionManager::archive(std::string_view id, std::string_view by) {
  return run(*impl_, Operation{.kind = Kind::archive, .session_id = std::string(id),
                               .by = std::string(by)});
}

Result<Session> SessionManager::mark_converted(std::string_view id,
                                               const ConvertRequest& request) {
  return run(*impl_, Operation{.kind = Kind::mark_converted, .session_id = std::string(id),
                               .convert = request});
}

Result<Session> SessionManager::remove(std::string_view id, std::string_view by) {
  return run(*impl_,
             Operation{.kind = Kind::remove, .session_id = std::string(id), .by = std::string(by)});
}

Result<Version> SessionManager::create_version(std::string_view id,
                                               std::string_view change_summary,
                                               std::string_view by) {
  auto session = run(*impl_, Operation{.kind = Kind::create_version, .session_id = std::string(id),
                                       .text = std::string(change_summary), .by = std::string(by)});
  if (!session) return std::unexpected(session.error());
  return get_version(id, session->current_version);
}

Result<Session> SessionManager::restore_version(std::string_view id, std::uint32_t number,
                                                std::string_view by) {
  return run(*impl_, Operation{.kind = Kind::restore_version, .session_id = std::string(id),
                               .by = std::string(by), .version_number = number});
}

Result<std::vector<Result<Session>>> SessionManager::apply_batch(const WriteBatch& batch) {
  // Validation failures are per-operation results; the rest commit together.
  std::vector<Impl::WriteOp> ops;
  std::vector<std::optional<Error>> rejected(batch.size());
  for (std::size_t i = 0; i < batch.size(); ++i) {
    // Metadata depth first: prepare() takes a copy, and copies recurse per level.
    const auto& operation = batch.operations()[i];
    auto depth = detail::check_metadata_depth(operation.create.metadata);
    if (depth && operation.update.metadata) {
      depth = detail::check_metadata_depth(*operation.update.metadata);
    }
    if (!depth) {
      rejected[i] = depth.error();
      continue;
    }
    auto op = impl_->prepare(operation);
    if (op) {
      ops.push_back(std::move(*op));
    } else {
      rejected[i] = op.error();
    }
  }
  auto committed = impl_->execute_batch(std::move(ops));
  if (!committed) return std::unexpected(committed.error());
  std::vector<Result<Session>> results;
  results.reserve(batch.size());
  std::size_t next = 0;
  for (std::size_t i = 0; i < batch.size(); ++i) {
    if (rejected[i]) {
      results.push_back(std::unexpected(*rejected[i]));
    } else {
      results.push_back(std::move((*committed)[next++]));
    }
  }
  return results;
}

}  // namespace planning
