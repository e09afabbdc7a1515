#include "platform/linux/pipe_io.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/uio.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>

namespace trident::platform {

int make_pipe(int fds[2]) noexcept { return pipe2(fds, O_CLOEXEC) < 0 ? -errno : 0; }

int set_pipe_size(int fd, int size) noexcept {
  int r = fcntl(fd, F_SETPIPE_SZ, size);
  return r < 0 ? -errno : r;
}

int get_pipe_size(int fd) noexcept {
  int r = fcntl(fd, F_GETPIPE_SZ);
  return r < 0 ? -errno : r;
}

int open_devnull() noexcept {
  int fd;
  do {
    fd = open("/dev/null", O_RDWR | O_CLOEXEC);
  } while (fd < 0 && errno == EINTR);
  return fd < 0 ? -errno : fd;
}

long read_some(int fd, char* buf, std::size_t n) noexcept {
  for (;;) {
    ssize_t r = read(fd, buf, n);
    if (r >= 0) return r;
    if (errno != EINTR) return -errno;
  }
}

long write_some(int fd, const char* buf, std::size_t n) noexcept {
  for (;;) {
    ssize_t r = write(fd, buf, n);
    if (r >= 0) return r;
    if (errno != EINTR) return -errno;
  }
}

int bytes_readable(int fd) noexcept {
  int n = 0;
  return ioctl(fd, FIONREAD, &n) < 0 ? -errno : n;
}

long write_nowait(int fd, const char* buf, std::size_t n) noexcept {
  iovec iov{const_cast<char*>(buf), n};
  for (;;) {
    // Offset -1: the current position, as write() (a pipe has none).
    ssize_t r = pwritev2(fd, &iov, 1, -1, RWF_NOWAIT);
    if (r >= 0) return r;
    if (errno == EINTR) continue;
    // Kernels without pwritev2 or without RWF_NOWAIT (or without it for pipes) say so in one of
    // these ways.
    if (errno == ENOSYS || errno == EINVAL || errno == EOPNOTSUPP) return -EOPNOTSUPP;
    return -errno;
  }
}

long read_nowait(int fd, char* buf, std::size_t n) noexcept {
  iovec iov{buf, n};
  for (;;) {
    ssize_t r = preadv2(fd, &iov, 1, -1, RWF_NOWAIT);
    if (r >= 0) return r;
    if (errno == EINTR) continue;
    if (errno == ENOSYS || errno == EINVAL || errno == EOPNOTSUPP) return -EOPNOTSUPP;
    return -errno;
  }
}

void close_fd(int fd) noexcept {
  if (fd >= 0) close(fd);
}

void prefault(void* p, std::size_t n) noexcept {
  constexpr std::uintptr_t kPage = 4096;
  constexpr std::size_t kWorthIt = 64 * 1024;  // below this the traps cost less than the call
  if (n < kWorthIt) return;
  auto begin = (reinterpret_cast<std::uintptr_t>(p) + kPage - 1) & ~(kPage - 1);
  auto end = (reinterpret_cast<std::uintptr_t>(p) + n) & ~(kPage - 1);
  if (end > begin) madvise(reinterpret_cast<void*>(begin), end - begin, MADV_POPULATE_WRITE);
}

int fd_limit() noexcept {
  rlimit rl{};
  if (getrlimit(RLIMIT_NOFILE, &rl) != 0 || rl.rlim_cur == RLIM_INFINITY || rl.rlim_cur > (1u << 20)) return 1 << 20;
  return rl.rlim_cur < 1024 ? 1024 : static_cast<int>(rl.rlim_cur);
}

int make_eventfd() noexcept {
  int fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  return fd < 0 ? -errno : fd;
}

void signal_eventfd(int fd) noexcept {
  std::uint64_t one = 1;
  [[maybe_unused]] ssize_t r = write(fd, &one, sizeof one);
}

void drain_eventfd(int fd) noexcept {
  std::uint64_t v;
  [[maybe_unused]] ssize_t r = read(fd, &v, sizeof v);
}

SigpipeGuard::SigpipeGuard() noexcept {
  sigset_t set, old;
  sigemptyset(&set);
  sigaddset(&set, SIGPIPE);
  pthread_sigmask(SIG_BLOCK, &set, &old);
  was_blocked_ = sigismember(&old, SIGPIPE) == 1;
  sigset_t pending;
  sigemptyset(&pending);
  sigpending(&pending);
  was_pending_ = sigismember(&pending, SIGPIPE) == 1;
}

SigpipeGuard::~SigpipeGuard() {
  if (epipe_ && !was_pending_) {
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGPIPE);
    timespec zero{0, 0};
    while (sigtimedwait(&set, nullptr, &zero) < 0 && errno == EINTR) {
    }
  }
  if (!was_blocked_) {
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGPIPE);
    pthread_sigmask(SIG_UNBLOCK, &set, nullptr);
  }
}

}  // namespace trident::platform
