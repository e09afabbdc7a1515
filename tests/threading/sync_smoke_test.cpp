// A quick pass over the main path of each threading primitive (the full CPython lock_tests.py
// conformance suite is lock_tests_test.cpp): Lock, RLock, Condition, Semaphore, BoundedSemaphore,
// Event, Barrier.
#include <atomic>
#include <chrono>
#include <memory>
#include <mutex>
#include <set>
#include <vector>

#include <gtest/gtest.h>

#include "support/helpers.hpp"
#include "trident/threading.hpp"

namespace {

using namespace std::chrono_literals;
using trident::RuntimeError;
using trident::ValueError;
using trident::testing::kTimeoutSlack;
namespace threading = trident::threading;
using threading::BrokenBarrierError;
using threading::Event;
using threading::Thread;
using Clock = std::chrono::steady_clock;

constexpr auto kLong = 10s;

// Starts `n` threads running fn(i) and joins them all.
template <class F>
void run_threads(int n, F fn) {
  std::vector<std::unique_ptr<Thread>> ts;
  for (int i = 0; i < n; ++i) ts.push_back(std::make_unique<Thread>(fn, i));
  for (auto& t : ts) t->start();
  for (auto& t : ts) t->join();
}

template <class F>
void expect_message(F f, const char* message) {
  try {
    f();
    ADD_FAILURE() << "no exception; expected: " << message;
  } catch (const std::exception& e) {
    EXPECT_STREQ(e.what(), message);
  }
}

// ---- Lock ----

// Python: acquire/release/locked; a held lock refuses a non-blocking acquire.
TEST(LockSmoke, AcquireReleaseLocked) {
  threading::Lock lock;
  EXPECT_FALSE(lock.locked());
  EXPECT_TRUE(lock.acquire());
  EXPECT_TRUE(lock.locked());
  EXPECT_FALSE(lock.acquire(false));
  lock.release();
  EXPECT_FALSE(lock.locked());
  EXPECT_TRUE(lock.acquire(false));
  lock.release();
}

// Python: acquire(timeout=t) on a held lock returns False after about t.
TEST(LockSmoke, TimedAcquireTimesOut) {
  threading::Lock lock;
  lock.acquire();
  bool got = true;
  Clock::duration elapsed{};
  Thread t([&] {
    const auto t0 = Clock::now();
    got = lock.acquire(true, 50ms);
    elapsed = Clock::now() - t0;
  });
  t.start();
  t.join();
  EXPECT_FALSE(got);
  EXPECT_GE(elapsed, 49ms);
  EXPECT_LT(elapsed, 50ms + kTimeoutSlack);
  lock.release();
}

// Python: a Lock may be released by another thread than the one that acquired it.
TEST(LockSmoke, ReleaseFromAnotherThread) {
  threading::Lock lock;
  lock.acquire();
  Thread t([&] { lock.release(); });
  t.start();
  t.join();
  EXPECT_FALSE(lock.locked());
}

// Python: release of an unlocked lock is RuntimeError; acquire(False, timeout) and a negative
// timeout are ValueError.
TEST(LockSmoke, MisuseErrors) {
  threading::Lock lock;
  expect_message([&] { lock.release(); }, "Lock::release(): release unlocked lock");
  expect_message([&] { lock.acquire(false, 1s); }, "Lock::acquire(): can't specify a timeout for a non-blocking call");
  EXPECT_THROW(lock.acquire(true, -1s), ValueError);
  EXPECT_FALSE(lock.locked());
}

// Python: `with lock:` gives mutual exclusion (std::scoped_lock here).
TEST(LockSmoke, MutualExclusionWithScopedLock) {
  threading::Lock lock;
  long counter = 0;
  run_threads(4, [&](int) {
    for (int i = 0; i < 5000; ++i) {
      std::scoped_lock g(lock);
      ++counter;
    }
  });
  EXPECT_EQ(counter, 20000);
}

// ---- RLock ----

// Python: an RLock is re-entrant for its owner and released after as many releases.
TEST(RLockSmoke, ReentrantForTheOwner) {
  threading::RLock r;
  EXPECT_TRUE(r.acquire());
  EXPECT_TRUE(r.acquire());
  EXPECT_TRUE(r.is_owned());
  EXPECT_EQ(r.recursion_count(), 2);
  bool other_got = true;
  Thread t([&] { other_got = r.acquire(false); });
  t.start();
  t.join();
  EXPECT_FALSE(other_got);
  r.release();
  EXPECT_TRUE(r.locked());
  r.release();
  EXPECT_FALSE(r.locked());
  EXPECT_EQ(r.recursion_count(), 0);
}

// Python: release by a thread that does not own it is RuntimeError("cannot release un-acquired
// lock").
TEST(RLockSmoke, ReleaseByNonOwnerThrows) {
  threading::RLock r;
  expect_message([&] { r.release(); }, "RLock::release(): cannot release un-acquired lock");
  r.acquire();
  std::string message;
  Thread t([&] {
    try {
      r.release();
    } catch (const RuntimeError& e) {
      message = e.what();
    }
  });
  t.start();
  t.join();
  EXPECT_EQ(message, "RLock::release(): cannot release un-acquired lock");
  r.release();
}

// ---- Condition ----

// Python: producer/consumer with wait_for and notify.
TEST(ConditionSmoke, WaitForSeesTheProducersChange) {
  threading::Condition cond;
  int items = 0;
  bool ok = false;
  Thread consumer([&] {
    std::unique_lock g(cond);
    ok = cond.wait_for([&] { return items >= 3; }, kLong);
  });
  consumer.start();
  for (int i = 0; i < 3; ++i) {
    std::scoped_lock g(cond);
    ++items;
    cond.notify();
  }
  consumer.join();
  EXPECT_TRUE(ok);
}

// Python: wait(timeout) returns False when not notified in time; wait_for returns the
// predicate's last value.
TEST(ConditionSmoke, WaitTimesOut) {
  threading::Condition cond;
  std::scoped_lock g(cond);
  const auto t0 = Clock::now();
  EXPECT_FALSE(cond.wait(50ms));
  EXPECT_GE(Clock::now() - t0, 49ms);
  EXPECT_FALSE(cond.wait_for([] { return false; }, 10ms));
  EXPECT_TRUE(cond.wait_for([] { return true; }, 0s));
}

// Python: wait/notify without holding the lock are RuntimeError.
TEST(ConditionSmoke, UnheldLockErrors) {
  threading::Condition cond;
  expect_message([&] { cond.wait(); }, "Condition::wait(): cannot wait on un-acquired lock");
  expect_message([&] { cond.notify(); }, "Condition::notify(): cannot notify on un-acquired lock");
  EXPECT_THROW(cond.notify_all(), RuntimeError);
}

// Python: a Condition over an RLock held several times releases it fully while waiting and
// restores the same depth (_release_save/_acquire_restore).
TEST(ConditionSmoke, WaitRestoresRLockDepth) {
  threading::RLock r;
  threading::Condition cond(r);
  r.acquire();
  r.acquire();
  bool other_got = false;
  Thread t([&] {
    other_got = r.acquire(true, kLong);  // possible only if wait() released both levels
    cond.notify();
    r.release();
  });
  t.start();
  EXPECT_TRUE(cond.wait(kLong));
  EXPECT_EQ(r.recursion_count(), 2);
  r.release();
  r.release();
  t.join();
  EXPECT_TRUE(other_got);
}

// Python: Condition(Lock()) works the same, and notify_all wakes every waiter.
TEST(ConditionSmoke, NotifyAllOverAPlainLock) {
  threading::Lock lock;
  threading::Condition cond(lock);
  bool go = false;
  std::atomic<int> woke{0};
  run_threads(1, [&](int) {
    std::vector<std::unique_ptr<Thread>> waiters;
    for (int i = 0; i < 3; ++i) {
      waiters.push_back(std::make_unique<Thread>([&] {
        std::scoped_lock g(cond);
        if (cond.wait_for([&] { return go; }, kLong)) ++woke;
      }));
      waiters.back()->start();
    }
    {
      std::scoped_lock g(cond);
      go = true;
      cond.notify_all();
    }
    for (auto& w : waiters) w->join();
  });
  EXPECT_EQ(woke.load(), 3);
}

// ---- Semaphore, BoundedSemaphore ----

// Python: a Semaphore(n) admits n holders; release(n) wakes n waiters.
TEST(SemaphoreSmoke, CountsPermitsAndReleaseNWakesN) {
  threading::Semaphore sem(2);
  EXPECT_TRUE(sem.acquire());
  EXPECT_TRUE(sem.acquire(false));
  EXPECT_FALSE(sem.acquire(false));
  EXPECT_FALSE(sem.acquire(true, 20ms));
  std::atomic<int> got{0};
  std::vector<std::unique_ptr<Thread>> ts;
  for (int i = 0; i < 3; ++i) {
    ts.push_back(std::make_unique<Thread>([&] {
      if (sem.acquire(true, kLong)) ++got;
    }));
    ts.back()->start();
  }
  sem.release(3);
  for (auto& t : ts) t->join();
  EXPECT_EQ(got.load(), 3);
  EXPECT_FALSE(sem.acquire(false));
  sem.release(2);
  std::scoped_lock g(sem);  // Lockable
  EXPECT_TRUE(sem.acquire(false));
}

// Python: a negative initial value, release(0) and a timeout on a non-blocking acquire are
// ValueError.
TEST(SemaphoreSmoke, MisuseErrors) {
  expect_message([] { threading::Semaphore s(-1); }, "Semaphore(): semaphore initial value must be >= 0");
  threading::Semaphore sem(0);
  expect_message([&] { sem.release(0); }, "Semaphore::release(): n must be one or more");
  expect_message([&] { sem.acquire(false, 1s); },
                 "Semaphore::acquire(): can't specify timeout for non-blocking acquire");
  EXPECT_THROW(sem.acquire(true, -1s), ValueError);
}

// Python: BoundedSemaphore raises ValueError("Semaphore released too many times") past its
// initial value, and releases nothing then.
TEST(SemaphoreSmoke, BoundedSemaphoreRefusesOverRelease) {
  threading::BoundedSemaphore sem(2);
  sem.acquire();
  expect_message([&] { sem.release(2); }, "BoundedSemaphore::release(): Semaphore released too many times");
  sem.release();
  expect_message([&] { sem.release(); }, "BoundedSemaphore::release(): Semaphore released too many times");
  threading::Semaphore& base = sem;  // the bound holds through the base class too
  EXPECT_THROW(base.release(), ValueError);
  EXPECT_TRUE(sem.acquire(false));
  EXPECT_TRUE(sem.acquire(false));
  EXPECT_FALSE(sem.acquire(false));
}

// ---- Event ----

// Python: set() wakes waiters; wait() returns True once set, False on timeout; clear() resets.
TEST(EventSmoke, SetWaitClear) {
  Event e;
  EXPECT_FALSE(e.is_set());
  const auto t0 = Clock::now();
  EXPECT_FALSE(e.wait(30ms));
  EXPECT_GE(Clock::now() - t0, 29ms);
  std::atomic<int> woke{0};
  std::vector<std::unique_ptr<Thread>> ts;
  for (int i = 0; i < 3; ++i) {
    ts.push_back(std::make_unique<Thread>([&] {
      if (e.wait(kLong)) ++woke;
    }));
    ts.back()->start();
  }
  e.set();
  for (auto& t : ts) t->join();
  EXPECT_EQ(woke.load(), 3);
  EXPECT_TRUE(e.wait());
  e.clear();
  EXPECT_FALSE(e.is_set());
  EXPECT_FALSE(e.wait(0s));
  EXPECT_THROW(e.wait(-1s), ValueError);
}

// ---- Barrier ----

// Python: wait() returns distinct indices 0..parties-1 and the action runs once per cycle; the
// barrier is reusable.
TEST(BarrierSmoke, IndicesAndActionPerCycle) {
  std::atomic<int> actions{0};
  threading::Barrier b(3, [&] { ++actions; });
  EXPECT_EQ(b.parties(), 3);
  std::mutex m;
  std::multiset<int> indices;
  run_threads(3, [&](int) {
    for (int cycle = 0; cycle < 2; ++cycle) {
      const int i = b.wait(kLong);
      std::scoped_lock g(m);
      indices.insert(i);
    }
  });
  EXPECT_EQ(actions.load(), 2);
  EXPECT_EQ(indices, (std::multiset<int>{0, 0, 1, 1, 2, 2}));
  EXPECT_EQ(b.n_waiting(), 0);
  EXPECT_FALSE(b.broken());
}

// Python: a wait that times out breaks the barrier; every waiter gets BrokenBarrierError until
// reset().
TEST(BarrierSmoke, TimeoutBreaksTheBarrier) {
  threading::Barrier b(2);
  EXPECT_THROW(b.wait(20ms), BrokenBarrierError);
  EXPECT_TRUE(b.broken());
  EXPECT_THROW(b.wait(kLong), BrokenBarrierError);
  b.reset();
  EXPECT_FALSE(b.broken());
}

// Python: abort() breaks the barrier for a thread already waiting.
TEST(BarrierSmoke, AbortWakesWaitersWithBrokenBarrierError) {
  threading::Barrier b(2);
  bool broken = false;
  Thread t([&] {
    try {
      b.wait(kLong);
    } catch (const BrokenBarrierError&) {
      broken = true;
    }
  });
  t.start();
  while (b.n_waiting() == 0) std::this_thread::yield();  // bounded by the waiter's own timeout
  b.abort();
  t.join();
  EXPECT_TRUE(broken);
  EXPECT_TRUE(b.broken());
}

// Python: an exception from the action propagates to the thread that ran it and breaks the
// barrier for the others; parties < 1 is ValueError.
TEST(BarrierSmoke, ActionExceptionBreaksTheBarrier) {
  threading::Barrier b(2, [] { throw std::runtime_error("action failed"); });
  std::atomic<int> action_errors{0}, broken{0};
  run_threads(2, [&](int) {
    try {
      b.wait(kLong);
    } catch (const BrokenBarrierError&) {
      ++broken;
    } catch (const std::runtime_error&) {
      ++action_errors;
    }
  });
  EXPECT_EQ(action_errors.load(), 1);
  EXPECT_EQ(broken.load(), 1);
  expect_message([] { threading::Barrier bad(0); }, "Barrier(): parties must be >= 1");
}

}  // namespace
