// trident/config.hpp — build-time switches shared by every header.
#pragma once

// TRIDENT_DEBUG is 1 when internal invariants are checked (debug and sanitizer builds).
#ifdef NDEBUG
#define TRIDENT_DEBUG 0
#else
#define TRIDENT_DEBUG 1
#endif

namespace trident::detail {
[[noreturn]] void assert_fail(const char* expr, const char* file, int line, const char* msg) noexcept;
}  // namespace trident::detail

// TRIDENT_ASSERT(cond, msg) checks an internal invariant; a failure aborts with a message in debug
// builds. Misuse that Python reports is never an assertion: it is an exception.
#if TRIDENT_DEBUG
#define TRIDENT_ASSERT(cond, msg) \
  ((cond) ? static_cast<void>(0) : ::trident::detail::assert_fail(#cond, __FILE__, __LINE__, (msg)))
#else
#define TRIDENT_ASSERT(cond, msg) static_cast<void>(0)
#endif
