// platform/linux/conn_io.hpp — the socket pair and gathered writes behind multiprocessing's Pipe.
// Like everything under platform/, these never throw: they return a count, 0, or -errno.
#pragma once

#include <sys/uio.h>

namespace trident::platform {

/// socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC): two connected ends. 0 or -errno.
int make_socketpair(int fds[2]) noexcept;
/// One gathered write of `iov[0, count)`, restarted after EINTR: the count written or -errno. On a
/// socket (`is_socket`) it is sendmsg(MSG_NOSIGNAL), so a gone reader gives -EPIPE and no SIGPIPE;
/// on a pipe it is writev and the caller holds a SigpipeGuard.
long write_iov(int fd, const iovec* iov, int count, bool is_socket) noexcept;
/// shutdown(SHUT_RDWR): wakes every thread blocked on the socket (they see end of stream).
void shutdown_socket(int fd) noexcept;
/// Whether `fd` is a socket (fstat).
bool is_socket(int fd) noexcept;

}  // namespace trident::platform
