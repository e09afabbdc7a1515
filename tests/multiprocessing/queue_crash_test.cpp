// Crash injection on multiprocessing queues (the robustness rules; CPython has none of
// this and hangs or corrupts the pipe): a process killed while blocked in get, or while holding the
// producers' lock in the middle of a put, hangs nobody, and a consumer never sees a half-written
// item. No process or /dev/shm segment is left behind (ShmTest's checks).
#include <signal.h>

#include <cstdio>
#include <cstring>

#include <string>

#include "shm_test_support.hpp"
#include "support/helpers.hpp"
#include "trident/multiprocessing/queues.hpp"

namespace mp = trident::multiprocessing;
using shm_test::ShmTest;
using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

namespace {

// Waits (bounded) until process `pid` sleeps in the kernel (state S in /proc/<pid>/stat): after its
// "ready" signal, the only sleep left on its path is the queue's futex wait. Synchronises without a
// fixed sleep; a child that never gets there only makes the test exercise a weaker case.
bool wait_until_sleeping(int pid) {
  const auto until = Clock::now() + 5s;
  while (Clock::now() < until) {
    if (FILE* f = std::fopen(("/proc/" + std::to_string(pid) + "/stat").c_str(), "r")) {
      char state = 0;
      const int got = std::fscanf(f, "%*d (%*[^)]) %c", &state);
      std::fclose(f);
      if (got == 1 && state == 'S') return true;
    }
    std::this_thread::sleep_for(1ms);
  }
  return false;
}

// A process killed while blocked in get (holding the consumers' lock, asleep on the ring) does not
// stop another consumer, already waiting behind it, from getting the next item.
TEST_F(ShmTest, QueueKilledWhileBlockedInGetHangsNobody) {
  mp::Queue<int> q;
  shm_test::Signal ready1, ready2;
  const int first = fork_child([&] {
    ready1.notify();
    (void)q.get();
    return 1;  // never reached: killed while blocked
  });
  ASSERT_TRUE(ready1.wait());
  EXPECT_TRUE(wait_until_sleeping(first));
  const int second = fork_child([&] {
    ready2.notify();
    CHILD_CHECK(q.get(20s) == 7);
    return 0;
  });
  ASSERT_TRUE(ready2.wait());
  EXPECT_TRUE(wait_until_sleeping(second));
  kill_child(first);
  q.put(7);
  EXPECT_EQ(join_child(second), 0);
  // The queue still works both ways afterwards.
  q.put(8);
  EXPECT_EQ(q.get(5s), 8);
}

// A producer killed while holding the producers' lock (blocked in put on a full queue) does not
// deadlock the next producer: the lock is taken over within the robust locks' bound.
TEST_F(ShmTest, QueueProducerKilledHoldingLockDoesNotDeadlock) {
  mp::Queue<int> q(1);
  shm_test::Signal ready;
  const int pid = fork_child([&] {
    q.put(1);
    ready.notify();
    q.put(2);  // blocks holding the producers' lock: the queue is full
    return 1;
  });
  ASSERT_TRUE(ready.wait());
  EXPECT_TRUE(wait_until_sleeping(pid));
  kill_child(pid);
  EXPECT_EQ(q.get(5s), 1);
  const auto t0 = Clock::now();
  q.put(3, 5s);
  EXPECT_LT(Clock::now() - t0, 1s);
  EXPECT_EQ(q.get(5s), 3);
  EXPECT_TRUE(q.empty());
}

// A producer killed at a random moment while putting items (small ones and big ones in segments of
// their own) never makes a consumer see a half-written item: every item got is whole, the items
// come in order, the queue keeps working, and the killed producer's unpublished segment is removed.
// (A maxsize keeps the producer on the ring path, blocking when the ring is full: an unbounded
// queue would spill, whose crash behaviour is weaker — docs/multiprocessing.md, "Queues".)
TEST_F(ShmTest, QueueProducerKilledMidPutNoHalfItems) {
  mp::Queue<std::string> q(mp::QueueOptions{.maxsize = 1 << 20, .buffer_size = 1 << 16});
  for (int round = 0; round < 5; ++round) {
    shm_test::Signal started;
    const int pid = fork_child([&] {
      started.notify();
      for (std::size_t i = 0;; ++i) {
        const std::size_t n = i % 5 == 0 ? 40000 : i % 300;
        std::string s(n + 8, static_cast<char>('a' + i % 26));
        std::memcpy(s.data(), &i, sizeof i);
        q.put(s);
      }
      return 1;
    });
    ASSERT_TRUE(started.wait());
    std::size_t expect = 0;
    // Consume a varying number of items, then kill the producer somewhere inside a put.
    const int take = 50 + round * 37;
    for (int k = 0; k < take; ++k) {
      const std::string s = q.get(10s);
      std::size_t i;
      std::memcpy(&i, s.data(), sizeof i);
      ASSERT_EQ(i, expect++);
      const std::size_t n = i % 5 == 0 ? 40000 : i % 300;
      ASSERT_EQ(s.size(), n + 8);
      ASSERT_EQ(s.find_first_not_of(static_cast<char>('a' + i % 26), 8), std::string::npos);
    }
    kill_child(pid);
    // Drain what was published: each item whole and in order.
    while (true) {
      std::string s;
      try {
        s = q.get_nowait();
      } catch (const trident::queue::Empty&) {
        break;
      }
      std::size_t i;
      std::memcpy(&i, s.data(), sizeof i);
      ASSERT_EQ(i, expect++);
      ASSERT_EQ(s.size(), (i % 5 == 0 ? 40000 : i % 300) + 8);
    }
    // The next producer (the parent) takes the lock over and cleans up.
    q.put(std::string(50000, 'p'), 5s);
    EXPECT_EQ(q.get(5s), std::string(50000, 'p'));
  }
}

}  // namespace
