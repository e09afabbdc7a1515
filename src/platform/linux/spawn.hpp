// platform/linux/spawn.hpp — starting a program in a child process, and the pidfd that watches it.
//
// spawn() uses clone(CLONE_VM | CLONE_VFORK) with a small stack of its own, as glibc's
// posix_spawn does, so its cost does not grow with the parent's memory or thread count (no page
// tables are copied). The child shares the parent's memory until it calls execve, so it runs only
// raw system calls (async-signal-safe, and invisible to the sanitizers' interceptors) and reports a
// failure by storing errno and the failing step in the parent's SpawnResult: with CLONE_VFORK the
// parent resumes only once the child has exec'd or exited, so the store is complete when it reads
// it. Like everything under platform/, these functions never throw: they return 0 or -errno.
#pragma once

#include <poll.h>
#include <sys/types.h>

#include <chrono>
#include <cstddef>

namespace trident::platform {

/// The child-side step that failed, for the parent's error message.
enum class SpawnStep : int {
  kNone = 0,
  kClone,     // in the parent: mmap of the stack or clone itself
  kDup,       // dup/dup2 of the standard streams
  kSetsid,    // start_new_session
  kSetpgid,   // process_group
  kChdir,     // cwd
  kPassFds,   // clearing FD_CLOEXEC on pass_fds
  kCloseFds,  // close_fds
  kExec,      // execve of every candidate failed
};

/// What the child does between clone and execve, in this order: reset signal handlers (and, with
/// restore_signals, SIGPIPE/SIGXFSZ to SIG_DFL), setsid, setpgid, dup2 of the standard streams,
/// chdir, umask, FD_CLOEXEC off for pass_fds, close the other fds >= 3, restore the signal mask,
/// execve each candidate in turn. All pointers are read by the child: they must stay valid.
struct SpawnRequest {
  const char* const* candidates = nullptr;  // paths to execve, tried in order (the PATH search)
  std::size_t candidate_count = 0;
  char* const* argv = nullptr;  // null-terminated
  char* const* envp = nullptr;  // null-terminated; null = the parent's `environ`
  int stdin_fd = -1;            // fd to become 0 in the child; -1 = inherit
  int stdout_fd = -1;           // fd to become 1; -1 = inherit
  int stderr_fd = -1;           // fd to become 2; -1 = inherit
  const char* cwd = nullptr;
  int umask = -1;                 // -1 = unchanged
  bool close_fds = true;          // close every fd >= 3 except pass_fds
  const int* pass_fds = nullptr;  // sorted, unique, each >= 3
  std::size_t pass_fd_count = 0;
  int close_fds_limit = 0;         // upper bound for the close() fallback without close_range
  bool start_new_session = false;  // setsid()
  int process_group = -1;          // setpgid(0, process_group) when >= 0
  bool restore_signals = true;     // SIGPIPE and SIGXFSZ back to SIG_DFL
};

struct SpawnResult {
  pid_t pid = -1;
  int pidfd = -1;                     // close-on-exec pidfd of the child
  int error = 0;                      // errno of the failed step (0 on success)
  SpawnStep step = SpawnStep::kNone;  // which step failed
};

/// Starts the child. Returns 0 with `out.pid`/`out.pidfd` set, or -errno with `out.error` and
/// `out.step` saying what failed; a child that failed before or at execve has been reaped.
int spawn(const SpawnRequest& request, SpawnResult& out) noexcept;

/// Reaps the child of `pidfd` if it has exited (waitid(P_PIDFD), WNOHANG unless `block`).
/// Returns 1 and sets `returncode` (exit status, or minus the signal number), 0 if it still
/// runs, or -errno (-ECHILD when it was reaped elsewhere, e.g. SIGCHLD set to SIG_IGN).
int reap(int pidfd, bool block, int& returncode) noexcept;

/// Sends `sig` through the pidfd (pidfd_send_signal: no pid-reuse race). 0 or -errno.
int pidfd_signal(int pidfd, int sig) noexcept;

/// poll() on `fds` until an event or the absolute monotonic `deadline` (time_point::max() = no
/// limit); restarts after EINTR. Returns the number of ready fds, 0 on timeout, or -errno.
int poll_until(pollfd* fds, std::size_t count, std::chrono::steady_clock::time_point deadline) noexcept;

}  // namespace trident::platform
