// ThreadPoolExecutor shutdown and destruction: CPython's test_shutdown.py (thread pool), with
// events instead of sleeps.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <chrono>
#include <memory>
#include <vector>

#include "support/helpers.hpp"
#include "trident/futures.hpp"
#include "trident/threading.hpp"

using namespace std::chrono_literals;
namespace futures = trident::futures;
namespace threading = trident::threading;
using futures::Future;
using threading::Event;

namespace {

int abs_value(int x) { return x < 0 ? -x : x; }

std::vector<int> collect(futures::MapResults<int>& results) {
  std::vector<int> out;
  for (int r : results) out.push_back(r);
  return out;
}

const std::vector<int> kAbsExpected{5, 4, 3, 2, 1, 0, 1, 2, 3, 4};

}  // namespace

// test_run_after_shutdown: submit after shutdown raises RuntimeError.
TEST(Shutdown, SubmitAfterShutdownIsRuntimeError) {
  futures::ThreadPoolExecutor executor(2);
  executor.shutdown();
  try {
    executor.submit(abs_value, -2);
    FAIL() << "no RuntimeError";
  } catch (const trident::RuntimeError& e) {
    EXPECT_STREQ(e.what(), "ThreadPoolExecutor::submit(): cannot schedule new futures after shutdown");
  }
  EXPECT_THROW(executor.map(abs_value, std::vector{1}), trident::RuntimeError);
}

// test_hang_issue12364: shutdown() waits for queued calls; all their results are there.
TEST(Shutdown, WaitsForQueuedCalls) {
  futures::ThreadPoolExecutor executor(5);
  std::vector<Future<int>> fs;
  for (int i = 0; i < 50; ++i) fs.push_back(executor.submit(abs_value, -i));
  executor.shutdown();
  for (int i = 0; i < 50; ++i) EXPECT_EQ(fs[i].result(0s), i);
}

// test_cancel_futures: cancel_futures cancels exactly the calls not started; the started ones
// finish normally.
TEST(Shutdown, CancelFuturesCancelsQueuedCalls) {
  futures::ThreadPoolExecutor executor(2);
  threading::Semaphore started(0);
  Event release;
  std::vector<Future<bool>> fs;
  for (int i = 0; i < 2; ++i) {
    fs.push_back(executor.submit([&] {
      started.release();
      return release.wait(30s);
    }));
  }
  for (int i = 0; i < 2; ++i) ASSERT_TRUE(started.acquire(true, 10s));
  for (int i = 0; i < 48; ++i) fs.push_back(executor.submit([] { return true; }));
  executor.shutdown(false, true);
  int cancelled = 0;
  for (auto& f : fs) cancelled += f.cancelled();
  EXPECT_EQ(cancelled, 48);
  release.set();
  executor.shutdown(true);
  for (int i = 0; i < 2; ++i) {
    EXPECT_TRUE(fs[i].done());
    EXPECT_EQ(fs[i].exception(), nullptr);
    EXPECT_TRUE(fs[i].result(0s));
  }
}

// test_cancel_futures_wait_false: shutdown(wait=false, cancel_futures=true) returns at once; the
// running call still completes.
TEST(Shutdown, CancelFuturesWithoutWaiting) {
  Event release;
  Event started;
  Future<int> running;
  {
    futures::ThreadPoolExecutor executor;
    running = executor.submit([&] {
      started.set();
      release.wait(30s);
      return 1;
    });
    ASSERT_TRUE(started.wait(10s));
    executor.shutdown(false, true);
    EXPECT_FALSE(running.done());
    release.set();
  }
  EXPECT_EQ(running.result(0s), 1);
}

// test_hang_gh94440: shutdown(wait=True) right after cancelling a just-submitted call returns.
TEST(Shutdown, AfterCancellingAJustSubmittedCall) {
  futures::ThreadPoolExecutor executor(1);
  executor.submit([] { return 0; }).result(10s);
  executor.submit([] { return 0; }).cancel();
  executor.shutdown(true);
}

// test_threads_terminate: three blocked calls start three threads; shutdown joins them all.
TEST(Shutdown, ThreadsTerminate) {
  const int before = threading::active_count();
  futures::ThreadPoolExecutor executor(5);
  threading::Semaphore sem(0);
  for (int i = 0; i < 3; ++i) executor.submit([&sem] { sem.acquire(); });
  EXPECT_EQ(executor.worker_count(), 3u);
  sem.release(3);
  executor.shutdown();
  EXPECT_EQ(threading::active_count(), before);
}

// test_context_manager_shutdown: leaving the scope waits for the work and the threads.
TEST(Shutdown, ScopeExitIsContextManagerExit) {
  const int before = threading::active_count();
  {
    futures::ThreadPoolExecutor e(5);
    auto results = e.map(abs_value, std::views::iota(-5, 5));
    EXPECT_EQ(collect(results), kAbsExpected);
  }
  EXPECT_EQ(threading::active_count(), before);
}

// test_del_shutdown: results computed by an executor outlive it.
TEST(Shutdown, ResultsOutliveTheExecutor) {
  auto executor = std::make_unique<futures::ThreadPoolExecutor>(5);
  auto results = executor->map(abs_value, std::views::iota(-5, 5));
  executor.reset();
  EXPECT_EQ(collect(results), kAbsExpected);
}

// test_shutdown_no_wait: shutdown(wait=false) still lets queued work finish.
TEST(Shutdown, NoWaitStillFinishesQueuedWork) {
  futures::ThreadPoolExecutor executor(5);
  auto results = executor.map(abs_value, std::views::iota(-5, 5));
  executor.shutdown(false);
  EXPECT_EQ(collect(results), kAbsExpected);
}

// shutdown(wait=false) does not wait for a running call; the destructor does.
TEST(Shutdown, NoWaitReturnsWhileACallRuns) {
  Event release;
  Event started;
  std::atomic<bool> finished{false};
  {
    futures::ThreadPoolExecutor executor(1);
    executor.submit([&] {
      started.set();
      release.wait(30s);
      finished = true;
    });
    ASSERT_TRUE(started.wait(10s));
    executor.shutdown(false);
    EXPECT_FALSE(finished.load());
    release.set();
  }
  EXPECT_TRUE(finished.load());
}

// The destructor (Python's `with` exit) waits for every queued call, not only running ones.
TEST(Shutdown, DestructorRunsEverythingQueued) {
  std::atomic<int> done{0};
  {
    futures::ThreadPoolExecutor executor(2);
    for (int i = 0; i < 200; ++i) executor.submit([&done] { ++done; });
  }
  EXPECT_EQ(done.load(), 200);
}

// Python: shutdown may be called again (and from several threads).
TEST(Shutdown, RepeatedAndConcurrentShutdown) {
  futures::ThreadPoolExecutor executor(3);
  Event release;
  for (int i = 0; i < 3; ++i) executor.submit([&release] { return release.wait(30s); });
  executor.shutdown(false);
  threading::Thread other([&] { executor.shutdown(true); });
  other.start();
  release.set();
  executor.shutdown(true);
  other.join();
  executor.shutdown(true);
  executor.shutdown(false, true);
}

// Python: shutdown(wait=True) from a worker raises RuntimeError (a thread cannot join itself);
// the other workers are still joined, and the pool is shut.
TEST(Shutdown, WaitingShutdownFromAWorkerRaises) {
  futures::ThreadPoolExecutor executor(1);
  auto f = executor.submit([&executor] { executor.shutdown(true); });
  EXPECT_THROW(f.result(30s), trident::RuntimeError);
  EXPECT_THROW(executor.submit(abs_value, 1), trident::RuntimeError);
}

// A pool that was never used starts no thread and shuts down at once.
TEST(Shutdown, UnusedPool) {
  futures::ThreadPoolExecutor executor;
  EXPECT_EQ(executor.worker_count(), 0u);
  executor.shutdown(true);
  EXPECT_EQ(executor.worker_count(), 0u);
}
