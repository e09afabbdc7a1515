// futures::wait() and futures::as_completed(): CPython's test_wait.py and test_as_completed.py
// (thread pool), with events instead of sleeps.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <chrono>
#include <memory>
#include <ranges>
#include <vector>

#include "futures/futures_test_support.hpp"
#include "support/helpers.hpp"
#include "trident/futures.hpp"
#include "trident/threading.hpp"

using namespace std::chrono_literals;
namespace futures = trident::futures;
using futures::Future;
using trident::testing::kTimeoutSlack;
using trident::threading::Event;
using Clock = std::chrono::steady_clock;
using Fs = std::vector<Future<int>>;

namespace {

using trident::testing::cancelled_and_notified_future;
using trident::testing::cancelled_future;
using trident::testing::exception_future;
using trident::testing::pending_future;
using trident::testing::running_future;
using trident::testing::successful_future;

int mul(int x, int y) { return x * y; }
int divide(int x, int y) {
  if (y == 0) throw std::domain_error("division by zero");
  return x / y;
}
int wait_for(Event& e) { return e.wait(30s) ? 1 : 0; }
int wait_and_raise(Event& e) {
  e.wait(30s);
  throw std::runtime_error("this is an exception");
}

// Python's worker_count for the thread-pool tests.
constexpr int kWorkers = 5;

}  // namespace

// test_20369: duplicates in the input count once.
TEST(Wait, DuplicatesCountOnce) {
  futures::ThreadPoolExecutor ex(kWorkers);
  auto f = ex.submit(mul, 1, 2);
  auto r = futures::wait(Fs{f, f}, std::nullopt, futures::ALL_COMPLETED);
  EXPECT_EQ(r.done, Fs{f});
  EXPECT_TRUE(r.not_done.empty());
}

// test_first_completed: returns when one finishes; a cancelled-but-not-noticed future is not done.
TEST(Wait, FirstCompleted) {
  futures::ThreadPoolExecutor ex(kWorkers);
  Event event;
  auto cancelled = cancelled_future();
  auto f1 = ex.submit(mul, 21, 2);
  auto f2 = ex.submit(wait_for, std::ref(event));
  auto r = futures::wait(Fs{cancelled, f1, f2}, std::nullopt, futures::FIRST_COMPLETED);
  EXPECT_EQ(r.done, Fs{f1});
  EXPECT_EQ(r.not_done, (Fs{cancelled, f2}));
  event.set();
  EXPECT_EQ(f2.result(10s), 1);
}

// test_first_completed_some_already_completed: already-done futures return at once.
TEST(Wait, FirstCompletedSomeAlreadyCompleted) {
  futures::ThreadPoolExecutor ex(kWorkers);
  Event event;
  auto cn = cancelled_and_notified_future();
  auto ok = successful_future();
  auto f1 = ex.submit(wait_for, std::ref(event));
  auto r = futures::wait(Fs{cn, ok, f1}, std::nullopt, futures::FIRST_COMPLETED);
  EXPECT_EQ(r.done, (Fs{cn, ok}));
  EXPECT_EQ(r.not_done, Fs{f1});
  event.set();
  f1.result(10s);
}

// test_first_exception: returns when one raises; what finished before is in `done` too.
TEST(Wait, FirstException) {
  futures::ThreadPoolExecutor ex(kWorkers);
  Event event1;
  Event event2;
  auto f1 = ex.submit(mul, 2, 21);
  auto f2 = ex.submit(wait_and_raise, std::ref(event1));
  auto f3 = ex.submit(wait_for, std::ref(event2));
  // f1 finishes before f2 raises.
  trident::threading::Thread t([&] {
    f1.result(10s);
    event1.set();
  });
  t.start();
  auto r = futures::wait(Fs{f1, f2, f3}, std::nullopt, futures::FIRST_EXCEPTION);
  EXPECT_EQ(r.done, (Fs{f1, f2}));
  EXPECT_EQ(r.not_done, Fs{f3});
  t.join();
  event2.set();
  f3.result(10s);
}

// test_first_exception_some_already_complete.
TEST(Wait, FirstExceptionSomeAlreadyComplete) {
  futures::ThreadPoolExecutor ex(kWorkers);
  Event event;
  auto ok = successful_future();
  auto cancelled = cancelled_future();
  auto cn = cancelled_and_notified_future();
  auto f1 = ex.submit(divide, 21, 0);
  auto f2 = ex.submit(wait_for, std::ref(event));
  auto r = futures::wait(Fs{ok, cancelled, cn, f1, f2}, std::nullopt, futures::FIRST_EXCEPTION);
  EXPECT_EQ(r.done, (Fs{ok, cn, f1}));
  EXPECT_EQ(r.not_done, (Fs{cancelled, f2}));
  event.set();
  f2.result(10s);
}

// test_first_exception_one_already_failed.
TEST(Wait, FirstExceptionOneAlreadyFailed) {
  futures::ThreadPoolExecutor ex(kWorkers);
  Event event;
  auto failed = exception_future();
  auto f1 = ex.submit(wait_for, std::ref(event));
  auto r = futures::wait(Fs{failed, f1}, std::nullopt, futures::FIRST_EXCEPTION);
  EXPECT_EQ(r.done, Fs{failed});
  EXPECT_EQ(r.not_done, Fs{f1});
  event.set();
  f1.result(10s);
}

// FIRST_EXCEPTION without any exception waits for all (cancellations count as completions).
TEST(Wait, FirstExceptionWithoutExceptionWaitsForAll) {
  futures::ThreadPoolExecutor ex(kWorkers);
  Future<int> to_cancel;
  auto f1 = ex.submit(mul, 3, 3);
  trident::threading::Thread t([&] {
    f1.result(10s);
    to_cancel.cancel();
    to_cancel.set_running_or_notify_cancel();
  });
  t.start();
  auto r = futures::wait(Fs{f1, to_cancel}, 10s, futures::FIRST_EXCEPTION);
  t.join();
  EXPECT_EQ(r.done, (Fs{f1, to_cancel}));
  EXPECT_TRUE(r.not_done.empty());
}

// test_all_completed.
TEST(Wait, AllCompleted) {
  futures::ThreadPoolExecutor ex(kWorkers);
  auto ok = successful_future();
  auto cn = cancelled_and_notified_future();
  auto failed = exception_future();
  auto f1 = ex.submit(divide, 2, 0);
  auto f2 = ex.submit(mul, 2, 21);
  auto r = futures::wait(Fs{ok, cn, failed, f1, f2}, std::nullopt, futures::ALL_COMPLETED);
  EXPECT_EQ(r.done, (Fs{ok, cn, failed, f1, f2}));
  EXPECT_TRUE(r.not_done.empty());
}

// test_timeout: on timeout, wait() returns what is done (no TimeoutError), after the timeout.
TEST(Wait, TimeoutReturnsWhatIsDone) {
  futures::ThreadPoolExecutor ex(kWorkers);
  Event event;
  auto cn = cancelled_and_notified_future();
  auto failed = exception_future();
  auto ok = successful_future();
  auto f = ex.submit(wait_for, std::ref(event));
  const auto t0 = Clock::now();
  auto r = futures::wait(Fs{cn, failed, ok, f}, 50ms, futures::ALL_COMPLETED);
  const auto waited = Clock::now() - t0;
  EXPECT_EQ(r.done, (Fs{cn, failed, ok}));
  EXPECT_EQ(r.not_done, Fs{f});
  EXPECT_GE(waited, 50ms);
  EXPECT_LT(waited, 50ms + kTimeoutSlack);
  event.set();
  f.result(10s);
}

// test_pending_calls_race: many futures completing while wait() installs itself.
TEST(Wait, PendingCallsRace) {
  futures::ThreadPoolExecutor ex(kWorkers);
  Event event;
  Fs fs;
  for (int i = 0; i < 100; ++i) fs.push_back(ex.submit(wait_for, std::ref(event)));
  event.set();
  auto r = futures::wait(fs, 30s, futures::ALL_COMPLETED);
  EXPECT_EQ(r.done.size(), 100u);
  EXPECT_TRUE(r.not_done.empty());
}

// Python: every future already done (or none at all) returns at once, whatever return_when says.
TEST(Wait, EmptyOrAllDoneReturnsAtOnce) {
  for (auto when : {futures::FIRST_COMPLETED, futures::FIRST_EXCEPTION, futures::ALL_COMPLETED}) {
    auto r = futures::wait(Fs{}, std::nullopt, when);
    EXPECT_TRUE(r.done.empty());
    EXPECT_TRUE(r.not_done.empty());
    auto ok = successful_future();
    auto r2 = futures::wait(Fs{ok}, std::nullopt, when);
    EXPECT_EQ(r2.done, Fs{ok});
  }
}

// A future completed by another thread while wait() sleeps wakes it.
TEST(Wait, WokenByLaterCompletion) {
  Future<int> a;
  Future<int> b;
  Event started;
  trident::threading::Thread t([&] {
    started.wait(10s);
    b.set_result(1);
  });
  t.start();
  started.set();
  auto r = futures::wait(Fs{a, b}, 10s, futures::FIRST_COMPLETED);
  t.join();
  EXPECT_EQ(r.done, Fs{b});
  EXPECT_EQ(r.not_done, Fs{a});
}

// C++: a braced list works where Python passes a set or list literal.
TEST(Wait, BracedListOverloads) {
  auto ok = successful_future();
  Future<int> pending;
  auto r = futures::wait({ok, pending}, 0s);
  EXPECT_EQ(r.done, Fs{ok});
  EXPECT_EQ(r.not_done, Fs{pending});
  int n = 0;
  for (auto& f : futures::as_completed({ok, ok})) n += f == ok;
  EXPECT_EQ(n, 1);
}

// trident: a negative timeout is a ValueError.
TEST(Wait, NegativeTimeoutIsValueError) {
  EXPECT_THROW(futures::wait(Fs{successful_future()}, -1s), trident::ValueError);
}

// Unlike Python, shutdown(cancel_futures=true) notifies what it cancels, so wait() returns.
TEST(Wait, FuturesCancelledByShutdownAreComplete) {
  futures::ThreadPoolExecutor ex(1);
  Event release;
  Event started;
  auto running = ex.submit([&] {
    started.set();
    return wait_for(release);
  });
  ASSERT_TRUE(started.wait(10s));
  auto queued = ex.submit(mul, 1, 1);
  ex.shutdown(false, true);
  EXPECT_TRUE(queued.cancelled());
  auto r = futures::wait(Fs{queued}, 10s);
  EXPECT_EQ(r.done, Fs{queued});
  release.set();
  EXPECT_EQ(running.result(10s), 1);
}

// test_no_timeout: as_completed yields every future; those already done come first, in order.
TEST(AsCompleted, YieldsAllAlreadyDoneFirst) {
  futures::ThreadPoolExecutor ex(kWorkers);
  auto cn = cancelled_and_notified_future();
  auto failed = exception_future();
  auto ok = successful_future();
  auto f1 = ex.submit(mul, 2, 21);
  auto f2 = ex.submit(mul, 7, 6);
  f1.result(10s);
  f2.result(10s);
  Fs got;
  for (auto& f : futures::as_completed(Fs{cn, failed, ok, f1, f2})) got.push_back(f);
  EXPECT_EQ(got, (Fs{cn, failed, ok, f1, f2}));
}

// test_no_timeout with futures still running when as_completed starts.
TEST(AsCompleted, YieldsFuturesFinishingLater) {
  futures::ThreadPoolExecutor ex(kWorkers);
  Event go;
  auto ok = successful_future();
  auto f1 = ex.submit(wait_for, std::ref(go));
  auto f2 = ex.submit(wait_for, std::ref(go));
  auto range = futures::as_completed(Fs{f1, ok, f2});
  auto it = range.begin();
  EXPECT_EQ(*it, ok);
  ++it;
  go.set();
  Fs rest;
  for (; it != range.end(); ++it) rest.push_back(*it);
  ASSERT_EQ(rest.size(), 2u);
  EXPECT_TRUE((rest == Fs{f1, f2}) || (rest == Fs{f2, f1}));
}

// Futures completing while the caller waits come in completion order.
TEST(AsCompleted, CompletionOrder) {
  Future<int> a;
  Future<int> b;
  Future<int> c;
  auto range = futures::as_completed(Fs{a, b, c}, 10s);
  c.set_result(3);
  a.set_result(1);
  b.set_result(2);
  Fs got;
  for (auto& f : range) got.push_back(f);
  EXPECT_EQ(got, (Fs{c, a, b}));
}

// test_future_times_out (timeout 0 and 0.1 s): the done ones are yielded, then TimeoutError;
// the unfinished one is not yielded.
TEST(AsCompleted, TimesOutBeforeTheLastFuture) {
  futures::ThreadPoolExecutor ex(kWorkers);
  for (auto timeout : {0ms, 100ms}) {
    Event event;
    auto cn = cancelled_and_notified_future();
    auto failed = exception_future();
    auto ok = successful_future();
    auto future = ex.submit(wait_for, std::ref(event));
    Fs completed;
    const auto t0 = Clock::now();
    EXPECT_THROW(
        {
          for (auto& f : futures::as_completed(Fs{cn, failed, ok, future}, timeout)) completed.push_back(f);
        },
        trident::TimeoutError);
    const auto waited = Clock::now() - t0;
    EXPECT_EQ(completed, (Fs{cn, failed, ok}));
    EXPECT_GE(waited, timeout);
    EXPECT_LT(waited, timeout + kTimeoutSlack);
    event.set();
    future.result(10s);
  }
}

// test_duplicate_futures: a future repeated in the input is yielded once.
TEST(AsCompleted, DuplicatesYieldedOnce) {
  futures::ThreadPoolExecutor ex(kWorkers);
  Event go;
  auto f1 = ex.submit(wait_for, std::ref(go));
  go.set();
  int n = 0;
  for (auto& f : futures::as_completed(Fs{f1, f1, f1})) {
    EXPECT_EQ(f, f1);
    ++n;
  }
  EXPECT_EQ(n, 1);
}

// test_correct_timeout_exception_msg: "N (of M) futures unfinished".
TEST(AsCompleted, TimeoutMessageCountsUnfinished) {
  Future<int> pending;
  auto running = running_future();
  try {
    for (auto& f :
         futures::as_completed(Fs{cancelled_and_notified_future(), pending, running, successful_future()}, 0s))
      (void)f;
    FAIL() << "no TimeoutError";
  } catch (const trident::TimeoutError& e) {
    EXPECT_THAT(e.what(), testing::StartsWith("as_completed(): 2 (of 4) futures unfinished"));
  }
}

// test_free_reference_yielded_future: once the iterator moved past a future, as_completed keeps
// no reference to it.
TEST(AsCompleted, KeepsNoReferenceToYieldedFutures) {
  std::vector<Future<std::shared_ptr<int>>> fs(3);
  std::vector<std::weak_ptr<int>> watches;
  for (auto& f : fs) {
    auto value = std::make_shared<int>(1);
    watches.push_back(value);
    f.set_result(value);
  }
  auto range = futures::as_completed(fs);
  fs.clear();
  std::size_t i = 0;
  for (auto it = range.begin(); it != range.end(); ++i) {
    {
      Future<std::shared_ptr<int>> f = *it;
      EXPECT_FALSE(watches[i].expired());
    }
    ++it;
    EXPECT_TRUE(watches[i].expired()) << i;
  }
  EXPECT_EQ(i, 3u);
}

// Python's CANCELLED versus CANCELLED_AND_NOTIFIED: a cancelled future is yielded only once its
// executor noticed the cancellation.
TEST(AsCompleted, CancelledFutureYieldedOnceNoticed) {
  Future<int> f;
  f.cancel();
  try {
    for (auto& g : futures::as_completed(Fs{f}, 0s)) (void)g;
    FAIL() << "no TimeoutError";
  } catch (const trident::TimeoutError& e) {
    EXPECT_THAT(e.what(), testing::StartsWith("as_completed(): 1 (of 1) futures unfinished"));
  }
  auto range = futures::as_completed(Fs{f}, 10s);
  auto it = range.begin();
  EXPECT_FALSE(it == range.end());
  f.set_running_or_notify_cancel();
  EXPECT_EQ(*it, f);
  ++it;
  EXPECT_TRUE(it == range.end());
}

// An empty input is an empty range; comparing with end() never blocks.
TEST(AsCompleted, EmptyAndNonBlockingEnd) {
  auto empty = futures::as_completed(Fs{});
  EXPECT_TRUE(empty.begin() == empty.end());
  Future<int> pending;
  auto range = futures::as_completed(Fs{pending}, 10s);
  EXPECT_FALSE(range.begin() == range.end());
  pending.set_result(1);
  EXPECT_EQ(range.begin()->result(), 1);
  static_assert(std::ranges::input_range<futures::AsCompleted<int>>);
}

// trident: a negative timeout is a ValueError; dropping a range mid-way detaches it cleanly.
TEST(AsCompleted, NegativeTimeoutAndEarlyDrop) {
  EXPECT_THROW(futures::as_completed(Fs{successful_future()}, -1s), trident::ValueError);
  Future<int> a;
  Future<int> b;
  {
    auto range = futures::as_completed(Fs{a, b});
    a.set_result(1);
    EXPECT_EQ(*range.begin(), a);
  }
  b.set_result(2);  // reports to no one
  EXPECT_EQ(b.result(), 2);
}
