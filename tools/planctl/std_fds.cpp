#include "std_fds.hpp"

#include <fcntl.h>
#include <unistd.h>

namespace planctl {
namespace {

bool g_closed[3] = {false, false, false};

}  // namespace

void guard_standard_fds() noexcept {
  for (int fd = 0; fd < 3; ++fd) {
    if (::fcntl(fd, F_GETFD) != -1) continue;
    g_closed[fd] = true;
    // open() returns the lowest free descriptor: this one.
    const int opened = ::open("/dev/null", fd == 0 ? O_RDONLY : O_WRONLY);
    if (opened >= 0 && opened != fd) {
      ::dup2(opened, fd);
      ::close(opened);
    }
  }
}

bool stdin_was_closed() noexcept { return g_closed[0]; }
bool stdout_was_closed() noexcept { return g_closed[1]; }

}  // namespace planctl
