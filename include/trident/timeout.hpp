// trident/timeout.hpp — how Python's `timeout=None | float` reads in C++.
//
// A timeout is `std::optional` of a duration in seconds (as a double, like Python's float), so
// every std::chrono duration converts to it: `q.get(1.5s)`, `lock.acquire(true, 100ms)`.
// `std::nullopt`, the default, is Python's `None`: wait forever. A negative timeout is a
// ValueError, as in Python's queue and threading modules.
#pragma once

#include <chrono>
#include <optional>

namespace trident {

/// Seconds as a double: the unit of Python's timeouts and intervals.
using Seconds = std::chrono::duration<double>;

/// Python's `timeout=None | float`: `std::nullopt` (the default) waits forever.
using Timeout = std::optional<Seconds>;

}  // namespace trident
