#include "platform/linux/conn_io.hpp"

#include <sys/socket.h>
#include <sys/stat.h>

#include <cerrno>

namespace trident::platform {

int make_socketpair(int fds[2]) noexcept {
  return socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) < 0 ? -errno : 0;
}

long write_iov(int fd, const iovec* iov, int count, bool is_socket) noexcept {
  for (;;) {
    long n;
    if (is_socket) {
      msghdr msg{};
      msg.msg_iov = const_cast<iovec*>(iov);
      msg.msg_iovlen = static_cast<std::size_t>(count);
      n = sendmsg(fd, &msg, MSG_NOSIGNAL);
    } else {
      n = writev(fd, iov, count);
    }
    if (n >= 0) return n;
    if (errno != EINTR) return -errno;
  }
}

void shutdown_socket(int fd) noexcept { (void)shutdown(fd, SHUT_RDWR); }

bool is_socket(int fd) noexcept {
  struct stat st;
  return fstat(fd, &st) == 0 && S_ISSOCK(st.st_mode);
}

}  // namespace trident::platform
