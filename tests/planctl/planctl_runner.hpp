// Helpers for the planctl end-to-end tests: run the built binary (its path comes
// from CMake as PLANCTL_PATH) in a child process with given stdin, environment
// and working directory, and capture stdout, stderr and the exit code.
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "support/temp_store.hpp"

namespace planctl::test {

struct RunResult {
  int code = -1;  // exit status, or 128 + signal
  std::string out;
  std::string err;
};

struct RunOptions {
  std::string input{};  // written to stdin, then stdin is closed
  // Environment changes: a value sets the variable, nullopt removes it.
  // PLANCTL_DB and PLANCTL_SHARED_LOG are removed unless set here, so the caller's shell cannot
  // leak in.
  std::vector<std::pair<std::string, std::optional<std::string>>> env{};
  std::filesystem::path cwd{};  // empty = inherit
  // Where the child's stdout goes instead of the captured pipe (e.g. /dev/full).
  std::filesystem::path stdout_file{};
  bool close_stdin = false;   // start the child with fd 0 closed (`<&-`)
  bool close_stdout = false;  // start the child with fd 1 closed (`>&-`)
  // RLIMIT_FSIZE of the child in bytes (0 = unchanged), SIGXFSZ ignored: writes
  // past it fail with EFBIG, like a full file system.
  std::uint64_t file_size_limit = 0;
};

RunResult run_planctl(const std::vector<std::string>& args, const RunOptions& options = {});

// A planctl running in the background with its stdout on a pipe (log --follow).
class Background {
 public:
  explicit Background(const std::vector<std::string>& args, const RunOptions& options = {});
  ~Background();  // kills the child if still running
  Background(const Background&) = delete;
  Background& operator=(const Background&) = delete;

  // Reads stdout until `needle` appears or `timeout` passes; returns all output so far.
  std::string read_until(const std::string& needle, std::chrono::milliseconds timeout);
  // Sends `signal` and returns the exit status (as in RunResult::code).
  int stop(int signal);

 private:
  int pid_ = -1;
  int out_fd_ = -1;
  std::string out_;
};

// A fresh store in a temporary directory; run() passes --db to planctl.
class Store {
 public:
  const std::filesystem::path& dir() const { return dir_.path(); }
  std::filesystem::path path() const { return dir_.path() / "store"; }

  RunResult run(std::vector<std::string> args, const RunOptions& options = {}) const;
  // Runs with --json, requires exit 0 and returns the parsed document.
  nlohmann::json json(std::vector<std::string> args, const RunOptions& options = {}) const;
  // Runs with --json, requires exit 0, and parses every stdout line (JSON Lines).
  std::vector<nlohmann::json> json_lines(std::vector<std::string> args) const;
  // Creates a session and returns its id.
  std::string create(const std::string& title, std::vector<std::string> extra = {}) const;

 private:
  planning::test::TempDir dir_;
};

// Writes `text` to `path` (truncating).
void write_file(const std::filesystem::path& path, const std::string& text);
std::string read_file(const std::filesystem::path& path);

}  // namespace planctl::test
