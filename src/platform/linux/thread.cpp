#include "platform/linux/thread.hpp"

#include <fcntl.h>
#include <pthread.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

namespace trident::platform {

namespace {
// The kernel's limit for a thread name, without the terminating NUL (TASK_COMM_LEN - 1).
constexpr std::size_t kMaxName = 15;
}  // namespace

int start_thread(void* (*fn)(void*), void* arg, std::size_t stack_size, unsigned long* ident) noexcept {
  pthread_t tid{};
  int r;
  if (stack_size == 0) {
    r = pthread_create(&tid, nullptr, fn, arg);
  } else {
    pthread_attr_t attr;
    r = pthread_attr_init(&attr);
    if (r != 0) return -r;
    r = pthread_attr_setstacksize(&attr, stack_size);
    if (r == 0) r = pthread_create(&tid, &attr, fn, arg);
    pthread_attr_destroy(&attr);
  }
  if (r != 0) return -r;
  *ident = static_cast<unsigned long>(tid);
  return 0;
}

int join_thread(unsigned long ident) noexcept { return -pthread_join(static_cast<pthread_t>(ident), nullptr); }

int detach_thread(unsigned long ident) noexcept { return -pthread_detach(static_cast<pthread_t>(ident)); }

unsigned long current_thread_ident() noexcept { return static_cast<unsigned long>(pthread_self()); }

long current_tid() noexcept { return static_cast<long>(syscall(SYS_gettid)); }

bool is_process_main_thread() noexcept { return current_tid() == static_cast<long>(getpid()); }

int set_current_thread_name(const char* name) noexcept {
  char buf[kMaxName + 1];
  std::strncpy(buf, name, kMaxName);
  buf[kMaxName] = '\0';
  return prctl(PR_SET_NAME, buf, 0, 0, 0) == 0 ? 0 : -errno;
}

int set_thread_name(long tid, const char* name) noexcept {
  char path[64];
  std::snprintf(path, sizeof path, "/proc/self/task/%ld/comm", tid);
  int fd = open(path, O_WRONLY | O_CLOEXEC);
  if (fd < 0) return -errno;
  const std::size_t len = strnlen(name, kMaxName);
  ssize_t w = write(fd, name, len);
  int err = w < 0 ? -errno : 0;
  close(fd);
  return err;
}

}  // namespace trident::platform
