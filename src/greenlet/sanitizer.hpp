// Sanitizer annotations for greenlet switches: ASan must know which stack runs (its fake stacks
// and the bounds it unwinds within), TSan which fiber (its shadow call stack and happens-before).
// Without a sanitizer every function here is empty and inlines away. They are always inlined, even
// at -O0: a real call would enter TSan's shadow call stack on one fiber and leave it on another.
#pragma once

#include <cstddef>

#if defined(__SANITIZE_ADDRESS__)
#define TRIDENT_GREENLET_ASAN 1
#include <sanitizer/asan_interface.h>
#include <sanitizer/common_interface_defs.h>
#else
#define TRIDENT_GREENLET_ASAN 0
#endif
#if defined(__SANITIZE_THREAD__)
#define TRIDENT_GREENLET_TSAN 1
#include <sanitizer/tsan_interface.h>
#else
#define TRIDENT_GREENLET_TSAN 0
#endif

#define TRIDENT_GREENLET_INLINE inline __attribute__((always_inline))

namespace trident::greenlet::detail::sanitizer {

TRIDENT_GREENLET_INLINE void unpoison([[maybe_unused]] void* p, [[maybe_unused]] std::size_t n) noexcept {
#if TRIDENT_GREENLET_ASAN
  __asan_unpoison_memory_region(p, n);
#endif
}

// Before jumping to a stack [bottom, bottom + size). `fake` is null when the current context
// will never run again (its fake stack is then freed).
TRIDENT_GREENLET_INLINE void start_switch([[maybe_unused]] void** fake, [[maybe_unused]] const void* bottom,
                                          [[maybe_unused]] std::size_t size) noexcept {
#if TRIDENT_GREENLET_ASAN
  __sanitizer_start_switch_fiber(fake, bottom, size);
#endif
}

// Right after arriving; reports the stack we came from.
TRIDENT_GREENLET_INLINE void finish_switch([[maybe_unused]] void* fake, [[maybe_unused]] const void** from_bottom,
                                           [[maybe_unused]] std::size_t* from_size) noexcept {
#if TRIDENT_GREENLET_ASAN
  __sanitizer_finish_switch_fiber(fake, from_bottom, from_size);
#endif
}

TRIDENT_GREENLET_INLINE void* current_fiber() noexcept {
#if TRIDENT_GREENLET_TSAN
  return __tsan_get_current_fiber();
#else
  return nullptr;
#endif
}
TRIDENT_GREENLET_INLINE void* create_fiber() noexcept {
#if TRIDENT_GREENLET_TSAN
  return __tsan_create_fiber(0);
#else
  return nullptr;
#endif
}
TRIDENT_GREENLET_INLINE void destroy_fiber([[maybe_unused]] void* f) noexcept {
#if TRIDENT_GREENLET_TSAN
  if (f) __tsan_destroy_fiber(f);
#endif
}
TRIDENT_GREENLET_INLINE void switch_to_fiber([[maybe_unused]] void* f) noexcept {
#if TRIDENT_GREENLET_TSAN
  __tsan_switch_to_fiber(f, 0);
#endif
}

}  // namespace trident::greenlet::detail::sanitizer
