// The spellings a Python programmer writes with concurrent.futures, each compiled and run:
// wait(fs, return_when=...), wait/as_completed over a dict keyed by futures (the canonical
// future_to_url example of Python's documentation), ex.map(fn, [1, 2, 3]) and list(ex.map(...)).
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <chrono>
#include <deque>
#include <iterator>
#include <list>
#include <map>
#include <memory>
#include <ranges>
#include <set>
#include <stdexcept>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "futures/futures_test_support.hpp"
#include "support/helpers.hpp"
#include "trident/errors.hpp"
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
using trident::testing::exception_future;
using trident::testing::pending_future;
using trident::testing::successful_future;

int sq(int x) { return x * x; }

// The futures of `r` as a set, to compare wait()'s vectors regardless of order.
std::set<Future<int>> as_set(const Fs& r) { return {r.begin(), r.end()}; }

}  // namespace

// The results are common ranges, so iterator-pair constructors and std::ranges algorithms that
// need one accept them.
static_assert(std::ranges::common_range<futures::MapResults<int>>);
static_assert(std::ranges::input_range<futures::MapResults<int>>);
static_assert(std::ranges::common_range<futures::AsCompleted<int>>);
static_assert(std::ranges::input_range<futures::AsCompleted<int>>);
static_assert(std::input_iterator<futures::MapResults<int>::iterator>);
static_assert(std::input_iterator<futures::AsCompleted<int>::iterator>);
// A future keys a std::map (operator<) and a std::unordered_map (std::hash).
static_assert(std::totally_ordered<Future<int>>);
static_assert(std::is_invocable_r_v<std::size_t, std::hash<Future<int>>, const Future<int>&>);

// ---- wait(fs, return_when) ----

// Python: wait(fs, return_when=FIRST_COMPLETED) with no timeout returns once one is done.
TEST(Spellings, WaitWithReturnWhenOnly) {
  auto pending = pending_future();
  auto ok = successful_future();
  auto r = futures::wait(Fs{pending, ok}, futures::FIRST_COMPLETED);
  EXPECT_EQ(r.done, Fs{ok});
  EXPECT_EQ(r.not_done, Fs{pending});

  auto failed = exception_future();
  auto r2 = futures::wait(Fs{pending, failed, ok}, futures::FIRST_EXCEPTION);
  EXPECT_EQ(as_set(r2.done), (std::set{failed, ok}));
  EXPECT_EQ(r2.not_done, Fs{pending});
}

// The braced-list form takes return_when alone too: wait({f1, f2}, FIRST_COMPLETED).
TEST(Spellings, WaitBracedListWithReturnWhenOnly) {
  auto pending = pending_future();
  auto ok = successful_future();
  auto r = futures::wait({pending, ok}, futures::FIRST_COMPLETED);
  EXPECT_EQ(r.done, Fs{ok});
  EXPECT_EQ(r.not_done, Fs{pending});
}

// Python's keywords, as an options struct: wait(fs, timeout=..., return_when=...).
TEST(Spellings, WaitWithOptions) {
  auto pending = pending_future();
  auto ok = successful_future();
  auto failed = exception_future();

  auto r = futures::wait(Fs{pending, failed}, {.return_when = futures::FIRST_EXCEPTION});
  EXPECT_EQ(r.done, Fs{failed});
  EXPECT_EQ(r.not_done, Fs{pending});

  auto r2 = futures::wait(Fs{pending, ok}, {.timeout = 10s, .return_when = futures::FIRST_COMPLETED});
  EXPECT_EQ(r2.done, Fs{ok});

  // ALL_COMPLETED stays the default: with a pending future the timeout decides.
  const auto start = Clock::now();
  auto r3 = futures::wait(Fs{pending, ok}, {.timeout = 50ms});
  const auto elapsed = Clock::now() - start;
  EXPECT_GE(elapsed, 50ms);
  EXPECT_LT(elapsed, 50ms + kTimeoutSlack);
  EXPECT_EQ(r3.done, Fs{ok});
  EXPECT_EQ(r3.not_done, Fs{pending});

  auto r4 = futures::wait({pending, ok}, {.timeout = 0s, .return_when = futures::ALL_COMPLETED});
  EXPECT_EQ(r4.not_done, Fs{pending});

  EXPECT_THROW(futures::wait(Fs{ok}, {.timeout = -1s}), trident::ValueError);
}

// The positional form Python also allows keeps working: wait(fs, timeout, return_when).
TEST(Spellings, WaitPositionalFormsStillWork) {
  auto pending = pending_future();
  auto ok = successful_future();
  EXPECT_EQ(futures::wait(Fs{ok}).done, Fs{ok});
  EXPECT_EQ(futures::wait(Fs{pending, ok}, 0s).not_done, Fs{pending});
  EXPECT_EQ(futures::wait(Fs{pending, ok}, 10s, futures::FIRST_COMPLETED).done, Fs{ok});
  EXPECT_EQ(futures::wait(Fs{pending, ok}, std::nullopt, futures::FIRST_COMPLETED).done, Fs{ok});
}

// ---- any range of futures, and a map's keys ----

// Python's wait() takes any iterable of futures; duplicates count once and input order is kept.
TEST(Spellings, WaitAcceptsAnyRangeOfFutures) {
  auto ok = successful_future();
  auto cn = cancelled_and_notified_future();
  auto pending = pending_future();

  const std::list<Future<int>> list{ok, pending, cn, ok};
  auto r = futures::wait(list, 0s);
  EXPECT_EQ(r.done, (Fs{ok, cn}));
  EXPECT_EQ(r.not_done, Fs{pending});

  const std::deque<Future<int>> deque{pending, ok};
  EXPECT_EQ(futures::wait(deque, futures::FIRST_COMPLETED).done, Fs{ok});

  const std::set<Future<int>> set{ok, cn};
  EXPECT_EQ(as_set(futures::wait(set).done), set);

  const std::unordered_set<Future<int>> uset{ok, cn, pending};
  EXPECT_EQ(futures::wait(uset, 0s).not_done, Fs{pending});

  const std::array<Future<int>, 2> array{ok, cn};
  EXPECT_EQ(as_set(futures::wait(array).done), (std::set{ok, cn}));

  // A lazy view (not sized, not contiguous).
  auto only_done = list | std::views::filter([](const Future<int>& f) { return f.done(); });
  EXPECT_EQ(futures::wait(only_done).done, (Fs{ok, cn}));
}

// Python: wait(future_to_url) waits for the dict's keys.
TEST(Spellings, WaitOnMapKeyedByFutures) {
  auto ok = successful_future();
  auto failed = exception_future();
  auto pending = pending_future();

  const std::map<Future<int>, std::string> by_future{{ok, "ok"}, {failed, "failed"}, {pending, "pending"}};
  auto r = futures::wait(by_future, futures::FIRST_EXCEPTION);
  EXPECT_EQ(as_set(r.done), (std::set{ok, failed}));
  EXPECT_EQ(r.not_done, Fs{pending});
  EXPECT_EQ(by_future.at(r.not_done.front()), "pending");

  std::unordered_map<Future<int>, int> unordered{{ok, 1}, {pending, 2}};
  auto r2 = futures::wait(unordered, {.timeout = 0s});
  EXPECT_EQ(r2.done, Fs{ok});
  EXPECT_EQ(unordered.at(r2.not_done.front()), 2);

  // The explicit spelling of the same thing.
  EXPECT_EQ(futures::wait(std::views::keys(by_future), 0s).not_done, Fs{pending});
}

// as_completed() over a map yields each key once, as it completes; failing futures are yielded
// like the others, and their exception is read without rethrowing.
TEST(Spellings, AsCompletedOverMapWithFailingFutures) {
  futures::ThreadPoolExecutor ex(4);
  Event go;
  auto work = [&go](int i) {
    go.wait(30s);
    if (i % 2 == 1) throw trident::ValueError("odd input " + std::to_string(i));
    return i * 10;
  };
  std::map<Future<int>, int> future_to_input;
  for (int i = 0; i < 6; ++i) future_to_input.emplace(ex.submit(work, i), i);
  go.set();

  std::map<int, std::string> outcome;
  std::size_t yielded = 0;
  for (auto& f : futures::as_completed(future_to_input, 30s)) {
    ++yielded;
    EXPECT_TRUE(f.done());
    const int input = future_to_input.at(f);
    if (f.exception()) {
      outcome[input] = trident::repr(f.exception());
    } else {
      outcome[input] = std::to_string(f.result());
    }
  }
  EXPECT_EQ(yielded, 6U);
  EXPECT_EQ(outcome, (std::map<int, std::string>{{0, "0"},
                                                 {1, "ValueError('odd input 1')"},
                                                 {2, "20"},
                                                 {3, "ValueError('odd input 3')"},
                                                 {4, "40"},
                                                 {5, "ValueError('odd input 5')"}}));
}

// Same with an unordered_map, and in completion order: futures finishing in reverse order of
// submission come out in that order.
TEST(Spellings, AsCompletedOverUnorderedMapFollowsCompletion) {
  auto a = pending_future();
  auto b = pending_future();
  auto c = pending_future();
  std::unordered_map<Future<int>, char> names{{a, 'a'}, {b, 'b'}, {c, 'c'}};
  auto range = futures::as_completed(names, 30s);
  auto it = range.begin();
  c.set_exception(std::make_exception_ptr(std::runtime_error("c failed")));
  EXPECT_EQ(names.at(*it), 'c');
  EXPECT_EQ(trident::repr(it->exception()), "std::runtime_error('c failed')");
  ++it;
  b.set_result(2);
  EXPECT_EQ(names.at(*it), 'b');
  ++it;
  a.set_result(1);
  EXPECT_EQ(names.at(*it), 'a');
  ++it;
  EXPECT_TRUE(it == range.end());
}

// The canonical example of Python's concurrent.futures documentation ("ThreadPoolExecutor
// Example"), ported with a std::map and a load_url that needs no network: the nonexistent host
// fails, every other page has a size, each URL is reported once.
//
//   with ThreadPoolExecutor(max_workers=5) as executor:
//       future_to_url = {executor.submit(load_url, url, 60): url for url in URLS}
//       for future in concurrent.futures.as_completed(future_to_url):
//           url = future_to_url[future]
//           try:
//               data = future.result()
//           except Exception as exc:
//               print('%r generated an exception: %s' % (url, exc))
//           else:
//               print('%r page is %d bytes' % (url, len(data)))
TEST(Spellings, PythonDocsFutureToUrlExample) {
  const std::vector<std::string> urls = {"http://www.foxnews.com/", "http://www.cnn.com/", "http://europe.wsj.com/",
                                         "http://www.bbc.co.uk/", "http://nonexistent-subdomain.python.org/"};
  auto load_url = [](const std::string& url, int timeout) {
    if (timeout <= 0) throw trident::ValueError("load_url(): timeout must be positive");
    if (url.find("nonexistent") != std::string::npos) {
      throw trident::OSError(ENOENT, "urlopen error [Errno -2] Name or service not known");
    }
    return std::string(url.size() * 100, 'x');
  };

  std::vector<std::string> printed;
  {
    futures::ThreadPoolExecutor executor(5);
    std::map<Future<std::string>, std::string> future_to_url;
    for (const auto& url : urls) future_to_url[executor.submit(load_url, url, 60)] = url;
    for (auto& future : futures::as_completed(future_to_url)) {
      const std::string& url = future_to_url.at(future);
      try {
        const std::string data = future.result();
        printed.push_back("'" + url + "' page is " + std::to_string(data.size()) + " bytes");
      } catch (const std::exception& exc) {
        printed.push_back("'" + url + "' generated an exception: " + exc.what());
      }
    }
  }
  std::sort(printed.begin(), printed.end());
  EXPECT_THAT(printed, testing::ElementsAre("'http://europe.wsj.com/' page is 2200 bytes",
                                            testing::StartsWith("'http://nonexistent-subdomain.python.org/' generated "
                                                                "an exception: urlopen error [Errno -2]"),
                                            "'http://www.bbc.co.uk/' page is 2100 bytes",
                                            "'http://www.cnn.com/' page is 1900 bytes",
                                            "'http://www.foxnews.com/' page is 2300 bytes"));
}

// ---- futures as keys ----

// Python's futures hash and compare by identity; a copy of a handle is the same future.
TEST(Spellings, FuturesOrderAndHashByIdentity) {
  auto a = pending_future();
  auto b = pending_future();
  const Future<int> a2 = a;
  EXPECT_TRUE((a <=> a2) == 0);
  EXPECT_TRUE((a < b) != (b < a));
  EXPECT_EQ(std::hash<Future<int>>()(a), std::hash<Future<int>>()(a2));
  std::set<Future<int>> set{a, b, a2};
  EXPECT_EQ(set.size(), 2U);
  std::unordered_set<Future<int>> uset{a, b, a2};
  EXPECT_EQ(uset.size(), 2U);
  // Completing it changes nothing about its identity.
  a.set_result(1);
  EXPECT_TRUE(set.contains(a2));
  EXPECT_TRUE(uset.contains(a2));
}

// ---- map over a braced list; the result as a vector ----

// Python: list(ex.map(sq, [1, 2, 3])).
TEST(Spellings, MapOverBracedList) {
  futures::ThreadPoolExecutor ex(2);
  EXPECT_EQ(ex.map(sq, {1, 2, 3}).to_vector(), (std::vector{1, 4, 9}));
  EXPECT_EQ(ex.map({.timeout = 30s}, sq, {4, 5}).to_vector(), (std::vector{16, 25}));
  auto strings = ex.map([](const std::string& s) { return s + "!"; }, {std::string("a"), std::string("b")});
  EXPECT_EQ(strings.to_vector(), (std::vector<std::string>{"a!", "b!"}));
  // An empty result for an empty input, without deducing anything from an empty list.
  EXPECT_TRUE(ex.map(sq, std::initializer_list<int>{}).to_vector().empty());
}

// std::vector v(r.begin(), r.end()) over a map result, as a C++ programmer spells list(r).
TEST(Spellings, VectorFromMapResultIterators) {
  futures::ThreadPoolExecutor ex(2);
  const std::vector<int> xs{1, 2, 3, 4};
  auto r = ex.map(sq, xs);
  std::vector v(r.begin(), r.end());
  static_assert(std::is_same_v<decltype(v), std::vector<int>>);
  EXPECT_EQ(v, (std::vector{1, 4, 9, 16}));
  EXPECT_TRUE(r.begin() == r.end());

  auto r2 = ex.map(sq, xs);
  std::vector<int> w;
  std::ranges::copy(r2, std::back_inserter(w));
  EXPECT_EQ(w, v);
}

// to_vector() moves the values out, so a move-only result works; a void function gives a
// monostate (Python's None) per call.
TEST(Spellings, MapToVectorMovesValues) {
  futures::ThreadPoolExecutor ex(2);
  auto boxes = ex.map([](int x) { return std::make_unique<int>(x); }, {7, 8}).to_vector();
  ASSERT_EQ(boxes.size(), 2U);
  EXPECT_EQ(*boxes[0], 7);
  EXPECT_EQ(*boxes[1], 8);
  EXPECT_EQ(ex.map([](int) {}, {1, 2, 3}).to_vector().size(), 3U);
}

// Python: list(ex.map(...)) raises the first failing call's exception, and the calls not reached
// are cancelled.
TEST(Spellings, MapToVectorRaisesAndCancelsTheRest) {
  futures::ThreadPoolExecutor ex(1);
  Event release_three;
  std::vector<int> ran;
  trident::threading::Lock lock;
  // One worker runs the calls in order: 1, then 2 fails; 3 (if the worker reaches it before the
  // failure is seen) holds the worker until the test is done looking, so 4 is still queued when
  // to_vector() cancels what is left.
  auto results = ex.map(
      [&](int x) {
        {
          std::scoped_lock g(lock);
          ran.push_back(x);
        }
        if (x == 2) throw std::out_of_range("two");
        if (x == 3) release_three.wait(30s);
        return x;
      },
      {1, 2, 3, 4});
  EXPECT_THROW(results.to_vector(), std::out_of_range);
  release_three.set();
  ex.shutdown(true);
  std::scoped_lock g(lock);
  EXPECT_THAT(ran, testing::IsSupersetOf({1, 2}));
  EXPECT_THAT(ran, testing::Not(testing::Contains(4)));
}

// as_completed() results convert to a vector too (Python's list(as_completed(fs))).
TEST(Spellings, AsCompletedToVector) {
  auto a = successful_future();
  auto b = exception_future();
  auto range = futures::as_completed(Fs{a, b, a});
  std::vector<Future<int>> v(range.begin(), range.end());
  EXPECT_EQ(as_set(v), (std::set{a, b}));
  EXPECT_EQ(v.size(), 2U);

  EXPECT_EQ(futures::as_completed({b}).to_vector(), Fs{b});

  auto pending = pending_future();
  auto timed = futures::as_completed(Fs{a, pending}, 0s);
  EXPECT_THROW(timed.to_vector(), trident::TimeoutError);
}
