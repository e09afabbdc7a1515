#include <mutex>

#include "core/cpu_relax.hpp"
#include "trident/detail/wait.hpp"

namespace trident::detail {

bool Mutex::lock_slow(const Deadline& deadline) noexcept {
  // The holder is most likely on the other core, a few instructions from unlock. A short spin
  // only (as glibc's adaptive mutex): under steady contention longer spins just bounce the
  // lock's cache line between the cores.
  for (int i = 0; i < 8; ++i) {
    cpu_relax();
    if (try_lock()) return true;
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
