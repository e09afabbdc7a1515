// threading's synchronisation primitives: the slow paths of Lock and RLock, and Condition,
// Semaphore, Event and Barrier, all built on the waiting core.
#include <cstdint>
#include <limits>
#include <mutex>
#include <string>

#include "trident/threading.hpp"

namespace trident::threading {

using trident::detail::Deadline;
using trident::detail::Waiter;
using trident::detail::WaitList;

// ---- Lock, RLock ----

bool Lock::acquire_slow(bool blocking, const Timeout& timeout) {
  if (!blocking) {
    if (timeout) throw ValueError("Lock::acquire(): can't specify a timeout for a non-blocking call");
    return mutex_.try_lock();
  }
  return mutex_.lock_until(Deadline::after(timeout, "Lock::acquire()"));
}

bool RLock::acquire_slow(bool blocking, const Timeout& timeout) {
  if (!blocking && timeout) throw ValueError("RLock::acquire(): can't specify a timeout for a non-blocking call");
  const Deadline deadline = blocking ? Deadline::after(timeout, "RLock::acquire()") : Deadline::now();
  const unsigned long me = detail::owner_token();
  if (owner_.load(std::memory_order_relaxed) == me) {
    ++count_;
    return true;
  }
  if (!(blocking ? mutex_.lock_until(deadline) : mutex_.try_lock())) return false;
  owner_.store(me, std::memory_order_relaxed);
  count_ = 1;
  return true;
}

// ---- Condition ----

Condition::Condition() : rlock_(&own_) {}
Condition::Condition(Lock& lock) noexcept : lock_(&lock) {}
Condition::Condition(RLock& lock) noexcept : rlock_(&lock) {}

bool Condition::acquire(bool blocking, Timeout timeout) {
  return lock_ != nullptr ? lock_->acquire(blocking, timeout) : rlock_->acquire(blocking, timeout);
}

void Condition::release() {
  if (lock_ != nullptr) {
    lock_->release();
  } else {
    rlock_->release();
  }
}

bool Condition::is_owned() const noexcept {
  // Python's Condition._is_owned: for a plain Lock, "held by anyone" is all that can be known.
  return lock_ != nullptr ? lock_->locked() : rlock_->is_owned();
}

void Condition::check_owned(const char* message) const {
  if (!is_owned()) throw RuntimeError(message);
}

bool Condition::wait(Timeout timeout) {
  check_owned("Condition::wait(): cannot wait on un-acquired lock");
  return wait_deadline(Deadline::after(timeout, "Condition::wait()"));
}

bool Condition::wait_deadline(const Deadline& deadline) {
  check_owned("Condition::wait(): cannot wait on un-acquired lock");
  // Queued before the lock is released, so a notify() issued as soon as the lock is free finds
  // this waiter: no lost wake-up.
  Waiter w;
  waiters_.enqueue(w);
  bool notified;
  if (lock_ != nullptr) {
    lock_->release();
    notified = waiters_.wait(w, deadline);
    lock_->lock();
  } else {
    // Python's _release_save/_acquire_restore: give up every level, then take them all back.
    RLock& r = *rlock_;
    const int depth = r.count_;
    r.count_ = 0;
    r.owner_.store(0, std::memory_order_relaxed);
    r.mutex_.unlock();
    notified = waiters_.wait(w, deadline);
    r.mutex_.lock();
    r.owner_.store(detail::owner_token(), std::memory_order_relaxed);
    r.count_ = depth;
  }
  return notified;
}

void Condition::notify(int n) {
  check_owned("Condition::notify(): cannot notify on un-acquired lock");
  if (n > 0 && waiters_.has_waiters()) waiters_.notify(n);
}

void Condition::notify_all() {
  check_owned("Condition::notify_all(): cannot notify on un-acquired lock");
  if (waiters_.has_waiters()) waiters_.notify_all();
}

// ---- Semaphore ----

Semaphore::Semaphore(int value) : Semaphore(value, false) {}

Semaphore::Semaphore(int value, bool bounded) : bound_(bounded ? value : -1) {
  if (value < 0) throw ValueError("Semaphore(): semaphore initial value must be >= 0");
  waiters_.lock();
  waiters_.unlock_with_bits(static_cast<std::uint32_t>(value) << 1);
}

BoundedSemaphore::BoundedSemaphore(int value) : Semaphore(value, true) {}

bool Semaphore::try_take() noexcept {
  std::uint32_t bits = waiters_.bits();
  while (bits >= 2) {
    if (waiters_.compare_exchange_bits(bits, bits - 2)) return true;
  }
  return false;
}

bool Semaphore::acquire(bool blocking, Timeout timeout) {
  if (!blocking && timeout) throw ValueError("Semaphore::acquire(): can't specify timeout for non-blocking acquire");
  const Deadline deadline = blocking ? Deadline::after(timeout, "Semaphore::acquire()") : Deadline::now();
  if (try_take()) return true;
  if (!blocking) return false;
  Waiter w;
  waiters_.lock();
  if (const std::uint32_t bits = waiters_.bits(); bits >= 2) {
    waiters_.unlock_with_bits(bits - 2);
    return true;
  }
  if (deadline.expired()) {
    waiters_.unlock();
    return false;
  }
  waiters_.push_locked(w);
  waiters_.unlock();
  // Notified means a release() handed this waiter its permit; a timeout that lost the race with
  // such a hand-off still reports it, so no permit is ever dropped.
  return waiters_.wait(w, deadline);
}

void Semaphore::release(int n) {
  if (n < 1) throw ValueError("Semaphore::release(): n must be one or more");
  waiters_.lock();
  const auto value = static_cast<std::int64_t>(waiters_.bits() >> 1);
  if (bound_ >= 0 && value + n > bound_) {
    waiters_.unlock();
    throw ValueError("BoundedSemaphore::release(): Semaphore released too many times");
  }
  if (value + n > std::numeric_limits<int>::max()) {
    waiters_.unlock();
    throw ValueError("Semaphore::release(): the value would exceed " + std::to_string(std::numeric_limits<int>::max()));
  }
  // Permits go straight to the longest waiters; the rest become free permits.
  int handed = 0;
  Waiter* chain = waiters_.detach_locked(n, handed);
  waiters_.unlock_with_bits(static_cast<std::uint32_t>(value + (n - handed)) << 1);  // last touch of *this
  WaitList::wake_chain(chain);
}

// ---- Event ----

void Event::set() { flag_.set(); }

void Event::clear() noexcept { flag_.clear(); }

bool Event::wait(Timeout timeout) { return flag_.wait_until(Deadline::after(timeout, "Event::wait()")); }

// ---- Barrier (CPython's algorithm, states as in threading.py) ----

namespace {
constexpr int kFilling = 0;
constexpr int kDraining = 1;
constexpr int kResetting = -1;
constexpr int kBroken = -2;

[[noreturn]] void throw_broken() { throw BrokenBarrierError("Barrier::wait(): the barrier is broken"); }
}  // namespace

Barrier::Barrier(int parties, std::function<void()> action, Timeout timeout)
    : parties_(parties), action_(std::move(action)), timeout_(timeout) {
  if (parties < 1) throw ValueError("Barrier(): parties must be >= 1");
  trident::detail::check_timeout(timeout, "Barrier()");
}

int Barrier::wait(Timeout timeout) {
  const Deadline deadline = Deadline::after(timeout ? timeout : timeout_, "Barrier::wait()");
  std::unique_lock lk(mutex_);
  enter(lk);
  const int index = count_++;
  try {
    if (index + 1 == parties_) {
      release_all();
    } else {
      wait_release(lk, deadline);
    }
  } catch (...) {
    --count_;
    exit_wait();
    throw;
  }
  --count_;
  exit_wait();
  return index;
}

// Blocks while the previous cycle drains or resets.
void Barrier::enter(std::unique_lock<trident::detail::Mutex>& lk) {
  while (state_ == kResetting || state_ == kDraining) cond_.wait(*lk.mutex());
  if (state_ < 0) throw_broken();
}

// The last arrival runs the action, then releases everyone.
void Barrier::release_all() {
  try {
    if (action_) action_();
    state_ = kDraining;
    cond_.notify_all();
  } catch (...) {
    break_barrier();
    throw;
  }
}

void Barrier::wait_release(std::unique_lock<trident::detail::Mutex>& lk, const Deadline& deadline) {
  bool released = state_ != kFilling;
  bool waited = false;
  while (!released) {
    if (waited && deadline.expired()) break;
    cond_.wait_until(*lk.mutex(), deadline);
    waited = true;
    released = state_ != kFilling;
  }
  if (!released) {
    break_barrier();  // a timeout breaks the barrier for everyone, as in Python
    throw_broken();
  }
  if (state_ < 0) throw_broken();
}

// The last thread out of a drain or reset lets the next cycle fill.
void Barrier::exit_wait() {
  if (count_ == 0 && (state_ == kResetting || state_ == kDraining)) {
    state_ = kFilling;
    cond_.notify_all();
  }
}

void Barrier::reset() {
  std::lock_guard g(mutex_);
  if (count_ > 0) {
    if (state_ == kFilling || state_ == kBroken) state_ = kResetting;
  } else {
    state_ = kFilling;
  }
  cond_.notify_all();
}

void Barrier::abort() {
  std::lock_guard g(mutex_);
  break_barrier();
}

void Barrier::break_barrier() noexcept {
  state_ = kBroken;
  cond_.notify_all();
}

int Barrier::n_waiting() const {
  std::lock_guard g(mutex_);
  return state_ == kFilling ? count_ : 0;
}

bool Barrier::broken() const {
  std::lock_guard g(mutex_);
  return state_ == kBroken;
}

}  // namespace trident::threading
