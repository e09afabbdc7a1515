// greenlet lifetime and threads: the themes of greenlet's test_leaks.py, test_greenlet.py
// (GreenletExit on collection, dead greenlets) and test_greenlet.py's threading cases
// (switching to another thread's greenlet is greenlet.error), plus trident's handle rules.
#include <atomic>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "trident/greenlet.hpp"
#include "trident/threading.hpp"

namespace {

using trident::greenlet::getcurrent;
using trident::greenlet::greenlet;
using trident::greenlet::GreenletExit;

struct Flag {
  bool* set;
  ~Flag() { *set = true; }
};

// test_kill_on_dealloc: dropping the last reference to a suspended greenlet raises GreenletExit
// in it, so its cleanup runs.
TEST(GreenletLifetime, LastHandleDroppedRaisesGreenletExit) {
  bool destroyed = false;
  bool saw_exit = false;
  {
    greenlet main = getcurrent();
    greenlet g([&] {
      Flag f{&destroyed};
      try {
        main.switch_();
      } catch (const GreenletExit&) {
        saw_exit = true;
        throw;
      }
    });
    g.switch_();
    EXPECT_FALSE(destroyed);
  }
  EXPECT_TRUE(saw_exit);
  EXPECT_TRUE(destroyed);
}

// Catching GreenletExit and returning is fine (greenlet: the greenlet just finishes).
TEST(GreenletLifetime, CatchingGreenletExitAndReturning) {
  int cleanups = 0;
  {
    greenlet main = getcurrent();
    greenlet g([&] {
      try {
        main.switch_();
      } catch (const GreenletExit&) {
        ++cleanups;
      }
      return 3;
    });
    g.switch_();
  }
  EXPECT_EQ(cleanups, 1);
}

// `catch (const std::exception&)` does not swallow GreenletExit (a BaseException in Python).
TEST(GreenletLifetime, GreenletExitIsNotAStdException) {
  bool swallowed = false;
  bool destroyed = false;
  {
    greenlet main = getcurrent();
    greenlet g([&] {
      Flag f{&destroyed};
      try {
        main.switch_();
      } catch (const std::exception&) {
        swallowed = true;
      }
    });
    g.switch_();
  }
  EXPECT_FALSE(swallowed);
  EXPECT_TRUE(destroyed);
}

// A copy keeps the greenlet alive; the last copy kills it.
TEST(GreenletLifetime, CopiesShareTheGreenlet) {
  bool destroyed = false;
  greenlet main = getcurrent();
  auto* keep = new greenlet([&] {
    Flag f{&destroyed};
    main.switch_();
  });
  keep->switch_();
  greenlet copy = *keep;
  delete keep;
  EXPECT_FALSE(destroyed);
  EXPECT_TRUE(static_cast<bool>(copy));
  copy = greenlet([] {});
  EXPECT_TRUE(destroyed);
}

// The last handle dropped inside another greenlet: the victim is killed right there (its parent
// for the unwinding is the greenlet that dropped it), then control returns to the dropper.
TEST(GreenletLifetime, DroppedFromAnotherGreenlet) {
  std::vector<std::string> log;
  greenlet main = getcurrent();
  auto* victim = new greenlet([&] {
    struct Log {
      std::vector<std::string>* log;
      ~Log() { log->push_back("victim unwound"); }
    } l{&log};
    main.switch_();
  });
  victim->switch_();
  greenlet killer([&] {
    delete victim;
    log.push_back("killer goes on");
  });
  killer.switch_();
  EXPECT_EQ(log, (std::vector<std::string>{"victim unwound", "killer goes on"}));
}

// A greenlet can drop the last handle to itself; it finishes normally and is freed after.
TEST(GreenletLifetime, DropOwnLastHandle) {
  auto* h = new greenlet;
  h->set_run([&] {
    delete h;  // last handle, while running: reaped when it switches away
    return 7;
  });
  EXPECT_EQ(h->switch_<int>(), 7);
}

// test_threaded_leak / cross-thread: switching to a greenlet of another thread is greenlet.error.
TEST(GreenletThreads, SwitchToOtherThreadsGreenletIsError) {
  greenlet main_here = getcurrent();
  std::string message;
  bool caught = false;
  std::thread t([&] {
    try {
      main_here.switch_();
    } catch (const trident::greenlet::error& e) {
      caught = true;
      message = e.what();
    }
  });
  t.join();
  EXPECT_TRUE(caught);
  EXPECT_EQ(message, "greenlet::switch_(): cannot switch to a different thread");
  // And a parent of another thread is refused.
  std::thread t2([&] {
    EXPECT_THROW(greenlet([] {}, main_here), trident::ValueError);
    greenlet g([] {});
    EXPECT_THROW(g.set_parent(main_here), trident::ValueError);
  });
  t2.join();
}

// One main greenlet per thread: getcurrent() differs between threads and has no parent.
TEST(GreenletThreads, OneMainGreenletPerThread) {
  greenlet here = getcurrent();
  bool same = true;
  bool no_parent = false;
  std::thread t([&] {
    greenlet there = getcurrent();
    same = there == here;
    no_parent = !there.parent().has_value();
  });
  t.join();
  EXPECT_FALSE(same);
  EXPECT_TRUE(no_parent);
}

// The last handle of a suspended greenlet dropped in another thread: its own thread kills it at
// its next switch (greenlet 3 queues it to its thread the same way).
TEST(GreenletThreads, LastHandleDroppedInAnotherThread) {
  bool destroyed = false;
  greenlet main = getcurrent();
  auto* g = new greenlet([&] {
    Flag f{&destroyed};
    main.switch_();
  });
  g->switch_();
  std::thread t([&] { delete g; });
  t.join();
  EXPECT_FALSE(destroyed);
  greenlet tick([] {});
  tick.switch_();  // any switch in the owning thread reaps the queued greenlet
  EXPECT_TRUE(destroyed);
}

// A thread that exits kills its suspended greenlets (their destructors run on that thread); a
// handle kept elsewhere then sees a dead greenlet.
TEST(GreenletThreads, ThreadExitKillsItsGreenlets) {
  std::atomic<bool> destroyed{false};
  std::thread::id destroyed_on;
  std::thread::id thread_id;
  std::optional<greenlet> kept;
  std::thread t([&] {
    thread_id = std::this_thread::get_id();
    greenlet main = getcurrent();
    greenlet g([&] {
      struct Cleanup {
        std::atomic<bool>* d;
        std::thread::id* on;
        ~Cleanup() {
          *on = std::this_thread::get_id();
          d->store(true);
        }
      } c{&destroyed, &destroyed_on};
      main.switch_();
    });
    g.switch_();
    kept = g;
  });
  t.join();
  EXPECT_TRUE(destroyed.load());
  EXPECT_EQ(destroyed_on, thread_id);
  EXPECT_TRUE(kept->dead());
  EXPECT_THROW(kept->switch_(), trident::greenlet::error);
  kept.reset();
}

// Greenlets inside a trident thread behave the same.
TEST(GreenletThreads, InsideTridentThread) {
  int result = 0;
  trident::threading::Thread t([&] {
    greenlet g([](int x) { return x * 2; });
    result = g.switch_<int>(21);
  });
  t.start();
  t.join();
  EXPECT_EQ(result, 42);
}

// 100 000 greenlets created, run and finished (stacks recycled through the pool).
TEST(GreenletScale, HundredThousandCreatedAndFinished) {
  long sum = 0;
  for (int i = 0; i < 100000; ++i) {
    greenlet g([](int x) { return x + 1; });
    sum += g.switch_<int>(i);
    ASSERT_TRUE(g.dead());
  }
  EXPECT_EQ(sum, 100000L * 100001L / 2);
}

// Many alive at once, each suspended, then all finished.
TEST(GreenletScale, ManySuspendedThenFinished) {
  greenlet main = getcurrent();
  std::vector<greenlet> gs;
  int finished = 0;
  for (int i = 0; i < 2000; ++i) {
    gs.emplace_back([&] {
      main.switch_();
      ++finished;
    });
    gs.back().switch_();
  }
  for (auto& g : gs) g.switch_();
  EXPECT_EQ(finished, 2000);
  // Small unguarded stacks too.
  std::vector<greenlet> small;
  for (int i = 0; i < 2000; ++i) {
    small.emplace_back(trident::greenlet::Options{.stack_size = 16 * 1024, .guard_page = false}, [&] {
      main.switch_();
      ++finished;
    });
    small.back().switch_();
  }
  small.clear();  // killed by GreenletExit: `finished` is not incremented
  EXPECT_EQ(finished, 2000);
}

}  // namespace
