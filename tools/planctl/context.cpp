#include "context.hpp"

#include <cstdlib>
#include <system_error>

#include <fmt/format.h>
#include <unistd.h>

namespace planctl {

Exit exit_for(planning::ErrorCode code) noexcept {
  using planning::ErrorCode;
  switch (code) {
    case ErrorCode::not_found:
      return Exit::not_found;
    case ErrorCode::invalid_argument:
      return Exit::invalid_argument;
    case ErrorCode::invalid_transition:
    case ErrorCode::invalid_state:
      return Exit::invalid_state;
    case ErrorCode::conflict:
      return Exit::conflict;
    case ErrorCode::corruption:
      return Exit::corruption;
    case ErrorCode::storage:
      return Exit::storage;
  }
  return Exit::storage;
}

std::string_view exit_name(Exit code) noexcept {
  switch (code) {
    case Exit::ok:
      return "ok";
    case Exit::verify_failed:
      return "verify_failed";
    case Exit::usage:
      return "usage";
    case Exit::not_found:
      return "not_found";
    case Exit::invalid_argument:
      return "invalid_argument";
    case Exit::invalid_state:
      return "invalid_state";
    case Exit::conflict:
      return "conflict";
    case Exit::corruption:
      return "corruption";
    case Exit::storage:
      return "storage";
  }
  return "storage";
}

void fail(Exit code, std::string message) {
  throw Failure{code, std::move(message), std::string(exit_name(code))};
}

void fail(const planning::Error& error, std::string_view context) {
  throw Failure{exit_for(error.code),
                context.empty() ? error.message : fmt::format("{}: {}", context, error.message),
                std::string(planning::to_string(error.code))};
}

std::filesystem::path Context::db_path() const {
  if (db_given && db_option.empty())
    fail(Exit::invalid_argument, "--db: the store path must not be empty");
  if (!db_option.empty()) return db_option;
  if (const char* env = std::getenv("PLANCTL_DB"); env != nullptr && *env != '\0') return env;
  return ".planning";
}

std::string Context::shared_log() const {
  if (!shared_log_option.empty()) return shared_log_option;
  if (const char* env = std::getenv("PLANCTL_SHARED_LOG"); env != nullptr) return env;
  return "";
}

planning::SessionManager& Context::store(Access access) {
  if (manager_) return *manager_;
  const auto path = db_path();
  const std::string shared = embedded_only ? std::string() : shared_log();
  // A node's replica is built from the shared log: any verb may create it.
  if (!shared.empty()) access = Access::write;
  std::error_code ec;
  if (access != Access::write && !std::filesystem::exists(path / "data.mdb", ec))
    fail(Exit::not_found, fmt::format("no planning store at '{}' (a verb that writes, such as "
                                      "create or import, creates it)",
                                      path.string()));
  created_store_ = !std::filesystem::exists(path, ec);
  planning::Options options;
  options.path = path;
  options.create_if_missing = access == Access::write;
  // Read verbs never change a byte of the store (MDB_RDONLY), and check every
  // LMDB page header before LMDB reads a damaged one (docs/RELIABILITY.md).
  options.read_only = access == Access::read;
  if (access == Access::read) options.structure_check = planning::StructureCheck::full;
  // A node's read verbs first apply what other nodes appended (they write the
  // local replica, never the shared log), so they read the shared log's state.
  options.shared_log = shared;
  // Library warnings (e.g. a projection being caught up) are worth an operator's
  // eye; debug and info chatter is not.
  options.logger = [](planning::LogLevel level, std::string_view message) {
    if (level >= planning::LogLevel::warning)
      fmt::print(stderr, "planctl: {}: {}\n", planning::to_string(level), terminal_safe(message));
  };
  manager_ = unwrap(planning::SessionManager::open(std::move(options)),
                    fmt::format("cannot open store '{}'", path.string()));
  return *manager_;
}

void Context::discard_store_created_by_failure() noexcept {
  if (!manager_) return;
  auto head = manager_->head_sequence();
  const bool empty = head && *head == 0;
  manager_.reset();
  if (!created_store_ || !empty) return;
  // Only the files LMDB made, then the directory if nothing else appeared.
  const auto path = db_path();
  std::error_code ec;
  std::filesystem::remove(path / "data.mdb", ec);
  std::filesystem::remove(path / "lock.mdb", ec);
  std::filesystem::remove(path, ec);  // fails harmlessly unless empty
}

const Style& Context::out_style() {
  if (!style_) {
    const char* no_color = std::getenv("NO_COLOR");
    const bool color =
        !json && isatty(STDOUT_FILENO) == 1 && (no_color == nullptr || *no_color == '\0');
    style_ = std::make_unique<Style>(color);
  }
  return *style_;
}

bool Context::stderr_is_terminal() const { return isatty(STDERR_FILENO) == 1; }

}  // namespace planctl
