#include "platform/linux/spawn.hpp"

#include <dlfcn.h>
#include <fcntl.h>
#include <linux/close_range.h>
#include <sched.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <ctime>

extern char** environ;

namespace trident::platform {

namespace {

// Everything the child runs is marked so: the sanitizers must not instrument code that runs on a
// borrowed address space with the parent's thread-local state, and the child calls only raw
// system calls (glibc's syscall() is neither intercepted nor signal-unsafe).
#define TRIDENT_CHILD_CODE __attribute__((no_sanitize("address", "thread", "undefined"), noinline))

// The kernel's struct sigaction for rt_sigaction (glibc's differs: a 128-byte sa_mask, and
// glibc's sigaction() is intercepted by ThreadSanitizer, whose tables the child shares).
struct KernelSigaction {
  void* handler;
  unsigned long flags;
  void* restorer;
  unsigned long mask;
};
constexpr int kKernelSigsetSize = sizeof(unsigned long);
constexpr int kMaxSignal = 64;

struct ChildArgs {
  const SpawnRequest* request;
  SpawnResult* result;
  const unsigned long* parent_mask;  // the spawning thread's mask, restored before execve
  char* const* envp;
};

TRIDENT_CHILD_CODE long raw(long n, long a = 0, long b = 0, long c = 0, long d = 0) {
  long r = syscall(n, a, b, c, d);
  return r == -1 ? -errno : r;
}

TRIDENT_CHILD_CODE int child_fail(ChildArgs* args, SpawnStep step, long err) {
  args->result->error = static_cast<int>(-err);
  args->result->step = step;
  syscall(SYS_exit, 127);
  return 127;
}

// Makes `fd` the child's `target` stream. dup2 onto itself keeps FD_CLOEXEC, so then clear it.
TRIDENT_CHILD_CODE long child_install(int fd, int target) {
  if (fd < 0) return 0;
  if (fd == target) return raw(SYS_fcntl, fd, F_SETFD, 0);
  long r = raw(SYS_dup2, fd, target);
  return r < 0 ? r : 0;
}

TRIDENT_CHILD_CODE long child_close_from(int first, int last, int limit) {
  // close_range is Linux 5.9+; older kernels get a plain loop bounded by RLIMIT_NOFILE.
  if (first > last) return 0;
  long r = raw(SYS_close_range, first, last, 0);
  if (r != -ENOSYS) return r;
  for (int fd = first; fd <= last && fd < limit; ++fd) syscall(SYS_close, fd);
  return 0;
}

TRIDENT_CHILD_CODE int child_main(void* p) {
  auto* args = static_cast<ChildArgs*>(p);
  const SpawnRequest& rq = *args->request;

  // Handlers installed by the parent must not run here (they would run on the shared address
  // space); ignored signals stay ignored through execve, except what restore_signals resets.
  for (int sig = 1; sig <= kMaxSignal; ++sig) {
    if (sig == SIGKILL || sig == SIGSTOP) continue;
    KernelSigaction old{};
    if (raw(SYS_rt_sigaction, sig, 0, reinterpret_cast<long>(&old), kKernelSigsetSize) < 0) continue;
    bool reset = old.handler != reinterpret_cast<void*>(SIG_DFL) && old.handler != reinterpret_cast<void*>(SIG_IGN);
    if (rq.restore_signals && (sig == SIGPIPE || sig == SIGXFSZ)) reset = true;
    if (reset) {
      KernelSigaction dfl{};
      dfl.handler = reinterpret_cast<void*>(SIG_DFL);
      raw(SYS_rt_sigaction, sig, reinterpret_cast<long>(&dfl), 0, kKernelSigsetSize);
    }
  }

  if (rq.start_new_session) {
    long r = raw(SYS_setsid);
    if (r < 0) return child_fail(args, SpawnStep::kSetsid, r);
  }
  if (rq.process_group >= 0) {
    long r = raw(SYS_setpgid, 0, rq.process_group);
    if (r < 0) return child_fail(args, SpawnStep::kSetpgid, r);
  }

  // Move sources out of the way of the targets written before them (as CPython's child_exec):
  // stdout's source must not be 0, stderr's neither 0 nor 1.
  int in = rq.stdin_fd, out = rq.stdout_fd, err = rq.stderr_fd;
  if (out == 0) {
    long r = raw(SYS_fcntl, out, F_DUPFD_CLOEXEC, 3);
    if (r < 0) return child_fail(args, SpawnStep::kDup, r);
    out = static_cast<int>(r);
  }
  if (err == 0 || err == 1) {
    long r = raw(SYS_fcntl, err, F_DUPFD_CLOEXEC, 3);
    if (r < 0) return child_fail(args, SpawnStep::kDup, r);
    err = static_cast<int>(r);
  }
  long r = child_install(in, 0);
  if (r == 0) r = child_install(out, 1);
  if (r == 0) r = child_install(err, 2);
  if (r < 0) return child_fail(args, SpawnStep::kDup, r);

  if (rq.cwd != nullptr) {
    r = raw(SYS_chdir, reinterpret_cast<long>(rq.cwd));
    if (r < 0) return child_fail(args, SpawnStep::kChdir, r);
  }
  if (rq.umask >= 0) raw(SYS_umask, rq.umask);

  for (std::size_t i = 0; i < rq.pass_fd_count; ++i) {
    r = raw(SYS_fcntl, rq.pass_fds[i], F_SETFD, 0);
    if (r < 0) return child_fail(args, SpawnStep::kPassFds, r);
  }
  if (rq.close_fds) {
    int next = 3;
    for (std::size_t i = 0; i < rq.pass_fd_count; ++i) {
      r = child_close_from(next, rq.pass_fds[i] - 1, rq.close_fds_limit);
      if (r < 0) return child_fail(args, SpawnStep::kCloseFds, r);
      next = rq.pass_fds[i] + 1;
    }
    r = child_close_from(next, INT_MAX, rq.close_fds_limit);
    if (r < 0) return child_fail(args, SpawnStep::kCloseFds, r);
  }

  raw(SYS_rt_sigprocmask, SIG_SETMASK, reinterpret_cast<long>(args->parent_mask), 0, kKernelSigsetSize);

  // CPython's rule for a PATH search: report the first error that is not "no such file" (e.g.
  // EACCES from a non-executable match), else the last one.
  long saved = 0;
  for (std::size_t i = 0; i < rq.candidate_count; ++i) {
    r = raw(SYS_execve, reinterpret_cast<long>(rq.candidates[i]), reinterpret_cast<long>(rq.argv),
            reinterpret_cast<long>(args->envp));
    if (r != -ENOENT && r != -ENOTDIR && saved == 0) saved = r;
  }
  // Block signals again so nothing runs a handler between the failure and _exit.
  unsigned long all = ~0UL;
  raw(SYS_rt_sigprocmask, SIG_SETMASK, reinterpret_cast<long>(&all), 0, kKernelSigsetSize);
  return child_fail(args, SpawnStep::kExec, saved != 0 ? saved : (rq.candidate_count == 0 ? -ENOENT : r));
}

constexpr std::size_t kChildStackSize = 64 * 1024;

#if defined(__SANITIZE_THREAD__)
#define TRIDENT_TSAN_BUILD 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define TRIDENT_TSAN_BUILD 1
#endif
#endif

using CloneFn = int (*)(int (*)(void*), void*, int, void*, ...);

// glibc's clone(). ThreadSanitizer intercepts clone() as if it were fork() and runs its after-fork
// hooks in the child; with CLONE_VM that child shares — and corrupts — the parent's TSan state, so a
// TSan build calls glibc's function directly (the child runs no instrumented code anyway).
CloneFn libc_clone() noexcept {
#ifdef TRIDENT_TSAN_BUILD
  static const CloneFn fn = [] {
    void* libc = dlopen("libc.so.6", RTLD_NOW | RTLD_NOLOAD);
    void* sym = libc != nullptr ? dlsym(libc, "clone") : nullptr;
    return sym != nullptr ? reinterpret_cast<CloneFn>(sym) : &::clone;
  }();
  return fn;
#else
  return &::clone;
#endif
}

}  // namespace

int spawn(const SpawnRequest& request, SpawnResult& out) noexcept {
  out = SpawnResult{};
  void* stack = mmap(nullptr, kChildStackSize, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);
  if (stack == MAP_FAILED) {
    out.error = errno;
    out.step = SpawnStep::kClone;
    return -out.error;
  }

  // Block every signal (glibc's internal ones too, hence the raw call) so that no handler runs in
  // the child while it shares our memory; the child restores `old` just before execve.
  unsigned long all = ~0UL, old = 0;
  syscall(SYS_rt_sigprocmask, SIG_SETMASK, &all, &old, kKernelSigsetSize);

  ChildArgs args{&request, &out, &old, request.envp != nullptr ? request.envp : environ};
  int pidfd = -1;
  char* stack_top = static_cast<char*>(stack) + kChildStackSize;
  pid_t pid = libc_clone()(child_main, stack_top, CLONE_VM | CLONE_VFORK | CLONE_PIDFD | SIGCHLD, &args, &pidfd);
  int clone_errno = errno;

  syscall(SYS_rt_sigprocmask, SIG_SETMASK, &old, nullptr, kKernelSigsetSize);
  munmap(stack, kChildStackSize);

  if (pid < 0) {
    out.error = clone_errno;
    out.step = SpawnStep::kClone;
    return -clone_errno;
  }
  if (out.error != 0) {
    // The child exited with 127 after reporting; reap it so no zombie stays.
    siginfo_t info{};
    while (waitid(static_cast<idtype_t>(P_PIDFD), static_cast<id_t>(pidfd), &info, WEXITED) < 0 && errno == EINTR) {
    }
    close(pidfd);
    return -out.error;
  }
  out.pid = pid;
  out.pidfd = pidfd;
  return 0;
}

int reap(int pidfd, bool block, int& returncode) noexcept {
  for (;;) {
    siginfo_t info{};
    int r = waitid(static_cast<idtype_t>(P_PIDFD), static_cast<id_t>(pidfd), &info, WEXITED | (block ? 0 : WNOHANG));
    if (r < 0) {
      if (errno == EINTR) continue;
      return -errno;
    }
    if (info.si_pid == 0) return 0;  // WNOHANG and still running
    returncode = info.si_code == CLD_EXITED ? info.si_status : -info.si_status;
    return 1;
  }
}

int pidfd_signal(int pidfd, int sig) noexcept {
  return syscall(SYS_pidfd_send_signal, pidfd, sig, nullptr, 0) < 0 ? -errno : 0;
}

int poll_until(pollfd* fds, std::size_t count, std::chrono::steady_clock::time_point deadline) noexcept {
  using namespace std::chrono;
  for (;;) {
    timespec ts{};
    timespec* tsp = nullptr;
    if (deadline != steady_clock::time_point::max()) {
      auto left = deadline - steady_clock::now();
      if (left < nanoseconds::zero()) left = nanoseconds::zero();
      auto ns = duration_cast<nanoseconds>(left).count();
      ts.tv_sec = static_cast<time_t>(ns / 1000000000);
      ts.tv_nsec = static_cast<long>(ns % 1000000000);
      tsp = &ts;
    }
    int r = ppoll(fds, count, tsp, nullptr);
    if (r >= 0) return r;
    if (errno != EINTR) return -errno;
  }
}

}  // namespace trident::platform
