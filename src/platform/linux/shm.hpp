// platform/linux/shm.hpp — POSIX shared memory, process-shared futexes, process liveness, and the
// segment tracker process. Like everything under platform/, these never throw: they return a
// non-negative result or -errno.
#pragma once

#include "platform/linux/futex.hpp"

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>

namespace trident::platform {

/// Creates the segment `/dev/shm/<name>` (`name` without the leading slash) of `size` bytes,
/// failing with -EEXIST if it exists. Returns an O_CLOEXEC fd.
int shm_create(const char* name, std::size_t size) noexcept;
/// Opens the existing segment `name` read-write; -ENOENT if there is none.
int shm_attach(const char* name) noexcept;
/// Removes the name `name` (mappings stay valid); -ENOENT if it is gone.
int shm_remove(const char* name) noexcept;
/// The size of the file behind `fd`, or -errno.
long long fd_size(int fd) noexcept;
/// Maps `size` bytes of `fd` shared and read-write into `*out`; 0 or -errno.
int map_shared(int fd, std::size_t size, void** out) noexcept;
/// Unmaps what map_shared mapped.
int unmap(void* addr, std::size_t size) noexcept;
/// Fills `n` bytes with random data (getrandom); 0 or -errno.
int random_fill(void* buf, std::size_t n) noexcept;

/// (The process-shared futex calls, futex_wait_shared and futex_wake_shared, are in futex.hpp.)

/// getpid(2); not cached (glibc no longer caches it, and callers on hot paths keep their own).
int shm_getpid() noexcept;
/// gettid(2).
int shm_gettid() noexcept;
/// Whether the process or thread `id` is gone: no /proc entry, or a zombie (killed but not yet
/// reaped counts as gone — it will never release anything).
bool task_gone(int id) noexcept;

/// Starts the segment tracker: a grandchild process (not our child, so nobody needs to reap it)
/// that receives messages `R <pid> <name>\n` / `U <name>\n` and removes every name still
/// registered by a pid once that process has exited (it watches each pid with a pidfd), and
/// every remaining name once the last holder of the writing end is gone. Returns the writing end
/// (O_CLOEXEC, inherited by forked children) or -errno.
int start_segment_tracker() noexcept;
/// Sends one message to the tracker (atomically: a SOCK_SEQPACKET socket); 0 or -errno, never
/// SIGPIPE.
int shm_tracker_send(int fd, const void* data, std::size_t n) noexcept;

}  // namespace trident::platform
