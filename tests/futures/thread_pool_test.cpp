// ThreadPoolExecutor: CPython's test_thread_pool.py and test_init.py (thread pool), and the
// thread names and worker counts test_shutdown.py checks.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sched.h>

#include <algorithm>
#include <chrono>
#include <regex>
#include <set>
#include <string>
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

int mul(int x, int y) { return x * y; }

// Python's INITIALIZER_STATUS, per thread.
thread_local std::string status = "uninitialized";

// Collects the log lines (message and error text), restoring the previous handler afterwards.
class CapturedLog {
 public:
  CapturedLog()
      : previous_(futures::set_log_handler([this](std::string_view message, std::exception_ptr error) {
          std::string line(message);
          if (error) {
            try {
              std::rethrow_exception(error);
            } catch (const std::exception& e) {
              line += std::string(" ") + e.what();
            }
          }
          std::scoped_lock g(lock_);
          lines_.push_back(line);
        })) {}
  ~CapturedLog() { futures::set_log_handler(previous_); }
  std::vector<std::string> lines() {
    std::scoped_lock g(lock_);
    return lines_;
  }

 private:
  threading::Lock lock_;
  std::vector<std::string> lines_;
  futures::LogHandler previous_;
};

// Runs `n` tasks that all wait for each other, so `n` workers must exist; returns their names.
std::vector<std::string> names_of_workers(futures::ThreadPoolExecutor& ex, int n) {
  threading::Barrier all(n);
  std::vector<Future<std::string>> fs;
  for (int i = 0; i < n; ++i) {
    fs.push_back(ex.submit([&all] {
      all.wait(30s);
      return threading::current_thread().name();
    }));
  }
  std::vector<std::string> names;
  for (auto& f : fs) names.push_back(f.result(30s));
  std::sort(names.begin(), names.end());
  return names;
}

}  // namespace

// test_default_workers: min(32, process_cpu_count() + 4).
TEST(ThreadPool, DefaultMaxWorkers) {
  cpu_set_t set;
  ASSERT_EQ(sched_getaffinity(0, sizeof set, &set), 0);
  const int expected = std::min(32, CPU_COUNT(&set) + 4);
  futures::ThreadPoolExecutor ex;
  EXPECT_EQ(ex.max_workers(), expected);
  EXPECT_EQ(ex.worker_count(), 0u);  // workers start lazily
}

// test_max_workers_negative: 0 and -1 are ValueError "max_workers must be greater than 0".
TEST(ThreadPool, MaxWorkersMustBePositive) {
  for (int n : {0, -1}) {
    try {
      futures::ThreadPoolExecutor ex(n);
      FAIL() << "no ValueError for " << n;
    } catch (const trident::ValueError& e) {
      EXPECT_STREQ(e.what(), "ThreadPoolExecutor(): max_workers must be greater than 0");
    }
  }
  EXPECT_THROW(futures::ThreadPoolExecutor({.max_workers = 0}), trident::ValueError);
}

// test_saturation: blocked tasks never start more than max_workers threads.
TEST(ThreadPool, SaturationStopsAtMaxWorkers) {
  futures::ThreadPoolExecutor executor(4);
  threading::Semaphore sem(0);
  std::vector<Future<void>> fs;
  for (int i = 0; i < 15 * executor.max_workers(); ++i) fs.push_back(executor.submit([&sem] { sem.acquire(); }));
  EXPECT_EQ(executor.worker_count(), 4u);
  sem.release(15 * executor.max_workers());
  executor.shutdown(true);
  for (auto& f : fs) EXPECT_NO_THROW(f.result(0s));
}

// test_idle_thread_reuse: one worker serves calls made one after another (deterministic here:
// a worker counts as idle before its result is published).
TEST(ThreadPool, IdleWorkerIsReused) {
  futures::ThreadPoolExecutor executor;
  EXPECT_EQ(executor.submit(mul, 21, 2).result(), 42);
  EXPECT_EQ(executor.submit(mul, 6, 7).result(), 42);
  EXPECT_EQ(executor.submit(mul, 3, 14).result(), 42);
  EXPECT_EQ(executor.worker_count(), 1u);
  executor.shutdown(true);
}

// Python starts a worker per submit while none is idle, up to the maximum.
TEST(ThreadPool, WorkersStartOnlyWhenNeeded) {
  futures::ThreadPoolExecutor executor(8);
  Event release;
  auto a = executor.submit([&release] { return release.wait(30s); });
  auto b = executor.submit([&release] { return release.wait(30s); });
  EXPECT_EQ(executor.worker_count(), 2u);
  release.set();
  a.result(10s);
  b.result(10s);
  for (int i = 0; i < 10; ++i) executor.submit(mul, i, i).result(10s);
  EXPECT_EQ(executor.worker_count(), 2u);
}

// test_thread_names_assigned: "<prefix>_<i>".
TEST(ThreadPool, ThreadNamesWithPrefix) {
  futures::ThreadPoolExecutor executor({.max_workers = 5, .thread_name_prefix = "SpecialPool"});
  auto names = names_of_workers(executor, 5);
  EXPECT_EQ(names, (std::vector<std::string>{"SpecialPool_0", "SpecialPool_1", "SpecialPool_2", "SpecialPool_3",
                                             "SpecialPool_4"}));
}

// test_thread_names_default: "ThreadPoolExecutor-<n>_<i>", n distinct per executor.
TEST(ThreadPool, ThreadNamesDefault) {
  futures::ThreadPoolExecutor first(5);
  futures::ThreadPoolExecutor second(1);
  auto names = names_of_workers(first, 5);
  const std::regex pattern("^ThreadPoolExecutor-\\d+_[0-4]$");
  for (const auto& n : names) EXPECT_TRUE(std::regex_match(n, pattern)) << n;
  const std::string other = second.submit([] { return threading::current_thread().name(); }).result(10s);
  EXPECT_TRUE(std::regex_match(other, std::regex("^ThreadPoolExecutor-\\d+_0$"))) << other;
  EXPECT_NE(other.substr(0, other.rfind('_')), names[0].substr(0, names[0].rfind('_')));
}

// Workers are threading::Threads: they show in enumerate() while alive, and are gone after
// shutdown (test_threads_terminate).
TEST(ThreadPool, WorkersAreThreadingThreads) {
  const int before = threading::active_count();
  futures::ThreadPoolExecutor executor({.max_workers = 3, .thread_name_prefix = "Visible"});
  auto names = names_of_workers(executor, 3);
  EXPECT_EQ(threading::active_count(), before + 3);
  int visible = 0;
  for (threading::Thread* t : threading::enumerate()) visible += t->name().rfind("Visible_", 0) == 0;
  EXPECT_EQ(visible, 3);
  executor.shutdown(true);
  EXPECT_EQ(threading::active_count(), before);
}

// test_initializer: the initializer runs once in each worker before its first call.
TEST(ThreadPool, InitializerRunsInEachWorker) {
  std::atomic<int> runs{0};
  futures::ThreadPoolExecutor executor({.max_workers = 2, .initializer = [&runs] {
                                          status = "initialized";
                                          ++runs;
                                        }});
  threading::Barrier both(2);
  std::vector<Future<std::string>> fs;
  for (int i = 0; i < 2; ++i) {
    fs.push_back(executor.submit([&both] {
      both.wait(30s);
      return status;
    }));
  }
  for (auto& f : fs) EXPECT_EQ(f.result(30s), "initialized");
  for (int i = 0; i < 5; ++i) EXPECT_EQ(executor.submit([] { return status; }).result(10s), "initialized");
  EXPECT_EQ(runs.load(), 2);
  EXPECT_EQ(status, "uninitialized");  // not in the submitting thread
}

// test_initializer (failing): the error is logged, queued calls fail with BrokenThreadPool and
// so does every later submit.
TEST(ThreadPool, FailingInitializerBreaksThePool) {
  CapturedLog log;
  Event fail_now;
  futures::ThreadPoolExecutor executor({.max_workers = 2, .initializer = [&fail_now] {
                                          fail_now.wait(30s);  // let some calls queue up first
                                          throw trident::ValueError("error in initializer");
                                        }});
  std::vector<Future<int>> pending;
  for (int i = 0; i < 5; ++i) pending.push_back(executor.submit(mul, i, 2));
  fail_now.set();
  for (auto& f : pending) {
    try {
      f.result(30s);
      FAIL() << "no BrokenThreadPool";
    } catch (const futures::BrokenThreadPool& e) {
      EXPECT_STREQ(e.what(), "ThreadPoolExecutor: A thread initializer failed, the thread pool is not usable anymore");
    }
  }
  try {
    executor.submit(mul, 1, 1);
    FAIL() << "no BrokenThreadPool";
  } catch (const futures::BrokenThreadPool& e) {
    EXPECT_STREQ(e.what(),
                 "ThreadPoolExecutor::submit(): A thread initializer failed, the thread pool is not usable anymore");
  }
  EXPECT_THROW(executor.submit(mul, 1, 1), futures::BrokenExecutor);  // Python's base class
  executor.shutdown(true);
  const auto lines = log.lines();
  ASSERT_FALSE(lines.empty());
  for (const auto& l : lines) EXPECT_EQ(l, "Exception in initializer: error in initializer");
}

// A task's exception never kills its worker: the pool goes on with the same thread.
TEST(ThreadPool, TaskExceptionDoesNotKillTheWorker) {
  futures::ThreadPoolExecutor executor(1);
  auto bad = executor.submit([]() -> int { throw std::runtime_error("task failed"); });
  EXPECT_THROW(bad.result(10s), std::runtime_error);
  EXPECT_EQ(executor.submit(mul, 2, 3).result(10s), 6);
  EXPECT_EQ(executor.worker_count(), 1u);
}

// Python runs done-callbacks in the worker before counting it idle: a callback that submits and
// waits gets another worker instead of waiting for itself.
TEST(ThreadPool, CallbackMaySubmitAndWait) {
  futures::ThreadPoolExecutor executor(2);
  Event go;
  auto first = executor.submit([&go] { return go.wait(30s); });
  Future<int> inner_result;
  Event callback_done;
  first.add_done_callback([&](const Future<bool>&) {
    inner_result = executor.submit(mul, 4, 5);
    inner_result.result(30s);
    callback_done.set();
  });
  go.set();
  ASSERT_TRUE(callback_done.wait(30s));
  EXPECT_EQ(inner_result.result(0s), 20);
  EXPECT_EQ(executor.worker_count(), 2u);
}

// A callback's exception in a worker is logged and the worker goes on.
TEST(ThreadPool, CallbackExceptionInWorkerIsReported) {
  CapturedLog log;
  futures::ThreadPoolExecutor executor(1);
  Event go;
  auto f = executor.submit([&go] { return go.wait(30s); });
  f.add_done_callback([](const Future<bool>&) { throw std::runtime_error("callback failed"); });
  go.set();
  EXPECT_TRUE(f.result(10s));
  EXPECT_EQ(executor.submit(mul, 3, 3).result(10s), 9);  // the same worker is still serving
  executor.shutdown(true);
  const auto lines = log.lines();
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_THAT(lines[0], testing::StartsWith("exception calling callback for <Future at 0x"));
  EXPECT_THAT(lines[0], testing::EndsWith("state=finished returned bool> callback failed"));
}

// A task may submit more work to its own pool (Python's recursive submit pattern).
TEST(ThreadPool, TasksMaySubmitTasks) {
  futures::ThreadPoolExecutor executor(2);
  auto outer = executor.submit([&executor] { return executor.submit(mul, 6, 7).result(30s); });
  EXPECT_EQ(outer.result(30s), 42);
}

// Calls start in submission order (one worker: strictly sequential).
TEST(ThreadPool, CallsRunInSubmissionOrder) {
  futures::ThreadPoolExecutor executor(1);
  std::vector<int> order;
  std::vector<Future<void>> fs;
  for (int i = 0; i < 50; ++i) fs.push_back(executor.submit([&order, i] { order.push_back(i); }));
  futures::wait(fs, 30s);
  std::vector<int> expected(50);
  for (int i = 0; i < 50; ++i) expected[i] = i;
  EXPECT_EQ(order, expected);
}

// A future cancelled while queued never runs; its worker notices and wait() sees it complete.
TEST(ThreadPool, CancelledWhileQueuedNeverRuns) {
  futures::ThreadPoolExecutor executor(1);
  Event release;
  Event started;
  auto blocker = executor.submit([&] {
    started.set();
    return release.wait(30s);
  });
  ASSERT_TRUE(started.wait(10s));
  bool ran = false;
  auto queued = executor.submit([&ran] { ran = true; });
  EXPECT_TRUE(queued.cancel());
  EXPECT_FALSE(blocker.cancel());  // running
  release.set();
  auto r = futures::wait(std::vector{queued}, 30s);
  EXPECT_EQ(r.done.size(), 1u);
  executor.shutdown(true);
  EXPECT_FALSE(ran);
  EXPECT_TRUE(blocker.result(0s));
}
