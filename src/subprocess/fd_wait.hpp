// subprocess/fd_wait.hpp — how subprocess waits for a pidfd or a pipe: through the waiting core.
//
// An OS thread that waits (its parker is the core's thread parker) sleeps in ppoll() on the fds
// themselves: for a thread, a kernel sleep on the fds is the same thing as parking it, and it is
// the fastest way to learn that a child exited or a pipe moved. Any other parker (a greenlet hub,
// later) must not block its whole thread, so the wait is handed to the fd watcher: one helper
// thread, started on demand, that polls every registered set of fds and completes a core
// EventFlag per registration; the caller parks on that event through its own parker.
// docs/subprocess.md explains the choice.
#pragma once

#include <poll.h>

#include <cstddef>

#include "trident/detail/wait.hpp"

namespace trident::subprocess::detail {

/// Waits until one of `fds` has one of its `events` (or POLLHUP/POLLERR/POLLNVAL), or `deadline`
/// passes; fills each `revents`. Returns true if some fd is ready, false on timeout. Throws
/// OSError if polling itself fails.
bool wait_fds(pollfd* fds, std::size_t count, const trident::detail::Deadline& deadline);

/// Whether the caller is an OS thread waiting through the core's thread parker: a system call
/// that sleeps in the kernel (a blocking read or write on a pipe) is then the same as parking it.
/// Otherwise (a greenlet hub) the caller must wait_fds() first and then do only I/O that cannot
/// block: read what is there, write at most PIPE_BUF bytes after POLLOUT.
bool kernel_may_block() noexcept;

/// Whether the fd watcher thread is running (for tests: it exits after a short idle time).
bool fd_watcher_running() noexcept;

}  // namespace trident::subprocess::detail
