#include "platform/linux/process.hpp"

#include <sched.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>

namespace trident::platform {

int fork_process() noexcept {
  pid_t pid = ::fork();
  return pid < 0 ? -errno : static_cast<int>(pid);
}

int wait_pid(int pid, int* status, int options) noexcept {
  for (;;) {
    pid_t r = ::waitpid(pid, status, options);
    if (r >= 0) return static_cast<int>(r);
    if (errno != EINTR) return -errno;
  }
}

int get_pid() noexcept { return static_cast<int>(::getpid()); }
int get_ppid() noexcept { return static_cast<int>(::getppid()); }
void exit_now(int status) noexcept { ::_exit(status); }

int online_cpu_count() noexcept {
  long n = ::sysconf(_SC_NPROCESSORS_ONLN);
  return n > 0 ? static_cast<int>(n) : -EINVAL;
}

int affinity_cpu_count() noexcept {
  cpu_set_t set;
  if (::sched_getaffinity(0, sizeof set, &set) != 0) return -errno;
  int n = CPU_COUNT(&set);
  return n > 0 ? n : -EINVAL;
}

}  // namespace trident::platform
