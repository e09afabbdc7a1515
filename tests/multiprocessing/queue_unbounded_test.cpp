// multiprocessing.Queue without maxsize: Python's put never blocks there (its feeder thread buffers
// without limit), so a producer may put far more than any pipe holds, exit, and a consumer started
// later still gets every item in order. trident spills what the ring cannot hold into shared
// memory; these tests pin that, FIFO order per producer while the queue moves between ring and
// spill, and that the spilled memory is freed once the items are got.
#include <map>
#include <string>
#include <vector>

#include "shm_test_support.hpp"
#include "support/helpers.hpp"
#include "trident/multiprocessing/queues.hpp"

namespace mp = trident::multiprocessing;
using shm_test::ShmTest;
using namespace std::chrono_literals;

namespace {

constexpr std::size_t kRing = 4096;

// Python: put on a queue without maxsize returns at once however much is queued; items put by a
// process that has exited are all got, in order.
TEST_F(ShmTest, UnboundedPutNeverBlocksAndTheItemsOutliveTheProducer) {
  mp::Queue<int> q(mp::QueueOptions{.buffer_size = kRing});
  constexpr int kItems = 10 * static_cast<int>(kRing);  // each item takes far more than one ring byte
  const int producer = fork_child([&] {
    for (int i = 0; i < kItems; ++i) q.put_nowait(i);  // would raise queue::Full if put waited for room
    return q.qsize() == kItems ? 0 : 1;
  });
  EXPECT_EQ(join_child(producer), 0);
  EXPECT_EQ(q.qsize(), kItems);
  const int consumer = fork_child([&] {
    for (int i = 0; i < kItems; ++i) {
      if (q.get(10s) != i) return 1;
    }
    return q.empty() ? 0 : 2;
  });
  EXPECT_EQ(join_child(consumer), 0);
  EXPECT_TRUE(q.empty());
}

// Python: the same with items of every size, some bigger than the ring itself, and a SimpleQueue.
TEST_F(ShmTest, UnboundedSpillKeepsOrderForItemsOfEverySize) {
  mp::Queue<std::string> q(mp::QueueOptions{.buffer_size = kRing});
  auto item = [](int i) {
    return std::string(static_cast<std::size_t>(i % 7 == 0 ? 3 * kRing + i : i % 300), 'a' + i % 26);
  };
  constexpr int kItems = 2000;
  const int producer = fork_child([&] {
    for (int i = 0; i < kItems; ++i) q.put(item(i));
    return 0;
  });
  EXPECT_EQ(join_child(producer), 0);
  for (int i = 0; i < kItems; ++i) ASSERT_EQ(q.get(10s), item(i)) << i;
  EXPECT_THROW(q.get_nowait(), trident::queue::Empty);

  mp::SimpleQueue<int> sq;
  const int sp = fork_child([&] {
    for (int i = 0; i < 100000; ++i) sq.put(i);  // 100000 items: several times the default ring
    return 0;
  });
  EXPECT_EQ(join_child(sp), 0);
  for (int i = 0; i < 100000; ++i) ASSERT_EQ(sq.get(), i);
  EXPECT_TRUE(sq.empty());
}

// Python: FIFO per producer with several producers and consumers at once, while the queue goes
// back and forth between the ring and spilling (consumers slower than producers, then faster).
TEST_F(ShmTest, UnboundedManyProducersKeepTheirOrderThroughSpills) {
  constexpr int kProducers = 3, kConsumers = 2, kPer = 20000;
  mp::Queue<std::pair<int, int>> q(mp::QueueOptions{.buffer_size = kRing});
  mp::Queue<std::map<int, int>> results;  // per consumer: producer -> items it got
  std::vector<int> pids;
  for (int c = 0; c < kConsumers; ++c) {
    pids.push_back(fork_child([&] {
      std::map<int, int> last;  // producer -> last value got; must grow
      std::map<int, int> got;
      for (;;) {
        const auto [p, v] = q.get(30s);
        if (p < 0) break;
        if (last.contains(p) && last[p] >= v) return 1;
        last[p] = v;
        ++got[p];
      }
      results.put(got);
      return 0;
    }));
  }
  for (int p = 0; p < kProducers; ++p) {
    pids.push_back(fork_child([&, p] {
      for (int i = 0; i < kPer; ++i) q.put({p, i});
      return 0;
    }));
  }
  for (int i = kConsumers; i < kConsumers + kProducers; ++i) EXPECT_EQ(join_child(pids[i]), 0);
  for (int c = 0; c < kConsumers; ++c) q.put({-1, 0});
  std::map<int, int> total;
  for (int c = 0; c < kConsumers; ++c) {
    for (const auto& [p, n] : results.get(30s)) total[p] += n;
  }
  for (int i = 0; i < kConsumers; ++i) EXPECT_EQ(join_child(pids[i]), 0);
  for (int p = 0; p < kProducers; ++p) EXPECT_EQ(total[p], kPer) << p;
}

// trident: the spill is shared memory that exists only while items are in it — once they are got
// no segment is left (the fixture checks /dev/shm after each test; this also checks mid-test).
// JoinableQueue counts spilled items as tasks like any other.
TEST_F(ShmTest, UnboundedSpillIsFreedOnceDrainedAndCountsTasks) {
  mp::JoinableQueue<std::vector<int>> q(mp::QueueOptions{.buffer_size = kRing});
  const auto before = shm_test::internal_segments_of(getpid()).size();
  for (int round = 0; round < 3; ++round) {
    for (int i = 0; i < 1000; ++i) q.put(std::vector<int>(10, i));
    EXPECT_GT(shm_test::internal_segments_of(getpid()).size(), before);
    EXPECT_FALSE(q.join(0s));
    for (int i = 0; i < 1000; ++i) {
      ASSERT_EQ(q.get_nowait(), std::vector<int>(10, i));
      q.task_done();
    }
    EXPECT_TRUE(q.join(0s));
    EXPECT_EQ(shm_test::internal_segments_of(getpid()).size(), before);
  }
}

}  // namespace
