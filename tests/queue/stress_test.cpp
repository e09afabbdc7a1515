// Several producers and consumers on one bounded queue: every item arrives exactly once, with
// blocking calls, with timeouts that keep running out, and across an immediate shutdown.
#include <gtest/gtest.h>

#include <atomic>
#include <memory>
#include <thread>
#include <vector>

#include "queue_test_support.hpp"
#include "support/helpers.hpp"
#include "trident/errors.hpp"
#include "trident/queue.hpp"

namespace {

using namespace std::chrono_literals;
using trident::queue_test::kLong;
namespace queue = trident::queue;

constexpr int kProducers = 4;
constexpr int kConsumers = 4;
constexpr int kPerProducer = 10000;
constexpr int kTotal = kProducers * kPerProducer;
constexpr long kMaxsize = 8;  // small, so putters block often

template <class Q>
class Stress : public ::testing::Test {};
using QueueKinds = ::testing::Types<queue::Queue<int>, queue::LifoQueue<int>, queue::PriorityQueue<int>>;
TYPED_TEST_SUITE(Stress, QueueKinds);

// Counts how often each item arrived.
class Tally {
 public:
  Tally() : seen_(kTotal) {}
  void add(int item) { seen_.at(static_cast<std::size_t>(item)).fetch_add(1, std::memory_order_relaxed); }
  // Items that did not arrive exactly once (empty when all is well).
  std::vector<int> wrong() const {
    std::vector<int> bad;
    for (int i = 0; i < kTotal; ++i) {
      if (seen_[static_cast<std::size_t>(i)].load() != 1) bad.push_back(i);
    }
    return bad;
  }

 private:
  std::vector<std::atomic<int>> seen_;
};

// Python: the producer/consumer pattern of the queue docs (workers get, task_done; the main
// thread join()s, then stops the workers) — on a bounded queue, every item is processed once and
// join() returns only when all are.
TYPED_TEST(Stress, BlockingProducersAndConsumersDeliverEveryItemOnce) {
  TypeParam q(kMaxsize);
  Tally tally;
  std::atomic<int> processed{0};
  std::vector<std::thread> consumers;
  for (int c = 0; c < kConsumers; ++c) {
    consumers.emplace_back([&] {
      for (;;) {
        const int item = q.get(kLong);
        if (item < 0) {
          q.task_done();
          return;
        }
        tally.add(item);
        ++processed;
        q.task_done();
      }
    });
  }
  std::vector<std::thread> producers;
  for (int p = 0; p < kProducers; ++p) {
    producers.emplace_back([&, p] {
      for (int i = 0; i < kPerProducer; ++i) q.put(p * kPerProducer + i, kLong);
    });
  }
  for (auto& t : producers) t.join();
  ASSERT_TRUE(q.join(kLong));
  EXPECT_EQ(processed, kTotal) << "join() returned before every task was done";
  // Stop markers go in only now: a PriorityQueue would hand out -1 before the remaining items.
  for (int c = 0; c < kConsumers; ++c) q.put(-1);
  for (auto& t : consumers) t.join();
  EXPECT_EQ(tally.wrong(), std::vector<int>{});
  EXPECT_TRUE(q.empty());
  EXPECT_EQ(q.unfinished_tasks(), 0u);
}

// Python: put(timeout=...) raising Full and get(timeout=...) raising Empty lose nothing — a timed
// out put keeps its item for a retry, a timed out get consumed none — even when timeouts keep
// expiring while other threads notify.
TYPED_TEST(Stress, TimeoutsThatKeepExpiringLoseNothing) {
  TypeParam q(kMaxsize);
  Tally tally;
  std::atomic<int> consumed{0};
  std::atomic<int> timeouts{0};
  std::vector<std::thread> threads;
  for (int p = 0; p < kProducers; ++p) {
    threads.emplace_back([&, p] {
      for (int i = 0; i < kPerProducer; ++i) {
        for (;;) {
          try {
            q.put(p * kPerProducer + i, 50us);
            break;
          } catch (const queue::Full&) {
            ++timeouts;
          }
        }
      }
    });
  }
  for (int c = 0; c < kConsumers; ++c) {
    threads.emplace_back([&] {
      const auto give_up = std::chrono::steady_clock::now() + kLong;
      while (consumed.load() < kTotal && std::chrono::steady_clock::now() < give_up) {
        try {
          tally.add(q.get(50us));
          ++consumed;
        } catch (const queue::Empty&) {
          ++timeouts;
        }
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(consumed, kTotal);
  EXPECT_EQ(tally.wrong(), std::vector<int>{});
  EXPECT_TRUE(q.empty());
  this->RecordProperty("timeouts", timeouts.load());
}

// An item that counts its destructions, to check that none is lost or destroyed twice.
struct Tracked {
  static inline std::atomic<int> alive{0};
  int id;
  explicit Tracked(int i) : id(i) { ++alive; }
  Tracked(const Tracked&) = delete;
  Tracked& operator=(const Tracked&) = delete;
  ~Tracked() { --alive; }
};

// Python 3.13: shutdown(immediate=True) while producers and consumers run — puts after it raise
// ShutDown (the producer keeps its item), getters end on ShutDown, the drained items are freed,
// and every item put was either got exactly once or drained.
TEST(StressShutdown, ImmediateShutdownMidStreamLosesNothing) {
  queue::Queue<std::unique_ptr<Tracked>> q(kMaxsize);
  Tracked::alive = 0;
  std::vector<std::atomic<int>> got(kTotal);
  std::atomic<int> put_ok{0}, got_count{0}, put_refused{0};
  trident::queue_test::Event half_way;
  std::vector<std::thread> threads;
  for (int p = 0; p < kProducers; ++p) {
    threads.emplace_back([&, p] {
      for (int i = 0; i < kPerProducer; ++i) {
        auto item = std::make_unique<Tracked>(p * kPerProducer + i);
        try {
          q.put(std::move(item), kLong);
        } catch (const queue::ShutDown&) {
          EXPECT_NE(item, nullptr) << "a refused put took the item";
          ++put_refused;
          return;
        }
        if (++put_ok == kTotal / 2) half_way.set();
      }
    });
  }
  for (int c = 0; c < kConsumers; ++c) {
    threads.emplace_back([&] {
      for (;;) {
        try {
          auto item = q.get(kLong);
          got[static_cast<std::size_t>(item->id)].fetch_add(1);
          ++got_count;
          q.task_done();
        } catch (const queue::ShutDown&) {
          return;
        }
      }
    });
  }
  ASSERT_TRUE(half_way.wait());
  q.shutdown(true);
  for (auto& t : threads) t.join();
  for (int i = 0; i < kTotal; ++i) ASSERT_LE(got[static_cast<std::size_t>(i)].load(), 1) << "item " << i;
  EXPECT_LE(got_count, put_ok);
  EXPECT_EQ(Tracked::alive, 0) << "an item was leaked";
  EXPECT_TRUE(q.empty());
  EXPECT_EQ(q.unfinished_tasks(), 0u);
  EXPECT_TRUE(q.join(0s));
}

}  // namespace
