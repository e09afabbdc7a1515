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
/// while parking; yields the CPU if the holder was preempted.
class SpinLock {
 public:
  void lock() noexcept {
    if (!flag_.exchange(true, std::memory_order_acquire)) return;
    lock_slow();
  }
  bool try_lock() noexcept {
    return !flag_.load(std::memory_order_relaxed) && !flag_.exchange(true, std::memory_order_acquire);
  }
  void unlock() noexcept { flag_.store(false, std::memory_order_release); }

 private:
  void lock_slow() noexcept;
  std::atomic<bool> flag_{false};
};

/// A FIFO of waiters with its own SpinLock. Methods named `_locked` need that lock held
/// (take it with `lock()`/`unlock()` or a std::lock_guard on the list).
class WaitList {
 public:
  WaitList() = default;
  WaitList(const WaitList&) = delete;
  WaitList& operator=(const WaitList&) = delete;

  void lock() noexcept { lock_.lock(); }
  void unlock() noexcept { lock_.unlock(); }

  /// Appends `w`.
  void push_locked(Waiter& w) noexcept;
  /// The first waiter, or null.
  Waiter* front_locked() const noexcept { return head_; }
  bool empty_locked() const noexcept { return head_ == nullptr; }
  /// Unlinks `w`, marks it notified and returns what `wake()` needs; call wake() after unlock().
  struct Wake {
    Parker* parker = nullptr;
    void* context = nullptr;
    std::atomic<std::uint32_t>* word = nullptr;
    std::uint32_t previous = 0;
  };
  Wake notify_locked(Waiter& w) noexcept;
  static void wake(const Wake& wk) noexcept {
    if (wk.parker != nullptr) wk.parker->unpark(wk.context, wk.word, wk.previous);
  }

  /// Whether any waiter is queued; a racy hint for fast paths (exact under the lock).
  bool has_waiters() const noexcept { return size_.load(std::memory_order_acquire) != 0; }

  /// Appends `w` under the lock.
  void enqueue(Waiter& w) noexcept;
  /// Parks `w` (already enqueued) until notified or `deadline`. On timeout, removes it; returns
  /// false only if it timed out while still queued (so no notification was consumed).
  bool wait(Waiter& w, const Deadline& deadline) noexcept;
  /// Removes `w` if still queued: true if it was (it was not notified).
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
    std::uint32_t s = state_.load(std::memory_order_relaxed);
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

/// A one-shot flag that many may wait for: thread joins, future completion. `set()` is sticky.
class OnceEvent {
 public:
  bool is_set() const noexcept { return set_.load(std::memory_order_acquire); }
  /// Sets the flag and wakes every waiter; later waits return at once.
  void set() noexcept;
  /// Waits until set or `deadline`; true if set.
  bool wait_until(const Deadline& deadline) noexcept;

 private:
  std::atomic<bool> set_{false};
  WaitList waiters_;
};

}  // namespace trident::detail
