// trident::os: fork and its at-fork handlers, process identity, waitpid and CPU counts.
//
// trident's own state is reset in a forked child by pthread_atfork handlers next to that state
// (src/threading/thread.cpp, src/futures/thread_pool.cpp, src/subprocess/fd_wait.cpp): glibc runs
// them inside fork() itself, before fork() returns here, so the after_in_child handlers below
// already see a sane threading module.
#include "trident/os.hpp"

#include <sys/wait.h>

#include <cstdio>
#include <exception>
#include <mutex>
#include <new>
#include <string>
#include <vector>

#include "platform/linux/process.hpp"
#include "trident/detail/wait.hpp"
#include "trident/errors.hpp"

namespace trident::os {

namespace {

struct Handlers {
  trident::detail::Mutex mutex;
  std::vector<AtForkOptions> list;  // in registration order; guarded by mutex
};

Handlers& handlers() {
  // Never destroyed: a fork from a thread running during static destruction may still read it.
  static Handlers* const h = new Handlers;
  return *h;
}

// Another thread may have been registering at the fork: the child has only the forking thread.
// handlers() is built here, at load time, so no thread is ever inside its initialization at a fork.
[[maybe_unused]] const bool g_reinit =
    ((void)handlers(), pthread_atfork(nullptr, nullptr, [] { new (&handlers().mutex) trident::detail::Mutex; }), true);

void report_ignored(const char* which) noexcept {
  try {
    throw;
  } catch (const Exception& e) {
    std::fprintf(stderr, "Exception ignored in fork handler (%s): %s: %s\n", which, e.type_name(), e.what());
  } catch (const std::exception& e) {
    std::fprintf(stderr, "Exception ignored in fork handler (%s): %s\n", which, e.what());
  } catch (...) {
    std::fprintf(stderr, "Exception ignored in fork handler (%s): unknown exception\n", which);
  }
}

void run(const std::function<void()>& f, const char* which) noexcept {
  if (!f) return;
  try {
    f();
  } catch (...) {
    report_ignored(which);
  }
}

}  // namespace

int fork() {
  // A snapshot, so no lock is held across fork() and a handler may register another.
  std::vector<AtForkOptions> hs;
  {
    std::lock_guard g(handlers().mutex);
    hs = handlers().list;
  }
  for (auto it = hs.rbegin(); it != hs.rend(); ++it) run(it->before, "before");
  const int pid = platform::fork_process();
  if (pid < 0) {
    for (const auto& h : hs) run(h.after_in_parent, "after_in_parent");
    raise_os_error(-pid, "os::fork(): fork()");
  }
  if (pid == 0) {
    for (const auto& h : hs) run(h.after_in_child, "after_in_child");
  } else {
    for (const auto& h : hs) run(h.after_in_parent, "after_in_parent");
  }
  return pid;
}

int getpid() noexcept { return platform::get_pid(); }

int getppid() noexcept { return platform::get_ppid(); }

void _exit(int status) noexcept { platform::exit_now(status); }

std::pair<int, int> waitpid(int pid, int options) {
  int status = 0;
  const int r = platform::wait_pid(pid, &status, options);
  if (r < 0) raise_os_error(-r, "os::waitpid(" + std::to_string(pid) + ")");
  return {r, r == 0 ? 0 : status};
}

int waitstatus_to_exitcode(int status) {
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return -WTERMSIG(status);
  throw ValueError("os::waitstatus_to_exitcode(): invalid wait status: " + std::to_string(status));
}

std::optional<int> cpu_count() noexcept {
  const int n = platform::online_cpu_count();
  return n > 0 ? std::optional<int>(n) : std::nullopt;
}

std::optional<int> process_cpu_count() noexcept {
  const int n = platform::affinity_cpu_count();
  return n > 0 ? std::optional<int>(n) : cpu_count();
}

void register_at_fork(AtForkOptions h) {
  if (!h.before && !h.after_in_parent && !h.after_in_child) {
    throw ValueError("os::register_at_fork(): at least one of before, after_in_parent, after_in_child is required");
  }
  std::lock_guard g(handlers().mutex);
  handlers().list.push_back(std::move(h));
}

}  // namespace trident::os
