// Test support shared by every module's tests.
#pragma once

#include <chrono>
#include <string>

namespace trident::testing {

/// Registers a listener that fails any test which leaves behind more OS threads or open file
/// descriptors than it found (after giving exiting threads a bounded moment to finish).
void install_leak_checks();

/// Number of OS threads in this process (from /proc/self/status).
int os_thread_count();
/// Number of open file descriptors (entries of /proc/self/fd).
int open_fd_count();

/// Generous bounds for timeout tests on a loaded 2-core machine: a timed wait of `t` must last at
/// least `t` (minus clock granularity) and at most `t + kTimeoutSlack`.
inline constexpr std::chrono::milliseconds kTimeoutSlack{2000};

}  // namespace trident::testing
