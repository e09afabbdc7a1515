// trident/multiprocessing/synchronize.hpp — Python's `multiprocessing.synchronize`: process-shared
// `Lock`, `RLock`, `Semaphore`, `BoundedSemaphore`, `Condition`, `Event`, `Barrier`.
//
// Each object's state lives in a shared-memory segment; the C++ object is a cheap copyable handle
// to it. Copying a handle, or fork()ing, shares the same lock (no std::ref is ever needed). A
// handle is a segment plus an offset, so it can be rebuilt from the segment's name and the offset
// (the constructors taking `(segment, offset)`): that is how a handle passed as a Process argument
// reaches a forkserver or spawn child (detail::Crossing below).
// Semantics are the threading module's (same Lockable shape: acquire(blocking, timeout), release,
// lock/unlock/try_lock, trident::Timeout); blocked threads sleep on a futex word in the shared
// mapping (a greenlet hub cannot see such a word: docs/multiprocessing.md says how a
// greenlet will park on these, through a hub-side waiter thread). See that page for the layouts.
//
// What deliberately differs from Python:
// - Robust locks: if a process dies holding a `Lock` (or the thread holding an `RLock` dies), the
//   next acquirer gets the lock within a bounded time (a 10 ms poll plus scheduling) and
//   `owner_died()` tells it so. CPython deadlocks forever.
// - `Lock::release()` of an unlocked lock is ValueError (CPython's multiprocessing message
//   "semaphore or lock released too many times"); `RLock::release()` by a non-owner is
//   RuntimeError (threading's; CPython's multiprocessing raises AssertionError).
// - A `Barrier`'s action runs in the process of the last arriving party, from that process's handle.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <variant>

#include "trident/detail/mp_crossing.hpp"
#include "trident/detail/shm_segment.hpp"
#include "trident/detail/wait.hpp"
#include "trident/errors.hpp"
#include "trident/timeout.hpp"

namespace trident::multiprocessing {

namespace detail {

// The state of a Lock or RLock, in shared memory (all zero = free).
struct LockState {
  // 0 = free; else the owner's id (a pid for Lock, a tid for RLock) in bits 0..29, and
  // kWaiters when some thread may sleep on this word (the releaser then wakes one).
  std::atomic<std::uint32_t> word;
  std::uint32_t count;                    // RLock depth; written by the owner only
  std::atomic<std::uint32_t> owner_died;  // 1: the holder took the lock from a dead owner
};
inline constexpr std::uint32_t kWaiters = 1u << 31;
inline constexpr std::uint32_t kIdMask = (1u << 30) - 1;

// A semaphore's state, in shared memory.
struct SemState {
  std::atomic<std::uint32_t> value;    // free permits; the futex word waiters sleep on
  std::atomic<std::uint32_t> waiters;  // threads that may sleep on `value`
  std::uint32_t bound;                 // BoundedSemaphore's initial value; kUnbounded otherwise
};
inline constexpr std::uint32_t kUnbounded = 0xffffffffu;

// Caches of the calling process's pid and thread's tid (0 = not fetched yet); a forked child's
// at-fork handler resets both, so they are right in the child too.
extern constinit std::atomic<int> g_pid;
extern constinit thread_local int t_tid;
int fetch_pid() noexcept;
int fetch_tid() noexcept;
inline std::uint32_t current_pid() noexcept {
  const int p = g_pid.load(std::memory_order_relaxed);
  return static_cast<std::uint32_t>(p != 0 ? p : fetch_pid());
}
inline std::uint32_t current_tid() noexcept {
  const int t = t_tid;
  return static_cast<std::uint32_t>(t != 0 ? t : fetch_tid());
}

// Takes the lock for `id`: one attempt unless `blocking`, until `deadline`; recovers it from a
// dead owner (setting owner_died). Throws only for a bad timeout (checked by callers).
bool lock_acquire_slow(LockState* s, std::uint32_t id, bool blocking, const trident::detail::Deadline& deadline);
// Wakes one sleeper of a released word.
void lock_wake(LockState* s) noexcept;
bool sem_acquire(SemState* s, bool blocking, const trident::detail::Deadline& deadline) noexcept;
// Adds `n` permits; false (and no change) if a bound would be passed or the value overflow.
bool sem_release(SemState* s, std::uint32_t n) noexcept;

// A handle's grip on state of type S at an offset of a segment: keeps the segment mapped.
template <class S>
struct SharedRef {
  std::shared_ptr<trident::detail::ShmSegment> segment;
  S* state = nullptr;
  SharedRef() = default;
  SharedRef(std::shared_ptr<trident::detail::ShmSegment> seg, std::size_t offset)
      : segment(std::move(seg)), state(reinterpret_cast<S*>(segment->data() + offset)) {}
  static SharedRef make() { return SharedRef(trident::detail::ShmSegment::make_internal(sizeof(S)), 0); }
  std::size_t offset() const noexcept {
    return static_cast<std::size_t>(reinterpret_cast<std::byte*>(state) - segment->data());
  }
};

[[noreturn]] void throw_value_error(const char* message);
[[noreturn]] void throw_runtime_error(const char* message);

}  // namespace detail

/// Python's `multiprocessing.Lock`: a non-recursive lock any thread of any process may release.
class Lock {
 public:
  /// A new, unlocked lock in a segment of its own.
  Lock() : ref_(detail::SharedRef<detail::LockState>::make()) {}
  /// The lock whose state is at `offset` of `segment` (zeroed memory is a free lock): how a handle
  /// is rebuilt from a segment name and an offset.
  Lock(std::shared_ptr<trident::detail::ShmSegment> segment, std::size_t offset) : ref_(std::move(segment), offset) {}

  /// Acquires the lock. Blocking: waits until free or `timeout` passes (true if acquired).
  /// `blocking = false`: one attempt. A lock whose holder process died is taken over (see
  /// owner_died()). Throws ValueError for a timeout with `blocking = false`, or a negative one.
  bool acquire(bool blocking = true, Timeout timeout = std::nullopt) {
    std::uint32_t expected = 0;
    if (blocking && !timeout &&
        ref_.state->word.compare_exchange_strong(expected, detail::current_pid(), std::memory_order_acquire,
                                                 std::memory_order_relaxed)) [[likely]] {
      if (ref_.state->owner_died.load(std::memory_order_relaxed) != 0) [[unlikely]]
        ref_.state->owner_died.store(0, std::memory_order_relaxed);
      return true;
    }
    return acquire_slow(blocking, timeout);
  }
  /// Releases the lock (any thread of any process may). Throws ValueError "Lock::release():
  /// semaphore or lock released too many times" when it is not locked.
  void release() {
    const std::uint32_t old = ref_.state->word.exchange(0, std::memory_order_release);
    if ((old & detail::kWaiters) != 0) [[unlikely]]
      detail::lock_wake(ref_.state);
    if (old == 0) [[unlikely]]
      detail::throw_value_error("Lock::release(): semaphore or lock released too many times");
  }
  /// Whether some thread of some process holds the lock.
  bool locked() const noexcept { return ref_.state->word.load(std::memory_order_relaxed) != 0; }
  /// Whether the current holder took the lock over from a process that died holding it (so the
  /// data it guards may be half-updated). Reset by the next acquisition from a live owner.
  bool owner_died() const noexcept { return ref_.state->owner_died.load(std::memory_order_relaxed) != 0; }
  /// BasicLockable / Lockable, for std::scoped_lock and friends.
  void lock() { acquire(); }
  void unlock() { release(); }
  bool try_lock() { return acquire(false); }
  /// The segment and offset of the shared state (what crosses to a spawned child).
  const std::string& segment_name() const noexcept { return ref_.segment->name(); }
  std::size_t offset() const noexcept { return ref_.offset(); }

 private:
  friend class Condition;
  bool acquire_slow(bool blocking, const Timeout& timeout);
  detail::SharedRef<detail::LockState> ref_;
};

/// Python's `multiprocessing.RLock`: a lock its owner thread may acquire again, released when
/// released as many times. Robust as Lock, per thread: an owner thread that ended holding it counts
/// as dead.
class RLock {
 public:
  RLock() : ref_(detail::SharedRef<detail::LockState>::make()) {}
  /// See Lock(segment, offset).
  RLock(std::shared_ptr<trident::detail::ShmSegment> segment, std::size_t offset) : ref_(std::move(segment), offset) {}

  /// As Lock::acquire (messages say "RLock::acquire()"); the owner re-acquires at once.
  bool acquire(bool blocking = true, Timeout timeout = std::nullopt) {
    if (blocking && !timeout) [[likely]] {
      detail::LockState* s = ref_.state;
      const std::uint32_t me = detail::current_tid();
      std::uint32_t w = s->word.load(std::memory_order_relaxed);
      if ((w & detail::kIdMask) == me) {
        ++s->count;
        return true;
      }
      if (w == 0 && s->word.compare_exchange_strong(w, me, std::memory_order_acquire, std::memory_order_relaxed)) {
        s->count = 1;
        if (s->owner_died.load(std::memory_order_relaxed) != 0) [[unlikely]]
          s->owner_died.store(0, std::memory_order_relaxed);
        return true;
      }
    }
    return acquire_slow(blocking, timeout);
  }
  /// Releases one level. Throws RuntimeError "RLock::release(): cannot release un-acquired lock"
  /// when the calling thread is not the owner.
  void release() {
    detail::LockState* s = ref_.state;
    if ((s->word.load(std::memory_order_relaxed) & detail::kIdMask) != detail::current_tid()) [[unlikely]]
      detail::throw_runtime_error("RLock::release(): cannot release un-acquired lock");
    if (--s->count != 0) return;
    if ((s->word.exchange(0, std::memory_order_release) & detail::kWaiters) != 0) [[unlikely]]
      detail::lock_wake(s);
  }
  /// Whether the calling thread owns the lock.
  bool is_owned() const noexcept {
    return (ref_.state->word.load(std::memory_order_relaxed) & detail::kIdMask) == detail::current_tid();
  }
  /// Whether some thread holds the lock.
  bool locked() const noexcept { return ref_.state->word.load(std::memory_order_relaxed) != 0; }
  /// See Lock::owner_died(). A lock taken over starts at depth 1.
  bool owner_died() const noexcept { return ref_.state->owner_died.load(std::memory_order_relaxed) != 0; }
  void lock() { acquire(); }
  void unlock() { release(); }
  bool try_lock() { return acquire(false); }
  const std::string& segment_name() const noexcept { return ref_.segment->name(); }
  std::size_t offset() const noexcept { return ref_.offset(); }

 private:
  friend class Condition;
  bool acquire_slow(bool blocking, const Timeout& timeout);
  detail::SharedRef<detail::LockState> ref_;
};

/// Python's `multiprocessing.Semaphore(value=1)`. A permit held by a process that dies is lost, as
/// in Python (a semaphore has no owner).
class Semaphore {
 public:
  /// Throws ValueError for a negative value.
  explicit Semaphore(int value = 1) : Semaphore(value, false) {}
  /// Blocking: waits for a permit or `timeout` (true if taken); `blocking = false`: one attempt.
  /// Throws ValueError for a timeout with `blocking = false`, or a negative one.
  bool acquire(bool blocking = true, Timeout timeout = std::nullopt);
  /// Adds `n` permits, waking up to `n` waiters. Throws ValueError for n < 1, and for a
  /// BoundedSemaphore released above its initial value.
  void release(int n = 1);
  /// Python's `get_value()`: free permits now.
  int get_value() const noexcept { return static_cast<int>(ref_.state->value.load(std::memory_order_relaxed)); }
  void lock() { acquire(); }
  void unlock() { release(); }
  bool try_lock() { return acquire(false); }

 protected:
  Semaphore(int value, bool bounded);
  Semaphore(std::shared_ptr<trident::detail::ShmSegment> segment, std::size_t offset)
      : ref_(std::move(segment), offset) {}

 private:
  template <class>
  friend struct detail::Crossing;
  detail::SharedRef<detail::SemState> ref_;
};

/// Python's `multiprocessing.BoundedSemaphore(value=1)`: release() above the initial value is
/// ValueError "BoundedSemaphore::release(): semaphore or lock released too many times".
class BoundedSemaphore : public Semaphore {
 public:
  explicit BoundedSemaphore(int value = 1) : Semaphore(value, true) {}

 private:
  template <class>
  friend struct detail::Crossing;
  BoundedSemaphore(std::shared_ptr<trident::detail::ShmSegment> segment, std::size_t offset)
      : Semaphore(std::move(segment), offset) {}
};

/// Python's `multiprocessing.Condition(lock=None)`: over a Lock or an RLock (a new RLock by default).
/// Waiters are woken in the order they began waiting, as threading's. At most kMaxWaiters threads
/// (of all processes) wait at once; one more is RuntimeError. A waiter whose process was killed is
/// skipped by notify() (its slot is reclaimed), so no notification is spent on the dead.
class Condition {
 public:
  /// How many threads may wait at once (the slots of the shared state).
  static constexpr int kMaxWaiters = 500;

  Condition() : Condition(RLock()) {}
  explicit Condition(Lock lock);
  explicit Condition(RLock lock);

  /// Python's `wait(timeout)`: releases the lock (every level of an RLock), waits for a notify or
  /// `timeout`, re-acquires. True unless it timed out. Throws RuntimeError "Condition::wait():
  /// cannot wait on un-acquired lock"; ValueError for a negative timeout.
  bool wait(Timeout timeout = std::nullopt);
  /// Python's `wait_for(predicate, timeout)`: waits until `predicate()` is true; returns its last value.
  template <class P>
  bool wait_for(P predicate, Timeout timeout = std::nullopt) {
    const auto deadline = trident::detail::Deadline::after(timeout, "Condition::wait_for()");
    bool result = predicate();
    while (!result) {
      if (deadline.expired()) break;
      wait_until(deadline);
      result = predicate();
    }
    return result;
  }
  /// Wakes up to `n` waiters, longest waiting first. Throws RuntimeError "...cannot notify on
  /// un-acquired lock".
  void notify(int n = 1);
  void notify_all();
  bool acquire(bool blocking = true, Timeout timeout = std::nullopt);
  void release();
  void lock() { acquire(); }
  void unlock() { release(); }
  bool try_lock() { return acquire(false); }

 private:
  friend class Barrier;
  // One waiting thread's place in the shared state; the futex word it sleeps on is `state`.
  struct Slot {
    std::atomic<std::uint32_t> state;  // kFree, kWaiting, kNotified
    std::uint32_t pid;                 // the waiter's process, to skip a dead one
    std::uint64_t ticket;              // arrival order
  };
  struct State {
    std::uint64_t next_ticket;  // guarded by the condition's lock
    Slot slots[kMaxWaiters];
  };
  template <class>
  friend struct detail::Crossing;
  template <class L>
  Condition(L lock, detail::SharedRef<State> ref) : lock_(std::move(lock)), ref_(std::move(ref)) {}
  bool is_owned() const noexcept;
  bool wait_until(const trident::detail::Deadline& deadline);
  std::variant<Lock, RLock> lock_;
  detail::SharedRef<State> ref_;
};

/// Python's `multiprocessing.Event`.
class Event {
 public:
  Event() : ref_(detail::SharedRef<State>::make()) {}
  bool is_set() const noexcept { return (ref_.state->word.load(std::memory_order_acquire) & 1u) != 0; }
  /// Sets the flag and wakes every waiter in every process.
  void set() noexcept;
  void clear() noexcept;
  /// Waits until set or `timeout`; true if it was set (even if cleared before this waiter woke,
  /// threading's semantics), false on timeout. ValueError for a negative timeout.
  bool wait(Timeout timeout = std::nullopt);

 private:
  struct State {
    std::atomic<std::uint32_t> word;     // bit 0: set; bits 1..: how many times it was set
    std::atomic<std::uint32_t> waiters;  // threads that may sleep on `word`
  };
  template <class>
  friend struct detail::Crossing;
  explicit Event(detail::SharedRef<State> ref) : ref_(std::move(ref)) {}
  detail::SharedRef<State> ref_;
};

/// Python's `multiprocessing.Barrier(parties, action=None, timeout=None)`, with threading.Barrier's
/// semantics (BrokenBarrierError, reset, abort).
class Barrier {
 public:
  /// Throws ValueError for parties < 1 or a negative timeout.
  explicit Barrier(int parties, std::function<void()> action = {}, Timeout timeout = std::nullopt);
  /// Waits until `parties` threads (of any processes) wait; returns 0..parties-1, distinct per
  /// party. Throws threading::BrokenBarrierError when broken, reset or timed out (a timeout breaks
  /// the barrier for all). The last party runs its handle's action first.
  int wait(Timeout timeout = std::nullopt);
  void reset();
  void abort();
  int parties() const noexcept { return ref_.state->parties; }
  int n_waiting() const;
  bool broken() const;

 private:
  struct State {
    int parties;
    int state;  // 0 filling, 1 draining, -1 resetting, -2 broken
    int count;
  };
  template <class>
  friend struct detail::Crossing;
  Barrier(Condition cond, detail::SharedRef<State> ref, Timeout timeout)
      : cond_(std::move(cond)), ref_(std::move(ref)), timeout_(timeout) {}
  void break_barrier();
  mutable Condition cond_;  // over a Lock; guards *ref_.state (taken by the const queries too)
  detail::SharedRef<State> ref_;
  std::function<void()> action_;
  Timeout timeout_;
};

// How each of these handles crosses to a forkserver or spawn child (trident/detail/mp_crossing.hpp).
namespace detail {

template <class S>
SegmentPart part_of(const SharedRef<S>& ref) {
  return {ref.segment->name(), ref.offset()};
}

template <>
struct Crossing<Lock> {
  static SegmentRef save(const Lock& l) { return {.parts = {{l.segment_name(), l.offset()}}}; }
  static Lock load(const SegmentRef& r) { return Lock(attach_part(r, 0, "Lock"), r.parts[0].offset); }
};
template <>
struct Crossing<RLock> {
  static SegmentRef save(const RLock& l) { return {.parts = {{l.segment_name(), l.offset()}}}; }
  static RLock load(const SegmentRef& r) { return RLock(attach_part(r, 0, "RLock"), r.parts[0].offset); }
};
template <>
struct Crossing<Semaphore> {
  static SegmentRef save(const Semaphore& s) { return {.parts = {part_of(s.ref_)}}; }
  static Semaphore load(const SegmentRef& r) { return Semaphore(attach_part(r, 0, "Semaphore"), r.parts[0].offset); }
};
template <>
struct Crossing<BoundedSemaphore> {
  static SegmentRef save(const BoundedSemaphore& s) { return {.parts = {part_of(s.ref_)}}; }
  static BoundedSemaphore load(const SegmentRef& r) {
    return BoundedSemaphore(attach_part(r, 0, "BoundedSemaphore"), r.parts[0].offset);
  }
};
template <>
struct Crossing<Event> {
  static SegmentRef save(const Event& e) { return {.parts = {part_of(e.ref_)}}; }
  static Event load(const SegmentRef& r) {
    return Event(SharedRef<Event::State>(attach_part(r, 0, "Event"), r.parts[0].offset));
  }
};
// parts: the condition's state, then its lock's; flags: 1 when the lock is an RLock.
template <>
struct Crossing<Condition> {
  static SegmentRef save(const Condition& c) {
    SegmentRef r{.parts = {part_of(c.ref_)}, .count = 0, .flags = c.lock_.index() == 1 ? 1u : 0u};
    std::visit([&](const auto& l) { r.parts.push_back({l.segment_name(), l.offset()}); }, c.lock_);
    return r;
  }
  static Condition load(const SegmentRef& r) {
    check_parts(r, 2, "Condition");
    SharedRef<Condition::State> state(attach_part(r, 0, "Condition"), r.parts[0].offset);
    auto lock_segment = attach_part(r, 1, "Condition");
    if (r.flags == 1) return Condition(RLock(std::move(lock_segment), r.parts[1].offset), std::move(state));
    return Condition(Lock(std::move(lock_segment), r.parts[1].offset), std::move(state));
  }
};
// parts: the barrier's state, its condition's state, the condition's lock. A Barrier's action is a
// std::function, which has nothing to cross as: a barrier with one crosses only under fork.
template <>
struct Crossing<Barrier> {
  static SegmentRef save(const Barrier& b) {
    if (b.action_) {
      throw TypeError(
          "Process::start(): a Barrier with an action cannot cross to a forkserver or spawn child (the action is "
          "a std::function); use the 'fork' start method, or a Barrier without an action");
    }
    SegmentRef c = Crossing<Condition>::save(b.cond_);
    return {.parts = {part_of(b.ref_), c.parts[0], c.parts[1]},
            .count = 0,
            .flags = c.flags,
            .seconds = b.timeout_ ? b.timeout_->count() : -1.0};
  }
  static Barrier load(const SegmentRef& r) {
    check_parts(r, 3, "Barrier");
    SharedRef<Barrier::State> state(attach_part(r, 0, "Barrier"), r.parts[0].offset);
    Condition cond = Crossing<Condition>::load({.parts = {r.parts[1], r.parts[2]}, .count = 0, .flags = r.flags});
    Timeout timeout;
    if (r.seconds >= 0) timeout = Seconds(r.seconds);
    return Barrier(std::move(cond), std::move(state), timeout);
  }
};

}  // namespace detail

}  // namespace trident::multiprocessing
