// The thread parker: spin briefly on the waiter's state word, then sleep on it with a futex.
//
// Why spin: a futex wake-up that crosses cores costs tens of microseconds on the machines we
// measure, while the typical hand-off in a ping-pong (queue, condition) arrives within one or two.
// Why adaptive: a thread whose waits are long (join of a slow task) wastes a core spinning, so
// each thread keeps a budget that doubles when a spin is rewarded and halves when it is not.
// Why it stops when descheduled, and does not start on a crowded machine: see spin() and
// core/spin_policy.hpp.
#include <algorithm>
#include <cerrno>

#include "core/cpu_relax.hpp"
#include "core/spin_policy.hpp"
#include "platform/linux/futex.hpp"
#include "platform/linux/process.hpp"
#include "trident/detail/wait.hpp"

namespace trident::detail {
namespace {

using std::chrono::nanoseconds;

constexpr nanoseconds kMinSpin{2'000};
constexpr nanoseconds kMaxSpin{50'000};
constexpr nanoseconds kInitialSpin{20'000};
// A gap between two polls of the spin this long means the spinning thread was descheduled.
constexpr nanoseconds kDescheduled{20'000};

// Spinning only helps when the notifier can run at the same time as the waiter.
const bool kMayRunInParallel = platform::cpu_count() > 1;
// Compared with the runnable threads of the whole machine, so every CPU counts, not only ours.
const long kOnlineCpus = std::max(1, platform::online_cpu_count());

thread_local nanoseconds tl_spin_budget = kInitialSpin;

// How often spinning_pays() looks at /proc/loadavg again (a read costs a few microseconds).
constexpr nanoseconds kCrowdCheckEvery{20'000'000};
std::atomic<Clock::rep> g_next_crowd_check{0};
std::atomic<bool> g_crowded{false};

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
    if (!w.spin) return false;
    const auto start = Clock::now();
    if (!spinning_pays(start)) return false;
    auto limit = start + tl_spin_budget;
    if (!deadline.is_forever() && deadline.when() < limit) limit = deadline.when();
    auto last = start;
    for (;;) {
      for (int i = 0; i < 32; ++i) {
        if (w.state.load(std::memory_order_acquire) == Waiter::kNotified) {
          tl_spin_budget = std::min(kMaxSpin, tl_spin_budget * 2);
          return true;
        }
        cpu_relax();
      }
      const auto now = Clock::now();
      if (now >= limit) break;
      // 32 polls take well under a microsecond; a longer gap means this thread lost its CPU
      // meanwhile: the machine has more runnable threads than CPUs, and the notifier may be
      // waiting for this very CPU. Then sleep at once and spin little next time. (Not
      // sched_yield, as this parker did before: on a loaded machine a yield sends the spinner
      // behind every other runnable thread for a whole time slice, and a notifier that finds it
      // still spinning makes no futex_wake to bring it back sooner — measured at load 9:
      // queue_pingpong_us 30-320 us with the yields, 6-7.5 us with this check; std 2.4-4.2 us.)
      if (now - last > kDescheduled) {
        tl_spin_budget = kMinSpin;
        return false;
      }
      last = now;
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

bool spinning_pays(Clock::time_point now) noexcept {
  if (!kMayRunInParallel) return false;
  const Clock::rep t = now.time_since_epoch().count();
  Clock::rep next = g_next_crowd_check.load(std::memory_order_relaxed);
  // One thread at a time samples; the others use the last answer.
  if (t >= next &&
      g_next_crowd_check.compare_exchange_strong(
          next, t + std::chrono::duration_cast<Clock::duration>(kCrowdCheckEvery).count(), std::memory_order_relaxed)) {
    const int running = platform::runnable_threads();
    g_crowded.store(running > kOnlineCpus, std::memory_order_relaxed);
  }
  return !g_crowded.load(std::memory_order_relaxed);
}

Parker& thread_parker() noexcept { return g_thread_parker.parker; }

Parker& current_parker() noexcept { return tl_parker != nullptr ? *tl_parker : thread_parker(); }

Parker* set_current_parker(Parker* p) noexcept {
  Parker* old = tl_parker;
  tl_parker = p;
  return old;
}

Waiter::Waiter() noexcept : parker(&current_parker()), context(parker->current_context()) {}

}  // namespace trident::detail
