// Helpers shared by the queue tests: events with bounded waits, and a way to know, without
// sleeping, that a thread is blocked inside a call.
#pragma once

#include <sys/syscall.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <fstream>
#include <string>
#include <thread>

#include "trident/detail/wait.hpp"
#include "trident/queue.hpp"

namespace trident::queue_test {

using namespace std::chrono_literals;

/// A wait that never runs out in a passing test; it only bounds a failing one.
inline constexpr std::chrono::seconds kLong{10};

/// A one-shot event whose waits are bounded.
class Event {
 public:
  void set() noexcept { event_.set(); }
  bool is_set() const noexcept { return event_.is_set(); }
  /// True if set within `timeout`.
  bool wait(Seconds timeout = kLong) { return event_.wait_until(detail::Deadline::after(timeout, "Event::wait()")); }

 private:
  detail::EventFlag event_;
};

/// The calling thread's kernel id.
inline pid_t current_tid() noexcept { return static_cast<pid_t>(::syscall(SYS_gettid)); }

/// The scheduler state of thread `tid` of this process ('R' running, 'S' sleeping, ...).
inline char thread_state(pid_t tid) {
  std::ifstream f("/proc/self/task/" + std::to_string(tid) + "/stat");
  std::string stat;
  std::getline(f, stat);
  const auto paren = stat.rfind(')');  // the command name may contain spaces and parentheses
  return paren == std::string::npos || paren + 2 >= stat.size() ? '?' : stat[paren + 2];
}

/// A thread that announces when it is about to make a blocking call, so the test can wait until
/// that call sleeps in the kernel: the waiting core spins briefly and then sleeps on a futex, so a
/// thread that sleeps after announcing is blocked inside the call (not merely slow to start).
class Blocker {
 public:
  /// Call from the thread, right before the blocking call.
  void about_to_block() noexcept {
    tid_.store(current_tid(), std::memory_order_relaxed);
    calling_.store(true, std::memory_order_release);
  }
  /// Call from the test: true once the announced call sleeps (false after `limit`).
  bool wait_until_blocked(std::chrono::seconds limit = kLong) const {
    const auto until = std::chrono::steady_clock::now() + limit;
    while (std::chrono::steady_clock::now() < until) {
      if (calling_.load(std::memory_order_acquire) && thread_state(tid_.load(std::memory_order_relaxed)) == 'S') {
        return true;
      }
      std::this_thread::yield();
    }
    return false;
  }

 private:
  std::atomic<pid_t> tid_{0};
  std::atomic<bool> calling_{false};
};

/// The Python class name of a queue type, for messages and test names.
template <class T>
const char* kind_name(const queue::Queue<T>*) {
  return "Queue";
}
template <class T>
const char* kind_name(const queue::LifoQueue<T>*) {
  return "LifoQueue";
}
template <class T, class C>
const char* kind_name(const queue::PriorityQueue<T, C>*) {
  return "PriorityQueue";
}
template <class Q>
const char* kind_name() {
  return kind_name(static_cast<const Q*>(nullptr));
}

/// The message of the `E` that `f` throws, or "<no exception>".
template <class E, class F>
std::string message_of(F&& f) {
  try {
    f();
  } catch (const E& e) {
    return e.what();
  }
  return "<no exception>";
}

/// Runs `f` and returns how long it took.
template <class F>
std::chrono::steady_clock::duration time_it(F&& f) {
  const auto t0 = std::chrono::steady_clock::now();
  f();
  return std::chrono::steady_clock::now() - t0;
}

}  // namespace trident::queue_test
