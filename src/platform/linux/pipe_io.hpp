// platform/linux/pipe_io.hpp — pipes, reads and writes for subprocess.
// The pipes stay blocking, as CPython's do: O_NONBLOCK lives in the open file description, which a
// child handed the fd shares, and a child that does not expect it fails with EAGAIN. Callers poll
// first, then use read_nowait/write_nowait (non-blocking for that one call), or where the kernel
// cannot, read once or write at most what POLLOUT promises (PIPE_BUF).
// Like everything under platform/, these never throw: they return a count, 0, or -errno.
#pragma once

#include <cstddef>

namespace trident::platform {

/// pipe2(O_CLOEXEC): fds[0] is the read end, fds[1] the write end. 0 or -errno.
int make_pipe(int fds[2]) noexcept;
/// F_SETPIPE_SZ; returns the new capacity or -errno.
int set_pipe_size(int fd, int size) noexcept;
/// F_GETPIPE_SZ; the capacity or -errno.
int get_pipe_size(int fd) noexcept;
/// open("/dev/null", O_RDWR | O_CLOEXEC): the fd or -errno.
int open_devnull() noexcept;
/// One read()/write(), restarted after EINTR: the count or -errno.
long read_some(int fd, char* buf, std::size_t n) noexcept;
long write_some(int fd, const char* buf, std::size_t n) noexcept;
/// One write that never sleeps, whatever O_NONBLOCK says: pwritev2(RWF_NOWAIT) takes what the pipe
/// has room for now. The count, -EAGAIN when nothing fits, -EOPNOTSUPP where the kernel cannot do
/// this for the fd (older kernels: no RWF_NOWAIT for pipes, or no pwritev2), or another -errno.
long write_nowait(int fd, const char* buf, std::size_t n) noexcept;
/// The same for a read: what the pipe holds now, -EAGAIN when it is empty (0 at end of file).
long read_nowait(int fd, char* buf, std::size_t n) noexcept;
/// FIONREAD: how many bytes a read of the pipe `fd` would get now without blocking, or -errno.
int bytes_readable(int fd) noexcept;
/// close(); EINTR counts as closed (Linux always releases the fd).
void close_fd(int fd) noexcept;
/// madvise(MADV_POPULATE_WRITE) on the whole pages inside [p, p + n): faults them in with one
/// system call instead of one trap per page (best effort; the memory must be writable and ours).
void prefault(void* p, std::size_t n) noexcept;
/// The soft RLIMIT_NOFILE (an upper bound for fd numbers), at least 1024.
int fd_limit() noexcept;
/// An eventfd (EFD_CLOEXEC | EFD_NONBLOCK), or -errno; signal_eventfd adds 1, drain_eventfd resets.
int make_eventfd() noexcept;
void signal_eventfd(int fd) noexcept;
void drain_eventfd(int fd) noexcept;

/// Keeps a write to a pipe whose reader is gone from killing the process with SIGPIPE (Python
/// ignores SIGPIPE process-wide; a library must not): blocks SIGPIPE in the calling thread for its
/// lifetime, and on destruction discards a SIGPIPE that its writes raised (the write itself reports
/// EPIPE) before restoring the thread's mask.
class SigpipeGuard {
 public:
  SigpipeGuard() noexcept;
  ~SigpipeGuard();
  SigpipeGuard(const SigpipeGuard&) = delete;
  SigpipeGuard& operator=(const SigpipeGuard&) = delete;
  /// Call when a write returned -EPIPE: a SIGPIPE is pending for this thread.
  void got_epipe() noexcept { epipe_ = true; }

 private:
  bool was_blocked_ = false;
  bool was_pending_ = false;
  bool epipe_ = false;
};

}  // namespace trident::platform
