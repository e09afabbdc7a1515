// platform/linux/process.hpp — fork, wait and identity of processes, and CPU counts.
// Like everything under platform/, these never throw: they return a value or -errno.
#pragma once

namespace trident::platform {

/// fork(): the child's pid in the parent, 0 in the child, or -errno.
int fork_process() noexcept;
/// waitpid() restarted after EINTR: the pid (0 with WNOHANG if still running) or -errno.
int wait_pid(int pid, int* status, int options) noexcept;
int get_pid() noexcept;
int get_ppid() noexcept;
/// _exit(): ends the process without running atexit handlers.
[[noreturn]] void exit_now(int status) noexcept;
/// sysconf(_SC_NPROCESSORS_ONLN): CPUs online in the system, or -errno.
int online_cpu_count() noexcept;
/// CPU_COUNT of sched_getaffinity: CPUs this process may run on, or -errno.
int affinity_cpu_count() noexcept;

}  // namespace trident::platform
