// gevent's hub, spawn/join/get/kill, sleep, joinall, Timeout and LoopExit, as gevent's own suite
// pins them (src/gevent/tests: test__greenlet.py, test__sleep0.py, test__timeout.py,
// test__joinall.py, test__hub.py).
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "trident/gevent.hpp"
#include "trident/threading.hpp"

namespace gevent = trident::gevent;
using trident::Seconds;

namespace {

// Every test ends with the hub destroyed, as its thread's exit would, so each starts afresh and the
// loop's descriptors do not count as a leak.
class Gevent : public ::testing::Test {
 protected:
  void TearDown() override { gevent::get_hub().destroy(); }
};

// gevent.spawn(f, *args).get() returns f's value; the greenlet runs only once the spawner waits.
TEST_F(Gevent, GetReturnsValueAndRunsOnlyWhenTheSpawnerWaits) {
  bool ran = false;
  auto g = gevent::spawn(
      [&](int a, int b) {
        ran = true;
        return a + b;
      },
      2, 3);
  EXPECT_FALSE(ran);
  EXPECT_TRUE(g.started());
  EXPECT_FALSE(g.ready());
  EXPECT_EQ(g.get(), 5);
  EXPECT_TRUE(ran);
  EXPECT_TRUE(g.ready());
  EXPECT_TRUE(g.successful());
  EXPECT_TRUE(g.dead());
  EXPECT_FALSE(g.started());
  EXPECT_EQ(g.value(), 5);
  EXPECT_EQ(g.exception(), nullptr);
}
}  // namespace

namespace {

using Clock = std::chrono::steady_clock;

// Keeps the CPU (and the hub) busy, so that timers expire while the greenlet does not wait.
void threading_sleep_busy(double seconds) {
  const auto until = Clock::now() + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(seconds));
  while (Clock::now() < until) {
  }
}

double since(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }

// test__greenlet.py: an exception escaping the function is stored; get() re-raises it.
TEST_F(Gevent, GetRethrowsTheGreenletsError) {
  auto g = gevent::spawn([]() -> int { throw trident::ValueError("boom"); });
  EXPECT_THROW(g.get(), trident::ValueError);
  EXPECT_TRUE(g.ready());
  EXPECT_FALSE(g.successful());
  EXPECT_NE(g.exception(), nullptr);
  EXPECT_FALSE(g.value().has_value());
}

// Greenlet.join(timeout) gives up while the greenlet still runs; get(block=False) raises Timeout.
TEST_F(Gevent, JoinTimesOutAndNonBlockingGetRaisesTimeout) {
  auto g = gevent::spawn([] { gevent::sleep(5); });
  const auto t0 = Clock::now();
  EXPECT_FALSE(g.join(Seconds(0.05)));
  EXPECT_GE(since(t0), 0.04);
  EXPECT_LT(since(t0), 2.0);
  EXPECT_THROW(g.get(false), gevent::TimeoutExpired);
  EXPECT_THROW(g.get(true, Seconds(0.01)), gevent::TimeoutExpired);
  g.kill();
  EXPECT_TRUE(g.dead());
}

// test__greenlet.py TestKillBeforeStart: a greenlet killed before it ran never runs and is dead.
TEST_F(Gevent, KillBeforeStartNeverRuns) {
  bool ran = false;
  auto g = gevent::spawn([&] { ran = true; });
  g.kill();
  EXPECT_TRUE(g.dead());
  EXPECT_TRUE(g.successful());
  gevent::sleep(0);
  EXPECT_FALSE(ran);
  EXPECT_THROW(g.get(), gevent::GreenletExit);
}

// kill() raises GreenletExit at the greenlet's wait; its destructors run; block waits for it.
TEST_F(Gevent, KillRaisesGreenletExitAtTheWait) {
  bool unwound = false;
  struct Flag {
    bool& f;
    ~Flag() { f = true; }
  };
  auto g = gevent::spawn([&] {
    Flag flag{unwound};
    gevent::sleep(10);
  });
  gevent::sleep(0);  // let it start and block
  const auto t0 = Clock::now();
  g.kill();
  EXPECT_LT(since(t0), 2.0);
  EXPECT_TRUE(unwound);
  EXPECT_TRUE(g.dead());
  EXPECT_TRUE(g.successful());
  EXPECT_EQ(g.exception(), nullptr);
}

// kill(exception=...) raises that exception instead; it becomes the greenlet's error.
TEST_F(Gevent, KillWithAnExceptionMakesItTheError) {
  auto g = gevent::spawn([] { gevent::sleep(10); });
  gevent::sleep(0);
  g.kill({.exception = std::make_exception_ptr(trident::RuntimeError("stop")), .block = true, .timeout = Seconds(5.0)});
  EXPECT_TRUE(g.dead());
  EXPECT_FALSE(g.successful());
  EXPECT_THROW(g.get(), trident::RuntimeError);
}

// test__sleep0.py and note 004: sleep(0) yields to the other ready greenlets, in FIFO order.
TEST_F(Gevent, SleepZeroRoundRobinsTheReadyGreenlets) {
  std::string order;
  std::vector<gevent::GreenletBase> gs;
  for (char c : std::string("abc")) {
    gs.push_back(gevent::spawn([&order, c] {
      for (int i = 0; i < 3; ++i) {
        order += c;
        gevent::sleep(0);
      }
    }));
  }
  EXPECT_EQ(gevent::joinall(gs).size(), 3u);
  EXPECT_EQ(order, "abcabcabc");
}

// Note 004: sleep(> 0) resumes no earlier than the next loop iteration, so a greenlet that
// sleep(0)s runs again first, however short the other's delay.
TEST_F(Gevent, SleepPositiveWaitsForTheNextLoopIteration) {
  std::vector<std::string> log;
  auto a = gevent::spawn([&] {
    for (int i = 0; i < 3; ++i) {
      log.push_back("zero" + std::to_string(i));
      gevent::sleep(0);
    }
  });
  auto b = gevent::spawn([&] {
    gevent::sleep(1e-9);
    log.push_back("timer");
  });
  gevent::joinall({a, b});
  const auto at = [&](const std::string& s) { return std::find(log.begin(), log.end(), s) - log.begin(); };
  EXPECT_LT(at("zero1"), at("timer"));
}

// joinall: all by default; with timeout, those done by then; with count, the first count to end.
TEST_F(Gevent, JoinallTimeoutCountAndRaiseError) {
  auto fast = gevent::spawn([] {
    gevent::sleep(0.01);
    return 1;
  });
  auto slow = gevent::spawn([] {
    gevent::sleep(5);
    return 2;
  });
  auto done = gevent::joinall(std::vector<gevent::Greenlet<int>>{slow, fast}, {.timeout = Seconds(0.2)});
  ASSERT_EQ(done.size(), 1u);
  EXPECT_TRUE(done[0] == fast);
  auto quick = gevent::spawn([] { return 3; });
  auto first = gevent::joinall({slow, quick}, {.timeout = Seconds(5.0), .raise_error = false, .count = 1});
  ASSERT_EQ(first.size(), 1u);
  EXPECT_TRUE(first[0] == quick);
  auto bad = gevent::spawn([]() -> int { throw trident::ValueError("bad"); });
  EXPECT_THROW(gevent::joinall({slow, bad}, {.timeout = Seconds(5.0), .raise_error = true}), trident::ValueError);
  gevent::killall({slow});
  EXPECT_TRUE(slow.dead());
}

// test__timeout.py: a Timeout scope interrupts a blocking call in it with its own exception.
TEST_F(Gevent, TimeoutInterruptsASleep) {
  const auto t0 = Clock::now();
  gevent::Timeout t(Seconds(0.05));
  EXPECT_TRUE(t.pending());
  try {
    gevent::sleep(5);
    ADD_FAILURE() << "the sleep was not interrupted";
  } catch (const gevent::TimeoutExpired& e) {
    EXPECT_EQ(e.source(), &t);
    EXPECT_EQ(e.seconds(), 0.05);
  }
  EXPECT_GE(since(t0), 0.04);
  EXPECT_LT(since(t0), 2.0);
  EXPECT_FALSE(t.pending());
}

// Nested timeouts: whichever expires first fires; of two expired, the inner-most.
TEST_F(Gevent, NestedTimeoutsTheFirstToExpireFires) {
  gevent::Timeout outer(Seconds(0.05));
  try {
    gevent::Timeout inner(Seconds(5));
    gevent::sleep(5);
    ADD_FAILURE();
  } catch (const gevent::TimeoutExpired& e) {
    EXPECT_EQ(e.source(), &outer);
  }
  gevent::Timeout outer2(Seconds(5));
  const void* inner_addr = nullptr;
  try {
    gevent::Timeout inner(Seconds(0.05));
    inner_addr = &inner;
    gevent::sleep(5);
  } catch (const gevent::TimeoutExpired& e) {
    EXPECT_EQ(e.source(), inner_addr);
  }
  // Both expired before the greenlet runs again: the inner one is raised.
  gevent::Timeout a(Seconds(0.01));
  const void* b_addr = nullptr;
  try {
    gevent::Timeout b(Seconds(0.02));
    b_addr = &b;
    threading_sleep_busy(0.05);
    gevent::sleep(0);
  } catch (const gevent::TimeoutExpired& e) {
    EXPECT_EQ(e.source(), b_addr);
  }
}

// Leaving the scope (or cancel()) disarms it; a cancelled Timeout never fires.
TEST_F(Gevent, CancelledTimeoutNeverFires) {
  { gevent::Timeout t(Seconds(0.02)); }
  gevent::Timeout c(Seconds(0.02));
  c.cancel();
  EXPECT_FALSE(c.pending());
  EXPECT_NO_THROW(gevent::sleep(0.06));
  EXPECT_EQ(gevent::with_timeout(
                Seconds(1.0), [](int x) { return x * 2; }, 21),
            42);
  EXPECT_THROW(gevent::with_timeout(Seconds(0.01), [] { gevent::sleep(5); }), gevent::TimeoutExpired);
  EXPECT_THROW(gevent::Timeout(Seconds(-1.0)), trident::ValueError);
}

// test__hub.py / LoopExit: the main greenlet waits for something nothing can ever finish.
TEST_F(Gevent, LoopExitWhenNothingCanWakeTheWaiter) {
  std::optional<gevent::GreenletBase> a;
  auto b = gevent::spawn([&] { a->join(); });
  a = gevent::spawn([&] { b.join(); });
  try {
    a->join();
    ADD_FAILURE() << "no LoopExit";
  } catch (const gevent::LoopExit& e) {
    EXPECT_NE(std::string(e.what()).find("Greenlet::join()"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("2 other greenlet(s)"), std::string::npos) << e.what();
  }
  // They wait on each other through handles of this frame: end them before it goes.
  gevent::killall({*a, b});
  EXPECT_TRUE(a->dead() && b.dead());
}

}  // namespace

namespace {

// The documented limit (docs/gevent.md, "What is left"): a Timeout that expires while its greenlet
// is parked in a core wait does not interrupt that wait; it is raised at the next gevent wait in
// the scope, and dropped if the scope ends first.
TEST_F(Gevent, TimeoutDuringACoreWaitIsRaisedAtTheNextGeventWait) {
  trident::threading::Event never;
  gevent::Timeout t(Seconds(0.01));
  EXPECT_FALSE(never.wait(Seconds(0.05)));  // the core wait runs to its own timeout
  try {
    gevent::sleep(0);
    ADD_FAILURE() << "the pending timeout was not raised";
  } catch (const gevent::TimeoutExpired& e) {
    EXPECT_EQ(e.source(), &t);
  }
  {
    gevent::Timeout inner(Seconds(0.01));
    EXPECT_FALSE(never.wait(Seconds(0.05)));
  }
  EXPECT_NO_THROW(gevent::sleep(0));  // the inner scope took its exception with it
}

// Like a Thread, a Greenlet belongs to one thread: its hub's. Using the handle from another thread
// is greenlet.error.
TEST_F(Gevent, AGreenletHandleIsBoundToItsHubsThread) {
  auto g = gevent::spawn([] { gevent::sleep(5); });
  gevent::sleep(0);
  std::atomic<int> errors{0};
  trident::threading::Thread t([&] {
    try {
      g.join(Seconds(0.01));
    } catch (const trident::greenlet::error&) {
      ++errors;
    }
    try {
      g.kill();
    } catch (const trident::greenlet::error&) {
      ++errors;
    }
  });
  t.start();
  t.join();
  EXPECT_EQ(errors, 2);
  g.kill();
}

// gevent's hub.destroy() and a thread's exit: unfinished greenlets are killed — GreenletExit at
// their wait, destructors run — and one never started is dead without running.
TEST_F(Gevent, ThreadExitKillsTheHubsGreenlets) {
  std::atomic<int> unwound{0};
  std::atomic<bool> never_started_ran{false};
  std::optional<gevent::Greenlet<void>> sleeper, unstarted;
  trident::threading::Thread t([&] {
    struct Count {
      std::atomic<int>& n;
      ~Count() { ++n; }
    };
    sleeper = gevent::spawn([&] {
      Count c{unwound};
      gevent::sleep(60);
    });
    gevent::sleep(0);
    unstarted = gevent::spawn([&] { never_started_ran = true; });
  });
  t.start();
  t.join();
  EXPECT_EQ(unwound, 1);
  EXPECT_FALSE(never_started_ran);
  EXPECT_TRUE(sleeper->dead());
  EXPECT_TRUE(sleeper->successful());
  EXPECT_TRUE(unstarted->dead());
}

}  // namespace
