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
      if (try_lock()) return;
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
  return Wake{&w, w.parker, w.context};
}

Waiter* WaitList::detach_locked(int n, int& detached) noexcept {
  Waiter* head = nullptr;
  Waiter* tail = nullptr;
  detached = 0;
  for (; detached < n && head_ != nullptr; ++detached) {
    Waiter* w = head_;
    unlink_locked(*w);
    (tail != nullptr ? tail->next : head) = w;
    tail = w;
  }
  return head;
}

void WaitList::wake(const Wake& wk) noexcept {
  if (wk.waiter == nullptr) return;
  std::atomic<std::uint32_t>* word = &wk.waiter->state;
  // After this exchange the waiter may return and its frame vanish: only `word` as an address,
  // the parker and the context (both outlive the wait) are used from here on.
  const std::uint32_t previous = word->exchange(Waiter::kNotified, std::memory_order_acq_rel);
  wk.parker->unpark(wk.context, word, previous);
}

int WaitList::wake_chain(Waiter* head) noexcept {
  int n = 0;
  while (head != nullptr) {
    Waiter* next = head->next;  // read before the wake: the waiter may vanish right after it
    wake(Wake{head, head->parker, head->context});
    head = next;
    ++n;
  }
  return n;
}

void WaitList::enqueue(Waiter& w) noexcept {
  std::lock_guard g(*this);
  push_locked(w);
}

bool WaitList::cancel(Waiter& w) noexcept {
  {
    std::lock_guard g(*this);
    if (w.linked) {
      unlink_locked(w);
      return true;
    }
  }
  // A waker unlinked us and is about to mark us: our frame must outlive its store, so wait for it
  // (the parker's own wait handles a state already at kSleeping).
  while (!w.parker->park(w, Deadline::forever())) {
  }
  return false;
}

bool WaitList::wait(Waiter& w, const Deadline& deadline) noexcept {
  if (w.parker->park(w, deadline)) return true;
  return !cancel(w);
}

int WaitList::notify(int n) noexcept {
  Waiter* chain;
  {
    std::lock_guard g(*this);
    chain = detach_locked(n);
  }
  return wake_chain(chain);
}

int WaitList::notify_all() noexcept { return notify(std::numeric_limits<int>::max()); }

void EventFlag::set() noexcept {
  waiters_.lock();
  Waiter* chain = waiters_.detach_locked(std::numeric_limits<int>::max());
  waiters_.unlock_with_bits(kSet);  // the last touch of *this
  WaitList::wake_chain(chain);
}

void EventFlag::clear() noexcept {
  waiters_.lock();
  waiters_.unlock_with_bits(0);
}

bool EventFlag::wait_until(const Deadline& deadline) noexcept {
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
