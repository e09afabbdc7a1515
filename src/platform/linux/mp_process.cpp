#include "platform/linux/mp_process.hpp"

#include <dlfcn.h>
#include <elf.h>
#include <fcntl.h>
#include <link.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace trident::platform {

int pidfd_open_pid(int pid) noexcept {
  const long r = syscall(SYS_pidfd_open, pid, 0);
  return r < 0 ? -errno : static_cast<int>(r);
}

int set_parent_death_signal(int sig) noexcept { return prctl(PR_SET_PDEATHSIG, sig) < 0 ? -errno : 0; }

bool is_initial_thread() noexcept { return syscall(SYS_gettid) == getpid(); }

int send_with_fds(int sock, const void* data, std::size_t size, const int* fds, std::size_t nfds) noexcept {
  const char* p = static_cast<const char*>(data);
  // The control buffer for the first sendmsg; fds ride with the first byte only.
  alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int) * 64)];
  if (nfds > 64) return -EINVAL;
  bool first = true;
  while (size > 0 || first) {
    iovec iov{const_cast<char*>(p), size};
    msghdr msg{};
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    if (first && nfds > 0) {
      std::memset(control, 0, sizeof control);
      msg.msg_control = control;
      msg.msg_controllen = CMSG_SPACE(sizeof(int) * nfds);
      cmsghdr* c = CMSG_FIRSTHDR(&msg);
      c->cmsg_level = SOL_SOCKET;
      c->cmsg_type = SCM_RIGHTS;
      c->cmsg_len = CMSG_LEN(sizeof(int) * nfds);
      std::memcpy(CMSG_DATA(c), fds, sizeof(int) * nfds);
    }
    const ssize_t n = sendmsg(sock, &msg, MSG_NOSIGNAL);
    if (n < 0) {
      if (errno == EINTR) continue;
      return -errno;
    }
    first = false;
    p += n;
    size -= static_cast<std::size_t>(n);
  }
  return 0;
}

long recv_with_fds(int sock, void* data, std::size_t size, int* fds, std::size_t max_fds, std::size_t& nfds) noexcept {
  char* p = static_cast<char*>(data);
  std::size_t got = 0;
  nfds = 0;
  alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int) * 64)];
  bool bad = false;
  while (got < size) {
    iovec iov{p + got, size - got};
    msghdr msg{};
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control;
    msg.msg_controllen = sizeof control;
    const ssize_t n = recvmsg(sock, &msg, MSG_CMSG_CLOEXEC);
    if (n < 0) {
      if (errno == EINTR) continue;
      return -errno;
    }
    for (cmsghdr* c = CMSG_FIRSTHDR(&msg); c != nullptr; c = CMSG_NXTHDR(&msg, c)) {
      if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS) continue;
      const std::size_t k = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
      const int* in = reinterpret_cast<const int*>(CMSG_DATA(c));
      for (std::size_t i = 0; i < k; ++i) {
        if (nfds < max_fds) {
          fds[nfds++] = in[i];
        } else {
          close(in[i]);
          bad = true;
        }
      }
    }
    if ((msg.msg_flags & MSG_CTRUNC) != 0) bad = true;
    if (n == 0) {
      if (got == 0 && !bad) return 0;
      bad = true;
      break;
    }
    got += static_cast<std::size_t>(n);
  }
  if (bad) {
    for (std::size_t i = 0; i < nfds; ++i) close(fds[i]);
    nfds = 0;
    return -EPROTO;
  }
  return static_cast<long>(got);
}

bool fd_is_open(int fd) noexcept { return fcntl(fd, F_GETFD) >= 0; }

int clear_cloexec(int fd) noexcept {
  const int flags = fcntl(fd, F_GETFD);
  if (flags < 0) return -errno;
  return fcntl(fd, F_SETFD, flags & ~FD_CLOEXEC) < 0 ? -errno : 0;
}

namespace {

struct Lookup {
  // In: the address to locate, or the module to find. Out: the module's bias and name.
  std::uintptr_t address = 0;
  const std::string* module = nullptr;
  std::uintptr_t offset = 0;
  bool found = false;
  bool executable = false;
  std::uintptr_t bias = 0;
  std::string name;
};

bool in_exec_segment(const dl_phdr_info* info, std::uintptr_t address) {
  for (int i = 0; i < info->dlpi_phnum; ++i) {
    const auto& ph = info->dlpi_phdr[i];
    if (ph.p_type != PT_LOAD || (ph.p_flags & PF_X) == 0) continue;
    const std::uintptr_t start = info->dlpi_addr + ph.p_vaddr;
    if (address >= start && address < start + ph.p_memsz) return true;
  }
  return false;
}

int locate(dl_phdr_info* info, std::size_t, void* arg) {
  auto* l = static_cast<Lookup*>(arg);
  const char* name = info->dlpi_name != nullptr ? info->dlpi_name : "";
  if (l->module == nullptr) {
    if (!in_exec_segment(info, l->address)) return 0;
    l->found = true;
    l->bias = info->dlpi_addr;
    l->name = name;
    return 1;
  }
  if (*l->module != name) return 0;
  // The program itself is listed first with an empty name; the vDSO may also have an empty name
  // on some kernels, so the first match wins.
  l->found = true;
  l->bias = info->dlpi_addr;
  l->executable = in_exec_segment(info, info->dlpi_addr + l->offset);
  return 1;
}

}  // namespace

int code_location(std::uintptr_t address, std::string& module, std::uintptr_t& offset) noexcept {
  try {
    Lookup l;
    l.address = address;
    dl_iterate_phdr(&locate, &l);
    if (!l.found) return -ENOENT;
    module = l.name;
    offset = address - l.bias;
    return 0;
  } catch (...) {
    return -ENOMEM;
  }
}

int code_address(const std::string& module, std::uintptr_t offset, std::uintptr_t& address) noexcept {
  Lookup l;
  l.module = &module;
  l.offset = offset;
  dl_iterate_phdr(&locate, &l);
  if (!l.found && !module.empty()) {
    // A library the parent loaded with dlopen: load it here too (it stays loaded).
    if (dlopen(module.c_str(), RTLD_NOW) == nullptr) return -ENOENT;
    dl_iterate_phdr(&locate, &l);
  }
  if (!l.found) return -ENOENT;
  if (!l.executable) return -EFAULT;
  address = l.bias + offset;
  return 0;
}

int block_sigchld_signalfd() noexcept {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGCHLD);
  if (sigprocmask(SIG_BLOCK, &set, nullptr) < 0) return -errno;
  const int fd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
  return fd < 0 ? -errno : fd;
}

void unblock_sigchld() noexcept {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGCHLD);
  sigprocmask(SIG_UNBLOCK, &set, nullptr);
  signal(SIGINT, SIG_DFL);
}

void drain_signalfd(int fd) noexcept {
  signalfd_siginfo info[8];
  while (read(fd, info, sizeof info) > 0) {
  }
}

void ignore_sigint() noexcept { signal(SIGINT, SIG_IGN); }

}  // namespace trident::platform
