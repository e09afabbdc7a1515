// multiprocessing.synchronize: process-shared locks on futex words in shared memory
// (docs/multiprocessing.md explains the layout and how a dead owner is detected).
#include "trident/multiprocessing/synchronize.hpp"

#include <pthread.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <mutex>

#include "core/cpu_relax.hpp"
#include "platform/linux/shm.hpp"

namespace trident::multiprocessing {

using trident::detail::Clock;
using trident::detail::Deadline;

namespace detail {

constinit std::atomic<int> g_pid{0};
constinit thread_local int t_tid = 0;

namespace {
// A forked child has a new pid, and its only thread a new tid. The child handler runs in that one
// thread, so resetting this thread's cache is enough.
void on_fork_child() noexcept {
  g_pid.store(0, std::memory_order_relaxed);
  t_tid = 0;
}
[[maybe_unused]] const bool g_atfork_registered = (pthread_atfork(nullptr, nullptr, &on_fork_child), true);

// How often a sleeping acquirer looks whether the holder is still alive: the bound on how long a
// lock stays stuck after its holder died (a dead holder cannot wake anyone).
constexpr auto kOwnerPoll = std::chrono::milliseconds(10);
// Polls of a held lock word before sleeping (about a microsecond of pause instructions).
constexpr int kSpins = 100;
}  // namespace

int fetch_pid() noexcept {
  const int p = platform::shm_getpid();
  g_pid.store(p, std::memory_order_relaxed);
  return p;
}

int fetch_tid() noexcept { return t_tid = platform::shm_gettid(); }

void throw_value_error(const char* message) { throw ValueError(message); }
void throw_runtime_error(const char* message) { throw RuntimeError(message); }

bool lock_acquire_slow(LockState* s, std::uint32_t id, bool blocking, const Deadline& deadline) {
  // A holder that died is found by looking at its /proc entry: at once for a one-shot attempt or
  // an expired deadline, otherwise each time a sleep of kOwnerPoll ends without a wake-up (a busy
  // lock between live processes never pays for the look).
  bool look = false;
  bool slept = false;
  // A short spin first: a holder in another process usually releases within a few hundred
  // nanoseconds, far less than a futex sleep and wake-up cost.
  for (int spin = 0; spin < kSpins && blocking && s->word.load(std::memory_order_relaxed) != 0; ++spin) {
    trident::detail::cpu_relax();
  }
  for (;;) {
    std::uint32_t v = s->word.load(std::memory_order_relaxed);
    if (v == 0) {
      // After a sleep, others may sleep too: keep kWaiters so this owner's release wakes one.
      if (s->word.compare_exchange_weak(v, id | (slept ? kWaiters : 0), std::memory_order_acquire,
                                        std::memory_order_relaxed)) {
        s->owner_died.store(0, std::memory_order_relaxed);
        return true;
      }
      continue;
    }
    const bool last = !blocking || deadline.expired();
    if (look || last) {
      look = false;
      const std::uint32_t owner = v & kIdMask;
      if (owner != id && platform::task_gone(static_cast<int>(owner))) {
        // The CAS on the exact word read means the lock did not change hands since the look.
        if (s->word.compare_exchange_strong(v, id | (v & kWaiters), std::memory_order_acquire,
                                            std::memory_order_relaxed)) {
          s->owner_died.store(1, std::memory_order_relaxed);
          return true;
        }
        continue;
      }
    }
    if (last) return false;
    if ((v & kWaiters) == 0) {
      if (!s->word.compare_exchange_weak(v, v | kWaiters, std::memory_order_relaxed, std::memory_order_relaxed)) {
        continue;
      }
      v |= kWaiters;
    }
    const auto slice = Clock::now() + kOwnerPoll;
    const int r = platform::futex_wait_shared(&s->word, v, std::min(slice, deadline.when()));
    slept = true;
    look = r == -ETIMEDOUT;
  }
}

void lock_wake(LockState* s) noexcept { platform::futex_wake_shared(&s->word, 1); }

bool sem_acquire(SemState* s, bool blocking, const Deadline& deadline) noexcept {
  for (;;) {
    std::uint32_t v = s->value.load(std::memory_order_relaxed);
    while (v > 0) {
      if (s->value.compare_exchange_weak(v, v - 1, std::memory_order_acquire, std::memory_order_relaxed)) return true;
    }
    if (!blocking || deadline.expired()) return false;
    // Registered before re-checking the value (inside the futex call), and the releaser adds
    // permits before reading `waiters` (both seq_cst): either it sees this waiter, or the futex
    // sees its permit.
    s->waiters.fetch_add(1);
    platform::futex_wait_shared(&s->value, 0, deadline.when());
    s->waiters.fetch_sub(1);
  }
}

bool sem_release(SemState* s, std::uint32_t n) noexcept {
  std::uint32_t v = s->value.load(std::memory_order_relaxed);
  do {
    if (static_cast<std::uint64_t>(v) + n > (s->bound == kUnbounded ? std::uint64_t{INT_MAX} : s->bound)) return false;
  } while (!s->value.compare_exchange_weak(v, v + n));
  if (s->waiters.load() > 0) platform::futex_wake_shared(&s->value, static_cast<int>(n));
  return true;
}

}  // namespace detail

// ---- Lock, RLock ----

namespace {
Deadline lock_deadline(bool blocking, const Timeout& timeout, const char* api, const char* nonblocking_message) {
  if (!blocking) {
    if (timeout) throw ValueError(nonblocking_message);
    return Deadline::now();
  }
  return Deadline::after(timeout, api);
}
}  // namespace

bool Lock::acquire_slow(bool blocking, const Timeout& timeout) {
  const Deadline d = lock_deadline(blocking, timeout, "Lock::acquire()",
                                   "Lock::acquire(): can't specify a timeout for a non-blocking call");
  return detail::lock_acquire_slow(ref_.state, detail::current_pid(), blocking, d);
}

bool RLock::acquire_slow(bool blocking, const Timeout& timeout) {
  const Deadline d = lock_deadline(blocking, timeout, "RLock::acquire()",
                                   "RLock::acquire(): can't specify a timeout for a non-blocking call");
  detail::LockState* s = ref_.state;
  const std::uint32_t me = detail::current_tid();
  if ((s->word.load(std::memory_order_relaxed) & detail::kIdMask) == me) {
    ++s->count;
    return true;
  }
  if (!detail::lock_acquire_slow(s, me, blocking, d)) return false;
  s->count = 1;
  return true;
}

// ---- Semaphore ----

Semaphore::Semaphore(int value, bool bounded) {
  if (value < 0) throw ValueError("Semaphore(): semaphore initial value must be >= 0");
  ref_ = detail::SharedRef<detail::SemState>::make();
  ref_.state->bound = bounded ? static_cast<std::uint32_t>(value) : detail::kUnbounded;
  ref_.state->value.store(static_cast<std::uint32_t>(value));
}

bool Semaphore::acquire(bool blocking, Timeout timeout) {
  const Deadline d = lock_deadline(blocking, timeout, "Semaphore::acquire()",
                                   "Semaphore::acquire(): can't specify timeout for non-blocking acquire");
  return detail::sem_acquire(ref_.state, blocking, d);
}

void Semaphore::release(int n) {
  if (n < 1) throw ValueError("Semaphore::release(): n must be one or more");
  if (!detail::sem_release(ref_.state, static_cast<std::uint32_t>(n))) {
    if (ref_.state->bound != detail::kUnbounded) {
      throw ValueError("BoundedSemaphore::release(): semaphore or lock released too many times");
    }
    throw ValueError("Semaphore::release(): the value would exceed INT_MAX");
  }
}

// ---- Condition ----

Condition::Condition(Lock lock) : lock_(std::move(lock)), ref_(detail::SharedRef<State>::make()) {}
Condition::Condition(RLock lock) : lock_(std::move(lock)), ref_(detail::SharedRef<State>::make()) {}

bool Condition::acquire(bool blocking, Timeout timeout) {
  return std::visit([&](auto& l) { return l.acquire(blocking, timeout); }, lock_);
}

void Condition::release() {
  std::visit([](auto& l) { l.release(); }, lock_);
}

bool Condition::is_owned() const noexcept {
  // With a plain Lock, "held by someone" is all that can be known (threading's _is_owned).
  if (const auto* l = std::get_if<Lock>(&lock_)) return l->locked();
  return std::get<RLock>(lock_).is_owned();
}

bool Condition::wait(Timeout timeout) {
  if (!is_owned()) throw RuntimeError("Condition::wait(): cannot wait on un-acquired lock");
  return wait_until(Deadline::after(timeout, "Condition::wait()"));
}

namespace {
constexpr std::uint32_t kFree = 0;
constexpr std::uint32_t kWaiting = 1;
constexpr std::uint32_t kNotified = 2;
}  // namespace

bool Condition::wait_until(const Deadline& deadline) {
  if (!is_owned()) throw RuntimeError("Condition::wait(): cannot wait on un-acquired lock");
  State* st = ref_.state;
  // The slot is claimed while the lock is held, so a notify() made as soon as it is released sees it.
  Slot* slot = nullptr;
  for (Slot& sl : st->slots) {
    std::uint32_t free = kFree;
    if (sl.state.load(std::memory_order_relaxed) == kFree &&
        sl.state.compare_exchange_strong(free, kWaiting, std::memory_order_relaxed)) {
      slot = &sl;
      break;
    }
  }
  if (slot == nullptr) throw RuntimeError("Condition::wait(): too many waiters (Condition::kMaxWaiters)");
  slot->pid = detail::current_pid();
  slot->ticket = st->next_ticket++;
  // Python's _release_save: every level of an RLock goes, and comes back after the wait.
  std::uint32_t depth = 0;
  if (auto* r = std::get_if<RLock>(&lock_)) {
    depth = r->ref_.state->count;
    r->ref_.state->count = 1;
    r->release();
  } else {
    std::get<Lock>(lock_).release();
  }
  bool notified = false;
  for (;;) {
    if (slot->state.load(std::memory_order_acquire) == kNotified) {
      notified = true;
      break;
    }
    if (deadline.expired()) {
      std::uint32_t waiting = kWaiting;
      // Losing this race means a notify picked this waiter just now: it counts as notified, so no
      // notification is dropped.
      notified = !slot->state.compare_exchange_strong(waiting, kFree, std::memory_order_acquire);
      break;
    }
    platform::futex_wait_shared(&slot->state, kWaiting, deadline.when());
  }
  if (notified) slot->state.store(kFree, std::memory_order_relaxed);
  if (auto* r = std::get_if<RLock>(&lock_)) {
    r->acquire();
    r->ref_.state->count = depth;
  } else {
    std::get<Lock>(lock_).acquire();
  }
  return notified;
}

void Condition::notify(int n) {
  if (!is_owned()) throw RuntimeError("Condition::notify(): cannot notify on un-acquired lock");
  State* st = ref_.state;
  const std::uint32_t me = detail::current_pid();
  if (n == INT_MAX) {
    // notify_all: order does not matter, one pass.
    for (Slot& sl : st->slots) {
      std::uint32_t waiting = kWaiting;
      if (sl.state.load(std::memory_order_relaxed) != kWaiting) continue;
      if (sl.pid != me && platform::task_gone(static_cast<int>(sl.pid))) {
        sl.state.compare_exchange_strong(waiting, kFree, std::memory_order_relaxed);
      } else if (sl.state.compare_exchange_strong(waiting, kNotified, std::memory_order_release)) {
        platform::futex_wake_shared(&sl.state, 1);
      }
    }
    return;
  }
  while (n > 0) {
    // The longest waiting one first (FIFO, as threading.Condition).
    Slot* first = nullptr;
    for (Slot& sl : st->slots) {
      if (sl.state.load(std::memory_order_acquire) == kWaiting && (first == nullptr || sl.ticket < first->ticket)) {
        first = &sl;
      }
    }
    if (first == nullptr) return;
    std::uint32_t waiting = kWaiting;
    if (first->pid != me && platform::task_gone(static_cast<int>(first->pid))) {
      // A waiter killed while waiting: reclaim its slot rather than spend a notification on it.
      first->state.compare_exchange_strong(waiting, kFree, std::memory_order_relaxed);
      continue;
    }
    if (first->state.compare_exchange_strong(waiting, kNotified, std::memory_order_release)) {
      platform::futex_wake_shared(&first->state, 1);
      --n;
    }
    // A failed exchange means that waiter timed out meanwhile: look again.
  }
}

void Condition::notify_all() {
  if (!is_owned()) throw RuntimeError("Condition::notify_all(): cannot notify on un-acquired lock");
  notify(INT_MAX);
}

// ---- Event ----

void Event::set() noexcept {
  State* st = ref_.state;
  std::uint32_t w = st->word.load();
  do {
    if ((w & 1u) != 0) return;
  } while (!st->word.compare_exchange_weak(w, (((w >> 1) + 1) << 1) | 1u));
  if (st->waiters.load() > 0) platform::futex_wake_shared(&st->word, INT_MAX);
}

void Event::clear() noexcept { ref_.state->word.fetch_and(~1u); }

bool Event::wait(Timeout timeout) {
  const Deadline d = Deadline::after(timeout, "Event::wait()");
  State* st = ref_.state;
  const std::uint32_t w = st->word.load();
  if ((w & 1u) != 0) return true;
  for (;;) {
    const std::uint32_t now = st->word.load();
    // Set now, or set (and maybe cleared) since this wait began: the set count moved.
    if ((now & 1u) != 0 || (now >> 1) != (w >> 1)) return true;
    if (d.expired()) return false;
    st->waiters.fetch_add(1);
    platform::futex_wait_shared(&st->word, now, d.when());
    st->waiters.fetch_sub(1);
  }
}

// ---- Barrier (CPython's threading.Barrier algorithm over a process-shared Condition) ----

namespace {
constexpr int kFilling = 0;
constexpr int kDraining = 1;
constexpr int kResetting = -1;
constexpr int kBroken = -2;

[[noreturn]] void throw_broken() { throw threading::BrokenBarrierError("Barrier::wait(): the barrier is broken"); }
}  // namespace

Barrier::Barrier(int parties, std::function<void()> action, Timeout timeout)
    : cond_(Lock()), action_(std::move(action)), timeout_(timeout) {
  if (parties < 1) throw ValueError("Barrier(): parties must be >= 1");
  trident::detail::check_timeout(timeout, "Barrier()");
  ref_ = detail::SharedRef<State>::make();
  ref_.state->parties = parties;
}

int Barrier::wait(Timeout timeout) {
  const Deadline deadline = Deadline::after(timeout ? timeout : timeout_, "Barrier::wait()");
  std::unique_lock lk(cond_);
  State* st = ref_.state;
  while (st->state == kResetting || st->state == kDraining) cond_.wait_until(Deadline::forever());
  if (st->state < 0) throw_broken();
  const int index = st->count++;
  const auto exit_wait = [&] {
    // The last party out of a drain or reset lets the next cycle fill.
    if (st->count == 0 && (st->state == kResetting || st->state == kDraining)) {
      st->state = kFilling;
      cond_.notify_all();
    }
  };
  try {
    if (index + 1 == st->parties) {
      try {
        if (action_) action_();
        st->state = kDraining;
        cond_.notify_all();
      } catch (...) {
        break_barrier();
        throw;
      }
    } else {
      bool released = st->state != kFilling;
      bool waited = false;
      while (!released) {
        if (waited && deadline.expired()) break;
        cond_.wait_until(deadline);
        waited = true;
        released = st->state != kFilling;
      }
      if (!released) {
        break_barrier();  // a timeout breaks the barrier for everyone, as in Python
        throw_broken();
      }
      if (st->state < 0) throw_broken();
    }
  } catch (...) {
    --st->count;
    exit_wait();
    throw;
  }
  --st->count;
  exit_wait();
  return index;
}

void Barrier::break_barrier() {
  ref_.state->state = kBroken;
  cond_.notify_all();
}

void Barrier::reset() {
  std::lock_guard g(cond_);
  State* st = ref_.state;
  if (st->count > 0) {
    if (st->state == kFilling || st->state == kBroken) st->state = kResetting;
  } else {
    st->state = kFilling;
  }
  cond_.notify_all();
}

void Barrier::abort() {
  std::lock_guard g(cond_);
  break_barrier();
}

int Barrier::n_waiting() const {
  std::lock_guard g(cond_);
  return ref_.state->state == kFilling ? ref_.state->count : 0;
}

bool Barrier::broken() const {
  std::lock_guard g(cond_);
  return ref_.state->state == kBroken;
}

}  // namespace trident::multiprocessing
