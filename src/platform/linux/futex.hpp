// platform/linux/futex.hpp — the futex system call, the only way trident puts a thread to sleep.
// Like everything under platform/, these never throw: they return 0 or -errno.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>

namespace trident::platform {

/// Sleeps while `*word == expected`, until woken or the absolute CLOCK_MONOTONIC time `deadline`
/// (time_point::max() = no limit). Returns 0 when woken (maybe spuriously), -EAGAIN if the word
/// differed, -ETIMEDOUT, or -EINTR.
int futex_wait(std::atomic<std::uint32_t>* word, std::uint32_t expected,
               std::chrono::steady_clock::time_point deadline) noexcept;

/// Wakes up to `n` threads sleeping on `word`; returns how many woke, or -errno. `word` is only
/// used as an address: it may already have been freed (the kernel then wakes nobody).
int futex_wake(std::atomic<std::uint32_t>* word, int n) noexcept;

/// futex_wait on a word other processes share (no FUTEX_PRIVATE_FLAG: the kernel keys the wait on
/// the page's inode and offset, so a waker in another process that maps the same segment, at any
/// address, finds this waiter). Same arguments and results as futex_wait.
int futex_wait_shared(std::atomic<std::uint32_t>* word, std::uint32_t expected,
                      std::chrono::steady_clock::time_point deadline) noexcept;
/// Wakes up to `n` waiters of a shared futex word, in any process.
int futex_wake_shared(std::atomic<std::uint32_t>* word, int n) noexcept;

/// Number of CPUs this process may run on (sched_getaffinity), at least 1.
int cpu_count() noexcept;

/// Threads of the whole machine runnable right now, the caller included (the fourth field of
/// /proc/loadavg); 0 when it cannot be read.
int runnable_threads() noexcept;

}  // namespace trident::platform
