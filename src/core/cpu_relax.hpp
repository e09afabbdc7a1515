// core/cpu_relax.hpp — the pause instruction spin loops use between polls.
#pragma once

namespace trident::detail {

inline void cpu_relax() noexcept {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#elif defined(__aarch64__)
  asm volatile("yield" ::: "memory");
#endif
}

}  // namespace trident::detail
