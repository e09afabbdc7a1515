// The greenlet module's internals: a greenlet's record, the per-thread state, stacks.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <memory>
#include <mutex>
#include <vector>

#include "trident/greenlet.hpp"

namespace trident::greenlet::detail {

using Context = void*;  // a Boost.Context fcontext: an opaque pointer into a suspended stack

// One greenlet stack. Memory grows down from `top` to `top - size`; a guarded stack has a
// PROT_NONE page just below that.
struct Stack {
  void* top = nullptr;
  std::size_t size = 0;  // usable bytes
  bool guarded = false;
  void* bottom() const noexcept { return static_cast<char*>(top) - size; }
};

// Gets a stack of `size` usable bytes (a page multiple) from the calling thread's pool, or maps a
// new one. Throws std::bad_alloc when the kernel refuses.
Stack allocate_stack(std::size_t size, bool guarded);
// Returns a stack to the calling thread's pool (or unmaps it when the pool is full).
void release_stack(const Stack& s) noexcept;
// Frees the calling thread's pooled stacks (at thread exit).
void drain_stack_pool() noexcept;
// The page size, and `size` rounded up to it (0 = the default size).
std::size_t page_size() noexcept;
std::size_t round_stack_size(std::size_t size) noexcept;
// Installs, once per process, the SIGSEGV handler that names greenlet stack overflows, and gives
// the calling thread an alternate signal stack if it has none.
void prepare_overflow_reporting() noexcept;
// Removes the alternate signal stack prepare_overflow_reporting gave this thread (thread exit).
void release_overflow_reporting() noexcept;
// Whether a fault at `addr` is the running greenlet overflowing its guarded stack (then sets
// `stack_size`). Called from the SIGSEGV handler: reads only this thread's state.
bool is_greenlet_overflow(const void* addr, std::size_t& stack_size) noexcept;

class ThreadState;

// A greenlet's full record: the inline part (Impl, in the public header) and the rest. Fields are
// only touched by the owning thread, except `refs` and `state`.
class Record : public Impl {
 public:
  ThreadState* owner = nullptr;  // valid while the owning thread lives (owner_id says which)
  Record* parent = nullptr;      // a counted reference; null only for a main greenlet
  std::unique_ptr<RunBase> run;
  bool is_main = false;
  Options options;
  Stack stack;
  Values result;  // what run returned, until the parent took it
  std::exception_ptr error;
  Transfer final;              // the switch that ends it
  Record* reg_prev = nullptr;  // the owner's list of active greenlets
  Record* reg_next = nullptr;
  void* asan_fake_stack = nullptr;  // sanitizer bookkeeping (unused without sanitizers)
  const void* asan_bottom = nullptr;
  std::size_t asan_size = 0;
  void* tsan_fiber = nullptr;
};

inline Record* rec(Impl* g) noexcept { return static_cast<Record*>(g); }

// The calling thread's greenlet state, created on first use and torn down at thread exit.
class ThreadState : public ThreadHot {
 public:
  Record* main = nullptr;  // one counted reference
  Record registry;         // sentinel of the list of active greenlets
  // Greenlets whose last handle was dropped in another thread; guarded by the global mutex.
  std::vector<Record*> deleteme;
  // TSan fibers of finished greenlets, for reuse: creating one costs TSan about half a millisecond.
  std::vector<void*> tsan_fibers;
};

}  // namespace trident::greenlet::detail
