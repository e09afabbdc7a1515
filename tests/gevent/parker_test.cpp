// The greenlet parker: trident's blocking calls made by a greenlet park that greenlet and let the
// hub run the others; another thread wakes it through the hub. The first half re-runs the themes of
// CPython's Lib/test/lock_tests.py and test_queue.py (as tests/threading/lock_tests_test.cpp and
// tests/queue/ do for threads) with the waiters as threads and as greenlets on one hub — gevent's
// patched threading passes the same suite. The second half pins greenlet-only behaviour.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "trident/futures.hpp"
#include "trident/gevent.hpp"
#include "trident/queue.hpp"
#include "trident/threading.hpp"

namespace gevent = trident::gevent;
namespace threading = trident::threading;
using trident::Seconds;
using Clock = std::chrono::steady_clock;

namespace {

double since(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }

enum class Kind { kThread, kGreenlet };

// Starts waiters as OS threads or as greenlets of the calling thread's hub, lets them block, and
// joins them. With greenlets every wait of the test body (the notifier) is cooperative.
class Waiters {
 public:
  explicit Waiters(Kind kind) : kind_(kind) {}
  ~Waiters() {
    if (kind_ == Kind::kGreenlet) gevent::get_hub().destroy();
  }
  void start(std::function<void()> f) {
    if (kind_ == Kind::kThread) {
      threads_.push_back(std::make_unique<threading::Thread>([this, f] {
        ++entered_;
        f();
      }));
      threads_.back()->start();
    } else {
      greenlets_.push_back(gevent::spawn([this, f] {
        ++entered_;
        f();
      }));
    }
  }
  // Returns once `n` waiters entered their function and (very likely, for threads; surely, for
  // greenlets, which block before anything else runs) blocked in it.
  void wait_blocked(int n) {
    if (kind_ == Kind::kGreenlet) {
      while (entered_ < n) gevent::sleep(0);
      gevent::sleep(0);
      return;
    }
    const auto until = Clock::now() + std::chrono::seconds(10);
    while (entered_ < n && Clock::now() < until) std::this_thread::sleep_for(std::chrono::milliseconds(1));
    // CPython's wait_threads_blocked: give them a moment to reach the wait itself.
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  // Lets the notifier's wake-ups reach the waiters (greenlets run only when the notifier waits)
  // until `done()`, then a little longer, so that a wake-up too many would show (bounded).
  template <class P>
  void until(P done) {
    const auto limit = Clock::now() + std::chrono::seconds(10);
    while (!done() && Clock::now() < limit) pause(0.001);
    pause(0.02);
  }

 private:
  void pause(double s) {
    if (kind_ == Kind::kGreenlet) {
      gevent::sleep(s);
    } else {
      std::this_thread::sleep_for(std::chrono::duration<double>(s));
    }
  }

 public:
  void join() {
    if (kind_ == Kind::kThread) {
      for (auto& t : threads_) t->join();
      return;
    }
    std::vector<gevent::GreenletBase> gs(greenlets_.begin(), greenlets_.end());
    EXPECT_EQ(gevent::joinall(gs, {.timeout = Seconds(10)}).size(), gs.size());
    for (auto& g : greenlets_) g.get();  // rethrow a waiter's failure
  }

 private:
  Kind kind_;
  std::atomic<int> entered_{0};
  std::vector<std::unique_ptr<threading::Thread>> threads_;
  std::vector<gevent::Greenlet<void>> greenlets_;
};

class WaiterKind : public ::testing::TestWithParam<Kind> {};

std::string kind_name(const ::testing::TestParamInfo<Kind>& info) {
  return info.param == Kind::kThread ? "Threads" : "Greenlets";
}

// lock_tests.BaseLockTest.test_acquire_contended: a blocked acquire returns once released.
TEST_P(WaiterKind, LockAcquireBlocksUntilReleased) {
  Waiters w(GetParam());
  threading::Lock lock;
  lock.acquire();
  std::atomic<int> acquired{0};
  for (int i = 0; i < 3; ++i) {
    w.start([&] {
      lock.acquire();
      ++acquired;
      lock.release();
    });
  }
  w.wait_blocked(3);
  EXPECT_EQ(acquired, 0);
  lock.release();
  w.join();
  EXPECT_EQ(acquired, 3);
}

// Mutual exclusion while holders wait inside the critical section (a greenlet holder yields).
TEST_P(WaiterKind, LockIsMutuallyExclusive) {
  Waiters w(GetParam());
  threading::Lock lock;
  std::atomic<int> inside{0}, worst{0};
  for (int i = 0; i < 4; ++i) {
    w.start([&] {
      for (int j = 0; j < 5; ++j) {
        std::lock_guard g(lock);
        worst = std::max(worst.load(), ++inside);
        if (GetParam() == Kind::kGreenlet) gevent::sleep(0);
        --inside;
      }
    });
  }
  w.join();
  EXPECT_EQ(worst, 1);
}

// lock_tests.BaseLockTest.test_timeout: a timed acquire of a held lock gives up after its timeout.
TEST_P(WaiterKind, TimedAcquireOfAHeldLockReturnsFalse) {
  Waiters w(GetParam());
  threading::Lock lock;
  lock.acquire();
  std::atomic<bool> got{true};
  std::atomic<double> took{0};
  w.start([&] {
    const auto t0 = Clock::now();
    got = lock.acquire(true, Seconds(0.05));
    took = since(t0);
  });
  w.join();
  lock.release();
  EXPECT_FALSE(got);
  EXPECT_GE(took, 0.045);
  EXPECT_LT(took, 5.0);
}

// lock_tests.EventTests.test_notify: set() wakes every waiter, with true.
TEST_P(WaiterKind, EventSetWakesEveryWaiter) {
  Waiters w(GetParam());
  threading::Event ev;
  std::atomic<int> woken{0};
  for (int i = 0; i < 4; ++i) {
    w.start([&] {
      if (ev.wait(Seconds(10))) ++woken;
    });
  }
  w.wait_blocked(4);
  EXPECT_EQ(woken, 0);
  ev.set();
  w.join();
  EXPECT_EQ(woken, 4);
}

// lock_tests.ConditionTests.test_notify: notify(n) wakes n, notify_all the rest.
TEST_P(WaiterKind, ConditionNotifyNThenAll) {
  Waiters w(GetParam());
  threading::Condition cond;
  std::atomic<int> woken{0};
  for (int i = 0; i < 5; ++i) {
    w.start([&] {
      std::lock_guard g(cond);
      cond.wait(Seconds(10));
      ++woken;
    });
  }
  w.wait_blocked(5);
  {
    std::lock_guard g(cond);
    cond.notify(2);
  }
  w.until([&] { return woken >= 2; });
  EXPECT_EQ(woken, 2);
  {
    std::lock_guard g(cond);
    cond.notify_all();
  }
  w.join();
  EXPECT_EQ(woken, 5);
}

// lock_tests.BaseSemaphoreTests.test_acquire_contended: release(n) admits exactly n waiters.
TEST_P(WaiterKind, SemaphoreReleaseNAdmitsN) {
  Waiters w(GetParam());
  threading::Semaphore sem(0);
  std::atomic<int> admitted{0};
  for (int i = 0; i < 5; ++i) {
    w.start([&] {
      sem.acquire();
      ++admitted;
    });
  }
  w.wait_blocked(5);
  sem.release(3);
  w.until([&] { return admitted >= 3; });
  EXPECT_EQ(admitted, 3);
  sem.release(2);
  w.join();
  EXPECT_EQ(admitted, 5);
}

// test_queue.BaseQueueTestMixin: blocked getters each get one item; a timed get raises Empty.
TEST_P(WaiterKind, QueueGettersBlockUntilPut) {
  Waiters w(GetParam());
  trident::queue::Queue<int> q;
  std::atomic<int> sum{0};
  for (int i = 0; i < 3; ++i) w.start([&] { sum += q.get(true, Seconds(10)); });
  w.wait_blocked(3);
  for (int i = 1; i <= 3; ++i) q.put(i);
  w.join();
  EXPECT_EQ(sum, 6);
  std::atomic<bool> empty{false};
  w.start([&] {
    try {
      q.get(true, Seconds(0.03));
    } catch (const trident::queue::Empty&) {
      empty = true;
    }
  });
  w.join();
  EXPECT_TRUE(empty);
}

// test_queue: a bounded queue's put blocks until a get makes room.
TEST_P(WaiterKind, BoundedQueuePutBlocksUntilGet) {
  Waiters w(GetParam());
  trident::queue::Queue<int> q(1);
  q.put(0);
  std::atomic<bool> put{false};
  w.start([&] {
    q.put(1);
    put = true;
  });
  w.wait_blocked(1);
  EXPECT_FALSE(put);
  EXPECT_EQ(q.get(), 0);
  w.join();
  EXPECT_TRUE(put);
  EXPECT_EQ(q.get(), 1);
}

// Future.result() and Thread.join() from a waiter: completed by another thread.
TEST_P(WaiterKind, FutureResultAndThreadJoin) {
  Waiters w(GetParam());
  trident::futures::ThreadPoolExecutor pool(1);
  threading::Event go;
  auto fut = pool.submit([&] {
    go.wait(Seconds(10));
    return 7;
  });
  threading::Thread t([&] { go.wait(Seconds(10)); });
  t.start();
  std::atomic<int> got{0};
  w.start([&] { got = fut.result(Seconds(10)); });
  w.start([&] { t.join(Seconds(10)); });
  w.wait_blocked(2);
  go.set();
  w.join();
  EXPECT_EQ(got, 7);
  EXPECT_FALSE(t.is_alive());
}

INSTANTIATE_TEST_SUITE_P(Parker, WaiterKind, ::testing::Values(Kind::kThread, Kind::kGreenlet), kind_name);

class GeventParker : public ::testing::Test {
 protected:
  void TearDown() override { gevent::get_hub().destroy(); }
};

// gevent's event ping-pong, with trident's own threading::Event: two greenlets of one thread take
// turns; neither blocks the thread.
TEST_F(GeventParker, TwoGreenletsPingPongOverAThreadingEvent) {
  threading::Event ping, pong;
  std::string log;
  auto a = gevent::spawn([&] {
    for (int i = 0; i < 3; ++i) {
      log += 'a';
      ping.set();
      pong.wait();
      pong.clear();
    }
  });
  auto b = gevent::spawn([&] {
    for (int i = 0; i < 3; ++i) {
      ping.wait();
      ping.clear();
      log += 'b';
      pong.set();
    }
  });
  gevent::joinall({a, b}, {.timeout = Seconds(10)});
  EXPECT_TRUE(a.ready() && b.ready());
  EXPECT_EQ(log, "ababab");
}

// A greenlet waits on a ThreadPoolExecutor future finished by a worker thread while the other
// greenlets of its hub keep running; the worker wakes it through the hub's ev_async.
TEST_F(GeventParker, GreenletWaitsOnAFutureWhileOthersRun) {
  trident::futures::ThreadPoolExecutor pool(1);
  threading::Event release_worker;
  auto fut = pool.submit([&] {
    release_worker.wait(Seconds(10));
    return std::string("done");
  });
  auto waiter = gevent::spawn([&] { return fut.result(Seconds(10)); });
  int ticks = 0;
  auto ticker = gevent::spawn([&] {
    while (!waiter.ready()) {
      if (++ticks == 50) release_worker.set();
      gevent::sleep(0.001);
    }
  });
  EXPECT_EQ(waiter.get(true, Seconds(10)), "done");
  ticker.join(Seconds(10));
  EXPECT_GE(ticks, 50);
}

// gevent: the thread's main greenlet blocks by switching to the hub too.
TEST_F(GeventParker, MainGreenletParksInACoreWait) {
  threading::Event ev;
  bool ran = false;
  gevent::spawn([&] {
    ran = true;
    ev.set();
  });
  EXPECT_TRUE(ev.wait(Seconds(10)));
  EXPECT_TRUE(ran);
  // A timed core wait uses a hub timer; other greenlets run meanwhile.
  int ticks = 0;
  auto ticker = gevent::spawn([&] {
    for (int i = 0; i < 3; ++i) {
      ++ticks;
      gevent::sleep(0);
    }
  });
  threading::Event never;
  const auto t0 = Clock::now();
  EXPECT_FALSE(never.wait(Seconds(0.05)));
  EXPECT_GE(since(t0), 0.045);
  EXPECT_EQ(ticks, 3);
}

// With another thread alive the hub does not raise LoopExit: it waits for that thread to wake the
// greenlet (the LoopExit rule, docs/gevent.md).
TEST_F(GeventParker, AnotherThreadWakesTheMainGreenletInsteadOfLoopExit) {
  trident::queue::Queue<int> q;
  threading::Thread t([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));  // the wait under test must block first
    q.put(5);
  });
  t.start();
  auto g = gevent::spawn([&] { return q.get(); });
  EXPECT_EQ(g.get(), 5);
  t.join();
}

}  // namespace

namespace {

class GeventIdentity : public ::testing::Test {
 protected:
  void TearDown() override { gevent::get_hub().destroy(); }
};

// gevent's patched threading: an RLock belongs to the greenlet that acquired it; another greenlet
// of the same thread cannot re-enter it, it blocks (parks) until the owner releases.
TEST_F(GeventIdentity, RLockIsOwnedByTheGreenlet) {
  threading::RLock rlock;
  std::string log;
  auto owner = gevent::spawn([&] {
    rlock.acquire();
    rlock.acquire();  // re-entry by the owner itself
    log += "owner in;";
    gevent::sleep(0.02);
    rlock.release();
    rlock.release();
    log += "owner out;";
  });
  auto other = gevent::spawn([&] {
    EXPECT_FALSE(rlock.is_owned());
    EXPECT_FALSE(rlock.acquire(false));
    log += "other blocks;";
    rlock.acquire();
    log += "other in;";
    EXPECT_TRUE(rlock.is_owned());
    rlock.release();
  });
  gevent::joinall({owner, other}, {.timeout = Seconds(10)});
  owner.get();
  other.get();
  EXPECT_EQ(log, "owner in;other blocks;owner out;other in;");
  // The main greenlet keeps the thread's identity: a lock it holds is not a spawned greenlet's.
  rlock.acquire();
  auto probe = gevent::spawn([&] { return rlock.is_owned(); });
  EXPECT_FALSE(probe.get());
  EXPECT_TRUE(rlock.is_owned());
  rlock.release();
}

// A Condition over the default RLock: wait() in one greenlet releases it for another, which
// notifies; releasing from a greenlet that does not own it is RuntimeError.
TEST_F(GeventIdentity, ConditionWaitAndNotifyBetweenGreenlets) {
  threading::Condition cond;
  bool flag = false;
  auto waiter = gevent::spawn([&] {
    std::lock_guard g(cond);
    while (!flag) cond.wait(Seconds(10));
    return flag;
  });
  auto notifier = gevent::spawn([&] {
    std::lock_guard g(cond);
    flag = true;
    cond.notify();
  });
  EXPECT_TRUE(waiter.get(true, Seconds(10)));
  notifier.get();
  threading::RLock r;
  auto holder = gevent::spawn([&] {
    r.acquire();
    gevent::sleep(0.02);
    r.release();
  });
  auto thief = gevent::spawn([&] { EXPECT_THROW(r.release(), trident::RuntimeError); });
  gevent::joinall({holder, thief}, {.timeout = Seconds(10)});
  holder.get();
  thief.get();
}

}  // namespace
