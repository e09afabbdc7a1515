// multiprocessing.Queue, JoinableQueue and SimpleQueue across fork()ed processes, after the themes
// of CPython's _test_multiprocessing _TestQueue (put/get order, put/get_nowait raising queue.Full /
// queue.Empty, timed put/get bounds, qsize/empty/full, task_done/join, close), plus what trident
// adds: items bigger than the ring, many producers and consumers, and a typed get of another type.
#include <numeric>
#include <string>
#include <thread>
#include <vector>

#include "shm_test_support.hpp"
#include "support/helpers.hpp"
#include "trident/multiprocessing/queues.hpp"

namespace mp = trident::multiprocessing;
using shm_test::ShmTest;
using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

namespace {

// Python: items put by one process come out of get in another in the order they were put.
TEST_F(ShmTest, QueuePutGetOrderAcrossProcesses) {
  mp::Queue<int> q;
  const int pid = fork_child([&] {
    for (int i = 0; i < 20000; ++i) q.put(i);
    return 0;
  });
  for (int i = 0; i < 20000; ++i) ASSERT_EQ(q.get(), i);
  EXPECT_EQ(join_child(pid), 0);
  EXPECT_TRUE(q.empty());
}

// Python (_TestQueue.test_put/test_get): put_nowait on a full queue raises queue.Full, get_nowait
// on an empty one queue.Empty; qsize, empty and full follow the items.
TEST_F(ShmTest, QueueNowaitFullEmptyAndSizes) {
  mp::Queue<int> q(2);
  EXPECT_EQ(q.maxsize(), 2);
  EXPECT_TRUE(q.empty());
  EXPECT_FALSE(q.full());
  EXPECT_THROW(q.get_nowait(), trident::queue::Empty);
  q.put(1);
  q.put_nowait(2);
  EXPECT_EQ(q.qsize(), 2);
  EXPECT_TRUE(q.full());
  EXPECT_THROW(q.put_nowait(3), trident::queue::Full);
  EXPECT_THROW(q.put(3, false), trident::queue::Full);
  EXPECT_EQ(q.get_nowait(), 1);
  EXPECT_EQ(q.get(false), 2);
  EXPECT_EQ(q.qsize(), 0);
  EXPECT_TRUE(q.empty());
}

// Python: a timed get on an empty queue raises Empty after at least the timeout; a timed put on a
// full queue raises Full likewise; a negative timeout is ValueError.
TEST_F(ShmTest, QueueTimedGetAndPutBounds) {
  mp::Queue<int> q(1);
  auto t0 = Clock::now();
  EXPECT_THROW(q.get(100ms), trident::queue::Empty);
  auto took = Clock::now() - t0;
  EXPECT_GE(took, 95ms);
  EXPECT_LT(took, 100ms + trident::testing::kTimeoutSlack);
  q.put(7);
  t0 = Clock::now();
  EXPECT_THROW(q.put(8, 100ms), trident::queue::Full);
  took = Clock::now() - t0;
  EXPECT_GE(took, 95ms);
  EXPECT_LT(took, 100ms + trident::testing::kTimeoutSlack);
  EXPECT_THROW(q.get(-1s), trident::ValueError);
  EXPECT_THROW(q.put(1, -1s), trident::ValueError);
  EXPECT_EQ(q.get(), 7);
}

// Python: a get blocked in one process returns the item another process puts later.
TEST_F(ShmTest, QueueBlockedGetWokenByOtherProcess) {
  mp::Queue<long> q;
  mp::Queue<long> back;
  const int pid = fork_child([&] {
    for (int i = 0; i < 200; ++i) back.put(q.get(10s) * 2);
    return 0;
  });
  for (long i = 0; i < 200; ++i) {
    q.put(i);
    ASSERT_EQ(back.get(10s), i * 2);
  }
  EXPECT_EQ(join_child(pid), 0);
}

// Python: a put blocked on a full queue (maxsize) completes once another process gets.
TEST_F(ShmTest, QueueBlockedPutWokenByConsumer) {
  mp::Queue<int> q(3);
  const int pid = fork_child([&] {
    for (int i = 0; i < 5000; ++i) q.put(i);
    return 0;
  });
  for (int i = 0; i < 5000; ++i) ASSERT_EQ(q.get(10s), i);
  EXPECT_EQ(join_child(pid), 0);
}

// Python 3.8+: put and get on a closed Queue raise ValueError "... is closed"; join_thread needs
// close first (CPython asserts); close is per process, so another process's handle still works.
TEST_F(ShmTest, QueueCloseSemantics) {
  mp::Queue<int> q;
  mp::Queue<int> copy = q;
  EXPECT_THROW(q.join_thread(), trident::ValueError);
  const int pid = fork_child([&] {
    q.put(5);
    return 0;
  });
  EXPECT_EQ(join_child(pid), 0);
  q.close();
  q.close();
  try {
    copy.put(1);
    ADD_FAILURE() << "put after close did not throw";
  } catch (const trident::ValueError& e) {
    EXPECT_STREQ(e.what(), "Queue::put(): the queue is closed");
  }
  EXPECT_THROW(q.get(), trident::ValueError);
  q.join_thread();
  q.cancel_join_thread();
  EXPECT_EQ(q.qsize(), 1);
}

// Python: cancel_join_thread then put still delivers (nothing is buffered outside the ring).
TEST_F(ShmTest, QueueCancelJoinThreadLosesNothing) {
  mp::Queue<int> q;
  const int pid = fork_child([&] {
    q.cancel_join_thread();
    for (int i = 0; i < 100; ++i) q.put(i);
    q.close();
    q.join_thread();
    return 0;
  });
  EXPECT_EQ(join_child(pid), 0);
  for (int i = 0; i < 100; ++i) EXPECT_EQ(q.get(1s), i);
}

// Python (_TestQueue.test_task_done): join returns once every item got was reported done by
// consumers in other processes; one task_done too many is ValueError.
TEST_F(ShmTest, JoinableQueueTaskDoneAndJoin) {
  mp::JoinableQueue<int> q;
  std::vector<int> pids;
  for (int w = 0; w < 2; ++w) {
    pids.push_back(fork_child([&] {
      for (;;) {
        const int v = q.get(10s);
        q.task_done();
        if (v < 0) return 0;
      }
    }));
  }
  for (int i = 0; i < 1000; ++i) q.put(i);
  q.join();
  EXPECT_TRUE(q.join(0s));
  q.put(-1);
  q.put(-1);
  for (int p : pids) EXPECT_EQ(join_child(p), 0);
  EXPECT_TRUE(q.join(5s));
  try {
    q.task_done();
    ADD_FAILURE() << "task_done too many times did not throw";
  } catch (const trident::ValueError& e) {
    EXPECT_STREQ(e.what(), "JoinableQueue::task_done(): called too many times");
  }
}

// Python: join waits while tasks are unfinished (here: times out at the bound).
TEST_F(ShmTest, JoinableQueueJoinTimesOut) {
  mp::JoinableQueue<int> q;
  q.put(1);
  const auto t0 = Clock::now();
  EXPECT_FALSE(q.join(100ms));
  EXPECT_GE(Clock::now() - t0, 95ms);
  EXPECT_EQ(q.get(), 1);
  q.task_done();
  EXPECT_TRUE(q.join(0s));
  EXPECT_THROW(q.join(-1s), trident::ValueError);
}

// Python (_TestQueue with several processes): every item put by several producers is got exactly
// once by several consumers.
TEST_F(ShmTest, QueueManyProducersManyConsumers) {
  constexpr int kProducers = 3, kConsumers = 3, kPer = 5000;
  mp::Queue<long> q(64);
  mp::Queue<long> sums;
  std::vector<int> pids;
  for (int p = 0; p < kProducers; ++p) {
    pids.push_back(fork_child([&, p] {
      for (int i = 0; i < kPer; ++i) q.put(static_cast<long>(p) * kPer + i + 1);
      return 0;
    }));
  }
  for (int c = 0; c < kConsumers; ++c) {
    pids.push_back(fork_child([&] {
      long sum = 0;
      for (;;) {
        const long v = q.get(20s);
        if (v == 0) break;
        sum += v;
      }
      sums.put(sum);
      return 0;
    }));
  }
  for (int i = 0; i < kProducers; ++i) EXPECT_EQ(join_child(pids[i]), 0);
  for (int c = 0; c < kConsumers; ++c) q.put(0);
  long total = 0;
  for (int c = 0; c < kConsumers; ++c) total += sums.get(20s);
  for (int i = kProducers; i < kProducers + kConsumers; ++i) EXPECT_EQ(join_child(pids[i]), 0);
  const long n = static_cast<long>(kProducers) * kPer;
  EXPECT_EQ(total, n * (n + 1) / 2);
}

// trident: threads of one process share a queue handle too.
TEST_F(ShmTest, QueueThreadsOfOneProcess) {
  mp::Queue<int> q(8);
  std::thread producer([&] {
    for (int i = 0; i < 10000; ++i) q.put(i);
  });
  for (int i = 0; i < 10000; ++i) ASSERT_EQ(q.get(10s), i);
  producer.join();
}

// trident: items larger than the ring (in a segment of their own) and items of every size
// around the ring's wrap-around point arrive whole, in order, and leave no segment behind.
TEST_F(ShmTest, QueueBigAndOddSizedItems) {
  mp::Queue<std::string> q(mp::QueueOptions{.buffer_size = 4096});
  const int pid = fork_child([&] {
    for (std::size_t n = 0; n < 3000; n += 7) q.put(std::string(n, static_cast<char>('a' + n % 26)));
    q.put(std::string(3u << 20, 'z'));
    return 0;
  });
  for (std::size_t n = 0; n < 3000; n += 7) {
    const std::string s = q.get(10s);
    ASSERT_EQ(s.size(), n);
    ASSERT_EQ(s, std::string(n, static_cast<char>('a' + n % 26)));
  }
  const std::string big = q.get(10s);
  EXPECT_EQ(big.size(), 3u << 20);
  EXPECT_EQ(big.find_first_not_of('z'), std::string::npos);
  EXPECT_EQ(join_child(pid), 0);
}

// trident: a vector item bigger than the ring, put by a child that exits at once, still arrives.
TEST_F(ShmTest, QueueBigItemOutlivesItsProducer) {
  mp::Queue<std::vector<int>> q;
  const int pid = fork_child([&] {
    std::vector<int> v(1 << 20);
    std::iota(v.begin(), v.end(), 0);
    q.put(v);
    return 0;
  });
  EXPECT_EQ(join_child(pid), 0);
  const auto v = q.get(10s);
  ASSERT_EQ(v.size(), 1u << 20);
  for (std::size_t i = 0; i < v.size(); ++i) ASSERT_EQ(v[i], static_cast<int>(i));
}

// trident: every item is tagged with its type; a handle of another type attached to the same
// queue gets TypeError and the item stays for a handle of the right type.
TEST_F(ShmTest, QueueGetOfAnotherTypeIsTypeError) {
  mp::Queue<int> q;
  auto other = mp::Queue<double>::attach(q.segment_name());
  q.put(42);
  try {
    (void)other.get(1s);
    ADD_FAILURE() << "get of another type did not throw";
  } catch (const trident::TypeError& e) {
    EXPECT_NE(std::string(e.what()).find("double"), std::string::npos) << e.what();
  }
  EXPECT_EQ(q.get_nowait(), 42);
  EXPECT_THROW(mp::Queue<int>::attach("trident_no_such_queue"), trident::FileNotFoundError);
}

// Python: SimpleQueue's get/put/empty/close across processes.
TEST_F(ShmTest, SimpleQueueAcrossProcesses) {
  mp::SimpleQueue<std::string> q;
  EXPECT_TRUE(q.empty());
  const int pid = fork_child([&] {
    q.put("hello");
    q.put("world");
    return 0;
  });
  EXPECT_EQ(q.get(), "hello");
  EXPECT_EQ(q.get(), "world");
  EXPECT_EQ(join_child(pid), 0);
  q.close();
  EXPECT_THROW(q.put("x"), trident::ValueError);
}

}  // namespace
