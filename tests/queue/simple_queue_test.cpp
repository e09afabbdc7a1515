// SimpleQueue: the behaviour CPython's Lib/test/test_queue.py checks in BaseSimpleQueueTest.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <memory>
#include <mutex>
#include <numeric>
#include <optional>
#include <thread>
#include <vector>

#include "queue_test_support.hpp"
#include "support/helpers.hpp"
#include "trident/errors.hpp"
#include "trident/queue.hpp"

namespace {

using namespace std::chrono_literals;
using trident::queue_test::Blocker;
using trident::queue_test::kLong;
using trident::queue_test::message_of;
using trident::queue_test::time_it;
using trident::testing::kTimeoutSlack;
namespace queue = trident::queue;

// Python: BaseSimpleQueueTest.test_basic — put, put_nowait, get, get_nowait, get(block=False) and
// get(timeout) in FIFO order with qsize/empty; Empty when there is nothing to get.
TEST(SimpleQueue, BasicPutGetQsizeEmpty) {
  queue::SimpleQueue<int> q;
  EXPECT_TRUE(q.empty());
  EXPECT_EQ(q.qsize(), 0u);
  q.put(1);
  EXPECT_FALSE(q.empty());
  EXPECT_EQ(q.qsize(), 1u);
  q.put(2);
  q.put_nowait(3);
  q.put(4);
  EXPECT_EQ(q.qsize(), 4u);
  EXPECT_EQ(q.get(), 1);
  EXPECT_EQ(q.qsize(), 3u);
  EXPECT_EQ(q.get_nowait(), 2);
  EXPECT_EQ(q.get(false), 3);
  EXPECT_EQ(q.get(100ms), 4);
  EXPECT_TRUE(q.empty());
  EXPECT_EQ(message_of<queue::Empty>([&] { q.get(false); }), "SimpleQueue::get(): queue is empty");
  EXPECT_THROW(q.get(1ms), queue::Empty);
  EXPECT_THROW(q.get_nowait(), queue::Empty);
  EXPECT_EQ(q.qsize(), 0u);
}

// Python: get(timeout=t) on an empty SimpleQueue waits t, then raises Empty.
TEST(SimpleQueue, TimedGetWaitsTheTimeout) {
  queue::SimpleQueue<int> q;
  const auto took = time_it([&] { EXPECT_THROW(q.get(true, 50ms), queue::Empty); });
  EXPECT_GE(took, 50ms);
  EXPECT_LT(took, 50ms + kTimeoutSlack);
}

// Python: test_negative_timeout_raises_exception — ValueError even with an item queued.
TEST(SimpleQueue, NegativeTimeoutIsValueError) {
  queue::SimpleQueue<int> q;
  q.put(1);
  EXPECT_EQ(message_of<trident::ValueError>([&] {
              q.get(-1s);
            }).rfind("SimpleQueue::get(): timeout must be a non-negative number", 0),
            0u);
  EXPECT_EQ(q.qsize(), 1u);
}

// Python: SimpleQueue.put never blocks; its block and timeout arguments are ignored.
TEST(SimpleQueue, PutIgnoresBlockAndTimeout) {
  queue::SimpleQueue<std::unique_ptr<int>> q;
  q.put(std::make_unique<int>(1), false, -1s);
  q.put(std::make_unique<int>(2), true, 0s);
  for (int i = 0; i < 1000; ++i) q.put(std::make_unique<int>(3));
  EXPECT_EQ(q.qsize(), 1002u);
  EXPECT_EQ(*q.get(), 1);
  EXPECT_EQ(*q.get(), 2);
}

// Python: a get blocked on an empty SimpleQueue is released by a put from another thread.
TEST(SimpleQueue, BlockingGetIsReleasedByPut) {
  queue::SimpleQueue<int> q;
  Blocker blocker;
  std::atomic<int> got{-1};
  std::thread getter([&] {
    blocker.about_to_block();
    got = q.get(kLong);
  });
  ASSERT_TRUE(blocker.wait_until_blocked());
  EXPECT_EQ(got, -1);
  q.put(5);
  getter.join();
  EXPECT_EQ(got, 5);
}

// How a consumer fetches in run_threads: blocking, polling with get(block=False), or with tiny
// timeouts (test_many_threads, _nonblock, _timeout).
enum class Fetch { kBlocking, kNonBlocking, kTimeout };

// Python: BaseSimpleQueueTest.run_threads — n feeders pop inputs from a shared list and put them,
// then one sentinel each; n consumers get until a sentinel. Returns what the consumers got.
std::vector<int> run_threads(int n_threads, const std::vector<int>& inputs, Fetch fetch) {
  queue::SimpleQueue<std::optional<int>> q;  // nullopt is the sentinel (Python's None)
  std::atomic<std::size_t> next{0};
  std::mutex results_mutex;
  std::vector<int> results;
  std::vector<std::thread> threads;
  for (int i = 0; i < n_threads; ++i) {
    threads.emplace_back([&] {
      for (;;) {
        const std::size_t k = next.fetch_add(1);
        if (k >= inputs.size()) {
          q.put(std::nullopt);
          return;
        }
        q.put(inputs[k]);
      }
    });
  }
  for (int i = 0; i < n_threads; ++i) {
    threads.emplace_back([&] {
      const auto give_up = std::chrono::steady_clock::now() + kLong;
      for (;;) {
        std::optional<std::optional<int>> v;  // outer: got something; inner: nullopt is the sentinel
        while (!v) {
          try {
            switch (fetch) {
              case Fetch::kBlocking:
                v = q.get(kLong);
                break;
              case Fetch::kNonBlocking:
                v = q.get(false);
                break;
              case Fetch::kTimeout:
                v = q.get(10us);
                break;
            }
          } catch (const queue::Empty&) {
            if (std::chrono::steady_clock::now() > give_up) {
              ADD_FAILURE() << "a consumer starved";
              return;
            }
            std::this_thread::yield();
            continue;
          }
          if (!*v) return;  // the sentinel
        }
        std::lock_guard g(results_mutex);
        results.push_back(**v);
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_TRUE(q.empty());
  EXPECT_EQ(q.qsize(), 0u);
  return results;
}

std::vector<int> iota(int n) {
  std::vector<int> v(n);
  std::iota(v.begin(), v.end(), 0);
  return v;
}

// Python: test_order — one producer and one consumer: results in input order.
TEST(SimpleQueue, OneProducerOneConsumerKeepsOrder) {
  const auto inputs = iota(100);
  EXPECT_EQ(run_threads(1, inputs, Fetch::kBlocking), inputs);
}

// Python: test_many_threads, test_many_threads_nonblock, test_many_threads_timeout — many
// producers and consumers: every input arrives exactly once.
TEST(SimpleQueue, ManyProducersAndConsumersDeliverEveryItemOnce) {
  const auto inputs = iota(10000);
  for (Fetch fetch : {Fetch::kBlocking, Fetch::kNonBlocking, Fetch::kTimeout}) {
    auto results = run_threads(8, inputs, fetch);
    std::sort(results.begin(), results.end());
    EXPECT_EQ(results, inputs) << "fetch mode " << static_cast<int>(fetch);
  }
}

}  // namespace
