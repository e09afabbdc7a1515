// multiprocessing Semaphore, BoundedSemaphore, Condition, Event and Barrier across fork()ed
// processes, after the themes of CPython's _test_multiprocessing (_TestSemaphore: values, timeouts,
// BoundedSemaphore over-release; _TestCondition: notify, notify(n), notify_all, timeouts, wait_for;
// _TestEvent: set/clear/wait; _TestBarrier: indices, action once, abort, reset, timeout) and
// threading's semantics where multiprocessing follows them. Counters live in RawValue/Value.
#include <mutex>

#include "shm_test_support.hpp"
#include "support/helpers.hpp"
#include "trident/multiprocessing/sharedctypes.hpp"
#include "trident/multiprocessing/synchronize.hpp"

namespace mp = trident::multiprocessing;
using shm_test::ShmTest;
using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

namespace {

// Waits (bounded) until `pred()`; for "all children are now blocked" style hand-shakes.
template <class P>
bool eventually(P pred, std::chrono::milliseconds limit = 10000ms) {
  const auto until = Clock::now() + limit;
  while (!pred()) {
    if (Clock::now() > until) return false;
    std::this_thread::sleep_for(1ms);
  }
  return true;
}

// Python _TestSemaphore: get_value follows acquire/release; a non-blocking acquire at zero fails.
TEST_F(ShmTest, SemaphoreCounts) {
  mp::Semaphore s(2);
  EXPECT_EQ(s.get_value(), 2);
  EXPECT_TRUE(s.acquire());
  EXPECT_TRUE(s.acquire(false));
  EXPECT_EQ(s.get_value(), 0);
  EXPECT_FALSE(s.acquire(false));
  s.release();
  EXPECT_EQ(s.get_value(), 1);
  s.release(2);
  EXPECT_EQ(s.get_value(), 3);
  EXPECT_THROW(mp::Semaphore(-1), trident::ValueError);
  EXPECT_THROW(s.release(0), trident::ValueError);
  EXPECT_THROW(s.acquire(false, 1s), trident::ValueError);
}

// Python _TestSemaphore.test_timeout: a timed acquire at zero fails after the timeout.
TEST_F(ShmTest, SemaphoreTimedAcquireTimesOut) {
  mp::Semaphore s(0);
  const auto t0 = Clock::now();
  EXPECT_FALSE(s.acquire(true, 100ms));
  EXPECT_GE(Clock::now() - t0, 95ms);
}

// Python: BoundedSemaphore released above its initial value is ValueError.
TEST_F(ShmTest, BoundedSemaphoreOverReleaseIsValueError) {
  mp::BoundedSemaphore s(1);
  EXPECT_THROW(s.release(), trident::ValueError);
  s.acquire();
  s.release();
  EXPECT_EQ(s.get_value(), 1);
}

// A release in one process wakes a waiter blocked in another; permits are not lost or doubled.
TEST_F(ShmTest, SemaphoreWakesWaitersInOtherProcesses) {
  mp::Semaphore s(0);
  mp::RawValue<int> passed(0);
  mp::Lock guard;
  constexpr int kChildren = 3;
  std::vector<int> pids;
  for (int c = 0; c < kChildren; ++c) {
    pids.push_back(fork_child([&] {
      CHILD_CHECK(s.acquire(true, 30s));
      std::lock_guard g(guard);
      ++passed.get_obj();
      return 0;
    }));
  }
  s.release(2);
  EXPECT_TRUE(eventually([&] {
    std::lock_guard g(guard);
    return passed.get_obj() == 2;
  }));
  std::this_thread::sleep_for(50ms);
  {
    std::lock_guard g(guard);
    EXPECT_EQ(passed.get_obj(), 2);  // two permits, two passed
  }
  s.release();
  for (int pid : pids) EXPECT_EQ(join_child(pid), 0);
  EXPECT_EQ(s.get_value(), 0);
}

// Python _TestCondition.test_notify / test_notify_n / test_notify_all: notify(n) wakes n of the
// waiters in other processes, notify_all the rest.
TEST_F(ShmTest, ConditionNotifyNAndAllAcrossProcesses) {
  mp::Condition cond;
  mp::RawValue<int> sleeping(0);
  mp::RawValue<int> woken(0);
  constexpr int kChildren = 4;
  std::vector<int> pids;
  for (int c = 0; c < kChildren; ++c) {
    pids.push_back(fork_child([&] {
      std::unique_lock g(cond);
      ++sleeping.get_obj();
      CHILD_CHECK(cond.wait(30s));
      ++woken.get_obj();
      return 0;
    }));
  }
  const auto count = [&](mp::RawValue<int>& v) {
    std::lock_guard g(cond);
    return v.get_obj();
  };
  ASSERT_TRUE(eventually([&] { return count(sleeping) == kChildren; }));
  {
    std::lock_guard g(cond);
    cond.notify();
  }
  EXPECT_TRUE(eventually([&] { return count(woken) == 1; }));
  {
    std::lock_guard g(cond);
    cond.notify(2);
  }
  EXPECT_TRUE(eventually([&] { return count(woken) == 3; }));
  std::this_thread::sleep_for(50ms);
  EXPECT_EQ(count(woken), 3);
  {
    std::lock_guard g(cond);
    cond.notify_all();
  }
  for (int pid : pids) EXPECT_EQ(join_child(pid), 0);
  EXPECT_EQ(count(woken), kChildren);
}

// Python: wait() on an un-acquired condition is RuntimeError; a timed wait returns False after
// the timeout with the lock held again; wait_for returns the predicate's value.
TEST_F(ShmTest, ConditionTimeoutAndMisuse) {
  mp::Condition cond(mp::Lock{});
  EXPECT_THROW(cond.wait(), trident::RuntimeError);
  EXPECT_THROW(cond.notify(), trident::RuntimeError);
  std::unique_lock g(cond);
  const auto t0 = Clock::now();
  EXPECT_FALSE(cond.wait(100ms));
  EXPECT_GE(Clock::now() - t0, 95ms);
  EXPECT_FALSE(cond.wait_for([] { return false; }, 50ms));
  EXPECT_TRUE(cond.wait_for([] { return true; }, 0s));
}

// Python: an RLock condition held at depth 2 is fully released by wait() and restored after.
TEST_F(ShmTest, ConditionOverRLockRestoresDepth) {
  mp::RLock lock;
  mp::Condition cond(lock);
  mp::RawValue<int> state(0);
  lock.acquire();
  lock.acquire();
  const int pid = fork_child([&] {
    std::lock_guard g(cond);  // only possible once the parent's wait released both levels
    state.get_obj() = 1;
    cond.notify();
    return 0;
  });
  EXPECT_TRUE(cond.wait_for([&] { return state.get_obj() == 1; }, 30s));
  EXPECT_TRUE(lock.is_owned());
  lock.release();
  EXPECT_TRUE(lock.is_owned());
  lock.release();
  EXPECT_FALSE(lock.locked());
  EXPECT_EQ(join_child(pid), 0);
}

// Python _TestEvent: wait on a clear event times out; set wakes waiters in other processes; a set
// event's wait returns at once; clear resets it.
TEST_F(ShmTest, EventAcrossProcesses) {
  mp::Event e;
  EXPECT_FALSE(e.is_set());
  const auto t0 = Clock::now();
  EXPECT_FALSE(e.wait(100ms));
  EXPECT_GE(Clock::now() - t0, 95ms);
  std::vector<int> pids;
  for (int c = 0; c < 3; ++c) {
    pids.push_back(fork_child([&] {
      CHILD_CHECK(e.wait(30s));
      CHILD_CHECK(e.is_set());
      return 0;
    }));
  }
  e.set();
  for (int pid : pids) EXPECT_EQ(join_child(pid), 0);
  EXPECT_TRUE(e.wait(0s));
  e.clear();
  EXPECT_FALSE(e.is_set());
  EXPECT_FALSE(e.wait(0s));
}

// threading's Event semantics: a waiter woken by set() reports True even if clear() came first.
TEST_F(ShmTest, EventWaitReportsASetClearedBeforeTheWaiterRan) {
  mp::Event e;
  mp::Event blocked;
  const int pid = fork_child([&] {
    blocked.set();
    CHILD_CHECK(e.wait(30s));
    return 0;
  });
  ASSERT_TRUE(blocked.wait(30s));
  std::this_thread::sleep_for(20ms);  // let the child sleep (not needed for correctness)
  e.set();
  e.clear();
  EXPECT_EQ(join_child(pid), 0);
}

// Python _TestBarrier.test_barrier / test_action / test_wait_return: parties in different
// processes pass together, get distinct indices, and the action runs once per cycle.
TEST_F(ShmTest, BarrierAcrossProcesses) {
  constexpr int kParties = 3;
  mp::RawValue<int> actions(0);
  mp::RawArray<int> seen(kParties);
  mp::Barrier barrier(kParties, [&] { ++actions.get_obj(); });
  EXPECT_EQ(barrier.parties(), kParties);
  std::vector<int> pids;
  for (int c = 0; c < kParties - 1; ++c) {
    pids.push_back(fork_child([&] {
      for (int round = 0; round < 2; ++round) {
        const int i = barrier.wait(30s);
        CHILD_CHECK(i >= 0 && i < kParties);
        __atomic_fetch_add(&seen[static_cast<std::size_t>(i)], 1, __ATOMIC_SEQ_CST);
      }
      return 0;
    }));
  }
  for (int round = 0; round < 2; ++round) {
    const int i = barrier.wait(30s);
    __atomic_fetch_add(&seen[static_cast<std::size_t>(i)], 1, __ATOMIC_SEQ_CST);
  }
  for (int pid : pids) EXPECT_EQ(join_child(pid), 0);
  for (int i = 0; i < kParties; ++i) EXPECT_EQ(seen[static_cast<std::size_t>(i)], 2) << i;
  EXPECT_EQ(actions.get_obj(), 2);
  EXPECT_FALSE(barrier.broken());
  EXPECT_EQ(barrier.n_waiting(), 0);
}

// Python test_timeout / test_abort / test_reset: a timeout breaks the barrier for everyone (the
// waiting child gets BrokenBarrierError too); reset() makes it usable again.
TEST_F(ShmTest, BarrierTimeoutBreaksItAndResetRepairs) {
  mp::Barrier barrier(3);
  const int pid = fork_child([&] {
    try {
      barrier.wait(30s);
    } catch (const trident::threading::BrokenBarrierError&) {
      return 0;
    }
    return 1;
  });
  ASSERT_TRUE(eventually([&] { return barrier.n_waiting() == 1; }));
  EXPECT_THROW(barrier.wait(50ms), trident::threading::BrokenBarrierError);
  EXPECT_EQ(join_child(pid), 0);
  EXPECT_TRUE(barrier.broken());
  EXPECT_THROW(barrier.wait(), trident::threading::BrokenBarrierError);
  barrier.reset();
  EXPECT_FALSE(barrier.broken());
  barrier.abort();
  EXPECT_TRUE(barrier.broken());
  EXPECT_THROW(mp::Barrier(0), trident::ValueError);
}

// Crash injection: a process killed while blocked in Semaphore.acquire or Event.wait leaves both
// working for the others.
TEST_F(ShmTest, ProcessKilledWhileWaitingHangsNobody) {
  mp::Semaphore s(0);
  mp::Event e;
  shm_test::Signal ready;
  const int a = fork_child([&] {
    ready.notify();
    s.acquire();
    return 0;
  });
  const int b = fork_child([&] {
    ready.notify();
    e.wait();
    return 0;
  });
  ASSERT_TRUE(ready.wait());
  ASSERT_TRUE(ready.wait());
  std::this_thread::sleep_for(20ms);
  kill_child(a);
  kill_child(b);
  s.release();
  EXPECT_TRUE(s.acquire(true, 5s));
  e.set();
  EXPECT_TRUE(e.wait(5s));
}

}  // namespace

namespace {

// Crash injection: a process killed while waiting on a Condition does not swallow a notify(1):
// the live waiter still gets it (a dead waiter's slot is skipped and reclaimed).
TEST_F(ShmTest, ConditionNotifySkipsAKilledWaiter) {
  mp::Condition cond;
  mp::RawValue<int> sleeping(0);
  const auto waiter = [&] {
    std::unique_lock g(cond);
    ++sleeping.get_obj();
    CHILD_CHECK(cond.wait(30s));
    return 0;
  };
  const int doomed = fork_child(waiter);  // waits first, so FIFO would pick it
  ASSERT_TRUE(eventually([&] {
    std::lock_guard g(cond);
    return sleeping.get_obj() == 1;
  }));
  const int live = fork_child(waiter);
  ASSERT_TRUE(eventually([&] {
    std::lock_guard g(cond);
    return sleeping.get_obj() == 2;
  }));
  kill_child(doomed);
  {
    std::lock_guard g(cond);
    cond.notify();
  }
  EXPECT_EQ(join_child(live), 0);
}

// threading.Condition's order: notify() wakes the longest-waiting thread first.
TEST_F(ShmTest, ConditionWakesInArrivalOrder) {
  mp::Condition cond;
  mp::RawValue<int> sleeping(0);
  mp::RawArray<int> order(std::size_t{3});
  mp::RawValue<int> next(0);
  std::vector<int> pids;
  for (int c = 0; c < 3; ++c) {
    pids.push_back(fork_child([&, c] {
      std::unique_lock g(cond);
      ++sleeping.get_obj();
      CHILD_CHECK(cond.wait(30s));
      order[static_cast<std::size_t>(next.get_obj()++)] = c;
      return 0;
    }));
    ASSERT_TRUE(eventually([&] {
      std::lock_guard g(cond);
      return sleeping.get_obj() == c + 1;
    }));
  }
  for (int c = 0; c < 3; ++c) {
    {
      std::lock_guard g(cond);
      cond.notify();
    }
    ASSERT_TRUE(eventually([&] {
      std::lock_guard g(cond);
      return next.get_obj() == c + 1;
    }));
  }
  for (int pid : pids) EXPECT_EQ(join_child(pid), 0);
  for (int c = 0; c < 3; ++c) EXPECT_EQ(order[static_cast<std::size_t>(c)], c);
}

}  // namespace

namespace {

// Threads of one process use a process-shared Condition, Semaphore and Event as threading's:
// a producer/consumer over a Condition loses no item.
TEST_F(ShmTest, ThreadsUseProcessConditionSemaphoreAndEvent) {
  mp::Condition cond;
  int items = 0;
  int consumed = 0;
  constexpr int kItems = 2000;
  std::thread consumer([&] {
    for (int i = 0; i < kItems; ++i) {
      std::unique_lock g(cond);
      EXPECT_TRUE(cond.wait_for([&] { return items > 0; }, 30s));
      --items;
      ++consumed;
    }
  });
  for (int i = 0; i < kItems; ++i) {
    std::lock_guard g(cond);
    ++items;
    cond.notify();
  }
  consumer.join();
  EXPECT_EQ(consumed, kItems);

  mp::Semaphore s(0);
  mp::Event done;
  std::thread t([&] {
    for (int i = 0; i < 100; ++i) EXPECT_TRUE(s.acquire(true, 30s));
    done.set();
  });
  for (int i = 0; i < 100; ++i) s.release();
  EXPECT_TRUE(done.wait(30s));
  t.join();
  EXPECT_EQ(s.get_value(), 0);
}

}  // namespace

namespace {

// Python _TestBarrier.test_single_thread / test_default_timeout: one party passes at once (running
// the action); the constructor's timeout applies when wait() gives none, and breaks the barrier.
TEST_F(ShmTest, BarrierSinglePartyAndDefaultTimeout) {
  int ran = 0;
  mp::Barrier one(1, [&] { ++ran; });
  EXPECT_EQ(one.wait(), 0);
  EXPECT_EQ(one.wait(), 0);
  EXPECT_EQ(ran, 2);
  mp::Barrier two(2, {}, 50ms);
  const auto t0 = Clock::now();
  EXPECT_THROW(two.wait(), trident::threading::BrokenBarrierError);
  EXPECT_GE(Clock::now() - t0, 45ms);
  EXPECT_TRUE(two.broken());
  EXPECT_THROW(mp::Barrier(2, {}, -1s), trident::ValueError);
}

}  // namespace
