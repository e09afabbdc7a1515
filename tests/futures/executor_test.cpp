// Executor::submit and Executor::map: CPython's executor.py ExecutorTest (run on the thread pool,
// as test_thread_pool.py does) and map's generator semantics; plus the executor-writer side
// (WorkItem) through a hand-driven executor.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <chrono>
#include <cmath>
#include <deque>
#include <list>
#include <memory>
#include <ranges>
#include <string>
#include <vector>

#include "support/helpers.hpp"
#include "trident/futures.hpp"
#include "trident/threading.hpp"

using namespace std::chrono_literals;
namespace futures = trident::futures;
using futures::Future;
using trident::testing::kTimeoutSlack;
using trident::threading::Event;
using Clock = std::chrono::steady_clock;

namespace {

constexpr int kWorkers = 5;  // Python's worker_count for the thread-pool tests

long ipow(long x, long y) {
  long r = 1;
  for (long i = 0; i < y; ++i) r *= x;
  return r;
}

struct DivMod {
  int q;
  int r;
  bool operator==(const DivMod&) const = default;
};
DivMod divmod(int x, int y) {
  if (y == 0) throw std::domain_error("integer division or modulo by zero");
  return {x / y, x % y};
}

struct CustomError {
  int code;
};

// An executor run by hand: schedule() queues, run_all() runs in the calling thread.
class ManualExecutor : public futures::Executor {
 public:
  ~ManualExecutor() override { shutdown(true); }
  void shutdown(bool = true, bool cancel_futures = false) override {
    closed_ = true;
    if (cancel_futures) {
      for (auto& item : items_) item.cancel();
      items_.clear();
    }
  }
  void run_all() {
    while (!items_.empty()) {
      futures::WorkItem item = std::move(items_.front());
      items_.pop_front();
      item.run();
    }
  }
  std::size_t queued() const { return items_.size(); }
  std::deque<futures::WorkItem>& items() { return items_; }

 protected:
  void schedule(futures::WorkItem item) override {
    if (closed_) throw trident::RuntimeError("ManualExecutor::submit(): cannot schedule new futures after shutdown");
    items_.push_back(std::move(item));
  }

 private:
  bool closed_ = false;
  std::deque<futures::WorkItem> items_;
};

}  // namespace

// test_submit: submit(fn, args...) runs fn(args...) and the future gets its value.
TEST(Submit, CallsWithArguments) {
  futures::ThreadPoolExecutor ex(kWorkers);
  auto future = ex.submit(ipow, 2, 8);
  static_assert(std::is_same_v<decltype(future), Future<long>>);
  EXPECT_EQ(future.result(), 256);
}

// Python calls bound methods and any callable; C++: member pointers with an object, lambdas.
TEST(Submit, AnyCallable) {
  futures::ThreadPoolExecutor ex(kWorkers);
  std::string s = "hello";
  auto size = ex.submit(&std::string::size, &s);
  auto lambda = ex.submit([](int a, const std::string& b) { return b + std::to_string(a); }, 1, std::string("x"));
  EXPECT_EQ(size.result(), 5u);
  EXPECT_EQ(lambda.result(), "x1");
}

// Arguments are copied at submit (later changes do not leak in); move-only ones are moved.
TEST(Submit, ArgumentsAreCopiedOrMoved) {
  futures::ThreadPoolExecutor ex(kWorkers);
  Event go;
  std::vector<int> v{1, 2};
  auto f = ex.submit(
      [&go](std::vector<int> copy, std::unique_ptr<int> p) {
        go.wait(10s);
        return static_cast<int>(copy.size()) + *p;
      },
      v, std::make_unique<int>(40));
  v.push_back(3);
  go.set();
  EXPECT_EQ(f.result(10s), 42);
}

// A move-only result is taken with take_result().
TEST(Submit, MoveOnlyResult) {
  futures::ThreadPoolExecutor ex(kWorkers);
  auto f = ex.submit([] { return std::make_unique<std::string>("moved"); });
  EXPECT_EQ(*f.take_result(10s), "moved");
}

// A function returning a reference gives a future of a copy (Python has no references).
TEST(Submit, ReferenceResultIsCopied) {
  futures::ThreadPoolExecutor ex(kWorkers);
  std::string source = "abc";
  auto f = ex.submit([&source]() -> std::string& { return source; });
  static_assert(std::is_same_v<decltype(f), Future<std::string>>);
  EXPECT_EQ(f.result(), "abc");
}

// The task's exception keeps its type, even one not derived from std::exception.
TEST(Submit, ExceptionTypeIsPreserved) {
  futures::ThreadPoolExecutor ex(kWorkers);
  auto f = ex.submit([]() -> int { throw CustomError{17}; });
  try {
    f.result(10s);
    FAIL() << "no exception";
  } catch (const CustomError& e) {
    EXPECT_EQ(e.code, 17);
  }
  auto g = ex.submit(divmod, 1, 0);
  EXPECT_THROW(g.result(10s), std::domain_error);
  EXPECT_THAT(g.repr(), testing::EndsWith("state=finished raised std::domain_error>"));
}

// test_no_stale_references: once the call returned, the executor holds nothing of it.
TEST(Submit, NoStaleReferences) {
  futures::ThreadPoolExecutor ex(kWorkers);
  auto object = std::make_shared<int>(3);
  std::weak_ptr<int> watch = object;
  auto f = ex.submit([o = std::move(object)] { return *o; });
  EXPECT_EQ(f.result(10s), 3);
  EXPECT_TRUE(watch.expired());
}

// test_map: results in order, for several iterables and with chunksize.
TEST(Map, ResultsInOrder) {
  futures::ThreadPoolExecutor ex(kWorkers);
  std::vector<long> expected;
  for (long i = 0; i < 10; ++i) expected.push_back(ipow(i, i));
  std::vector<long> got;
  for (long r : ex.map(ipow, std::views::iota(0L, 10L), std::views::iota(0L, 10L))) got.push_back(r);
  EXPECT_EQ(got, expected);
  got.clear();
  for (long r : ex.map({.chunksize = 3}, ipow, std::views::iota(0L, 10L), std::views::iota(0L, 10L))) got.push_back(r);
  EXPECT_EQ(got, expected);
}

// Python's zip: the shortest iterable ends the map; any input range works.
TEST(Map, StopsAtShortestAndTakesAnyRange) {
  futures::ThreadPoolExecutor ex(kWorkers);
  std::list<std::string> words{"a", "bb", "ccc"};
  std::vector<int> counts{3, 2, 1, 0, 5};
  std::vector<std::string> got;
  for (auto& s : ex.map(
           [](const std::string&w, int n) {
             std::string r;
             for (int i = 0; i < n; ++i) r += w;
             return r;
           },
           words, counts))
    got.push_back(s);
  EXPECT_EQ(got, (std::vector<std::string>{"aaa", "bbbb", "ccc"}));
  static_assert(std::ranges::input_range<futures::MapResults<int>>);
}

// test_map_exception: values before the failing call come out; the failure raises its own type
// when its position is reached, and the map is over.
TEST(Map, ExceptionAtItsPosition) {
  futures::ThreadPoolExecutor ex(kWorkers);
  auto results = ex.map(divmod, std::vector{1, 1, 1, 1}, std::vector{2, 3, 0, 5});
  auto it = results.begin();
  EXPECT_EQ(*it, (DivMod{0, 1}));
  ++it;
  EXPECT_EQ(*it, (DivMod{0, 1}));
  ++it;
  EXPECT_THROW(*it, std::domain_error);
  EXPECT_TRUE(it == results.end());
}

// test_map_timeout: the overall timeout raises TimeoutError at the value not ready in time.
TEST(Map, TimeoutRaisesAtTheLateValue) {
  futures::ThreadPoolExecutor ex(kWorkers);
  Event release;
  std::vector<int> results;
  const auto t0 = Clock::now();
  try {
    for (int r : ex.map(
             {.timeout = 200ms},
             [&release](int x) {
               if (x == 2) release.wait(30s);
               return x;
             },
             std::vector{0, 1, 2}))
      results.push_back(r);
    FAIL() << "no TimeoutError";
  } catch (const trident::TimeoutError& e) {
    EXPECT_THAT(e.what(), testing::HasSubstr("Future::take_result(): the future did not finish within"));
  }
  const auto waited = Clock::now() - t0;
  EXPECT_EQ(results, (std::vector<int>{0, 1}));
  EXPECT_GE(waited, 200ms);
  EXPECT_LT(waited, 200ms + kTimeoutSlack);
  release.set();
}

// test_map_submits_without_iteration: map() submits everything at once; a result range that is
// never iterated cancels nothing.
TEST(Map, SubmitsWithoutIteration) {
  std::atomic<int> finished{0};
  futures::ThreadPoolExecutor ex(kWorkers);
  ex.map([&finished](int) { ++finished; }, std::views::iota(0, 10));
  ex.shutdown(true);
  EXPECT_EQ(finished.load(), 10);
}

// test_executor_map_current_future_cancel: a timeout cancels the late call and every later one.
TEST(Map, TimeoutCancelsTheCurrentAndLaterCalls) {
  Event stop;
  std::vector<std::string> log;
  trident::threading::Lock log_lock;
  auto log_n_wait = [&](const std::string& ident) {
    {
      std::scoped_lock g(log_lock);
      log.push_back(ident + " started");
    }
    stop.wait(30s);
    std::scoped_lock g(log_lock);
    log.push_back(ident + " stopped");
  };
  {
    futures::ThreadPoolExecutor pool(1);
    auto fut = pool.submit(log_n_wait, std::string("first"));
    {
      auto gen = pool.map({.timeout = 0s}, log_n_wait, std::vector<std::string>{"second", "third"});
      EXPECT_THROW(*gen.begin(), trident::TimeoutError);
    }
    stop.set();
    fut.result(10s);
  }
  EXPECT_EQ(log, (std::vector<std::string>{"first started", "first stopped"}));
}

// Closing the generator (destroying a started range) cancels the calls not reached; the running
// one finishes.
TEST(Map, DestroyingAStartedRangeCancelsTheRest) {
  futures::ThreadPoolExecutor pool(1);
  Event second_started;
  Event release;
  std::atomic<int> ran{0};
  {
    auto results = pool.map(
        [&](int x) {
          ++ran;
          if (x == 1) {
            second_started.set();
            release.wait(30s);
          }
          return x;
        },
        std::vector{0, 1, 2, 3});
    auto it = results.begin();
    EXPECT_EQ(*it, 0);
    ASSERT_TRUE(second_started.wait(10s));
  }
  release.set();
  pool.shutdown(true);
  EXPECT_EQ(ran.load(), 2);
}

// Results are lazy: the first value is available while a later call still runs.
TEST(Map, ValuesArriveBeforeLaterCallsFinish) {
  futures::ThreadPoolExecutor ex(2);
  Event release;
  auto results = ex.map(
      [&release](int x) {
        if (x == 1) release.wait(30s);
        return x * 10;
      },
      std::vector{0, 1});
  auto it = results.begin();
  EXPECT_EQ(*it, 0);
  EXPECT_EQ(*it, 0);  // the same value again, no new wait
  ++it;
  release.set();
  EXPECT_EQ(*it, 10);
  ++it;
  EXPECT_TRUE(it == results.end());
}

// test_free_reference: the range keeps no reference to a value it handed out and moved past.
TEST(Map, KeepsNoReferenceToPastValues) {
  futures::ThreadPoolExecutor ex(kWorkers);
  auto results = ex.map([](int) { return std::make_shared<int>(1); }, std::views::iota(0, 10));
  int n = 0;
  for (auto it = results.begin(); it != results.end(); ++n) {
    std::weak_ptr<int> watch;
    {
      std::shared_ptr<int> obj = std::move(*it);
      watch = obj;
    }
    ++it;
    EXPECT_TRUE(watch.expired());
  }
  EXPECT_EQ(n, 10);
}

// A void function's results are std::monostate (Python's None); move-only results are moved.
TEST(Map, VoidAndMoveOnlyResults) {
  futures::ThreadPoolExecutor ex(kWorkers);
  int count = 0;
  for (std::monostate m : ex.map([](int) {}, std::vector{1, 2, 3})) {
    (void)m;
    ++count;
  }
  EXPECT_EQ(count, 3);
  std::vector<int> got;
  for (auto& p : ex.map([](int x) { return std::make_unique<int>(x); }, std::vector{4, 5})) got.push_back(*p);
  EXPECT_EQ(got, (std::vector<int>{4, 5}));
}

// trident validates map's keyword arguments: chunksize >= 1, timeout >= 0.
TEST(Map, BadOptionsAreValueError) {
  futures::ThreadPoolExecutor ex(kWorkers);
  try {
    ex.map(
        {.chunksize = 0}, [](int x) { return x; }, std::vector{1});
    FAIL() << "no ValueError";
  } catch (const trident::ValueError& e) {
    EXPECT_STREQ(e.what(), "Executor::map(): chunksize must be >= 1");
  }
  EXPECT_THROW(ex.map(
                   {.timeout = -1s}, [](int x) { return x; }, std::vector{1}),
               trident::ValueError);
}

// test_shutdown_race_issue12456: map() then shutdown() with more calls than workers.
TEST(Map, ShutdownRightAfterMap) {
  futures::ThreadPoolExecutor ex(kWorkers);
  ex.map([](int x) { return std::to_string(x); }, std::vector<int>(kWorkers + 1, 2));
  ex.shutdown();
}

// Executor writers: a submit on a hand-driven executor returns a pending future that runs when
// its WorkItem runs; WorkItem::cancel and WorkItem::fail finish it as an executor would.
TEST(ExecutorWriter, WorkItemsDriveTheirFutures) {
  ManualExecutor ex;
  auto a = ex.submit(ipow, 3, 2);
  auto b = ex.submit(ipow, 2, 2);
  auto c = ex.submit(ipow, 1, 2);
  auto d = ex.submit(ipow, 0, 2);
  EXPECT_FALSE(a.done());
  EXPECT_FALSE(a.running());
  EXPECT_EQ(ex.queued(), 4u);
  EXPECT_TRUE(b.cancel());  // cancelled while queued: running it only notices that
  ex.items()[2].cancel();
  ex.items()[3].fail(std::make_exception_ptr(futures::BrokenExecutor("broken")));
  EXPECT_THROW(d.result(0s), futures::BrokenExecutor);
  // wait() sees b only once its executor noticed the cancellation.
  auto r = futures::wait(std::vector{b}, 0s);
  EXPECT_EQ(r.not_done.size(), 1u);
  ex.run_all();
  EXPECT_EQ(a.result(0s), 9);
  EXPECT_TRUE(b.cancelled());
  EXPECT_TRUE(c.cancelled());
  r = futures::wait(std::vector{b, c}, 0s);
  EXPECT_EQ(r.done.size(), 2u);
}

// A map on a hand-driven executor: nothing runs until the executor runs it, and results come
// back in order once it did.
TEST(ExecutorWriter, MapOnManualExecutor) {
  ManualExecutor ex;
  auto results = ex.map([](int x) { return x + 1; }, std::vector{1, 2, 3});
  EXPECT_EQ(ex.queued(), 3u);
  auto it = results.begin();
  EXPECT_FALSE(it == results.end());
  ex.run_all();
  std::vector<int> got;
  for (; it != results.end(); ++it) got.push_back(*it);
  EXPECT_EQ(got, (std::vector<int>{2, 3, 4}));
}

// submit() propagates schedule()'s error and leaves nothing behind.
TEST(ExecutorWriter, ScheduleErrorPropagates) {
  ManualExecutor ex;
  ex.shutdown(false, false);
  auto token = std::make_shared<int>(0);
  std::weak_ptr<int> watch = token;
  EXPECT_THROW(ex.submit([t = std::move(token)] { return *t; }), trident::RuntimeError);
  EXPECT_TRUE(watch.expired());
}
