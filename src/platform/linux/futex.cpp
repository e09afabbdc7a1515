#include "platform/linux/futex.hpp"

#include <fcntl.h>
#include <linux/futex.h>
#include <sched.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <ctime>

namespace trident::platform {

namespace {

// FUTEX_WAIT_BITSET takes an absolute CLOCK_MONOTONIC deadline (steady_clock on Linux), so a wait
// interrupted and restarted never stretches its timeout.
int wait_bitset(std::atomic<std::uint32_t>* word, std::uint32_t expected,
                std::chrono::steady_clock::time_point deadline, int op) noexcept {
  timespec ts{};
  timespec* tsp = nullptr;
  if (deadline != std::chrono::steady_clock::time_point::max()) {
    auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(deadline.time_since_epoch()).count();
    if (ns < 0) ns = 0;
    ts.tv_sec = static_cast<time_t>(ns / 1'000'000'000);
    ts.tv_nsec = static_cast<long>(ns % 1'000'000'000);
    tsp = &ts;
  }
  long r =
      syscall(SYS_futex, reinterpret_cast<std::uint32_t*>(word), op, expected, tsp, nullptr, FUTEX_BITSET_MATCH_ANY);
  return r == 0 ? 0 : -errno;
}

int wake(std::atomic<std::uint32_t>* word, int n, int op) noexcept {
  long r = syscall(SYS_futex, reinterpret_cast<std::uint32_t*>(word), op, n, nullptr, nullptr, 0);
  return r >= 0 ? static_cast<int>(r) : -errno;
}

}  // namespace

int futex_wait(std::atomic<std::uint32_t>* word, std::uint32_t expected,
               std::chrono::steady_clock::time_point deadline) noexcept {
  return wait_bitset(word, expected, deadline, FUTEX_WAIT_BITSET_PRIVATE);
}

int futex_wake(std::atomic<std::uint32_t>* word, int n) noexcept { return wake(word, n, FUTEX_WAKE_PRIVATE); }

int futex_wait_shared(std::atomic<std::uint32_t>* word, std::uint32_t expected,
                      std::chrono::steady_clock::time_point deadline) noexcept {
  return wait_bitset(word, expected, deadline, FUTEX_WAIT_BITSET);
}

int futex_wake_shared(std::atomic<std::uint32_t>* word, int n) noexcept { return wake(word, n, FUTEX_WAKE); }

int cpu_count() noexcept {
  cpu_set_t set;
  if (sched_getaffinity(0, sizeof set, &set) == 0) {
    int n = CPU_COUNT(&set);
    if (n > 0) return n;
  }
  long n = sysconf(_SC_NPROCESSORS_ONLN);
  return n > 0 ? static_cast<int>(n) : 1;
}

int runnable_threads() noexcept {
  // "0.52 0.58 0.59 3/467 12345": the field after the third space is running/total.
  int fd = ::open("/proc/loadavg", O_RDONLY | O_CLOEXEC);
  if (fd < 0) return 0;
  char buf[128];
  ssize_t n = ::read(fd, buf, sizeof buf - 1);
  ::close(fd);
  if (n <= 0) return 0;
  buf[n] = '\0';
  const char* p = buf;
  for (int field = 0; field < 3; ++field) {
    p = std::strchr(p, ' ');
    if (p == nullptr) return 0;
    ++p;
  }
  int running = 0;
  for (; *p >= '0' && *p <= '9'; ++p) running = running * 10 + (*p - '0');
  return running;
}

}  // namespace trident::platform
