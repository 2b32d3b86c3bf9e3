// Helpers shared by the reliability suites (tests/reliability/*): child
// processes that talk to the parent through pipes, a seeded RNG, a content
// fingerprint, store copies and a deterministic store touching every event
// type. Direct LMDB access comes from support/raw_lmdb.hpp; whole-store
// captures and assertions from support/test_helpers.hpp.
//
// Rules the helpers enforce (LMDB's): a child opens its OWN
// SessionManager after fork(); the parent never holds a store open across
// fork(); a child never returns into Catch2 — it ends with _exit().
#pragma once

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <optional>
#include <random>
#include <set>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include <catch2/catch.hpp>

#include <planning/planning.hpp>

#include "support/temp_store.hpp"
#include "support/test_helpers.hpp"

namespace planning::reliability {

// --- Seeds ----------------------------------------------------------------------

// The seed of a randomized test: $<env_var> when set (to reproduce a run),
// else `fallback`. Printed by the caller.
inline std::uint64_t seed_from_env(const char* env_var, std::uint64_t fallback) {
  if (const char* text = std::getenv(env_var); text != nullptr && *text != '\0') {
    return std::strtoull(text, nullptr, 0);
  }
  return fallback;
}

// A count from the environment (e.g. the number of kill cycles), else `fallback`.
inline std::uint64_t count_from_env(const char* env_var, std::uint64_t fallback) {
  if (const char* text = std::getenv(env_var); text != nullptr && *text != '\0') {
    return std::strtoull(text, nullptr, 0);
  }
  return fallback;
}

// SplitMix64: derives independent seeds from one base seed.
inline std::uint64_t mix_seed(std::uint64_t x) {
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

// FNV-1a 64: a fingerprint of a document, small enough to send through a pipe.
inline std::uint64_t fingerprint(std::string_view bytes) {
  std::uint64_t h = 0xcbf29ce484222325ULL;
  for (unsigned char c : bytes) {
    h ^= c;
    h *= 0x100000001b3ULL;
  }
  return h;
}

// --- Child processes ------------------------------------------------------------

// Writes one line (atomic on a pipe while shorter than PIPE_BUF). Used in
// children; a parent that is gone ends the child.
inline void send_line(int fd, std::string line) {
  line.push_back('\n');
  const char* p = line.data();
  std::size_t left = line.size();
  while (left > 0) {
    const ssize_t n = ::write(fd, p, left);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) ::_exit(120);
    p += n;
    left -= static_cast<std::size_t>(n);
  }
}

// A forked child running `body`; its stdout-like pipe is `from_child` (lines),
// and `to_child` lets the parent send commands (or just close it: EOF = stop).
// The destructor kills (SIGKILL) and reaps a child that is still running, so no
// test leaves a process behind even when an assertion fails.
class ChildProcess {
 public:
  // `body(out_fd, in_fd)` runs in the child; its return value is the exit code.
  // REQUIRES: no SessionManager / LMDB environment is open in this process.
  explicit ChildProcess(const std::function<int(int out_fd, int in_fd)>& body) {
    int up[2];
    int down[2];
    REQUIRE(::pipe(up) == 0);
    REQUIRE(::pipe(down) == 0);
    pid_ = ::fork();
    REQUIRE(pid_ >= 0);
    if (pid_ == 0) {
      ::close(up[0]);
      ::close(down[1]);
      // Pipe ends the parent holds for other children: keeping them open here
      // would hide their EOF.
      for (int fd : parent_side_fds()) ::close(fd);
      // Catch2's handlers belong to the test runner, not to this child: a fatal
      // signal here must simply end the child (the parent reports it).
      for (int sig : {SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT, SIGTERM, SIGINT}) {
        ::signal(sig, SIG_DFL);
      }
      ::signal(SIGPIPE, SIG_IGN);
      int code = 125;
      try {
        code = body(up[1], down[0]);
      } catch (...) {
        code = 126;
      }
      ::_exit(code);
    }
    ::close(up[1]);
    ::close(down[0]);
    from_child_ = up[0];
    to_child_ = down[1];
    parent_side_fds().insert(from_child_);
    parent_side_fds().insert(to_child_);
  }
  ~ChildProcess() {
    if (pid_ > 0 && !reaped_) {
      ::kill(pid_, SIGKILL);
      int status = 0;
      ::waitpid(pid_, &status, 0);
    }
    close_input();
    if (from_child_ >= 0) {
      parent_side_fds().erase(from_child_);
      ::close(from_child_);
    }
  }
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;

  pid_t pid() const { return pid_; }

  // Next line from the child, waiting at most `timeout` (std::nullopt on
  // timeout or at EOF; eof() tells which).
  std::optional<std::string> read_line(std::chrono::milliseconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    for (;;) {
      if (auto nl = buffer_.find('\n'); nl != std::string::npos) {
        std::string line = buffer_.substr(0, nl);
        buffer_.erase(0, nl + 1);
        return line;
      }
      if (eof_) return std::nullopt;
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
          deadline - std::chrono::steady_clock::now());
      if (left.count() < 0) return std::nullopt;
      pollfd pfd{from_child_, POLLIN, 0};
      const int ready = ::poll(&pfd, 1, static_cast<int>(left.count()));
      if (ready < 0 && errno == EINTR) continue;
      if (ready <= 0) return std::nullopt;
      char chunk[4096];
      const ssize_t n = ::read(from_child_, chunk, sizeof chunk);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) {
        eof_ = true;
        continue;
      }
      buffer_.append(chunk, static_cast<std::size_t>(n));
    }
  }
  bool eof() const { return eof_ && buffer_.find('\n') == std::string::npos; }

  // Every remaining line until the child closes its end (it exits or dies).
  std::vector<std::string> drain() {
    std::vector<std::string> lines;
    while (auto line = read_line(std::chrono::hours(1))) lines.push_back(std::move(*line));
    return lines;
  }

  void send(const std::string& line) {
    std::string l = line + "\n";
    REQUIRE(::write(to_child_, l.data(), l.size()) == static_cast<ssize_t>(l.size()));
  }
  void close_input() {
    if (to_child_ >= 0) {
      parent_side_fds().erase(to_child_);
      ::close(to_child_);
    }
    to_child_ = -1;
  }

  void kill_now() { REQUIRE(::kill(pid_, SIGKILL) == 0); }

  // Reaps the child; returns its wait status.
  int wait() {
    int status = 0;
    REQUIRE(::waitpid(pid_, &status, 0) == pid_);
    reaped_ = true;
    return status;
  }

 private:
  // The parent's ends of every live child's pipes.
  static std::set<int>& parent_side_fds() {
    static std::set<int> fds;
    return fds;
  }

  pid_t pid_ = -1;
  int from_child_ = -1;
  int to_child_ = -1;
  bool reaped_ = false;
  bool eof_ = false;
  std::string buffer_;
};

inline bool killed_by_sigkill(int status) {
  return WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL;
}
inline bool exited_ok(int status) { return WIFEXITED(status) && WEXITSTATUS(status) == 0; }
inline std::string describe_status(int status) {
  if (WIFEXITED(status)) return "exited with " + std::to_string(WEXITSTATUS(status));
  if (WIFSIGNALED(status)) return "killed by signal " + std::to_string(WTERMSIG(status));
  return "status " + std::to_string(status);
}

// Splits a line at spaces.
inline std::vector<std::string> split_words(std::string_view line) {
  std::vector<std::string> words;
  std::size_t i = 0;
  while (i < line.size()) {
    while (i < line.size() && line[i] == ' ') ++i;
    std::size_t j = i;
    while (j < line.size() && line[j] != ' ') ++j;
    if (j > i) words.emplace_back(line.substr(i, j - i));
    i = j;
  }
  return words;
}

// --- Stores -----------------------------------------------------------------------

// Copies a closed store's data file into `destination` (a new store directory);
// LMDB recreates lock.mdb.
inline void copy_store(const std::filesystem::path& from,
                       const std::filesystem::path& destination) {
  std::filesystem::create_directories(destination);
  std::filesystem::copy_file(from / "data.mdb", destination / "data.mdb",
                             std::filesystem::copy_options::overwrite_existing);
}

inline std::uintmax_t data_file_size(const std::filesystem::path& store) {
  std::error_code ec;
  const auto size = std::filesystem::file_size(store / "data.mdb", ec);
  return ec ? 0 : size;
}

// A deterministic store touching every event type and every index: creates
// with and without content, content and field updates, restores, explicit
// versions, pause/resume, conversions, archives and a removal. Returns the
// ids in creation order.
inline std::vector<std::string> populate_every_kind(SessionManager& m, test::ManualClock& clock,
                                                    int sessions = 12) {
  using namespace std::chrono_literals;
  std::vector<std::string> ids;
  for (int i = 0; i < sessions; ++i) {
    clock.advance(1h);
    CreateRequest r;
    r.title = "Session " + std::to_string(i) + (i % 2 ? " alpha" : " beta");
    r.description = "d" + std::to_string(i);
    r.repository_path = "/repo/" + std::to_string(i % 3);
    r.repository_url = "https://git/" + std::to_string(i % 4);
    r.working_directory = "/wd";
    r.created_by = "user" + std::to_string(i % 2);
    r.metadata = {{"i", i}};
    if (i % 5 != 0) r.initial_content = "# doc " + std::to_string(i) + "\nline";
    auto s = m.create(r);
    REQUIRE(s.has_value());
    ids.push_back(s->id);
  }
  for (int i = 0; i < sessions; ++i) {
    clock.advance(1min);
    const auto& id = ids[static_cast<std::size_t>(i)];
    UpdateRequest u;
    u.content = "# doc " + std::to_string(i) + "\nline\nmore";
    u.change_summary = "more";
    u.title = "Session " + std::to_string(i) + " renamed";
    REQUIRE(m.update(id, u).has_value());
    if (i % 4 == 1) REQUIRE(m.restore_version(id, 1).has_value());
    if (i % 4 == 2) REQUIRE(m.create_version(id, "snap").has_value());
    switch (i % 6) {
      case 1:
        REQUIRE(m.pause(id, "wait").has_value());
        break;
      case 2: {
        ConvertRequest c;
        c.project_id = "proj-" + std::to_string(i % 2);
        c.work_item_ids = {"w" + std::to_string(i), "x" + std::to_string(i)};
        REQUIRE(m.mark_converted(id, c).has_value());
        break;
      }
      case 3:
        REQUIRE(m.archive(id).has_value());
        break;
      case 4:
        REQUIRE(m.remove(id).has_value());
        break;
      case 5:
        REQUIRE(m.pause(id).has_value());
        REQUIRE(m.resume(id).has_value());
        break;
      default:
        break;
    }
  }
  return ids;
}

}  // namespace planning::reliability
