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

// Boost.Context's fcontext layer: a suspended context is an opaque pointer into its stack.
using Context = void*;

// The C++ runtime's per-thread exception state (Itanium C++ ABI __cxa_eh_globals): the chain of
// caught exceptions and the uncaught count. Each greenlet keeps its own copy, swapped on switch,
// so `throw;`, std::current_exception and std::uncaught_exceptions see that greenlet's exceptions.
struct EhGlobals {
  void* caught = nullptr;
  unsigned int uncaught = 0;
};

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

// A greenlet's record. Owned by its handles (refs); fields other than refs are only touched by
// the owning thread, except where noted.
class Impl {
 public:
  // Values of `state` (written by the owning thread, read by any):
  static constexpr int kNew = 0;     // not started
  static constexpr int kActive = 1;  // started, not finished (running or suspended)
  static constexpr int kDead = 2;    // finished, or killed before starting
  std::atomic<int> refs{1};
  std::atomic<int> state{kNew};
  ThreadState* owner = nullptr;  // valid while the owning thread lives (owner_id says which)
  std::uint64_t owner_id = 0;
  Impl* parent = nullptr;  // a counted reference; null only for a main greenlet
  std::unique_ptr<RunBase> run;
  bool is_main = false;
  bool orphaned = false;  // lost its last handle while running; reaped when it switches away
  Options options;
  Stack stack;
  Context ctx = nullptr;  // where it resumes, while suspended
  EhGlobals eh;
  Values result;  // what run returned, until the parent took it
  std::exception_ptr error;
  Transfer final;            // the switch that ends it
  Impl* reg_prev = nullptr;  // the owner's list of active greenlets
  Impl* reg_next = nullptr;
  void* asan_fake_stack = nullptr;  // sanitizer bookkeeping (unused without sanitizers)
  const void* asan_bottom = nullptr;
  std::size_t asan_size = 0;
  void* tsan_fiber = nullptr;
};

// The calling thread's greenlet state, created on first use and torn down at thread exit.
class ThreadState {
 public:
  std::uint64_t id = 0;
  Impl* main = nullptr;                // one counted reference
  Impl* current = nullptr;             // not counted: a running greenlet is alive by construction
  Impl* origin = nullptr;              // the greenlet that switched to `current`, until after_switch()
  const Transfer* transfer = nullptr;  // what that switch carried
  EhGlobals* eh = nullptr;             // this thread's __cxa_eh_globals
  Impl registry;                       // sentinel of the list of active greenlets
  // Greenlets whose last handle was dropped in another thread; guarded by the global mutex.
  std::vector<Impl*> deleteme;
  std::atomic<bool> pending{false};  // deleteme is not empty
  // TSan fibers of finished greenlets, for reuse: creating one costs TSan about half a millisecond.
  std::vector<void*> tsan_fibers;
};

}  // namespace trident::greenlet::detail
