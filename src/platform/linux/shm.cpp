#include "platform/linux/shm.hpp"

#include <fcntl.h>
#include <linux/futex.h>
#include <poll.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <string>
#include <vector>

namespace trident::platform {

namespace {

// shm_open(3) prepends the slash itself; names reaching here have none.
std::string shm_path(const char* name) { return std::string("/") + name; }

}  // namespace

int shm_create(const char* name, std::size_t size) noexcept {
  int fd = shm_open(shm_path(name).c_str(), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) return -errno;
  if (ftruncate(fd, static_cast<off_t>(size)) != 0) {
    int e = errno;
    shm_unlink(shm_path(name).c_str());
    close(fd);
    return -e;
  }
  return fd;
}

int shm_attach(const char* name) noexcept {
  int fd = shm_open(shm_path(name).c_str(), O_RDWR | O_CLOEXEC, 0600);
  return fd < 0 ? -errno : fd;
}

int shm_remove(const char* name) noexcept { return shm_unlink(shm_path(name).c_str()) == 0 ? 0 : -errno; }

long long fd_size(int fd) noexcept {
  struct stat st {};
  if (fstat(fd, &st) != 0) return -errno;
  return static_cast<long long>(st.st_size);
}

int map_shared(int fd, std::size_t size, void** out) noexcept {
  void* p = mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  if (p == MAP_FAILED) return -errno;
  *out = p;
  return 0;
}

int unmap(void* addr, std::size_t size) noexcept { return munmap(addr, size) == 0 ? 0 : -errno; }

int random_fill(void* buf, std::size_t n) noexcept {
  auto* p = static_cast<unsigned char*>(buf);
  while (n > 0) {
    ssize_t r = getrandom(p, n, 0);
    if (r < 0) {
      if (errno == EINTR) continue;
      return -errno;
    }
    p += r;
    n -= static_cast<std::size_t>(r);
  }
  return 0;
}

int shm_getpid() noexcept { return static_cast<int>(getpid()); }

int shm_gettid() noexcept { return static_cast<int>(gettid()); }

bool task_gone(int id) noexcept {
  char path[48];
  std::snprintf(path, sizeof path, "/proc/%d/stat", id);
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return errno == ENOENT || errno == ESRCH;
  char buf[512];
  ssize_t n = read(fd, buf, sizeof buf - 1);
  close(fd);
  if (n <= 0) return true;  // the task went away between open and read
  buf[n] = '\0';
  // "pid (comm) S ...": comm may hold spaces and parentheses, so the state follows the last ')'.
  const char* rp = std::strrchr(buf, ')');
  if (rp == nullptr || rp[1] == '\0' || rp[2] == '\0') return false;
  const char state = rp[2];
  return state == 'Z' || state == 'X';
}

int shm_tracker_send(int fd, const void* data, std::size_t n) noexcept {
  // MSG_NOSIGNAL: a tracker that was killed must not take the program down with SIGPIPE.
  for (;;) {
    ssize_t r = send(fd, data, n, MSG_NOSIGNAL);
    if (r >= 0) return 0;
    if (errno != EINTR) return -errno;
  }
}

namespace {

struct Tracked {
  int pid;
  std::string name;
};
struct Watch {
  int pid;
  int pidfd;  // -1: pidfd_open failed, the process is already gone
};

// The tracker's loop. Runs in a process of its own (forked from a possibly multi-threaded program:
// it starts no thread and touches no state of the program's).
[[noreturn]] void tracker_main(int rfd) {
  std::vector<Tracked> tracked;
  std::vector<Watch> watches;
  std::string line;
  auto forget_pid = [&](int pid) {
    for (auto it = tracked.begin(); it != tracked.end();) {
      if (it->pid == pid) {
        shm_unlink(shm_path(it->name.c_str()).c_str());
        it = tracked.erase(it);
      } else {
        ++it;
      }
    }
  };
  auto handle_line = [&](const std::string& l) {
    if (l.size() > 2 && l[0] == 'R' && l[1] == ' ') {
      const auto sp = l.find(' ', 2);
      if (sp == std::string::npos) return;
      const int pid = std::atoi(l.substr(2, sp - 2).c_str());
      tracked.push_back({pid, l.substr(sp + 1)});
      bool watched = false;
      for (const auto& w : watches) watched = watched || w.pid == pid;
      if (!watched) watches.push_back({pid, static_cast<int>(syscall(SYS_pidfd_open, pid, 0))});
    } else if (l.size() > 2 && l[0] == 'U' && l[1] == ' ') {
      const std::string name = l.substr(2);
      for (auto it = tracked.begin(); it != tracked.end(); ++it) {
        if (it->name == name) {
          tracked.erase(it);
          break;
        }
      }
    }
  };
  std::vector<pollfd> fds;
  for (;;) {
    // Processes already gone (or whose pidfd reported exit) release their names.
    for (auto it = watches.begin(); it != watches.end();) {
      bool gone = it->pidfd < 0;
      if (!gone) {
        pollfd p{it->pidfd, POLLIN, 0};
        gone = poll(&p, 1, 0) > 0;
      }
      if (gone) {
        forget_pid(it->pid);
        if (it->pidfd >= 0) close(it->pidfd);
        it = watches.erase(it);
      } else {
        ++it;
      }
    }
    fds.assign(1, pollfd{rfd, POLLIN, 0});
    for (const auto& w : watches) fds.push_back(pollfd{w.pidfd, POLLIN, 0});
    if (poll(fds.data(), fds.size(), -1) < 0 && errno != EINTR) break;
    if (fds[0].revents != 0) {
      char buf[4096];
      ssize_t n = read(rfd, buf, sizeof buf);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) break;  // every process that could register is gone
      line.append(buf, static_cast<std::size_t>(n));
      std::size_t start = 0;
      for (std::size_t nl; (nl = line.find('\n', start)) != std::string::npos; start = nl + 1) {
        handle_line(line.substr(start, nl - start));
      }
      line.erase(0, start);
    }
  }
  for (const auto& t : tracked) shm_unlink(shm_path(t.name.c_str()).c_str());
  _exit(0);
}

}  // namespace

int start_segment_tracker() noexcept {
  // A SOCK_SEQPACKET pair: each message arrives whole even with many writers, and the tracker
  // reads end-of-stream once every writer is gone, as with a pipe.
  int p[2];
  if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, p) != 0) return -errno;
  pid_t child = fork();
  if (child < 0) {
    int e = errno;
    close(p[0]);
    close(p[1]);
    return -e;
  }
  if (child == 0) {
    // Fork again and let the middle process exit at once: the tracker is then nobody's child
    // (reparented to init or a subreaper), so no test or program sees an extra child to reap.
    if (fork() != 0) _exit(0);
    signal(SIGINT, SIG_IGN);   // as CPython's resource tracker: a Ctrl-C meant for the program
    signal(SIGTERM, SIG_IGN);  // must not stop the cleanup of what the program leaves behind
    close(p[1]);               // first: it may be fd 3, where the reading end goes
    int rfd = p[0];
    if (rfd != 3) {
      dup2(rfd, 3);
      rfd = 3;
    }
    // Hold no other fd of the program: an inherited pipe end would keep someone's EOF away.
    int devnull = open("/dev/null", O_RDWR);
    if (devnull >= 0) {
      dup2(devnull, 0);
      dup2(devnull, 1);
      dup2(devnull, 2);
    }
    syscall(SYS_close_range, 4U, ~0U, 0U);
    tracker_main(rfd);
  }
  close(p[0]);
  int status;
  while (waitpid(child, &status, 0) < 0 && errno == EINTR) {
  }
  return p[1];
}

}  // namespace trident::platform
