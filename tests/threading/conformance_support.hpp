// Helpers for the threading conformance suites (the C++ side of CPython's Lib/test/lock_tests.py).
//
// The bookkeeping here deliberately uses std primitives, never the trident primitives under test, as
// CPython's lock_tests.Bunch uses raw threads and lists: a bug in a trident primitive must show up
// as a failed test, not as a broken harness. Every wait in here is bounded.
#pragma once

#include <gtest/gtest.h>
#include <sys/types.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <fstream>
#include <functional>
#include <map>
#include <mutex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "support/helpers.hpp"
#include "trident/timeout.hpp"

namespace trident::testing {

/// How long a wait that is expected to succeed may take before the test calls it a hang. Waits in
/// the tests use it as their timeout, so a broken primitive fails the test instead of hanging it.
inline constexpr std::chrono::seconds kLongTimeout{10};

/// Timed waits may end this much before their nominal time because of clock granularity.
inline constexpr std::chrono::milliseconds kClockGranularity{1};

/// Time elapsed since construction, on the monotonic clock.
class Stopwatch {
 public:
  Seconds elapsed() const { return std::chrono::steady_clock::now() - start_; }

 private:
  std::chrono::steady_clock::time_point start_ = std::chrono::steady_clock::now();
};

/// Whether a timed wait of nominal length `expected` that took `elapsed` lasted long enough and not
/// absurdly long (CPython's BaseTestCase.assertTimeout, with our own tolerances).
inline ::testing::AssertionResult lasted(Seconds elapsed, Seconds expected) {
  if (elapsed < expected - kClockGranularity) {
    return ::testing::AssertionFailure() << "the wait returned after " << elapsed.count()
                                         << " s, before its timeout of " << expected.count() << " s";
  }
  if (elapsed > expected + kTimeoutSlack) {
    return ::testing::AssertionFailure() << "the wait took " << elapsed.count() << " s for a timeout of "
                                         << expected.count() << " s";
  }
  return ::testing::AssertionSuccess();
}

/// Polls `pred` (every millisecond) until it holds or `timeout` passes; returns its last value.
/// For observing progress of other threads, never for ordering them.
template <class Pred>
bool wait_until(Pred&& pred, Seconds timeout = kLongTimeout) {
  const auto until = std::chrono::steady_clock::now() + std::chrono::duration_cast<std::chrono::nanoseconds>(timeout);
  while (!pred()) {
    if (std::chrono::steady_clock::now() >= until) return pred();
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  return true;
}

/// The kernel's thread id of the caller.
inline pid_t current_tid() { return gettid(); }

/// Whether thread `tid` of this process is asleep in the kernel (state S or D in /proc). A thread
/// blocked in a trident primitive sleeps on a futex once its short adaptive spin is over.
inline bool thread_sleeps_in_kernel(pid_t tid) {
  std::ifstream f("/proc/self/task/" + std::to_string(tid) + "/stat");
  std::string stat;
  if (!std::getline(f, stat)) return false;
  // "tid (comm) S ...": comm may hold spaces and parentheses, so the state follows the last ')'.
  const auto paren = stat.rfind(')');
  if (paren == std::string::npos || paren + 2 >= stat.size()) return false;
  const char state = stat[paren + 2];
  return state == 'S' || state == 'D';
}

/// Tells the test when other threads are really blocked — the bounded, observable form of CPython's
/// `wait_threads_blocked()` (which just sleeps). A thread calls `around(f)` for the blocking call
/// `f`: it is "inside" from just before the call until it returns. `wait_blocked(n)` waits until
/// exactly `n` threads are inside and every one of them sleeps in the kernel.
class BlockingWatch {
 public:
  /// Runs the blocking call `f` with the calling thread marked as inside; returns what `f` returns.
  template <class F>
  decltype(auto) around(F&& f) {
    arrive();
    struct Leave {
      BlockingWatch* w;
      ~Leave() { w->leave(); }
    } leave_on_exit{this};
    return std::forward<F>(f)();
  }

  /// Marks the calling thread as about to block.
  void arrive() {
    std::lock_guard g(mu_);
    ++inside_[current_tid()];
    ++arrivals_;
  }
  /// Marks the calling thread as returned from its blocking call.
  void leave() {
    std::lock_guard g(mu_);
    auto it = inside_.find(current_tid());
    if (it != inside_.end() && --it->second == 0) inside_.erase(it);
  }

  /// Number of threads now inside a blocking call.
  int inside() const {
    std::lock_guard g(mu_);
    return static_cast<int>(inside_.size());
  }
  /// Number of `arrive()` calls so far.
  int arrivals() const {
    std::lock_guard g(mu_);
    return arrivals_;
  }

  /// Waits (bounded by `timeout`) until exactly `n` threads are inside and all of them sleep in the
  /// kernel, seen twice in a row a few milliseconds apart. Returns whether that happened.
  bool wait_blocked(int n, Seconds timeout = kLongTimeout) {
    int stable = 0;
    const bool ok = wait_until(
        [&] {
          stable = all_asleep(n) ? stable + 1 : 0;
          return stable >= 3;
        },
        timeout);
    if (!ok) ADD_FAILURE() << "expected " << n << " threads blocked, " << inside() << " are inside a blocking call";
    return ok;
  }

 private:
  bool all_asleep(int n) const {
    std::lock_guard g(mu_);
    if (static_cast<int>(inside_.size()) != n) return false;
    for (const auto& [tid, depth] : inside_) {
      if (!thread_sleeps_in_kernel(tid)) return false;
    }
    return true;
  }

  mutable std::mutex mu_;
  std::map<pid_t, int> inside_;  // guarded by mu_: thread → nesting of around() calls
  int arrivals_ = 0;             // guarded by mu_
};

/// CPython's lock_tests.Bunch: `n` raw OS threads (not trident Threads, like `start_new_thread`)
/// running `f`. The constructor returns once all have started. With `wait_before_exit`, each
/// thread stays alive after `f` until `do_finish()` (or the destructor), so what it holds stays
/// held by a live thread. An exception escaping `f` fails the test. The destructor waits (bounded)
/// for every thread and joins it; a thread that never finishes aborts the program with a message,
/// since it may still touch objects the test is about to destroy.
class Bunch {
 public:
  Bunch(int n, std::function<void()> f, bool wait_before_exit = false)
      : n_(n), f_(std::move(f)), can_exit_(!wait_before_exit) {
    threads_.reserve(static_cast<std::size_t>(n));
    for (int i = 0; i < n; ++i) threads_.emplace_back([this] { task(); });
    wait_for([&] { return started_ >= n_; }, "start");
  }
  Bunch(const Bunch&) = delete;
  Bunch& operator=(const Bunch&) = delete;

  ~Bunch() {
    do_finish();
    if (!wait_for_finished()) {
      std::fprintf(stderr, "Bunch: %d of %d threads still running after %lld s; aborting\n", n_ - finished(), n_,
                   static_cast<long long>(kLongTimeout.count()));
      std::fflush(stderr);
      std::abort();
    }
    for (auto& t : threads_) t.join();
    std::lock_guard g(mu_);
    for (const auto& e : errors_) ADD_FAILURE() << "a Bunch thread raised: " << e;
  }

  /// Waits (bounded) until every thread has returned from `f`; true if they all did.
  bool wait_for_finished(Seconds timeout = kLongTimeout) {
    return wait_for([&] { return finished_ >= n_; }, "finish", timeout);
  }
  /// Lets threads created with `wait_before_exit` exit.
  void do_finish() {
    std::lock_guard g(mu_);
    can_exit_ = true;
    cv_.notify_all();
  }
  /// How many threads have returned from `f`.
  int finished() const {
    std::lock_guard g(mu_);
    return finished_;
  }

 private:
  void task() {
    {
      std::lock_guard g(mu_);
      ++started_;
      cv_.notify_all();
    }
    std::string error;
    try {
      f_();
    } catch (const std::exception& e) {
      error = e.what();
      if (error.empty()) error = "(exception with an empty message)";
    } catch (...) {
      error = "(non-std exception)";
    }
    std::unique_lock g(mu_);
    if (!error.empty()) errors_.push_back(error);
    ++finished_;
    cv_.notify_all();
    // Bounded by the destructor, which always calls do_finish() first.
    cv_.wait(g, [&] { return can_exit_; });
  }

  template <class Pred>
  bool wait_for(Pred pred, const char* what, Seconds timeout = kLongTimeout) {
    std::unique_lock g(mu_);
    if (cv_.wait_for(g, timeout, pred)) return true;
    ADD_FAILURE() << "Bunch: threads did not " << what << " within " << timeout.count() << " s";
    return false;
  }

  const int n_;
  const std::function<void()> f_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  int started_ = 0;                  // guarded by mu_
  int finished_ = 0;                 // guarded by mu_
  bool can_exit_;                    // guarded by mu_
  std::vector<std::string> errors_;  // guarded by mu_
  std::vector<std::thread> threads_;
};

/// Runs `f` once in a fresh raw thread and returns its result (for "what does another thread see").
template <class F>
auto in_other_thread(F&& f) {
  using R = decltype(f());
  R result{};
  {
    Bunch b(1, [&] { result = f(); });
  }
  return result;
}

}  // namespace trident::testing
