#include <sched.h>

#include <cmath>
#include <limits>
#include <mutex>
#include <string>

#include "core/cpu_relax.hpp"
#include "trident/detail/wait.hpp"
#include "trident/errors.hpp"

namespace trident::detail {

void check_timeout(const Timeout& timeout, std::string_view api) {
  if (timeout && std::isnan(timeout->count())) {
    throw ValueError(std::string(api) + ": timeout must be a number, got NaN");
  }
  if (timeout && timeout->count() < 0) {
    throw ValueError(std::string(api) + ": timeout must be a non-negative number, got " +
                     std::to_string(timeout->count()) + " s (use std::nullopt to wait forever)");
  }
}

Deadline Deadline::after(const Timeout& timeout, std::string_view api) {
  check_timeout(timeout, api);
  if (!timeout) return forever();
  const auto now = Clock::now();
  // Clamp huge timeouts (Python accepts threading.TIMEOUT_MAX-sized ones) instead of overflowing.
  const auto left = std::chrono::duration<double, std::nano>(Clock::time_point::max() - now);
  if (std::chrono::duration<double, std::nano>(*timeout) >= left) return forever();
  return Deadline(now + std::chrono::duration_cast<Clock::duration>(*timeout));
}

Seconds Deadline::remaining() const noexcept {
  const auto left = when_ - Clock::now();
  return left.count() > 0 ? std::chrono::duration_cast<Seconds>(left) : Seconds(0);
}

void SpinLock::lock_slow() noexcept {
  for (;;) {
    for (int i = 0; i < 128; ++i) {
      if (!flag_.load(std::memory_order_relaxed) && !flag_.exchange(true, std::memory_order_acquire)) return;
      cpu_relax();
    }
    // The holder was probably preempted in its few instructions: let it run.
    sched_yield();
  }
}

void WaitList::push_locked(Waiter& w) noexcept {
  TRIDENT_ASSERT(!w.linked, "waiter queued twice");
  w.next = nullptr;
  w.prev = tail_;
  if (tail_ != nullptr) {
    tail_->next = &w;
  } else {
    head_ = &w;
  }
  tail_ = &w;
  w.linked = true;
  size_.store(size_.load(std::memory_order_relaxed) + 1, std::memory_order_release);
}

void WaitList::unlink_locked(Waiter& w) noexcept {
  TRIDENT_ASSERT(w.linked, "unlinking a waiter that is not queued");
  (w.prev != nullptr ? w.prev->next : head_) = w.next;
  (w.next != nullptr ? w.next->prev : tail_) = w.prev;
  w.next = w.prev = nullptr;
  w.linked = false;
  size_.store(size_.load(std::memory_order_relaxed) - 1, std::memory_order_release);
}

WaitList::Wake WaitList::notify_locked(Waiter& w) noexcept {
  unlink_locked(w);
  Wake wk{w.parker, w.context, &w.state, 0};
  // Marked under the lock: a waiter that timed out takes the lock to cancel, so once it sees
  // itself unlinked it knows the state is final and may leave (its stack frame with it).
  wk.previous = w.state.exchange(Waiter::kNotified, std::memory_order_acq_rel);
  return wk;
}

void WaitList::enqueue(Waiter& w) noexcept {
  std::lock_guard g(*this);
  push_locked(w);
}

bool WaitList::cancel(Waiter& w) noexcept {
  std::lock_guard g(*this);
  if (!w.linked) return false;
  unlink_locked(w);
  return true;
}

bool WaitList::wait(Waiter& w, const Deadline& deadline) noexcept {
  if (w.parker->park(w, deadline)) return true;
  return !cancel(w);
}

int WaitList::notify(int n) noexcept {
  // Wake outside the lock, in small batches, so the list is never held across a system call.
  constexpr int kBatch = 16;
  int woken = 0;
  while (woken < n) {
    Wake batch[kBatch];
    int k = 0;
    {
      std::lock_guard g(*this);
      while (k < kBatch && woken + k < n && head_ != nullptr) batch[k++] = notify_locked(*head_);
    }
    for (int i = 0; i < k; ++i) wake(batch[i]);
    woken += k;
    if (k < kBatch) break;
  }
  return woken;
}

int WaitList::notify_all() noexcept { return notify(std::numeric_limits<int>::max()); }

void OnceEvent::set() noexcept {
  set_.store(true, std::memory_order_release);
  waiters_.notify_all();
}

bool OnceEvent::wait_until(const Deadline& deadline) noexcept {
  if (is_set()) return true;
  if (deadline.expired()) return false;
  Waiter w;
  {
    std::lock_guard g(waiters_);
    if (is_set()) return true;
    waiters_.push_locked(w);
  }
  return waiters_.wait(w, deadline) || is_set();
}

}  // namespace trident::detail
