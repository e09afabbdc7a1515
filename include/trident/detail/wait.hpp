// trident/detail/wait.hpp — the waiting core: the one way anything in trident blocks.
//
// Not API: public templates (Queue<T>, Future<T>) need it, so it lives in a header. See
// docs/core.md for the design. In short: a blocked call puts a `Waiter` (on its own stack) into a
// `WaitList` and parks through the `Parker` of its execution context — an OS thread parks on a
// futex after a short adaptive spin; a greenlet (later) switches to its hub. A waker removes the
// waiter from the list, marks it notified while holding the list's lock, and asks the waiter's
// parker to unpark it. Every primitive (Mutex, CondVar and the modules' locks, queues, futures,
// joins) is built from these pieces, so a new kind of parker makes every primitive work with it.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <string_view>

#include "trident/config.hpp"
#include "trident/timeout.hpp"

namespace trident::detail {

using Clock = std::chrono::steady_clock;

/// When a wait gives up: a point on the monotonic clock, or never.
class Deadline {
 public:
  /// A deadline that never passes (Python's `timeout=None`).
  static Deadline forever() noexcept { return Deadline(Clock::time_point::max()); }
  /// A deadline that has already passed (a non-blocking attempt).
  static Deadline now() noexcept { return Deadline(Clock::now()); }
  /// `timeout` from now; nullopt is forever. Throws ValueError naming `api` if it is negative.
  static Deadline after(const Timeout& timeout, std::string_view api);
  explicit Deadline(Clock::time_point when) noexcept : when_(when) {}

  bool is_forever() const noexcept { return when_ == Clock::time_point::max(); }
  bool expired() const noexcept { return !is_forever() && Clock::now() >= when_; }
  Clock::time_point when() const noexcept { return when_; }
  /// Time left (zero once passed); meaningless for a forever deadline.
  Seconds remaining() const noexcept;

 private:
  Clock::time_point when_;
};

/// Throws ValueError "`api`: timeout must be a non-negative number" for a negative timeout.
void check_timeout(const Timeout& timeout, std::string_view api);

class Parker;

/// One blocked call's entry in a WaitList. Lives on the waiting call's stack.
struct Waiter {
  // The state word the waiter's parker watches. Values:
  static constexpr std::uint32_t kWaiting = 0;   // in a list, not yet notified
  static constexpr std::uint32_t kNotified = 1;  // removed and woken by a notifier
  static constexpr std::uint32_t kSleeping = 2;  // waiting, and its thread sleeps in the kernel
  std::atomic<std::uint32_t> state{kWaiting};
  Parker* parker;          // how to wake the context that waits; set from current_parker()
  void* context;           // parker-specific identity of that context (a greenlet; null for threads)
  Waiter* next = nullptr;  // list links, guarded by the owning WaitList's lock
  Waiter* prev = nullptr;
  bool linked = false;
  std::uintptr_t data = 0;  // the primitive's own payload (e.g. permits wanted); guarded likewise
  bool spin = true;         // whether a thread parker may spin before sleeping (see Mutex)

  Waiter() noexcept;
  Waiter(const Waiter&) = delete;
  Waiter& operator=(const Waiter&) = delete;
};

/// How an execution context blocks and is woken. The thread parker is the default for every OS
/// thread; a greenlet hub installs its own parker while it runs greenlets (set_current_parker).
class Parker {
 public:
  virtual ~Parker() = default;
  /// Blocks until `w.state` is kNotified or `deadline` passes; true when notified. May return
  /// false early (spuriously) only when the deadline has passed.
  virtual bool park(Waiter& w, const Deadline& deadline) noexcept = 0;
  /// Wakes the context that parks on the waiter whose state word is `word`, with `context` as
  /// it was in the waiter. Called after the state became kNotified, so the waiter may already be
  /// gone: an implementation must not dereference the waiter, only use `word` as an address.
  virtual void unpark(void* context, std::atomic<std::uint32_t>* word, std::uint32_t previous_state) noexcept = 0;
  /// The identity of the calling context that `unpark` will get back (null for threads).
  virtual void* current_context() noexcept { return nullptr; }
};

/// The parker of the calling context: the thread parker unless a hub installed another.
Parker& current_parker() noexcept;
/// Installs `p` as the calling thread's parker (null restores the thread parker); returns the old.
Parker* set_current_parker(Parker* p) noexcept;
/// The parker that parks OS threads on a futex.
Parker& thread_parker() noexcept;

/// A small test-and-test-and-set lock for the few instructions that edit a wait list. Never held
/// while parking; yields the CPU if the holder was preempted. Bit 0 of its word is the lock; the
/// other bits are free for the owning primitive's state, so that releasing the lock and publishing
/// a new state is ONE store — the last write a waker makes to a primitive that a woken waiter may
/// destroy at once (see EventFlag).
class SpinLock {
 public:
  void lock() noexcept {
    std::uint32_t s = word_.load(std::memory_order_relaxed) & ~kLockBit;
    if (word_.compare_exchange_weak(s, s | kLockBit, std::memory_order_acquire, std::memory_order_relaxed)) return;
    lock_slow();
  }
  bool try_lock() noexcept {
    std::uint32_t s = word_.load(std::memory_order_relaxed);
    return (s & kLockBit) == 0 &&
           word_.compare_exchange_strong(s, s | kLockBit, std::memory_order_acquire, std::memory_order_relaxed);
  }
  // Only the holder writes the word while it is locked, so a plain store releases it.
  void unlock() noexcept { word_.store(word_.load(std::memory_order_relaxed) & ~kLockBit, std::memory_order_release); }
  /// Releases the lock and sets the state bits to `bits` (bit 0 must be clear) in one store.
  void unlock_with_bits(std::uint32_t bits) noexcept { word_.store(bits & ~kLockBit, std::memory_order_release); }
  /// The state bits (without the lock bit).
  std::uint32_t bits() const noexcept { return word_.load(std::memory_order_acquire) & ~kLockBit; }
  /// While unlocked, replaces state bits `expected` by `desired` (acquire); otherwise false with
  /// `expected` updated (it also fails while the lock is held, so retrying spins briefly).
  bool compare_exchange_bits(std::uint32_t& expected, std::uint32_t desired) noexcept {
    std::uint32_t e = expected & ~kLockBit;
    if (word_.compare_exchange_weak(e, desired & ~kLockBit, std::memory_order_acquire, std::memory_order_relaxed)) {
      return true;
    }
    expected = e & ~kLockBit;
    return false;
  }

 private:
  static constexpr std::uint32_t kLockBit = 1;
  void lock_slow() noexcept;
  std::atomic<std::uint32_t> word_{0};
};

/// A FIFO of waiters with its own SpinLock. Methods named `_locked` need that lock held
/// (take it with `lock()`/`unlock()` or a std::lock_guard on the list).
///
/// Waking is two-phase so that a waker never touches the primitive after the woken waiter could
/// observe the wake (and, say, destroy the queue it waited on): under the lock a waiter is only
/// *unlinked* (`notify_locked`); after the lock is released, `wake()` marks it notified and
/// unparks it, touching only the waiter — which cannot leave before it is marked, not even after
/// its own timeout (`cancel` then waits for the wake in flight).
class WaitList {
 public:
  WaitList() = default;
  WaitList(const WaitList&) = delete;
  WaitList& operator=(const WaitList&) = delete;

  void lock() noexcept { lock_.lock(); }
  void unlock() noexcept { lock_.unlock(); }
  /// Releases the lock and publishes the owner's state bits (bit 0 clear) in one store.
  void unlock_with_bits(std::uint32_t bits) noexcept { lock_.unlock_with_bits(bits); }
  /// The owner's state bits stored with the lock.
  std::uint32_t bits() const noexcept { return lock_.bits(); }
  /// SpinLock::compare_exchange_bits on the list's lock word.
  bool compare_exchange_bits(std::uint32_t& expected, std::uint32_t desired) noexcept {
    return lock_.compare_exchange_bits(expected, desired);
  }

  /// Appends `w`.
  void push_locked(Waiter& w) noexcept;
  /// The first waiter, or null.
  Waiter* front_locked() const noexcept { return head_; }
  bool empty_locked() const noexcept { return head_ == nullptr; }
  /// A waiter taken out of the list, to be woken by `wake()` once the lock is released.
  struct Wake {
    Waiter* waiter = nullptr;
    Parker* parker = nullptr;  // non-null exactly when there is a waiter to wake
    void* context = nullptr;
  };
  /// Unlinks `w` and returns what `wake()` needs; call wake() after unlock(). Until then `w`
  /// stays blocked, so the caller may still hand it data (e.g. through `w.data`).
  Wake notify_locked(Waiter& w) noexcept;
  /// Unlinks up to `n` waiters (FIFO) into a chain for wake_chain(); returns its head and, in
  /// `detached`, how many it holds.
  Waiter* detach_locked(int n, int& detached) noexcept;
  Waiter* detach_locked(int n) noexcept {
    int ignored;
    return detach_locked(n, ignored);
  }
  /// Marks the waiter notified and unparks it. No-op for an empty Wake.
  static void wake(const Wake& wk) noexcept;
  /// Wakes every waiter of a chain from detach_locked(); returns how many.
  static int wake_chain(Waiter* head) noexcept;

  /// Whether any waiter is queued; a racy hint for fast paths (exact under the lock).
  bool has_waiters() const noexcept { return size_.load(std::memory_order_acquire) != 0; }

  /// Appends `w` under the lock.
  void enqueue(Waiter& w) noexcept;
  /// Parks `w` (already enqueued) until notified or `deadline`. On timeout, removes it; returns
  /// false only if it timed out while still queued (so no notification was consumed).
  bool wait(Waiter& w, const Deadline& deadline) noexcept;
  /// Removes `w` if still queued and returns true (it was not notified). Otherwise a wake is in
  /// flight: waits for it to land and returns false.
  bool cancel(Waiter& w) noexcept;
  /// Wakes up to `n` waiters in FIFO order; returns how many.
  int notify(int n) noexcept;
  /// Wakes every waiter; returns how many.
  int notify_all() noexcept;

 private:
  void unlink_locked(Waiter& w) noexcept;
  SpinLock lock_;
  Waiter* head_ = nullptr;            // guarded by lock_
  Waiter* tail_ = nullptr;            // guarded by lock_
  std::atomic<std::size_t> size_{0};  // written under lock_, read racily by has_waiters()
};

/// The core's mutex: what threading::Lock, queues and futures lock with. Not fair (a releasing
/// thread's successor competes with newcomers, as in CPython), not owned (any thread may unlock).
class Mutex {
 public:
  Mutex() = default;
  Mutex(const Mutex&) = delete;
  Mutex& operator=(const Mutex&) = delete;

  bool try_lock() noexcept {
    // Optimistic CAS from "free, no waiters" first: a load before the CAS costs about a third of
    // the uncontended acquire+release on x86 (measured 13.5 vs 10.2 ns). A failed CAS hands back
    // the current state, for the second try when only kWaiters was set.
    std::uint32_t s = 0;
    if (state_.compare_exchange_strong(s, kLocked, std::memory_order_acquire, std::memory_order_relaxed)) {
      return true;
    }
    return (s & kLocked) == 0 &&
           state_.compare_exchange_strong(s, s | kLocked, std::memory_order_acquire, std::memory_order_relaxed);
  }
  void lock() noexcept {
    if (!try_lock()) lock_slow(Deadline::forever());
  }
  /// Acquires, giving up at `deadline`; true if acquired.
  bool lock_until(const Deadline& deadline) noexcept { return try_lock() || lock_slow(deadline); }
  void unlock() noexcept {
    std::uint32_t s = kLocked;
    if (state_.compare_exchange_strong(s, 0, std::memory_order_release, std::memory_order_relaxed)) return;
    unlock_slow();
  }
  /// unlock() if held; false (and no change) if it was not locked. One atomic operation, so
  /// threading::Lock::release() can report "release unlocked lock" at no extra cost.
  bool unlock_if_locked() noexcept {
    std::uint32_t s = kLocked;
    if (state_.compare_exchange_strong(s, 0, std::memory_order_release, std::memory_order_relaxed)) return true;
    if ((s & kLocked) == 0) return false;
    unlock_slow();
    return true;
  }
  bool locked() const noexcept { return (state_.load(std::memory_order_relaxed) & kLocked) != 0; }

 private:
  static constexpr std::uint32_t kLocked = 1;   // held
  static constexpr std::uint32_t kWaiters = 2;  // waiters_ may be non-empty; set and cleared under its lock
  bool lock_slow(const Deadline& deadline) noexcept;
  void unlock_slow() noexcept;
  std::atomic<std::uint32_t> state_{0};
  WaitList waiters_;
};

/// The core's condition variable over any BasicLockable (Mutex, threading::Lock, ...).
class CondVar {
 public:
  /// Releases `lock`, waits for a notification or `deadline`, re-acquires `lock`. True if
  /// notified. Spurious wake-ups do not happen, but callers still loop on their predicate.
  template <class L>
  bool wait_until(L& lock, const Deadline& deadline) {
    Waiter w;
    waiters_.enqueue(w);
    lock.unlock();
    bool notified = waiters_.wait(w, deadline);
    lock.lock();
    return notified;
  }
  template <class L>
  void wait(L& lock) {
    wait_until(lock, Deadline::forever());
  }
  /// Wakes up to `n` waiters; cheap when none waits.
  void notify(int n = 1) noexcept {
    if (waiters_.has_waiters()) waiters_.notify(n);
  }
  void notify_all() noexcept {
    if (waiters_.has_waiters()) waiters_.notify_all();
  }
  bool has_waiters() const noexcept { return waiters_.has_waiters(); }

 private:
  WaitList waiters_;
};

/// A flag that many may wait for: thread joins, future completion, threading::Event. Set
/// until cleared.
class EventFlag {
 public:
  bool is_set() const noexcept { return (waiters_.bits() & kSet) != 0; }
  /// Sets the flag and wakes every waiter; later waits return at once. The flag is published by
  /// the same store that releases the list, so a waiter that sees it may destroy the flag at once.
  void set() noexcept;
  /// Resets the flag.
  void clear() noexcept;
  /// Waits until set or `deadline`; true if it was set (even if cleared again before this waiter
  /// woke), false on timeout.
  bool wait_until(const Deadline& deadline) noexcept;

 private:
  static constexpr std::uint32_t kSet = 2;  // in the list's lock word
  WaitList waiters_;
};

}  // namespace trident::detail
