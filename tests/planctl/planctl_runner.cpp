#include "planctl_runner.hpp"

#include <cerrno>
#include <csignal>
#include <cstring>
#include <fstream>
#include <iterator>
#include <map>
#include <sstream>
#include <stdexcept>

#include <fcntl.h>
#include <poll.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>

extern char** environ;

namespace planctl::test {
namespace {

// argv / envp arrays built before fork (no allocation in the child).
struct ExecArgs {
  std::vector<std::string> argv_storage;
  std::vector<std::string> env_storage;
  std::vector<char*> argv;
  std::vector<char*> envp;

  ExecArgs(const std::vector<std::string>& args, const RunOptions& options) {
    argv_storage.push_back(PLANCTL_PATH);
    argv_storage.insert(argv_storage.end(), args.begin(), args.end());
    // Later changes of a name win.
    std::map<std::string, std::optional<std::string>> changes = {
        {"PLANCTL_DB", std::nullopt}, {"PLANCTL_SHARED_LOG", std::nullopt}};
    for (const auto& [key, value] : options.env) changes[key] = value;
    for (char** e = environ; *e != nullptr; ++e) {
      const std::string entry = *e;
      if (!changes.contains(entry.substr(0, entry.find('=')))) env_storage.push_back(entry);
    }
    for (const auto& [key, value] : changes)
      if (value) env_storage.push_back(key + "=" + *value);
    for (auto& s : argv_storage) argv.push_back(s.data());
    argv.push_back(nullptr);
    for (auto& s : env_storage) envp.push_back(s.data());
    envp.push_back(nullptr);
  }
};

int status_code(int status) {
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return -1;
}

void make_pipe(int fds[2]) {
  if (pipe2(fds, O_CLOEXEC) != 0) throw std::runtime_error("pipe failed");
}

[[noreturn]] void exec_child(ExecArgs& exec, const RunOptions& options, int in_fd, int out_fd,
                             int err_fd) {
  if (in_fd >= 0) dup2(in_fd, STDIN_FILENO);
  dup2(out_fd, STDOUT_FILENO);
  dup2(err_fd, STDERR_FILENO);
  if (!options.stdout_file.empty()) {
    const int fd =
        open(options.stdout_file.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0) _exit(125);
    dup2(fd, STDOUT_FILENO);
  }
  if (options.close_stdin) close(STDIN_FILENO);
  if (options.close_stdout) close(STDOUT_FILENO);
  if (options.file_size_limit != 0) {
    const rlimit limit{options.file_size_limit, options.file_size_limit};
    setrlimit(RLIMIT_FSIZE, &limit);
    signal(SIGXFSZ, SIG_IGN);  // stays ignored across exec
  }
  if (!options.cwd.empty() && chdir(options.cwd.c_str()) != 0) _exit(126);
  execve(exec.argv[0], exec.argv.data(), exec.envp.data());
  _exit(127);
}

}  // namespace

RunResult run_planctl(const std::vector<std::string>& args, const RunOptions& options) {
  ExecArgs exec(args, options);
  int in[2], out[2], err[2];
  make_pipe(in);
  make_pipe(out);
  make_pipe(err);
  const pid_t pid = fork();
  if (pid < 0) throw std::runtime_error("fork failed");
  if (pid == 0) exec_child(exec, options, in[0], out[1], err[1]);
  close(in[0]);
  close(out[1]);
  close(err[1]);
  // Never die of SIGPIPE if the child exits without reading its stdin.
  std::signal(SIGPIPE, SIG_IGN);
  fcntl(in[1], F_SETFL, O_NONBLOCK);

  RunResult result;
  std::size_t written = 0;
  int in_fd = in[1];
  if (options.input.empty()) {
    close(in_fd);
    in_fd = -1;
  }
  int out_fd = out[0], err_fd = err[0];
  char buffer[65536];
  while (out_fd >= 0 || err_fd >= 0) {
    pollfd fds[3];
    int n = 0;
    if (out_fd >= 0) fds[n++] = {out_fd, POLLIN, 0};
    if (err_fd >= 0) fds[n++] = {err_fd, POLLIN, 0};
    if (in_fd >= 0) fds[n++] = {in_fd, POLLOUT, 0};
    const int ready = poll(fds, static_cast<nfds_t>(n), 60000);
    if (ready < 0 && errno == EINTR) continue;
    if (ready <= 0) {
      kill(pid, SIGKILL);
      FAIL("planctl did not finish within 60 s");
    }
    for (int i = 0; i < n; ++i) {
      if (fds[i].revents == 0) continue;
      if (fds[i].fd == in_fd) {
        const auto w = write(in_fd, options.input.data() + written, options.input.size() - written);
        if (w > 0) written += static_cast<std::size_t>(w);
        if (w < 0 && errno != EAGAIN) written = options.input.size();
        if (written == options.input.size()) {
          close(in_fd);
          in_fd = -1;
        }
        continue;
      }
      const auto r = read(fds[i].fd, buffer, sizeof buffer);
      if (r > 0) {
        (fds[i].fd == out_fd ? result.out : result.err).append(buffer, static_cast<std::size_t>(r));
      } else if (r == 0 || errno != EINTR) {
        close(fds[i].fd);
        (fds[i].fd == out_fd ? out_fd : err_fd) = -1;
      }
    }
  }
  if (in_fd >= 0) close(in_fd);
  int status = 0;
  waitpid(pid, &status, 0);
  result.code = status_code(status);
  return result;
}

Background::Background(const std::vector<std::string>& args, const RunOptions& options) {
  ExecArgs exec(args, options);
  int out[2];
  make_pipe(out);
  const int null_fd = open("/dev/null", O_RDWR | O_CLOEXEC);
  const pid_t pid = fork();
  if (pid < 0) throw std::runtime_error("fork failed");
  if (pid == 0) exec_child(exec, options, null_fd, out[1], null_fd);
  close(null_fd);
  close(out[1]);
  pid_ = pid;
  out_fd_ = out[0];
}

Background::~Background() {
  if (pid_ > 0) stop(SIGKILL);
  if (out_fd_ >= 0) close(out_fd_);
}

std::string Background::read_until(const std::string& needle, std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  char buffer[4096];
  while (out_.find(needle) == std::string::npos && out_fd_ >= 0) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) break;
    pollfd fd{out_fd_, POLLIN, 0};
    if (poll(&fd, 1, static_cast<int>(left.count())) <= 0) continue;
    const auto r = read(out_fd_, buffer, sizeof buffer);
    if (r <= 0) {
      close(out_fd_);
      out_fd_ = -1;
      break;
    }
    out_.append(buffer, static_cast<std::size_t>(r));
  }
  return out_;
}

int Background::stop(int signal) {
  if (pid_ <= 0) return -1;
  kill(pid_, signal);
  int status = 0;
  waitpid(pid_, &status, 0);
  pid_ = -1;
  return status_code(status);
}

RunResult Store::run(std::vector<std::string> args, const RunOptions& options) const {
  args.insert(args.begin(), {"--db", path().string()});
  return run_planctl(args, options);
}

nlohmann::json Store::json(std::vector<std::string> args, const RunOptions& options) const {
  args.insert(args.begin(), "--json");
  const auto result = run(args, options);
  INFO("planctl " <<
       [&] {
         std::string joined;
         for (const auto& a : args) joined += a + " ";
         return joined;
       }()
                  << "\nstderr: " << result.err);
  REQUIRE(result.code == 0);
  auto parsed = nlohmann::json::parse(result.out, nullptr, false);
  INFO("stdout: " << result.out);
  REQUIRE_FALSE(parsed.is_discarded());
  return parsed;
}

std::vector<nlohmann::json> Store::json_lines(std::vector<std::string> args) const {
  args.insert(args.begin(), "--json");
  const auto result = run(args);
  INFO("stderr: " << result.err);
  REQUIRE(result.code == 0);
  std::vector<nlohmann::json> lines;
  std::istringstream in(result.out);
  for (std::string line; std::getline(in, line);) {
    auto parsed = nlohmann::json::parse(line, nullptr, false);
    INFO("line: " << line);
    REQUIRE_FALSE(parsed.is_discarded());
    lines.push_back(std::move(parsed));
  }
  return lines;
}

std::string Store::create(const std::string& title, std::vector<std::string> extra) const {
  std::vector<std::string> args = {"create", "--title", title};
  args.insert(args.end(), extra.begin(), extra.end());
  const auto session = json(args);
  REQUIRE(session.at("id").is_string());
  return session.at("id").get<std::string>();
}

void write_file(const std::filesystem::path& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << text;
  REQUIRE(out.good());
}

std::string read_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  REQUIRE(in.good());
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

}  // namespace planctl::test
