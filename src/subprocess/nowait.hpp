// subprocess/nowait.hpp — how I/O on a (blocking) pipe avoids sleeping.
#pragma once

#include <atomic>

namespace trident::subprocess::detail {

/// True while pipe I/O that must not sleep (communicate()'s, a greenlet's Pipe::write) uses
/// pwritev2/preadv2(RWF_NOWAIT): a write takes as much as the pipe has room for, and reads may go
/// on until the pipe is empty. Cleared for good the first time the kernel says it cannot; then a
/// write takes at most what POLLOUT guarantees and one read follows each POLLIN. Tests clear it to
/// cover that path.
std::atomic<bool>& nowait_io() noexcept;

}  // namespace trident::subprocess::detail
