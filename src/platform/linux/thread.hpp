// platform/linux/thread.hpp — creating OS threads and naming them.
// Like everything under platform/, these never throw: they return 0 or -errno.
#pragma once

#include <cstddef>

namespace trident::platform {

/// Starts a joinable pthread running `fn(arg)`, with a stack of `stack_size` bytes (0 = the
/// default); stores its pthread_t (as an unsigned long, Python's `ident`) in `*ident`. Returns 0
/// or -errno (-EAGAIN when the system is out of threads, -EINVAL for a bad stack size). Reap it
/// with join_thread() or detach_thread().
int start_thread(void* (*fn)(void*), void* arg, std::size_t stack_size, unsigned long* ident) noexcept;

/// pthread_join: waits for the thread to have exited and frees it (its stack then goes back to
/// glibc's cache, which is what makes the next start fast). Returns 0 or -errno.
int join_thread(unsigned long ident) noexcept;

/// pthread_detach: the thread frees itself when it exits. Returns 0 or -errno.
int detach_thread(unsigned long ident) noexcept;

/// pthread_self() of the calling thread, as an unsigned long.
unsigned long current_thread_ident() noexcept;

/// The calling thread's kernel thread id (gettid).
long current_tid() noexcept;

/// True on the process's initial thread (its tid equals the pid; also true in a forked child's
/// only thread).
bool is_process_main_thread() noexcept;

/// Sets the calling thread's OS name (prctl(PR_SET_NAME); the kernel keeps the first 15 bytes).
int set_current_thread_name(const char* name) noexcept;

/// Sets the OS name of thread `tid` of this process (writes /proc/self/task/<tid>/comm, as
/// pthread_setname_np does for another thread). Returns -ENOENT if that thread is gone.
int set_thread_name(long tid, const char* name) noexcept;

}  // namespace trident::platform
