// Queue, LifoQueue and PriorityQueue: one conformance suite run against the three, porting the
// behaviour CPython's Lib/test/test_queue.py checks (BaseQueueTestMixin) minus shutdown, which
// has its own file.
#include <gtest/gtest.h>

#include <atomic>
#include <limits>
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
using trident::queue_test::kind_name;
using trident::queue_test::kLong;
using trident::queue_test::message_of;
using trident::queue_test::time_it;
using trident::testing::kTimeoutSlack;
namespace queue = trident::queue;

constexpr long kQueueSize = 5;  // test_queue.py's QUEUE_SIZE

// The order test_queue.py's basic_queue_test expects after putting 111, 333, 222.
template <class T>
std::vector<int> expected_order(const queue::Queue<T>*) {
  return {111, 333, 222};  // first in, first out
}
template <class T>
std::vector<int> expected_order(const queue::LifoQueue<T>*) {
  return {222, 333, 111};  // last in, first out
}
template <class T, class C>
std::vector<int> expected_order(const queue::PriorityQueue<T, C>*) {
  return {111, 222, 333};  // lowest first
}

template <class Q>
class QueueConformance : public ::testing::Test {
 protected:
  static std::string api(const char* method) { return std::string(kind_name<Q>()) + "::" + method + "()"; }
};
using QueueKinds = ::testing::Types<queue::Queue<int>, queue::LifoQueue<int>, queue::PriorityQueue<int>>;
TYPED_TEST_SUITE(QueueConformance, QueueKinds);

// Python: basic_queue_test — items come out in the kind's order; qsize/empty/full track them.
TYPED_TEST(QueueConformance, OrderAndSizeOfItems) {
  TypeParam q(kQueueSize);
  for (int round = 0; round < 2; ++round) {  // Python runs it twice on one instance
    EXPECT_TRUE(q.empty());
    EXPECT_FALSE(q.full());
    q.put(111);
    q.put(333);
    q.put(222);
    std::vector<int> got;
    for (int i = 0; i < 3; ++i) got.push_back(q.get());
    EXPECT_EQ(got, expected_order(static_cast<const TypeParam*>(nullptr)));
    for (int i = 0; i < kQueueSize - 1; ++i) {
      q.put(i);
      EXPECT_EQ(q.qsize(), static_cast<std::size_t>(i + 1));
    }
    EXPECT_FALSE(q.full());
    q.put(2 * kQueueSize);
    EXPECT_TRUE(q.full());
    EXPECT_FALSE(q.empty());
    EXPECT_EQ(q.qsize(), static_cast<std::size_t>(kQueueSize));
    for (int i = 0; i < kQueueSize; ++i) q.get();
    EXPECT_EQ(q.qsize(), 0u);
    EXPECT_TRUE(q.empty());
  }
  EXPECT_EQ(q.maxsize(), kQueueSize);
}

// Python: put(block=0) on a full queue raises Full at once; get(block=0) on an empty one Empty.
TYPED_TEST(QueueConformance, NonBlockingPutAndGetRaiseFullAndEmpty) {
  TypeParam q(kQueueSize);
  for (int i = 0; i < kQueueSize; ++i) q.put_nowait(1);
  EXPECT_EQ(message_of<queue::Full>([&] { q.put_nowait(1); }), this->api("put") + ": queue is full (maxsize 5)");
  EXPECT_THROW(q.put(1, false), queue::Full);
  EXPECT_THROW(q.put(1, false, 10s), queue::Full);  // the timeout is ignored without block
  EXPECT_EQ(q.qsize(), static_cast<std::size_t>(kQueueSize));
  for (int i = 0; i < kQueueSize; ++i) EXPECT_EQ(q.get_nowait(), 1);
  EXPECT_EQ(message_of<queue::Empty>([&] { q.get_nowait(); }), this->api("get") + ": queue is empty");
  EXPECT_THROW(q.get(false), queue::Empty);
  EXPECT_THROW(q.get(false, 10s), queue::Empty);
}

// Python: put(timeout=0.01) on a full queue and get(timeout=0.01) on an empty one wait the timeout,
// then raise Full / Empty.
TYPED_TEST(QueueConformance, TimedPutAndGetWaitTheTimeoutThenRaise) {
  TypeParam q(1);
  q.put(7);
  const auto put_took = time_it([&] {
    EXPECT_EQ(message_of<queue::Full>([&] { q.put(8, 50ms); }),
              this->api("put") + ": no free slot before the timeout (maxsize 1)");
  });
  EXPECT_GE(put_took, 50ms);
  EXPECT_LT(put_took, 50ms + kTimeoutSlack);
  EXPECT_EQ(q.get(), 7);
  const auto get_took = time_it([&] {
    EXPECT_EQ(message_of<queue::Empty>([&] { q.get(true, 50ms); }),
              this->api("get") + ": no item arrived before the timeout");
  });
  EXPECT_GE(get_took, 50ms);
  EXPECT_LT(get_took, 50ms + kTimeoutSlack);
  EXPECT_THROW(q.get(20ms), queue::Empty);  // the get(timeout) overload is Python's get(timeout=...)
  EXPECT_EQ(q.qsize(), 0u);
}

// Python: a zero timeout with block=True tries once (remaining <= 0 raises without waiting).
TYPED_TEST(QueueConformance, ZeroTimeoutTriesOnce) {
  TypeParam q(1);
  EXPECT_LT(time_it([&] { EXPECT_THROW(q.get(0s), queue::Empty); }), kTimeoutSlack);
  q.put(1, 0s);
  EXPECT_LT(time_it([&] { EXPECT_THROW(q.put(2, 0s), queue::Full); }), kTimeoutSlack);
  EXPECT_EQ(q.get(true, 0s), 1);
}

// Python: test_negative_timeout_raises_exception — ValueError for put and get with a negative
// timeout (get raises even when an item is there); without block the timeout is ignored.
TYPED_TEST(QueueConformance, NegativeTimeoutIsValueError) {
  TypeParam q(kQueueSize);
  EXPECT_EQ(message_of<trident::ValueError>([&] {
              q.put(1, -1s);
            }).rfind(this->api("put") + ": timeout must be a non-negative number", 0),
            0u);
  q.put(1);
  EXPECT_EQ(message_of<trident::ValueError>([&] {
              q.get(true, -1s);
            }).rfind(this->api("get") + ": timeout must be a non-negative number", 0),
            0u);
  EXPECT_THROW(q.get(trident::Seconds(std::numeric_limits<double>::quiet_NaN())), trident::ValueError);
  EXPECT_EQ(q.qsize(), 1u);
  EXPECT_EQ(q.get(false, -1s), 1);
  q.put(2, false, -1s);
  EXPECT_EQ(q.get_nowait(), 2);
  TypeParam unbounded;  // trident checks the sign even where Python's unbounded put skips it
  EXPECT_THROW(unbounded.put(1, -1s), trident::ValueError);
  EXPECT_THROW(unbounded.join(-1s), trident::ValueError);
}

// Python: maxsize <= 0 means the queue size is infinite.
TYPED_TEST(QueueConformance, ZeroOrNegativeMaxsizeIsUnbounded) {
  for (long maxsize : {0L, -1L}) {
    TypeParam q(maxsize);
    for (int i = 0; i < 1000; ++i) q.put_nowait(i);
    EXPECT_FALSE(q.full());
    EXPECT_EQ(q.qsize(), 1000u);
    EXPECT_EQ(q.maxsize(), maxsize);
  }
}

// Python: do_blocking_test(q.put, (full,), q.get, ()) — a put on a full queue blocks until a get
// from another thread frees a slot; both the untimed and the timed (timeout=10) forms.
TYPED_TEST(QueueConformance, BlockingPutIsReleasedByGet) {
  for (bool timed : {false, true}) {
    TypeParam q(kQueueSize);
    for (int i = 0; i < kQueueSize; ++i) q.put(10 + i);
    Blocker blocker;
    std::atomic<bool> returned{false};
    std::thread putter([&] {
      blocker.about_to_block();
      if (timed) {
        q.put(99, kLong);
      } else {
        q.put(99);
      }
      returned = true;
    });
    ASSERT_TRUE(blocker.wait_until_blocked()) << "the put never blocked";
    EXPECT_FALSE(returned);
    EXPECT_EQ(q.qsize(), static_cast<std::size_t>(kQueueSize));
    q.get();
    putter.join();
    EXPECT_TRUE(returned);
    EXPECT_TRUE(q.full());
  }
}

// Python: do_blocking_test(q.get, (), q.put, ('empty',)) — a get on an empty queue blocks until a
// put from another thread, and returns that item; untimed and timed.
TYPED_TEST(QueueConformance, BlockingGetIsReleasedByPut) {
  for (bool timed : {false, true}) {
    TypeParam q(kQueueSize);
    Blocker blocker;
    std::atomic<int> got{-1};
    std::thread getter([&] {
      blocker.about_to_block();
      got = timed ? q.get(true, kLong) : q.get();
    });
    ASSERT_TRUE(blocker.wait_until_blocked()) << "the get never blocked";
    EXPECT_EQ(got, -1);
    q.put(42);
    getter.join();
    EXPECT_EQ(got, 42);
    EXPECT_TRUE(q.empty());
  }
}

// Python: several getters blocked at once are each released by one put (notify wakes one each).
TYPED_TEST(QueueConformance, EachPutReleasesOneOfSeveralBlockedGetters) {
  TypeParam q;
  constexpr int kGetters = 3;
  std::vector<Blocker> blockers(kGetters);
  std::atomic<int> sum{0};
  std::vector<std::thread> getters;
  for (int i = 0; i < kGetters; ++i) {
    getters.emplace_back([&, i] {
      blockers[i].about_to_block();
      sum += q.get(kLong);
    });
  }
  for (auto& b : blockers) ASSERT_TRUE(b.wait_until_blocked());
  for (int i = 1; i <= kGetters; ++i) q.put(i);
  for (auto& t : getters) t.join();
  EXPECT_EQ(sum, 1 + 2 + 3);
  EXPECT_TRUE(q.empty());
}

// Python: test_queue_task_done — task_done() on a queue with no unfinished task is a ValueError.
TYPED_TEST(QueueConformance, TaskDoneTooManyTimesIsValueError) {
  TypeParam q;
  EXPECT_EQ(message_of<trident::ValueError>([&] { q.task_done(); }),
            this->api("task_done") + ": task_done() called too many times");
  q.put(1);
  EXPECT_EQ(q.unfinished_tasks(), 1u);
  q.get();
  EXPECT_EQ(q.unfinished_tasks(), 1u);  // get() does not finish a task
  q.task_done();
  EXPECT_EQ(q.unfinished_tasks(), 0u);
  EXPECT_THROW(q.task_done(), trident::ValueError);
}

// Python: queue_join_test / test_queue_join — two worker threads sum 100 items, calling task_done
// for each; join() returns only when all are done, and can be called twice; done twice per queue.
TYPED_TEST(QueueConformance, JoinReturnsOnlyWhenEveryTaskIsDone) {
  TypeParam q;
  for (int round = 0; round < 2; ++round) {
    std::atomic<int> cum{0};
    auto worker = [&] {
      for (;;) {
        const int x = q.get(kLong);
        if (x < 0) {
          q.task_done();
          return;
        }
        cum += x;
        q.task_done();
      }
    };
    std::thread w1(worker), w2(worker);
    for (int i = 0; i < 100; ++i) q.put(i);
    q.join();
    EXPECT_EQ(cum, 4950) << "join() returned before every task was done";
    q.put(-1);  // instruct the workers to stop
    q.put(-1);
    EXPECT_TRUE(q.join(kLong));  // joining twice works
    w1.join();
    w2.join();
  }
  EXPECT_THROW(q.task_done(), trident::ValueError);
}

// Python: join() blocks while a fetched item is not acknowledged; trident's join(timeout) gives up.
TYPED_TEST(QueueConformance, JoinBlocksUntilTaskDoneAndTimesOut) {
  TypeParam q;
  EXPECT_TRUE(q.join(0s));  // nothing put: done at once
  q.put(1);
  q.get();
  const auto took = time_it([&] { EXPECT_FALSE(q.join(50ms)); });
  EXPECT_GE(took, 50ms);
  EXPECT_LT(took, 50ms + kTimeoutSlack);
  Blocker blocker;
  std::atomic<bool> joined{false};
  std::thread joiner([&] {
    blocker.about_to_block();
    joined = q.join(kLong);
  });
  ASSERT_TRUE(blocker.wait_until_blocked());
  EXPECT_FALSE(joined);
  q.task_done();
  joiner.join();
  EXPECT_TRUE(joined);
}

}  // namespace
