// Waiting through the core: when the calling context's parker is not the thread parker (a greenlet
// hub, later), Popen::wait, communicate and pipe I/O must park through that parker — via the fd
// watcher — instead of sleeping in the kernel on the whole thread. A forwarding parker stands in
// for a hub here and counts the parks it is asked for.
#include <signal.h>

#include <atomic>
#include <chrono>
#include <thread>

#include "subprocess/fd_wait.hpp"
#include "subprocess/nowait.hpp"
#include "subprocess/subprocess_fixture.hpp"
#include "support/helpers.hpp"
#include "trident/detail/wait.hpp"

namespace sp = trident::subprocess;
namespace core = trident::detail;
using namespace std::chrono_literals;
using trident::testing::SubprocessTest;
using Clock = std::chrono::steady_clock;

namespace {

class CountingParker : public core::Parker {
 public:
  bool park(core::Waiter& w, const core::Deadline& deadline) noexcept override {
    parks.fetch_add(1, std::memory_order_relaxed);
    return core::thread_parker().park(w, deadline);
  }
  void unpark(void* context, std::atomic<std::uint32_t>* word, std::uint32_t previous) noexcept override {
    core::thread_parker().unpark(context, word, previous);
  }
  std::atomic<int> parks{0};
};

// A waker may call unpark() just after the waiter it woke has returned, so a parker must outlive
// every wait that used it (a hub's parker lives as long as its hub): the tests' parker is static.
CountingParker& counting_parker() {
  static CountingParker* p = new CountingParker;
  return *p;
}

// Installs a CountingParker on this thread for the scope.
class ParkerScope {
 public:
  explicit ParkerScope(core::Parker* p) : old_(core::set_current_parker(p)) {}
  ~ParkerScope() { core::set_current_parker(old_); }

 private:
  core::Parker* old_;
};

class WaitingCore : public SubprocessTest {
 protected:
  void TearDown() override {
    SubprocessTest::TearDown();
    // The watcher thread exits on its own once idle (the leak checker then sees no extra thread).
    auto until = Clock::now() + 10s;
    while (sp::detail::fd_watcher_running() && Clock::now() < until) std::this_thread::sleep_for(5ms);
    EXPECT_FALSE(sp::detail::fd_watcher_running());
  }
};

// Popen.wait() from a non-thread parker parks through it and still returns the status.
TEST_F(WaitingCore, WaitParksThroughTheCurrentParker) {
  CountingParker& parker = counting_parker();
  parker.parks = 0;
  ParkerScope scope(&parker);
  sp::Popen p({"/bin/sh", "-c", "sleep 0.1; exit 6"});
  EXPECT_EQ(p.wait(10s), 6);
  EXPECT_GT(parker.parks.load(), 0);
}

// A timed wait through the watcher times out on time, and the child is unaffected.
TEST_F(WaitingCore, TimedWaitThroughWatcherTimesOut) {
  CountingParker& parker = counting_parker();
  parker.parks = 0;
  ParkerScope scope(&parker);
  sp::Popen p({"sleep", "30"});
  auto t0 = Clock::now();
  EXPECT_THROW(p.wait(200ms), sp::TimeoutExpired);
  auto took = Clock::now() - t0;
  EXPECT_GE(took, 190ms);
  EXPECT_LT(took, 200ms + trident::testing::kTimeoutSlack);
  EXPECT_GT(parker.parks.load(), 0);
  p.kill();
  EXPECT_EQ(p.wait(10s), -SIGKILL);
}

// communicate() moves megabytes both ways through the watcher without deadlock or loss.
TEST_F(WaitingCore, CommunicateThroughWatcher) {
  CountingParker& parker = counting_parker();
  parker.parks = 0;
  ParkerScope scope(&parker);
  std::string input(4 << 20, 'w');
  // The child starts reading late, so communicate() must wait at least once whatever the
  // scheduling (a fast `cat` could otherwise keep every poll ready and never park).
  sp::Popen p({"/bin/sh", "-c", "sleep 0.05; exec cat"}, {.stdin = sp::PIPE, .stdout = sp::PIPE});
  auto [out, err] = p.communicate(input, 60s);
  EXPECT_TRUE(out == input);
  EXPECT_GT(parker.parks.load(), 0);
}

// Direct pipe reads park through the current parker as well.
TEST_F(WaitingCore, PipeReadParksThroughTheCurrentParker) {
  CountingParker& parker = counting_parker();
  parker.parks = 0;
  ParkerScope scope(&parker);
  sp::Popen p({"/bin/sh", "-c", "sleep 0.1; echo late"}, {.stdout = sp::PIPE});
  EXPECT_EQ(p.stdout().readline(), "late\n");
  EXPECT_GT(parker.parks.load(), 0);
  p.wait(10s);
}

// A direct pipe write larger than the pipe parks through the current parker, writing at most
// PIPE_BUF after each POLLOUT (the fd is blocking: a bigger write could sleep in the kernel).
TEST_F(WaitingCore, PipeWriteParksThroughTheCurrentParker) {
  CountingParker& parker = counting_parker();
  parker.parks = 0;
  ParkerScope scope(&parker);
  sp::Popen p({"/bin/sh", "-c", "sleep 0.1; exec wc -c"}, {.stdin = sp::PIPE, .stdout = sp::PIPE});
  const std::string data(1000000, 'w');
  EXPECT_EQ(p.stdin().write(data), data.size());
  p.stdin().close();
  EXPECT_EQ(p.stdout().read(), "1000000\n");
  EXPECT_GT(parker.parks.load(), 0);
  EXPECT_EQ(p.wait(10s), 0);
}

// The same without RWF_NOWAIT: each POLLOUT is followed by at most what it promises.
TEST_F(WaitingCore, PipeWriteThroughWatcherWithoutRwfNowait) {
  auto& nowait = sp::detail::nowait_io();
  const bool saved = nowait.exchange(false);
  ParkerScope scope(&counting_parker());
  sp::Popen p({"/bin/sh", "-c", "sleep 0.1; exec wc -c"}, {.stdin = sp::PIPE, .stdout = sp::PIPE});
  const std::string data(1000000, 'w');
  EXPECT_EQ(p.stdin().write(data), data.size());
  p.stdin().close();
  EXPECT_EQ(p.stdout().read(), "1000000\n");
  EXPECT_EQ(p.wait(10s), 0);
  nowait.store(saved);
}

// A pipeline whose middle fd a child shares, waited on through the watcher: every byte arrives.
TEST_F(WaitingCore, PipelineThroughWatcher) {
  CountingParker& parker = counting_parker();
  parker.parks = 0;
  ParkerScope scope(&parker);
  for (int round = 0; round < 5; ++round) {
    sp::Popen p1({"/bin/sh", "-c", "for i in 1 2 3; do echo l$i; sleep 0.02; done"}, {.stdout = sp::PIPE});
    sp::Popen p2({"cat"}, {.stdin = p1.stdout(), .stdout = sp::PIPE, .stderr = sp::PIPE});
    p1.stdout().close();
    auto [out, err] = p2.communicate({}, 60s);
    EXPECT_EQ(out, "l1\nl2\nl3\n");
    EXPECT_EQ(err, "");
    EXPECT_EQ(p1.wait(10s), 0);
  }
  EXPECT_GT(parker.parks.load(), 0);
}

// Several "greenlet-like" waiters on several threads share the one watcher thread.
TEST_F(WaitingCore, ManyConcurrentWaitersShareTheWatcher) {
  counting_parker().parks = 0;
  std::vector<std::thread> ts;
  std::atomic<int> ok{0};
  for (int i = 0; i < 6; ++i) {
    ts.emplace_back([&, i] {
      ParkerScope scope(&counting_parker());
      sp::Popen p({"/bin/sh", "-c", "sleep 0.05; exit " + std::to_string(i)});
      if (p.wait(20s) == i) ok.fetch_add(1);
    });
  }
  for (auto& t : ts) t.join();
  EXPECT_EQ(ok.load(), 6);
  EXPECT_GE(counting_parker().parks.load(), 6);
}

// On an OS thread (the thread parker), waiting uses no helper thread at all.
TEST_F(WaitingCore, ThreadParkerNeedsNoWatcher) {
  // Let a watcher from an earlier test in this process go idle first.
  auto until = Clock::now() + 10s;
  while (sp::detail::fd_watcher_running() && Clock::now() < until) std::this_thread::sleep_for(5ms);
  sp::Popen p({"/bin/sh", "-c", "sleep 0.05"});
  EXPECT_EQ(p.wait(10s), 0);
  EXPECT_FALSE(sp::detail::fd_watcher_running());
}

}  // namespace
