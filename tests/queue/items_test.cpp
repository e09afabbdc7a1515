// What queues do with the items themselves: move-only types, items kept safe when a call throws,
// priority orders with comparators and pairs, and when drained items are destroyed.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <functional>
#include <memory>
#include <stdexcept>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "queue_test_support.hpp"
#include "support/helpers.hpp"
#include "trident/errors.hpp"
#include "trident/queue.hpp"

namespace {

using namespace std::chrono_literals;
using trident::queue_test::Blocker;
using trident::queue_test::Event;
using trident::queue_test::kLong;
namespace queue = trident::queue;

template <class Q>
class MoveOnlyItems : public ::testing::Test {};
using MoveOnlyKinds =
    ::testing::Types<queue::Queue<std::unique_ptr<int>>, queue::LifoQueue<std::unique_ptr<int>>,
                     queue::PriorityQueue<std::unique_ptr<int>>, queue::SimpleQueue<std::unique_ptr<int>>>;
TYPED_TEST_SUITE(MoveOnlyItems, MoveOnlyKinds);

// Python queues hold any object; trident's hold move-only values, moved in by put and out by get.
TYPED_TEST(MoveOnlyItems, AreMovedInAndOut) {
  TypeParam q;
  std::vector<int*> raw;
  for (int i = 0; i < 100; ++i) {  // enough to make the FIFO ring buffer grow several times
    auto p = std::make_unique<int>(i);
    raw.push_back(p.get());
    q.put(std::move(p));
  }
  q.put_nowait(std::make_unique<int>(100));
  EXPECT_EQ(q.qsize(), 101u);
  std::vector<bool> seen(101, false);
  for (int i = 0; i < 101; ++i) {
    std::unique_ptr<int> p = i % 2 == 0 ? q.get() : q.get_nowait();
    ASSERT_NE(p, nullptr);
    seen[*p] = true;
    if (*p < 100) {
      EXPECT_EQ(p.get(), raw[*p]);  // the very object put, not a copy
    }
  }
  EXPECT_EQ(std::count(seen.begin(), seen.end(), true), 101);
  EXPECT_TRUE(q.empty());
}

// Items left in a queue are destroyed with it (Python frees them when the queue goes away).
TEST(Items, LeftInTheQueueAreDestroyedWithIt) {
  auto counter = std::make_shared<int>(0);
  {
    queue::Queue<std::shared_ptr<int>> fifo;
    queue::LifoQueue<std::shared_ptr<int>> lifo;
    queue::PriorityQueue<std::shared_ptr<int>> prio;
    for (int i = 0; i < 40; ++i) {
      fifo.put(counter);
      lifo.put(counter);
      prio.put(counter);
    }
    fifo.get();  // leaves the ring buffer wrapped around
    EXPECT_EQ(counter.use_count(), 1 + 39 + 40 + 40);
  }
  EXPECT_EQ(counter.use_count(), 1);
}

// Python: a put that raises (Full: block=False or timed out; ShutDown) has not stored the item.
// trident: so a std::move'd item stays with the caller — it is taken only once it has a slot.
TEST(Items, FailedPutDoesNotTakeAMovedItem) {
  queue::Queue<std::unique_ptr<int>> q(1);
  q.put(std::make_unique<int>(1));
  auto item = std::make_unique<int>(2);
  EXPECT_THROW(q.put(std::move(item), false), queue::Full);
  ASSERT_NE(item, nullptr);
  EXPECT_THROW(q.put(std::move(item), 10ms), queue::Full);
  ASSERT_NE(item, nullptr);
  EXPECT_THROW(q.put_nowait(std::move(item)), queue::Full);
  ASSERT_NE(item, nullptr);
  EXPECT_THROW(q.put(std::move(item), -1s), trident::ValueError);
  ASSERT_NE(item, nullptr);
  q.shutdown();
  EXPECT_THROW(q.put(std::move(item)), queue::ShutDown);
  ASSERT_NE(item, nullptr);
  EXPECT_EQ(*item, 2);
  EXPECT_EQ(*q.get(), 1);
}

// An item that counts its copies and moves.
struct Counted {
  static inline std::atomic<int> copies{0};
  static inline std::atomic<int> moves{0};
  int value = 0;
  explicit Counted(int v) : value(v) {}
  Counted(const Counted& o) : value(o.value) { ++copies; }
  Counted(Counted&& o) noexcept : value(o.value) { ++moves; }
  Counted& operator=(const Counted&) = default;
  Counted& operator=(Counted&&) = default;
};

// Python: a failed put stores nothing. trident: a put of an lvalue copies it once, and not at all
// when it raises; get moves the item out.
TEST(Items, PutOfAnLvalueCopiesOnceAndOnlyOnSuccess) {
  queue::Queue<Counted> q(1);
  Counted c(7);
  Counted::copies = 0;
  Counted::moves = 0;
  q.put(c);
  EXPECT_EQ(Counted::copies, 1);
  EXPECT_THROW(q.put(c, false), queue::Full);
  EXPECT_THROW(q.put(c, 10ms), queue::Full);
  EXPECT_EQ(Counted::copies, 1);
  Counted out = q.get();
  EXPECT_EQ(out.value, 7);
  EXPECT_EQ(Counted::copies, 1);
  EXPECT_EQ(c.value, 7);
}

// An item whose copy or move throws on demand (test_queue.py's FailingQueue makes _put/_get raise).
struct Fragile {
  static inline std::atomic<bool> fail_copy{false};
  static inline std::atomic<bool> fail_move{false};
  int value = 0;
  explicit Fragile(int v) : value(v) {}
  Fragile(const Fragile& o) : value(o.value) {
    if (fail_copy) throw std::runtime_error("You Lose");
  }
  Fragile(Fragile&& o) : value(o.value) {  // may throw: not noexcept
    if (fail_move) throw std::runtime_error("You Lose");
  }
  Fragile& operator=(const Fragile&) = default;
  Fragile& operator=(Fragile&&) = default;
};

template <class Q>
class FailingItems : public ::testing::Test {
 protected:
  void TearDown() override {
    Fragile::fail_copy = false;
    Fragile::fail_move = false;
  }
};
using FragileKinds = ::testing::Types<queue::Queue<Fragile>, queue::LifoQueue<Fragile>>;
TYPED_TEST_SUITE(FailingItems, FragileKinds);

// Python: FailingQueueTest — when storing an item raises, the exception reaches the caller and the
// queue is undamaged: same size, same unfinished tasks, still usable (also for timed puts).
TYPED_TEST(FailingItems, ThrowingCopyOnPutLeavesTheQueueUndamaged) {
  TypeParam q(5);
  for (int i = 0; i < 4; ++i) q.put(Fragile(i));
  Fragile oops(99);
  Fragile::fail_copy = true;
  EXPECT_THROW(q.put(oops, false), std::runtime_error);
  EXPECT_THROW(q.put(oops, 100ms), std::runtime_error);
  Fragile::fail_copy = false;
  EXPECT_EQ(q.qsize(), 4u);
  EXPECT_EQ(q.unfinished_tasks(), 4u);
  q.put(oops);
  EXPECT_TRUE(q.full());
}

// Python: FailingQueueTest (the get side) — when taking an item out raises, the item stays queued
// and the next get returns it.
TYPED_TEST(FailingItems, ThrowingMoveOnGetLeavesTheItemQueued) {
  TypeParam q(5);
  q.put(Fragile(1));
  Fragile::fail_move = true;
  EXPECT_THROW(q.get(), std::runtime_error);
  EXPECT_THROW(q.get(100ms), std::runtime_error);
  Fragile::fail_move = false;
  EXPECT_EQ(q.qsize(), 1u);
  EXPECT_EQ(q.get().value, 1);
}

// Python: FailingQueueTest's failing blocking put leaves the queue working for the others.
// trident: a putter woken for a free slot whose copy then throws hands the wake-up on, so the
// other blocked putter still gets the slot (no lost wake-up).
TEST(Items, PutterWhoseCopyThrowsPassesTheSlotOn) {
  queue::Queue<Fragile> q(1);
  q.put(Fragile(0));
  const Fragile copied(1);  // the first putter copies it, and that copy will throw
  Blocker first, second;
  std::atomic<bool> first_threw{false}, second_put{false};
  std::thread t1([&] {
    first.about_to_block();
    try {
      q.put(copied, kLong);
    } catch (const std::runtime_error&) {
      first_threw = true;
    }
  });
  ASSERT_TRUE(first.wait_until_blocked());
  std::thread t2([&] {
    second.about_to_block();
    q.put(Fragile(2), kLong);  // moved in: not affected by fail_copy
    second_put = true;
  });
  ASSERT_TRUE(second.wait_until_blocked());
  Fragile::fail_copy = true;
  EXPECT_EQ(q.get().value, 0);  // wakes the first putter (FIFO), whose copy throws
  t1.join();
  t2.join();
  Fragile::fail_copy = false;
  EXPECT_TRUE(first_threw);
  EXPECT_TRUE(second_put);
  EXPECT_EQ(q.get().value, 2);
}

// An item whose copy throws on demand but whose move cannot throw: put hands it straight to a
// blocked getter.
struct CopyMayThrow {
  static inline std::atomic<bool> fail_copy{false};
  int value = 0;
  explicit CopyMayThrow(int v) : value(v) {}
  CopyMayThrow(const CopyMayThrow& o) : value(o.value) {
    if (fail_copy) throw std::runtime_error("You Lose");
  }
  CopyMayThrow(CopyMayThrow&& o) noexcept : value(o.value) {}
  CopyMayThrow& operator=(const CopyMayThrow&) = default;
  CopyMayThrow& operator=(CopyMayThrow&&) = default;
};

// Python: FailingQueueTest's failing put while a get is blocked (do_exceptional_blocking_test):
// the put raises and the blocked get keeps waiting, then returns the next item put.
TEST(Items, FailedPutToABlockedGetterLeavesItWaiting) {
  queue::Queue<CopyMayThrow> q;
  Blocker blocker;
  std::atomic<int> got{-1};
  std::thread getter([&] {
    blocker.about_to_block();
    got = q.get(kLong).value;
  });
  ASSERT_TRUE(blocker.wait_until_blocked());
  const CopyMayThrow oops(1);
  CopyMayThrow::fail_copy = true;
  EXPECT_THROW(q.put(oops), std::runtime_error);
  CopyMayThrow::fail_copy = false;
  EXPECT_EQ(q.unfinished_tasks(), 0u);
  EXPECT_EQ(got, -1);
  q.put(CopyMayThrow(2));
  getter.join();
  EXPECT_EQ(got, 2);
  EXPECT_TRUE(q.empty());
  EXPECT_EQ(q.unfinished_tasks(), 1u);
}

// Python: PriorityQueue returns the lowest entry first; entries are typically (priority, data)
// tuples, ordered by priority then data.
TEST(PriorityQueue, PairsComeOutByPriorityThenData) {
  queue::PriorityQueue<std::pair<int, std::string>> q;
  q.put({3, "c"});
  q.put({1, "b"});
  q.put({2, "x"});
  q.put({1, "a"});
  std::vector<std::pair<int, std::string>> got;
  while (!q.empty()) got.push_back(q.get());
  EXPECT_EQ(got, (std::vector<std::pair<int, std::string>>{{1, "a"}, {1, "b"}, {2, "x"}, {3, "c"}}));
}

// trident: a user comparator orders the queue; get() returns the item that compares smallest.
TEST(PriorityQueue, UserComparatorDecidesTheOrder) {
  queue::PriorityQueue<int, std::greater<int>> largest_first;
  for (int v : {5, 1, 9, 3, 7}) largest_first.put(v);
  std::vector<int> got;
  for (int i = 0; i < 5; ++i) got.push_back(largest_first.get());
  EXPECT_EQ(got, (std::vector<int>{9, 7, 5, 3, 1}));

  // A stateful comparator (a lambda with a capture) is passed to the constructor.
  const std::vector<int> rank{2, 0, 1};  // item i comes out in position rank[i]
  auto by_rank = [&rank](int a, int b) { return rank[a] < rank[b]; };
  queue::PriorityQueue<int, decltype(by_rank)> ranked(0, by_rank);
  ranked.put(0);
  ranked.put(1);
  ranked.put(2);
  EXPECT_EQ(ranked.get(), 1);
  EXPECT_EQ(ranked.get(), 2);
  EXPECT_EQ(ranked.get(), 0);

  // Move-only items with a comparator on what they point to.
  auto by_value = [](const std::unique_ptr<int>& a, const std::unique_ptr<int>& b) { return *a < *b; };
  queue::PriorityQueue<std::unique_ptr<int>, decltype(by_value)> boxed(2, by_value);
  boxed.put(std::make_unique<int>(8));
  boxed.put(std::make_unique<int>(4));
  EXPECT_TRUE(boxed.full());
  EXPECT_EQ(*boxed.get(), 4);
  EXPECT_EQ(*boxed.get(), 8);
}

// An item whose destructor uses the queue it was drained from.
struct UsesQueueOnDestruction {
  queue::Queue<UsesQueueOnDestruction>* q = nullptr;
  std::atomic<int>* destroyed = nullptr;
  UsesQueueOnDestruction(queue::Queue<UsesQueueOnDestruction>* queue, std::atomic<int>* count)
      : q(queue), destroyed(count) {}
  UsesQueueOnDestruction(UsesQueueOnDestruction&& o) noexcept
      : q(std::exchange(o.q, nullptr)), destroyed(std::exchange(o.destroyed, nullptr)) {}
  UsesQueueOnDestruction& operator=(UsesQueueOnDestruction&&) = delete;
  ~UsesQueueOnDestruction() {
    if (q != nullptr) {
      static_cast<void>(q->qsize());  // takes the queue's lock: a deadlock if it were held
      ++*destroyed;
    }
  }
};

// Python: shutdown(immediate=True) drains the queue. trident: the drained items are destroyed after
// the queue's lock is released, so an item's destructor may use the queue without deadlocking.
TEST(Items, ImmediateShutdownDestroysDrainedItemsOutsideTheLock) {
  auto* q = new queue::Queue<UsesQueueOnDestruction>();
  std::atomic<int> destroyed{0};
  for (int i = 0; i < 3; ++i) q->put(UsesQueueOnDestruction(q, &destroyed));
  Event done;
  std::thread t([&] {
    q->shutdown(true);
    done.set();
  });
  if (!done.wait()) {
    t.detach();  // deadlocked: fail in bounded time rather than hang
    FAIL() << "shutdown(true) destroyed the drained items under the queue's lock";
  }
  t.join();
  EXPECT_EQ(destroyed, 3);
  delete q;
}

}  // namespace
