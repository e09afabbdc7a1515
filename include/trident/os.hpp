// trident/os.hpp — the process calls of Python's `os` module that trident's processes build on:
// fork, getpid, getppid, _exit, waitpid, cpu_count, process_cpu_count and register_at_fork.
//
// As in Python, `fork()` makes trident's own state valid in the child: only the forking thread
// exists there and it becomes the child's main thread (`threading.main_thread()`), the other
// threads count as finished (`active_count() == 1`, joining them returns at once), trident's
// internal locks are fresh, a ThreadPoolExecutor made in the parent refuses work in the child
// (BrokenThreadPool: its workers did not cross), multiprocessing Connections have no calls in
// flight, and subprocess's fd watcher starts afresh when a child first needs it. These resets run for any fork of the
// process (pthread_atfork), so a raw
// ::fork() gets them too; the handlers of `register_at_fork` run only around `os::fork()`, as
// CPython runs them only around `os.fork()`. Locks of the program itself (a threading::Lock held
// by another thread at the fork) stay as they were — held, by a thread the child does not have —
// exactly as in CPython, which reinitialises only `threading`'s own locks.
#pragma once

#include <sys/wait.h>  // os.WNOHANG is the C macro WNOHANG

#include <functional>
#include <optional>
#include <utility>

namespace trident::os {

/// Python's `os.fork()`: creates a child process that is a copy of this one. Returns 0 in the
/// child and the child's pid in the parent. Runs the `register_at_fork` handlers (`before` in
/// reverse order of registration; `after_in_parent` / `after_in_child` in registration order).
/// Throws OSError (errno EAGAIN or ENOMEM) if the kernel refuses.
int fork();

/// Python's `os.getpid()`.
int getpid() noexcept;

/// Python's `os.getppid()`: the parent's pid (1, or a subreaper's pid, once the parent died).
int getppid() noexcept;

/// Python's `os._exit(n)`: ends the process at once with status `n`, without atexit handlers,
/// static destructors or flushing stdio buffers — what a forked child that must not return into
/// the parent's code calls.
[[noreturn]] void _exit(int status) noexcept;

/// Python's `os.waitpid(pid, options)`: waits for child `pid` (-1: any child) and returns
/// (pid, raw status); with `options` = WNOHANG (the C macro, from <sys/wait.h>) returns (0, 0) if it still runs. Blocks
/// the calling OS thread in the kernel (it is Python's thin wrapper, not a trident wait: multiprocessing's
/// Process::join will be the waiting-core form). Restarted after EINTR. Throws ChildProcessError (ECHILD) when there is
/// no such child, OSError otherwise.
std::pair<int, int> waitpid(int pid, int options);

/// Python's `os.waitstatus_to_exitcode(status)`: the exit code, or minus the signal number that
/// killed the process. Throws ValueError for a status that is neither (a stopped child).
int waitstatus_to_exitcode(int status);

/// Python's `os.cpu_count()`: the number of logical CPUs online in the system, whatever this
/// process may use; nullopt if it cannot be determined.
std::optional<int> cpu_count() noexcept;

/// Python's `os.process_cpu_count()` (3.13): the number of CPUs this process may run on (its
/// affinity mask, e.g. under `taskset` or a container's cpuset); falls back to `cpu_count()`.
/// This is what sizes pools (multiprocessing's and ThreadPoolExecutor's defaults).
std::optional<int> process_cpu_count() noexcept;

/// The callbacks of `register_at_fork`; any may be empty.
struct AtForkOptions {
  std::function<void()> before{};           ///< in the parent, before forking
  std::function<void()> after_in_parent{};  ///< in the parent, after forking
  std::function<void()> after_in_child{};   ///< in the child, after trident's own state was reset
};

/// Python's `os.register_at_fork(before=, after_in_parent=, after_in_child=)`: callbacks run by
/// `os::fork()` — `before` in reverse registration order, the two others in registration order.
/// They cannot be unregistered (as in Python). An exception escaping one is reported on stderr
/// ("Exception ignored in fork handler: ...") and the others still run, as in CPython. Throws
/// ValueError if all three are empty (Python's TypeError "At least one argument is required").
void register_at_fork(AtForkOptions handlers);

}  // namespace trident::os
