#include <algorithm>
#include <mutex>

#include "core/cpu_relax.hpp"
#include "core/spin_policy.hpp"
#include "trident/detail/wait.hpp"

namespace trident::detail {

namespace {

// The spin before parking: up to kSpinRounds polls of the lock word, the pause between two polls
// doubling from 1 up to kMaxBackoff pause instructions (about 3000 pauses in all, ~35 us at the
// 11 ns a pause takes on the machines we measure), and never longer than kMaxSpin (pauses are
// 4x longer on some CPUs).
constexpr int kSpinRounds = 14;
// Adaptive, as the thread parker's spin: each thread's round count grows by one (about doubling
// the spin) when a spin ends with the lock and shrinks by one when it ends in a park, between
// kMinSpinRounds (~130 pauses, ~1.4 us) and kSpinRounds. A lock whose holder often cannot run
// meanwhile (it waits for this very CPU on a loaded machine) is soon waited for by parking
// (measured: condition_pingpong_us at load 5, 90 us with a fixed 14 rounds, 2.5-17 us with this).
constexpr int kMinSpinRounds = 7;
thread_local int tl_spin_rounds = kSpinRounds;
constexpr int kMaxBackoff = 512;
constexpr auto kMaxSpin = std::chrono::microseconds(40);
// The clock is read from this poll on, when the back-off is long enough that a read is noise.
constexpr int kTimedFrom = 4;

}  // namespace

bool Mutex::lock_slow(const Deadline& deadline) noexcept {
  // Contended, the holder is most likely on the other core, a few instructions from unlock. The
  // wait is an exponential back-off that does not touch the lock word between polls, then a park.
  // Why not a short spin of CAS attempts (as this mutex did, and glibc's adaptive mutex does):
  // each attempt takes the lock's cache line away from the holder, so two threads that both lock
  // all the time (a producer and a consumer on one queue) pay a cross-core transfer per
  // operation, and the one that gives up sleeps in the kernel, which the other pays for with a
  // futex_wake per hand-over. Measured on queue_throughput_ops (one producer, one consumer, both
  // on their own vCPU): 8 CAS polls then park gave 6-13 M/s and, when the two threads settled
  // into taking turns per item, 2 M/s; polling with plain loads for longer without backing off,
  // 1.8-3.4 M/s; this back-off, 16-18 M/s in every run (docs/core.md). Backing off lets the
  // holder lock and unlock many times with the line in its own cache, so the two sides take the
  // lock in runs instead of alternating on every operation. No sched_yield in the back-off: on a
  // loaded machine a yield sends the waiter behind every runnable thread for a time slice (see the
  // thread parker); a holder preempted for longer than the spin is waited for by parking.
  // Not on a single CPU nor on a crowded machine (spin_policy.hpp): the holder would need this CPU.
  if (spinning_pays(Clock::now())) {
    Clock::time_point start;
    for (int i = 0, backoff = 1; i < tl_spin_rounds; ++i) {
      for (int j = 0; j < backoff; ++j) cpu_relax();
      if ((state_.load(std::memory_order_relaxed) & kLocked) == 0 && try_lock()) {
        tl_spin_rounds = std::min(tl_spin_rounds + 1, kSpinRounds);
        return true;
      }
      backoff = std::min(backoff * 2, kMaxBackoff);
      if (i == kTimedFrom) start = Clock::now();
      if (i > kTimedFrom && Clock::now() - start > kMaxSpin) break;
      if (!deadline.is_forever() && deadline.expired()) return false;  // acquire(timeout=0) tries once
    }
    tl_spin_rounds = std::max(tl_spin_rounds - 1, kMinSpinRounds);
  }
  for (;;) {
    if (deadline.expired()) return try_lock();
    Waiter w;
    // Spinning was done above; a parked mutex waiter is woken only after a full unlock, so a
    // second spin in the parker would mostly compete with the holder for the CPU.
    w.spin = false;
    {
      std::lock_guard g(waiters_);
      std::uint32_t s = state_.load(std::memory_order_relaxed);
      for (;;) {
        if ((s & kLocked) == 0) {
          if (state_.compare_exchange_weak(s, s | kLocked, std::memory_order_acquire, std::memory_order_relaxed)) {
            return true;
          }
        } else if ((s & kWaiters) != 0 || state_.compare_exchange_weak(s, s | kWaiters, std::memory_order_relaxed,
                                                                       std::memory_order_relaxed)) {
          break;
        }
      }
      waiters_.push_locked(w);
    }
    // Not a hand-off: a woken waiter competes again (CPython's locks are not fair either).
    waiters_.wait(w, deadline);
    if (try_lock()) return true;
  }
}

void Mutex::unlock_slow() noexcept {
  WaitList::Wake wk;
  {
    std::lock_guard g(waiters_);
    if (Waiter* w = waiters_.front_locked()) wk = waiters_.notify_locked(*w);
    // kWaiters only changes under the list lock, so it can be cleared exactly here.
    if (waiters_.empty_locked()) state_.fetch_and(~kWaiters, std::memory_order_relaxed);
  }
  // Released only after the list lock: the moment kLocked clears, another thread may take the
  // mutex, finish and destroy it, so this store is the last touch of *this. A waiter that queues
  // meanwhile set kWaiters, so whoever unlocks next wakes it.
  state_.fetch_and(~kLocked, std::memory_order_release);
  WaitList::wake(wk);
}

}  // namespace trident::detail
