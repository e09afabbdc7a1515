// Python 3.13's Queue.shutdown(immediate), for Queue, LifoQueue and PriorityQueue: the shutdown
// tests of CPython's Lib/test/test_queue.py, with blocked callers detected without sleeping.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <barrier>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "queue_test_support.hpp"
#include "support/helpers.hpp"
#include "trident/errors.hpp"
#include "trident/queue.hpp"

namespace {

using namespace std::chrono_literals;
using trident::queue_test::Blocker;
using trident::queue_test::Event;
using trident::queue_test::kind_name;
using trident::queue_test::kLong;
using trident::queue_test::message_of;
using trident::testing::kTimeoutSlack;
namespace queue = trident::queue;

template <class Q>
class Shutdown : public ::testing::Test {
 protected:
  static std::string api(const char* method) { return std::string(kind_name<Q>()) + "::" + method + "()"; }
};
// Items are ints standing for test_queue.py's strings (7, 8, ...): short test names in ctest.
using QueueKinds = ::testing::Types<queue::Queue<int>, queue::LifoQueue<int>, queue::PriorityQueue<int>>;
TYPED_TEST_SUITE(Shutdown, QueueKinds);

// Results gathered by several threads.
class Results {
 public:
  void add(bool r) {
    std::lock_guard g(mutex_);
    results_.push_back(r);
  }
  std::vector<bool> sorted() {
    std::lock_guard g(mutex_);
    auto r = results_;
    std::sort(r.begin(), r.end());
    return r;
  }

 private:
  std::mutex mutex_;
  std::vector<bool> results_;
};

// Python: test_shutdown_empty — on a shut-down empty queue put and get raise ShutDown.
TYPED_TEST(Shutdown, PutAndGetOnShutDownEmptyQueueRaise) {
  TypeParam q;
  q.shutdown();
  EXPECT_EQ(message_of<queue::ShutDown>([&] { q.put(1); }), this->api("put") + ": queue is shut down");
  EXPECT_EQ(message_of<queue::ShutDown>([&] { q.get(); }), this->api("get") + ": queue is shut down and empty");
}

// Python: test_shutdown_nonempty — after shutdown(), queued items can still be got; then ShutDown.
TYPED_TEST(Shutdown, GetDrainsThenRaises) {
  TypeParam q;
  q.put(1);
  q.shutdown();
  EXPECT_EQ(q.get(), 1);
  EXPECT_THROW(q.get(), queue::ShutDown);
}

// Python: test_shutdown_immediate — shutdown(immediate=True) empties the queue: get raises at once.
TYPED_TEST(Shutdown, ImmediateShutdownEmptiesTheQueue) {
  TypeParam q;
  q.put(1);
  q.shutdown(true);
  EXPECT_EQ(q.qsize(), 0u);
  EXPECT_THROW(q.get(), queue::ShutDown);
}

// Python: test_shutdown_allowed_transitions — alive -> shutdown -> immediate -> shutdown again.
TYPED_TEST(Shutdown, AllowedTransitions) {
  TypeParam q;
  EXPECT_FALSE(q.is_shutdown());
  q.shutdown();
  EXPECT_TRUE(q.is_shutdown());
  q.shutdown(true);
  EXPECT_TRUE(q.is_shutdown());
  q.shutdown(false);
  EXPECT_TRUE(q.is_shutdown());
}

// Python: test_shutdown_all_methods_in_one_thread — put, put_nowait raise; get, get_nowait and
// get(True, 1.0) return the queued items and then raise; task_done and join keep working.
TYPED_TEST(Shutdown, AllMethodsInOneThread) {
  TypeParam q(2);
  q.put(3);
  q.put_nowait(4);
  q.shutdown();
  EXPECT_THROW(q.put(5), queue::ShutDown);
  EXPECT_THROW(q.put_nowait(6), queue::ShutDown);
  EXPECT_THROW(q.put(5, 10ms), queue::ShutDown);
  std::vector<int> got{q.get(), q.get()};
  std::sort(got.begin(), got.end());
  EXPECT_EQ(got, (std::vector<int>{3, 4}));
  q.task_done();
  q.task_done();
  EXPECT_TRUE(q.join(0s));
  EXPECT_THROW(q.get(), queue::ShutDown);
  EXPECT_THROW(q.get_nowait(), queue::ShutDown);  // ShutDown, not Empty, once shut down
  EXPECT_THROW(q.get(true, 1s), queue::ShutDown);
}

// Python: test_shutdown_immediate_all_methods_in_one_thread — the drained items count as done:
// task_done raises ValueError and join returns.
TYPED_TEST(Shutdown, ImmediateAllMethodsInOneThread) {
  TypeParam q(2);
  q.put(3);
  q.put_nowait(4);
  q.shutdown(true);
  EXPECT_THROW(q.put(5), queue::ShutDown);
  EXPECT_THROW(q.put_nowait(6), queue::ShutDown);
  EXPECT_THROW(q.get(), queue::ShutDown);
  EXPECT_THROW(q.get_nowait(), queue::ShutDown);
  EXPECT_EQ(q.unfinished_tasks(), 0u);
  EXPECT_THROW(q.task_done(), trident::ValueError);
  q.join();
}

// Python: test_shutdown_pending_get — a get blocked on an empty queue wakes and raises ShutDown.
TYPED_TEST(Shutdown, PendingGetRaisesShutDown) {
  for (bool immediate : {false, true}) {
    TypeParam q;
    Blocker blocker;
    std::atomic<bool> raised{false};
    std::thread getter([&] {
      blocker.about_to_block();
      try {
        q.get(kLong);
      } catch (const queue::ShutDown&) {
        raised = true;
      }
    });
    ASSERT_TRUE(blocker.wait_until_blocked());
    q.shutdown(immediate);
    getter.join();
    EXPECT_TRUE(raised);
  }
}

// Python: test_shutdown_put / test_shutdown_immediate_put — puts blocked on a full queue wake and
// raise ShutDown.
TYPED_TEST(Shutdown, PendingPutsRaiseShutDown) {
  for (bool immediate : {false, true}) {
    TypeParam q(2);
    q.put(7);
    q.put(8);
    std::vector<Blocker> blockers(2);
    std::atomic<int> raised{0};
    std::vector<std::thread> putters;
    for (int i = 0; i < 2; ++i) {
      putters.emplace_back([&, i] {
        blockers[i].about_to_block();
        try {
          q.put(i == 0 ? 5 : 6, kLong);
        } catch (const queue::ShutDown&) {
          ++raised;
        }
      });
    }
    for (auto& b : blockers) ASSERT_TRUE(b.wait_until_blocked());
    q.shutdown(immediate);
    for (auto& t : putters) t.join();
    EXPECT_EQ(raised, 2);
    EXPECT_EQ(q.qsize(), immediate ? 0u : 2u);
  }
}

// Python: test_shutdown_get — with two items and three getters after shutdown(), two get an item
// and one raises ShutDown; after shutdown(immediate=True) both getters raise.
TYPED_TEST(Shutdown, GettersAfterShutdownShareWhatIsLeft) {
  for (bool immediate : {false, true}) {
    TypeParam q(2);
    q.put(7);
    q.put(8);
    const int getters = immediate ? 2 : 3;
    Event go;
    Results results;  // true: got an item
    std::vector<std::thread> threads;
    for (int i = 0; i < getters; ++i) {
      threads.emplace_back([&] {
        ASSERT_TRUE(go.wait());
        try {
          q.get(kLong);
          results.add(true);
        } catch (const queue::ShutDown&) {
          results.add(false);
        }
      });
    }
    q.shutdown(immediate);
    go.set();
    for (auto& t : threads) t.join();
    if (immediate) {
      EXPECT_EQ(results.sorted(), (std::vector<bool>{false, false}));
    } else {
      EXPECT_EQ(results.sorted(), (std::vector<bool>{false, true, true}));
    }
  }
}

// Python: test_shutdown_immediate_join — join()ers blocked on unfinished items return when
// shutdown(immediate=True) drains them.
TYPED_TEST(Shutdown, ImmediateShutdownReleasesJoin) {
  TypeParam q;
  q.put(7);
  std::vector<Blocker> blockers(2);
  std::atomic<int> joined{0};
  std::vector<std::thread> joiners;
  for (auto& b : blockers) {
    joiners.emplace_back([&] {
      b.about_to_block();
      if (q.join(kLong)) ++joined;
    });
  }
  for (auto& b : blockers) ASSERT_TRUE(b.wait_until_blocked());
  EXPECT_EQ(joined, 0);
  q.shutdown(true);
  for (auto& t : joiners) t.join();
  EXPECT_EQ(joined, 2);
}

// Python: test_shutdown_join — after shutdown(), join()ers return once the remaining items are
// got and acknowledged with task_done.
TYPED_TEST(Shutdown, JoinAfterShutdownWaitsForRemainingTasks) {
  TypeParam q;
  q.put(7);
  std::vector<Blocker> blockers(2);
  std::atomic<int> joined{0};
  std::vector<std::thread> joiners;
  for (auto& b : blockers) {
    joiners.emplace_back([&] {
      b.about_to_block();
      if (q.join(kLong)) ++joined;
    });
  }
  for (auto& b : blockers) ASSERT_TRUE(b.wait_until_blocked());
  q.shutdown();
  std::thread worker([&] {
    EXPECT_EQ(q.get(kLong), 7);
    q.task_done();
  });
  worker.join();
  for (auto& t : joiners) t.join();
  EXPECT_EQ(joined, 2);
}

// Python 3.13 (queue.py; documented in 3.14): shutdown(immediate=True) subtracts only the items it
// drains from the unfinished tasks, so join() still waits for an item fetched before it.
TYPED_TEST(Shutdown, ImmediateShutdownKeepsFetchedItemsUnfinished) {
  TypeParam q;
  q.put(11);
  q.put(12);
  q.put(13);
  EXPECT_GE(q.get(), 11);  // fetched, not yet acknowledged
  EXPECT_EQ(q.unfinished_tasks(), 3u);
  q.shutdown(true);
  EXPECT_EQ(q.unfinished_tasks(), 1u);
  const auto took = trident::queue_test::time_it([&] { EXPECT_FALSE(q.join(50ms)); });
  EXPECT_GE(took, 50ms);
  EXPECT_LT(took, 50ms + kTimeoutSlack);
  q.task_done();
  EXPECT_TRUE(q.join(0s));
  EXPECT_THROW(q.task_done(), trident::ValueError);
}

// Python: test_shutdown_put_join / test_shutdown_immediate_put_join — a put made after shutdown
// raises ShutDown, and a blocked join()er returns once the one item is handled: by get +
// task_done after shutdown(), or by the drain of shutdown(immediate=True).
TYPED_TEST(Shutdown, PutAndJoinAroundShutdown) {
  for (bool immediate : {false, true}) {
    TypeParam q(2);
    q.put(7);
    Event go;
    std::atomic<bool> put_raised{false};
    std::atomic<bool> joined{false};
    std::thread putter([&] {
      ASSERT_TRUE(go.wait());
      try {
        q.put(5);
      } catch (const queue::ShutDown&) {
        put_raised = true;
      }
    });
    Blocker join_blocker;
    std::thread joiner([&] {
      join_blocker.about_to_block();
      joined = q.join(kLong);
    });
    ASSERT_TRUE(join_blocker.wait_until_blocked());
    EXPECT_EQ(q.unfinished_tasks(), 1u);
    q.shutdown(immediate);
    go.set();
    if (immediate) {
      EXPECT_THROW(q.get_nowait(), queue::ShutDown);
    } else {
      EXPECT_EQ(q.get(), 7);
      q.task_done();
    }
    putter.join();
    joiner.join();
    EXPECT_TRUE(put_raised);
    EXPECT_TRUE(joined);
  }
}

// Python: test_shutdown_get_task_done_join — getters that acknowledge their items and join()ers
// all finish normally when shutdown() happens while they run.
TYPED_TEST(Shutdown, GetTaskDoneAndJoinFinishAcrossShutdown) {
  TypeParam q(2);
  q.put(7);
  q.put(8);
  EXPECT_EQ(q.unfinished_tasks(), q.qsize());
  Event go;
  std::atomic<int> ok{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < 2; ++i) {
    threads.emplace_back([&] {
      ASSERT_TRUE(go.wait());
      q.get(kLong);
      q.task_done();
      ++ok;
    });
    threads.emplace_back([&] {
      ASSERT_TRUE(go.wait());
      if (q.join(kLong)) ++ok;
    });
  }
  go.set();
  q.shutdown(false);
  for (auto& t : threads) t.join();
  EXPECT_EQ(ok, 4);
}

// Python: test_shutdown[_immediate]_all_methods_in_many_threads — writers, readers polling with
// get(False) and (for immediate) join()ers run until one writer has the queue shut down midway:
// every reader ends on ShutDown, join()ers return, and an immediate shutdown leaves the queue empty.
TYPED_TEST(Shutdown, AllMethodsInManyThreads) {
  for (bool immediate : {false, true}) {
    TypeParam q;
    constexpr int kWriters = 4, kReaders = 4, kJoiners = 2;
    constexpr int kPerWriter = 2000;
    constexpr int kShutdownAt = kPerWriter / 2;
    std::barrier start(kWriters + kReaders + (immediate ? kJoiners : 0));
    Event shutdown_requested;
    std::atomic<bool> shutdown_claimed{false};
    std::atomic<int> writers_stopped{0}, readers_stopped{0};
    std::atomic<bool> empty_after_shutdown{false};
    std::vector<std::thread> threads;
    for (int w = 0; w < kWriters; ++w) {
      threads.emplace_back([&] {
        for (int i = 0; i < kShutdownAt / 2; ++i) q.put(9);
        start.arrive_and_wait();
        for (int i = kShutdownAt / 2; i < kPerWriter; ++i) {
          try {
            q.put(10);
          } catch (const queue::ShutDown&) {
            ++writers_stopped;
            return;
          }
          if (i == kShutdownAt && !shutdown_claimed.exchange(true)) shutdown_requested.set();
        }
      });
    }
    for (int r = 0; r < kReaders; ++r) {
      threads.emplace_back([&] {
        q.get(kLong);
        q.task_done();
        start.arrive_and_wait();
        for (;;) {
          try {
            q.get(false);
            q.task_done();
          } catch (const queue::ShutDown&) {
            ++readers_stopped;
            return;
          } catch (const queue::Empty&) {
            std::this_thread::yield();
          }
        }
      });
    }
    if (immediate) {
      for (int j = 0; j < kJoiners; ++j) {
        threads.emplace_back([&] {
          start.arrive_and_wait();
          EXPECT_TRUE(q.join(kLong));
        });
      }
    }
    threads.emplace_back([&] {
      ASSERT_TRUE(shutdown_requested.wait());
      q.shutdown(immediate);
      empty_after_shutdown = q.qsize() == 0;
    });
    for (auto& t : threads) t.join();
    EXPECT_TRUE(shutdown_claimed) << "immediate=" << immediate;
    EXPECT_LE(writers_stopped, kWriters);
    EXPECT_EQ(readers_stopped, kReaders);
    if (immediate) {
      EXPECT_TRUE(empty_after_shutdown);
      EXPECT_TRUE(q.empty());
    }
  }
}

}  // namespace
