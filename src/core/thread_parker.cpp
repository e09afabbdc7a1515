// The thread parker: spin briefly on the waiter's state word, then sleep on it with a futex.
//
// Why spin: a futex wake-up that crosses cores costs tens of microseconds on the machines we
// measure, while the typical hand-off in a ping-pong (queue, condition) arrives within one or two.
// Why adaptive: a thread whose waits are long (join of a slow task) wastes a core spinning, so
// each thread keeps a budget that doubles when a spin is rewarded and halves when it is not.
#include <sched.h>

#include <algorithm>
#include <cerrno>

#include "core/cpu_relax.hpp"
#include "platform/linux/futex.hpp"
#include "trident/detail/wait.hpp"

namespace trident::detail {
namespace {

using std::chrono::nanoseconds;

constexpr nanoseconds kMinSpin{2'000};
constexpr nanoseconds kMaxSpin{50'000};
constexpr nanoseconds kInitialSpin{20'000};

// Spinning only helps when the notifier can run at the same time as the waiter.
const bool kMayRunInParallel = platform::cpu_count() > 1;

thread_local nanoseconds tl_spin_budget = kInitialSpin;

class ThreadParker final : public Parker {
 public:
  bool park(Waiter& w, const Deadline& deadline) noexcept override {
    if (spin(w, deadline)) return true;
    std::uint32_t s = Waiter::kWaiting;
    if (!w.state.compare_exchange_strong(s, Waiter::kSleeping, std::memory_order_acquire)) {
      if (s == Waiter::kNotified) return true;  // notified between the spin and now
      // Already kSleeping: a timed-out waiter parking again for a wake already in flight.
    }
    for (;;) {
      int r = platform::futex_wait(&w.state, Waiter::kSleeping, deadline.when());
      if (w.state.load(std::memory_order_acquire) == Waiter::kNotified) return true;
      if (r == -ETIMEDOUT || deadline.expired()) return false;
    }
  }

  void unpark(void*, std::atomic<std::uint32_t>* word, std::uint32_t previous) noexcept override {
    // A waiter still spinning sees the state change by itself: no system call.
    if (previous == Waiter::kSleeping) platform::futex_wake(word, 1);
  }

 private:
  static bool spin(Waiter& w, const Deadline& deadline) noexcept {
    if (!kMayRunInParallel || !w.spin) return false;
    const auto start = Clock::now();
    auto limit = start + tl_spin_budget;
    if (!deadline.is_forever() && deadline.when() < limit) limit = deadline.when();
    for (;;) {
      for (int i = 0; i < 32; ++i) {
        if (w.state.load(std::memory_order_acquire) == Waiter::kNotified) {
          tl_spin_budget = std::min(kMaxSpin, tl_spin_budget * 2);
          return true;
        }
        cpu_relax();
      }
      if (Clock::now() >= limit) break;
      // On a loaded machine the notifier may be waiting for this very CPU: a spin that never
      // yields would delay the wake-up it waits for (measured: Condition ping-pong 23 -> 3.4 us
      // at load 6). Without competition sched_yield returns at once.
      sched_yield();
    }
    tl_spin_budget = std::max(kMinSpin, tl_spin_budget / 2);
    return false;
  }
};

thread_local Parker* tl_parker = nullptr;

// Constant-initialized, so there is no initialization guard: a lazily built function-local static
// leaves a forked child stuck on its guard forever when another thread of the parent was building
// it at the moment of the fork (the first wait of a new thread racing os::fork). The union keeps
// it from being destroyed: threads outliving static destruction may still park.
union ThreadParkerStorage {
  ThreadParker parker;
  constexpr ThreadParkerStorage() : parker() {}
  ~ThreadParkerStorage() {}
};
constinit ThreadParkerStorage g_thread_parker;

}  // namespace

Parker& thread_parker() noexcept { return g_thread_parker.parker; }

Parker& current_parker() noexcept { return tl_parker != nullptr ? *tl_parker : thread_parker(); }

Parker* set_current_parker(Parker* p) noexcept {
  Parker* old = tl_parker;
  tl_parker = p;
  return old;
}

Waiter::Waiter() noexcept : parker(&current_parker()), context(parker->current_context()) {}

}  // namespace trident::detail
