// The waiting core: deadlines, wait lists, the core mutex, condition variable and one-shot event.
#include <gtest/gtest.h>

#include <atomic>
#include <limits>
#include <mutex>
#include <thread>
#include <vector>

#include "platform/linux/futex.hpp"
#include "platform/linux/process.hpp"
#include "support/helpers.hpp"
#include "trident/detail/wait.hpp"
#include "trident/errors.hpp"

using namespace std::chrono_literals;
using trident::detail::Clock;
using trident::detail::CondVar;
using trident::detail::Deadline;
using trident::detail::EventFlag;
using trident::detail::Mutex;
using trident::detail::Waiter;
using trident::detail::WaitList;

// Python: a negative timeout is a ValueError; None waits forever.
TEST(Deadline, NegativeTimeoutIsValueErrorNamingTheApi) {
  try {
    Deadline::after(-1s, "Queue::get()");
    FAIL() << "no exception";
  } catch (const trident::ValueError& e) {
    EXPECT_NE(std::string(e.what()).find("Queue::get(): timeout must be a non-negative number"), std::string::npos);
  }
  EXPECT_TRUE(Deadline::after(std::nullopt, "x").is_forever());
  EXPECT_FALSE(Deadline::after(10s, "x").is_forever());
  EXPECT_TRUE(Deadline::after(0s, "x").expired());
}

TEST(Deadline, HugeTimeoutIsForeverNotOverflow) {
  EXPECT_TRUE(Deadline::after(trident::Seconds(1e300), "x").is_forever());
}

TEST(WaitList, TimedWaitTimesOutAndLeavesTheList) {
  WaitList list;
  Waiter w;
  list.enqueue(w);
  const auto t0 = Clock::now();
  EXPECT_FALSE(list.wait(w, Deadline(Clock::now() + 50ms)));
  EXPECT_GE(Clock::now() - t0, 50ms);
  EXPECT_FALSE(list.has_waiters());
  EXPECT_EQ(list.notify(1), 0);
}

TEST(WaitList, NotifyWakesInFifoOrderAndCounts) {
  WaitList list;
  constexpr int kThreads = 4;
  std::atomic<int> queued{0};
  std::vector<int> order;
  std::mutex order_mu;
  std::vector<std::thread> ts;
  for (int i = 0; i < kThreads; ++i) {
    // Enqueue one at a time so FIFO order is known.
    while (queued.load() != i) std::this_thread::yield();
    ts.emplace_back([&, i] {
      Waiter w;
      list.enqueue(w);
      queued.fetch_add(1);
      EXPECT_TRUE(list.wait(w, Deadline::forever()));
      std::lock_guard g(order_mu);
      order.push_back(i);
    });
  }
  while (queued.load() != kThreads) std::this_thread::yield();
  int woken = 0;
  for (int i = 0; i < kThreads; ++i) {
    woken += list.notify(1);
    // wait for that waiter to record itself before waking the next, to observe order
    while (true) {
      std::lock_guard g(order_mu);
      if (static_cast<int>(order.size()) == i + 1) break;
    }
  }
  for (auto& t : ts) t.join();
  EXPECT_EQ(woken, kThreads);
  EXPECT_EQ(order, (std::vector<int>{0, 1, 2, 3}));
}

TEST(WaitList, NotifyAllWakesEveryone) {
  WaitList list;
  constexpr int kThreads = 8;
  std::atomic<int> queued{0}, done{0};
  std::vector<std::thread> ts;
  for (int i = 0; i < kThreads; ++i) {
    ts.emplace_back([&] {
      Waiter w;
      list.enqueue(w);
      queued.fetch_add(1);
      EXPECT_TRUE(list.wait(w, Deadline::forever()));
      done.fetch_add(1);
    });
  }
  while (queued.load() != kThreads) std::this_thread::yield();
  EXPECT_EQ(list.notify_all(), kThreads);
  for (auto& t : ts) t.join();
  EXPECT_EQ(done.load(), kThreads);
}

TEST(Mutex, ExcludesUnderContention) {
  Mutex mu;
  long counter = 0;
  std::vector<std::thread> ts;
  for (int i = 0; i < 4; ++i) {
    ts.emplace_back([&] {
      for (int j = 0; j < 20000; ++j) {
        std::lock_guard g(mu);
        ++counter;
      }
    });
  }
  for (auto& t : ts) t.join();
  EXPECT_EQ(counter, 80000);
  EXPECT_FALSE(mu.locked());
}

TEST(Mutex, LockUntilTimesOutWhileHeld) {
  Mutex mu;
  mu.lock();
  std::thread t([&] {
    const auto t0 = Clock::now();
    EXPECT_FALSE(mu.lock_until(Deadline(Clock::now() + 50ms)));
    EXPECT_GE(Clock::now() - t0, 50ms);
  });
  t.join();
  mu.unlock();
  EXPECT_TRUE(mu.lock_until(Deadline::now()));
  mu.unlock();
}

// Python: lock.acquire(timeout=0) on a held lock returns False without waiting; the contended
// mutex's back-off must end at a passed deadline rather than spin its course.
TEST(Mutex, LockUntilPassedDeadlineFailsWhileHeldByAnotherThread) {
  Mutex mu;
  mu.lock();
  std::thread t([&] {
    for (int i = 0; i < 100; ++i) EXPECT_FALSE(mu.lock_until(Deadline::now()));
  });
  t.join();
  EXPECT_TRUE(mu.locked());
  mu.unlock();
}

// The spin policy reads the machine's runnable threads from /proc/loadavg: a running caller
// counts itself, so a reading of zero would mean the parse broke (and spinning would never stop
// on a crowded machine).
TEST(SpinPolicy, RunnableThreadsCountsTheCaller) {
  EXPECT_GE(trident::platform::runnable_threads(), 1);
  EXPECT_GE(trident::platform::online_cpu_count(), 1);
}

TEST(CondVar, PingPongHandsOffEveryRound) {
  Mutex mu;
  CondVar cv;
  int turn = 0;
  constexpr int kRounds = 2000;
  std::thread other([&] {
    std::unique_lock g(mu);
    for (int i = 0; i < kRounds; ++i) {
      while (turn != 1) cv.wait(g);
      turn = 0;
      cv.notify();
    }
  });
  {
    std::unique_lock g(mu);
    for (int i = 0; i < kRounds; ++i) {
      turn = 1;
      cv.notify();
      while (turn != 0) cv.wait(g);
    }
  }
  other.join();
  EXPECT_EQ(turn, 0);
}

TEST(CondVar, TimedWaitReturnsFalseAndReacquires) {
  Mutex mu;
  CondVar cv;
  std::unique_lock g(mu);
  EXPECT_FALSE(cv.wait_until(g, Deadline(Clock::now() + 20ms)));
  EXPECT_TRUE(mu.locked());
}

TEST(EventFlag, SetWakesAllAndSticks) {
  EventFlag ev;
  std::atomic<int> woke{0};
  std::vector<std::thread> ts;
  for (int i = 0; i < 4; ++i)
    ts.emplace_back([&] {
      if (ev.wait_until(Deadline::forever())) woke.fetch_add(1);
    });
  ev.set();
  for (auto& t : ts) t.join();
  EXPECT_EQ(woke.load(), 4);
  EXPECT_TRUE(ev.wait_until(Deadline::now()));
}

TEST(EventFlag, WaitTimesOut) {
  EventFlag ev;
  EXPECT_FALSE(ev.wait_until(Deadline(Clock::now() + 10ms)));
  EXPECT_FALSE(ev.wait_until(Deadline::now()));
}

// The parker seam: a context with its own parker is woken through it, not through the futex.
TEST(Parker, CustomParkerIsUsedForWaitersCreatedUnderIt) {
  struct CountingParker : trident::detail::Parker {
    std::atomic<int> parks{0}, unparks{0};
    bool park(Waiter& w, const Deadline& d) noexcept override {
      parks.fetch_add(1);
      return trident::detail::thread_parker().park(w, d);
    }
    void unpark(void* ctx, std::atomic<std::uint32_t>* word, std::uint32_t prev) noexcept override {
      unparks.fetch_add(1);
      trident::detail::thread_parker().unpark(ctx, word, prev);
    }
  } parker;
  EventFlag ev;
  std::atomic<bool> queued{false};
  std::thread t([&] {
    auto* old = trident::detail::set_current_parker(&parker);
    EXPECT_TRUE(ev.wait_until(Deadline::forever()));
    trident::detail::set_current_parker(old);
  });
  while (parker.parks.load() == 0) std::this_thread::yield();
  ev.set();
  t.join();
  EXPECT_EQ(parker.parks.load(), 1);
  EXPECT_EQ(parker.unparks.load(), 1);
  EXPECT_EQ(&trident::detail::current_parker(), &trident::detail::thread_parker());
}

// Python: lock.acquire(timeout=float('nan')) raises ValueError; a NaN must never reach the clock.
TEST(Deadline, NanTimeoutIsValueError) {
  EXPECT_THROW(Deadline::after(trident::Seconds(std::numeric_limits<double>::quiet_NaN()), "Lock::acquire()"),
               trident::ValueError);
}

// threading.Event semantics on the core flag: clear() resets it, so a later wait times out again.
TEST(EventFlag, ClearResetsTheFlag) {
  EventFlag flag;
  flag.set();
  EXPECT_TRUE(flag.is_set());
  flag.clear();
  EXPECT_FALSE(flag.is_set());
  EXPECT_FALSE(flag.wait_until(Deadline(Clock::now() + 10ms)));
  flag.set();
  EXPECT_TRUE(flag.wait_until(Deadline::now()));
}
