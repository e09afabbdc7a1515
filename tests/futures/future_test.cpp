// Future's state machine, results, exceptions, timeouts and done-callbacks: the behaviour CPython
// pins in Lib/test/test_concurrent_futures/test_future.py, plus the C++ specifics (typed results,
// move-only values, exception types kept, identity).
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <chrono>
#include <memory>
#include <regex>
#include <string>
#include <unordered_set>
#include <vector>

#include "futures/futures_test_support.hpp"
#include "support/helpers.hpp"
#include "trident/futures.hpp"
#include "trident/threading.hpp"

using namespace std::chrono_literals;
namespace futures = trident::futures;
using futures::Future;
using trident::testing::kTimeoutSlack;
using Clock = std::chrono::steady_clock;

namespace {

using trident::testing::cancelled_and_notified_future;
using trident::testing::cancelled_future;
using trident::testing::exception_future;
using trident::testing::pending_future;
using trident::testing::running_future;
using trident::testing::successful_future;

struct CustomError : std::runtime_error {
  using std::runtime_error::runtime_error;
  int code = 7;
};

template <class F>
concept HasResult = requires(const F& f) {
  f.result();
};

// Collects what the futures module logs, restoring the previous handler on destruction.
class CapturedLog {
 public:
  CapturedLog()
      : previous_(futures::set_log_handler([this](std::string_view message, std::exception_ptr error) {
          std::lock_guard g(mutex_);
          text_ += std::string(message) + "|";
          if (error) {
            try {
              std::rethrow_exception(error);
            } catch (const std::exception& e) {
              text_ += e.what();
            } catch (...) {
              text_ += "?";
            }
          }
          text_ += "\n";
        })) {}
  ~CapturedLog() { futures::set_log_handler(previous_); }
  std::string text() {
    std::lock_guard g(mutex_);
    return text_;
  }

 private:
  trident::threading::Lock mutex_;
  std::string text_;
  futures::LogHandler previous_;
};

}  // namespace

// test_done_callback_with_result: a callback added before set_result sees the result.
TEST(FutureCallbacks, CallbackSeesResult) {
  int seen = 0;
  Future<int> f;
  f.add_done_callback([&](const Future<int>& g) { seen = g.result(); });
  EXPECT_EQ(seen, 0);
  f.set_result(5);
  EXPECT_EQ(seen, 5);
}

// test_done_callback_with_exception: the callback sees the exception.
TEST(FutureCallbacks, CallbackSeesException) {
  std::string seen;
  Future<int> f;
  f.add_done_callback([&](const Future<int>& g) {
    try {
      std::rethrow_exception(g.exception());
    } catch (const std::exception& e) {
      seen = e.what();
    }
  });
  f.set_exception(std::make_exception_ptr(std::runtime_error("test")));
  EXPECT_EQ(seen, "test");
}

// test_done_callback_with_cancel: cancel() runs the callbacks, which see a cancelled future.
TEST(FutureCallbacks, CallbackSeesCancel) {
  bool was_cancelled = false;
  Future<int> f;
  f.add_done_callback([&](const Future<int>& g) { was_cancelled = g.cancelled(); });
  EXPECT_TRUE(f.cancel());
  EXPECT_TRUE(was_cancelled);
}

// test_done_callback_raises: a raising callback is logged, the next one still runs, and
// set_result() does not raise.
TEST(FutureCallbacks, RaisingCallbackIsReportedAndOthersStillRun) {
  CapturedLog log;
  bool raising_called = false;
  bool other_called = false;
  Future<int> f;
  f.add_done_callback([&](const Future<int>&) {
    raising_called = true;
    throw std::runtime_error("doh!");
  });
  f.add_done_callback([&](const Future<int>&) { other_called = true; });
  EXPECT_NO_THROW(f.set_result(5));
  EXPECT_TRUE(raising_called);
  EXPECT_TRUE(other_called);
  EXPECT_THAT(log.text(), testing::HasSubstr("exception calling callback for <Future at 0x"));
  EXPECT_THAT(log.text(), testing::HasSubstr("state=finished returned int>|doh!"));
}

// test_done_callback_already_successful: added after the result, it runs at once.
TEST(FutureCallbacks, AlreadySuccessfulRunsAtOnce) {
  int seen = 0;
  Future<int> f;
  f.set_result(5);
  f.add_done_callback([&](const Future<int>& g) { seen = g.result(); });
  EXPECT_EQ(seen, 5);
}

// test_done_callback_already_failed.
TEST(FutureCallbacks, AlreadyFailedRunsAtOnce) {
  std::exception_ptr seen;
  Future<int> f;
  f.set_exception(std::make_exception_ptr(CustomError("test")));
  f.add_done_callback([&](const Future<int>& g) { seen = g.exception(); });
  ASSERT_TRUE(seen);
  EXPECT_THROW(std::rethrow_exception(seen), CustomError);
}

// test_done_callback_already_cancelled.
TEST(FutureCallbacks, AlreadyCancelledRunsAtOnce) {
  bool was_cancelled = false;
  Future<int> f;
  EXPECT_TRUE(f.cancel());
  f.add_done_callback([&](const Future<int>& g) { was_cancelled = g.cancelled(); });
  EXPECT_TRUE(was_cancelled);
}

// test_done_callback_raises_already_succeeded: the immediate call's exception is logged too, and
// add_done_callback() does not raise.
TEST(FutureCallbacks, RaisingCallbackOnDoneFutureIsReported) {
  CapturedLog log;
  Future<int> f;
  f.set_result(5);
  EXPECT_NO_THROW(f.add_done_callback([](const Future<int>&) { throw std::runtime_error("doh!"); }));
  EXPECT_THAT(log.text(), testing::HasSubstr("exception calling callback for"));
  EXPECT_THAT(log.text(), testing::HasSubstr("doh!"));
}

// Python runs callbacks in the order they were added.
TEST(FutureCallbacks, RunInOrderOfAddition) {
  std::vector<int> order;
  Future<void> f;
  for (int i = 0; i < 5; ++i) f.add_done_callback([&order, i](const Future<void>&) { order.push_back(i); });
  f.set_result();
  EXPECT_EQ(order, (std::vector<int>{0, 1, 2, 3, 4}));
}

// Python's _invoke_callbacks runs in the thread that completes the future.
TEST(FutureCallbacks, RunInTheCompletingThread) {
  Future<int> f;
  unsigned long callback_thread = 0;
  f.add_done_callback([&](const Future<int>&) { callback_thread = trident::threading::get_ident(); });
  unsigned long setter = 0;
  trident::threading::Thread t([&] {
    setter = trident::threading::get_ident();
    f.set_result(1);
  });
  t.start();
  t.join();
  EXPECT_EQ(callback_thread, setter);
  EXPECT_NE(callback_thread, trident::threading::get_ident());
}

// The default handler writes Python's log line and the error to stderr.
TEST(FutureCallbacks, DefaultLogHandlerWritesToStderr) {
  Future<int> f;
  testing::internal::CaptureStderr();
  f.add_done_callback([](const Future<int>&) { throw trident::ValueError("bad value"); });
  f.set_result(1);
  const std::string err = testing::internal::GetCapturedStderr();
  EXPECT_THAT(err, testing::HasSubstr("exception calling callback for <Future at 0x"));
  EXPECT_THAT(err, testing::HasSubstr("ValueError: bad value"));
}

// test_repr.
TEST(FutureState, ReprNamesTheState) {
  const std::regex address("<Future at 0x[0-9a-f]+ state=");
  EXPECT_TRUE(std::regex_search(pending_future().repr(), address));
  EXPECT_THAT(pending_future().repr(), testing::EndsWith("state=pending>"));
  EXPECT_THAT(running_future().repr(), testing::EndsWith("state=running>"));
  EXPECT_THAT(cancelled_future().repr(), testing::EndsWith("state=cancelled>"));
  EXPECT_THAT(cancelled_and_notified_future().repr(), testing::EndsWith("state=cancelled>"));
  EXPECT_THAT(exception_future().repr(), testing::EndsWith("state=finished raised OSError>"));
  EXPECT_THAT(successful_future().repr(), testing::EndsWith("state=finished returned int>"));
}

// test_cancel: pending and cancelled futures cancel (true), running and finished ones do not.
TEST(FutureState, CancelSucceedsOnlyBeforeRunning) {
  auto f1 = pending_future();
  auto f2 = running_future();
  auto f3 = cancelled_future();
  auto f4 = cancelled_and_notified_future();
  auto f5 = exception_future();
  auto f6 = successful_future();
  EXPECT_TRUE(f1.cancel());
  EXPECT_TRUE(f1.cancelled());
  EXPECT_FALSE(f2.cancel());
  EXPECT_TRUE(f2.running());
  EXPECT_TRUE(f3.cancel());
  EXPECT_TRUE(f3.cancelled());
  EXPECT_TRUE(f4.cancel());
  EXPECT_TRUE(f4.cancelled());
  EXPECT_FALSE(f5.cancel());
  EXPECT_TRUE(f5.done());
  EXPECT_FALSE(f6.cancel());
  EXPECT_EQ(f6.result(), 42);
}

// test_cancelled, test_done, test_running.
TEST(FutureState, QueriesPerState) {
  EXPECT_FALSE(pending_future().cancelled());
  EXPECT_FALSE(running_future().cancelled());
  EXPECT_TRUE(cancelled_future().cancelled());
  EXPECT_TRUE(cancelled_and_notified_future().cancelled());
  EXPECT_FALSE(exception_future().cancelled());
  EXPECT_FALSE(successful_future().cancelled());

  EXPECT_FALSE(pending_future().done());
  EXPECT_FALSE(running_future().done());
  EXPECT_TRUE(cancelled_future().done());
  EXPECT_TRUE(cancelled_and_notified_future().done());
  EXPECT_TRUE(exception_future().done());
  EXPECT_TRUE(successful_future().done());

  EXPECT_FALSE(pending_future().running());
  EXPECT_TRUE(running_future().running());
  EXPECT_FALSE(cancelled_future().running());
  EXPECT_FALSE(cancelled_and_notified_future().running());
  EXPECT_FALSE(exception_future().running());
  EXPECT_FALSE(successful_future().running());
}

// test_result_with_timeout: timeout=0 raises TimeoutError for unfinished futures, CancelledError
// for cancelled ones, the exception for failed ones, and returns the result otherwise.
TEST(FutureResult, ZeroTimeoutPerState) {
  EXPECT_THROW(pending_future().result(0s), trident::TimeoutError);
  EXPECT_THROW(running_future().result(0s), trident::TimeoutError);
  EXPECT_THROW(cancelled_future().result(0s), futures::CancelledError);
  EXPECT_THROW(cancelled_and_notified_future().result(0s), futures::CancelledError);
  EXPECT_THROW(exception_future().result(0s), trident::OSError);
  EXPECT_EQ(successful_future().result(0s), 42);
}

// test_exception_with_timeout: the same for exception(), which returns the exception (or null).
TEST(FutureException, ZeroTimeoutPerState) {
  EXPECT_THROW(pending_future().exception(0s), trident::TimeoutError);
  EXPECT_THROW(running_future().exception(0s), trident::TimeoutError);
  EXPECT_THROW(cancelled_future().exception(0s), futures::CancelledError);
  EXPECT_THROW(cancelled_and_notified_future().exception(0s), futures::CancelledError);
  auto e = exception_future().exception(0s);
  ASSERT_TRUE(e);
  EXPECT_THROW(std::rethrow_exception(e), trident::OSError);
  EXPECT_EQ(successful_future().exception(0s), nullptr);
}

// TimeoutError on a pending future: it waits at least the timeout, and not much longer.
TEST(FutureResult, TimeoutWaitsAboutTheTimeout) {
  Future<int> f;
  const auto t0 = Clock::now();
  try {
    f.result(100ms);
    FAIL() << "no TimeoutError";
  } catch (const trident::TimeoutError& e) {
    EXPECT_THAT(e.what(), testing::HasSubstr("Future::result(): the future did not finish within 0.1 s"));
  }
  const auto waited = Clock::now() - t0;
  EXPECT_GE(waited, 100ms);
  EXPECT_LT(waited, 100ms + kTimeoutSlack);
}

// trident: a negative timeout is a ValueError (Python treats it as 0).
TEST(FutureResult, NegativeTimeoutIsValueError) {
  EXPECT_THROW(successful_future().result(-1s), trident::ValueError);
  EXPECT_THROW(pending_future().exception(-1s), trident::ValueError);
}

// test_result_with_success: a result set from another thread wakes the waiter.
TEST(FutureResult, ResultSetByAnotherThreadWakesTheWaiter) {
  Future<int> f1;
  trident::threading::Thread t([f1] { f1.set_result(42); });
  t.start();
  EXPECT_EQ(f1.result(10s), 42);
  t.join();
}

// A waiter that is certainly parked (it timed out once already) is woken by the result.
TEST(FutureResult, ParkedWaiterIsWoken) {
  Future<int> f;
  trident::threading::Event timed_out_once;
  int got = 0;
  trident::threading::Thread waiter([&] {
    try {
      f.result(10ms);
    } catch (const trident::TimeoutError&) {
      timed_out_once.set();
    }
    got = f.result(10s);
  });
  waiter.start();
  ASSERT_TRUE(timed_out_once.wait(10s));
  f.set_result(9);
  waiter.join();
  EXPECT_EQ(got, 9);
}

// test_result_with_cancel: cancelling from another thread makes result() raise CancelledError.
TEST(FutureResult, CancelByAnotherThreadRaisesCancelledError) {
  Future<int> f1;
  trident::threading::Thread t([f1] { f1.cancel(); });
  t.start();
  EXPECT_THROW(f1.result(10s), futures::CancelledError);
  t.join();
}

// test_exception_with_success: exception() waits for the exception set by another thread.
TEST(FutureException, SetByAnotherThread) {
  Future<int> f1;
  trident::threading::Thread t([f1] { f1.set_exception(std::make_exception_ptr(trident::OSError(1, "x"))); });
  t.start();
  auto e = f1.exception(10s);
  t.join();
  ASSERT_TRUE(e);
  EXPECT_THROW(std::rethrow_exception(e), trident::OSError);
}

// Many threads waiting on one future are all woken (Python's notify_all).
TEST(FutureResult, EveryWaiterIsWoken) {
  Future<std::string> f;
  constexpr int kWaiters = 6;
  trident::threading::Barrier ready(kWaiters + 1);
  std::atomic<int> ok{0};
  std::vector<std::unique_ptr<trident::threading::Thread>> ts;
  for (int i = 0; i < kWaiters; ++i) {
    ts.push_back(std::make_unique<trident::threading::Thread>([&] {
      ready.wait();
      if (f.result(10s) == "done") ++ok;
    }));
    ts.back()->start();
  }
  ready.wait();
  f.set_result("done");
  for (auto& t : ts) t->join();
  EXPECT_EQ(ok.load(), kWaiters);
}

// test_multiple_set_result: a second set_result raises InvalidStateError naming the state and
// the future, and the first result stays.
TEST(FutureSet, SetResultTwiceIsInvalidStateError) {
  Future<int> f;
  f.set_result(1);
  try {
    f.set_result(2);
    FAIL() << "no InvalidStateError";
  } catch (const futures::InvalidStateError& e) {
    EXPECT_TRUE(std::regex_search(
        e.what(),
        std::regex("^Future::set_result\\(\\): FINISHED: <Future at 0x[0-9a-f]+ state=finished returned int>$")))
        << e.what();
  }
  EXPECT_TRUE(f.done());
  EXPECT_EQ(f.result(), 1);
}

// test_multiple_set_exception: likewise for set_exception, and the first exception stays.
TEST(FutureSet, SetExceptionTwiceIsInvalidStateError) {
  Future<int> f;
  auto first = std::make_exception_ptr(trident::ValueError("first"));
  f.set_exception(first);
  try {
    f.set_exception(std::make_exception_ptr(std::runtime_error("second")));
    FAIL() << "no InvalidStateError";
  } catch (const futures::InvalidStateError& e) {
    EXPECT_THAT(e.what(), testing::MatchesRegex(
                              "Future::set_exception\\(\\): FINISHED: <Future at 0x[0-9a-f]+ state=finished raised "
                              "ValueError>"));
  }
  EXPECT_EQ(f.exception(), first);
}

// Python: set_result on a cancelled future raises InvalidStateError ("CANCELLED: ...").
TEST(FutureSet, SetResultOnCancelledIsInvalidStateError) {
  Future<int> f;
  f.cancel();
  try {
    f.set_result(1);
    FAIL() << "no InvalidStateError";
  } catch (const futures::InvalidStateError& e) {
    EXPECT_THAT(e.what(), testing::HasSubstr("Future::set_result(): CANCELLED: <Future at"));
  }
  EXPECT_THROW(f.result(0s), futures::CancelledError);
}

// trident: set_exception(nullptr) would leave a finished future without an outcome.
TEST(FutureSet, NullExceptionIsValueError) {
  Future<int> f;
  EXPECT_THROW(f.set_exception(nullptr), trident::ValueError);
  EXPECT_FALSE(f.done());
}

// set_running_or_notify_cancel: true for a pending future (now running), false for a cancelled
// one, RuntimeError "Future in unexpected state" for running or finished ones.
TEST(FutureSet, SetRunningOrNotifyCancel) {
  Future<int> pending;
  EXPECT_TRUE(pending.set_running_or_notify_cancel());
  EXPECT_TRUE(pending.running());
  EXPECT_FALSE(pending.cancel());
  try {
    pending.set_running_or_notify_cancel();
    FAIL() << "no RuntimeError";
  } catch (const trident::RuntimeError& e) {
    EXPECT_THAT(e.what(), testing::HasSubstr(
                              "Future::set_running_or_notify_cancel(): Future in unexpected state RUNNING: <Future"));
  }
  pending.set_result(3);  // a running future may be finished by its executor
  EXPECT_EQ(pending.result(), 3);
  EXPECT_THROW(pending.set_running_or_notify_cancel(), trident::RuntimeError);

  Future<int> cancelled;
  cancelled.cancel();
  EXPECT_FALSE(cancelled.set_running_or_notify_cancel());
  EXPECT_TRUE(cancelled.cancelled());
  // Noticed once: a second call is an unexpected state too.
  EXPECT_THROW(cancelled.set_running_or_notify_cancel(), trident::RuntimeError);
}

// A task's exception keeps its C++ type and data through set_exception/result.
TEST(FutureException, OriginalTypeIsRethrown) {
  Future<int> f;
  CustomError err("custom");
  err.code = 99;
  f.set_exception(std::make_exception_ptr(err));
  try {
    f.result();
    FAIL() << "no exception";
  } catch (const CustomError& e) {
    EXPECT_STREQ(e.what(), "custom");
    EXPECT_EQ(e.code, 99);
  }
}

// Future<void>: result() returns nothing, set_result() takes nothing.
TEST(FutureVoid, ResultAndExceptions) {
  Future<void> f;
  EXPECT_THROW(f.result(0s), trident::TimeoutError);
  f.set_result();
  EXPECT_NO_THROW(f.result());
  EXPECT_EQ(f.exception(), nullptr);
  EXPECT_THAT(f.repr(), testing::EndsWith("state=finished returned void>"));
  EXPECT_THROW(f.set_result(), futures::InvalidStateError);
}

// trident: a move-only value is taken once with take_result(); later reads are InvalidStateError.
TEST(FutureMoveOnly, TakeResultOnce) {
  Future<std::unique_ptr<int>> f;
  f.set_result(std::make_unique<int>(5));
  std::unique_ptr<int> v = f.take_result();
  ASSERT_TRUE(v);
  EXPECT_EQ(*v, 5);
  try {
    f.take_result();
    FAIL() << "no InvalidStateError";
  } catch (const futures::InvalidStateError& e) {
    EXPECT_THAT(e.what(), testing::HasSubstr("Future::take_result(): the result was already moved out"));
  }
  static_assert(!HasResult<Future<std::unique_ptr<int>>>, "result() needs a copyable T");
  static_assert(HasResult<Future<int>>);
}

// result() copies, so it can be called again (and from several handles); take_result() then
// empties it.
TEST(FutureResult, ResultCopiesAndCanRepeat) {
  Future<std::vector<int>> f;
  f.set_result({1, 2, 3});
  EXPECT_EQ(f.result(), (std::vector<int>{1, 2, 3}));
  EXPECT_EQ(f.result(), (std::vector<int>{1, 2, 3}));
  EXPECT_EQ(f.take_result(), (std::vector<int>{1, 2, 3}));
  EXPECT_THROW(f.result(), futures::InvalidStateError);
}

// A failed future's take_result() rethrows the exception (again and again, like result()).
TEST(FutureMoveOnly, TakeResultRethrows) {
  Future<std::unique_ptr<int>> f;
  f.set_exception(std::make_exception_ptr(CustomError("x")));
  EXPECT_THROW(f.take_result(), CustomError);
  EXPECT_THROW(f.take_result(), CustomError);
}

// Copies are the same future (Python references): identity, hashing, shared state.
TEST(FutureHandle, CopiesShareTheFuture) {
  Future<int> a;
  Future<int> b = a;
  Future<int> c;
  EXPECT_TRUE(a == b);
  EXPECT_FALSE(a == c);
  std::unordered_set<Future<int>> set{a, b, c};
  EXPECT_EQ(set.size(), 2u);
  b.set_result(3);
  EXPECT_TRUE(a.done());
  EXPECT_EQ(a.result(), 3);
  Future<int> moved = std::move(b);
  EXPECT_TRUE(moved == a);
  b = c;  // a moved-from handle can be assigned
  EXPECT_TRUE(b == c);
}

// Python keeps a future alive while callbacks reference it; here a callback's handle keeps the
// state alive after every other handle is gone.
TEST(FutureHandle, CallbackHandleOutlivesOthers) {
  Future<int> kept;
  {
    Future<int> f;
    f.add_done_callback([&kept](const Future<int>& g) { kept = g; });
    f.set_result(8);
  }
  EXPECT_EQ(kept.result(), 8);
}

// A future dropped while pending frees its callbacks without running them.
TEST(FutureHandle, DroppedPendingFutureDropsCallbacks) {
  auto token = std::make_shared<int>(1);
  std::weak_ptr<int> watch = token;
  bool ran = false;
  {
    Future<int> f;
    f.add_done_callback([token, &ran](const Future<int>&) { ran = true; });
    token.reset();
    EXPECT_FALSE(watch.expired());
  }
  EXPECT_TRUE(watch.expired());
  EXPECT_FALSE(ran);
}

// Racing cancel() against set_running_or_notify_cancel(): exactly one wins, never both.
TEST(FutureState, CancelRacesWithStart) {
  for (int round = 0; round < 200; ++round) {
    Future<int> f;
    std::atomic<bool> started{false};
    trident::threading::Thread t([&] { started = f.set_running_or_notify_cancel(); });
    t.start();
    const bool cancelled = f.cancel();
    t.join();
    EXPECT_NE(cancelled, started.load()) << "round " << round;
  }
}

// Python has no moved-from objects: a C++ user who moves a future into a container and keeps
// using the old name must get a clear error, not a crash (a null dereference before).
TEST(FutureHandle, MovedFromHandleThrowsRuntimeError) {
  Future<int> f;
  Future<int> g = std::move(f);
  auto expect_empty = [](auto&& call, const char* api) {
    try {
      call();
      ADD_FAILURE() << api << " did not throw";
    } catch (const trident::RuntimeError& e) {
      EXPECT_EQ(std::string(e.what()), std::string(api) + ": the future handle is empty (it was moved from)");
    }
  };
  expect_empty([&] { (void)f.result(); }, "Future::result()");
  expect_empty([&] { (void)f.take_result(); }, "Future::take_result()");
  expect_empty([&] { (void)f.exception(); }, "Future::exception()");
  expect_empty([&] { (void)f.done(); }, "Future::done()");
  expect_empty([&] { (void)f.cancelled(); }, "Future::cancelled()");
  expect_empty([&] { (void)f.running(); }, "Future::running()");
  expect_empty([&] { (void)f.cancel(); }, "Future::cancel()");
  expect_empty([&] { f.add_done_callback([](const Future<int>&) {}); }, "Future::add_done_callback()");
  expect_empty([&] { (void)f.set_running_or_notify_cancel(); }, "Future::set_running_or_notify_cancel()");
  expect_empty([&] { f.set_result(1); }, "Future::set_result()");
  expect_empty([&] { f.set_exception(std::make_exception_ptr(trident::ValueError("x"))); }, "Future::set_exception()");
  expect_empty([&] { (void)f.repr(); }, "Future::repr()");
  std::vector<Future<int>> fs{g, f};
  expect_empty([&] { (void)futures::wait(fs); }, "futures::wait()");
  expect_empty([&] { (void)futures::as_completed(fs); }, "as_completed()");
  // The other handle is untouched, and the empty one can be assigned again.
  g.set_result(7);
  f = g;
  EXPECT_EQ(f.result(), 7);
}
