#include "subprocess/fd_wait.hpp"

#include <pthread.h>

#include <chrono>
#include <cstdint>
#include <mutex>
#include <new>
#include <thread>
#include <vector>

#include "platform/linux/pipe_io.hpp"
#include "platform/linux/spawn.hpp"
#include "trident/errors.hpp"

namespace trident::subprocess::detail {

using trident::detail::Deadline;
using trident::detail::EventFlag;
using trident::detail::Mutex;

namespace {

// One wait handed to the watcher. Lives on the waiting call's stack; linked in the watcher's list
// until the watcher completes it or the caller cancels it, both under FdWatcher::mu_.
struct Registration {
  pollfd* fds;
  std::size_t count;
  std::uint64_t id;
  int error = 0;  // -errno if the watcher's poll failed
  EventFlag done;
  Registration* next = nullptr;
  Registration* prev = nullptr;
  bool linked = false;
};

// The watcher thread lingers this long without registrations before it exits, so a burst of
// waits reuses one thread while an idle program keeps none.
constexpr auto kLinger = std::chrono::milliseconds(100);

class FdWatcher {
 public:
  static FdWatcher& instance() {
    // Never destroyed: a detached watcher thread may still touch it during static destruction.
    static FdWatcher* w = new FdWatcher;
    return *w;
  }

  bool wait(pollfd* fds, std::size_t count, const Deadline& deadline) {
    Registration reg{fds, count, 0, 0, {}, nullptr, nullptr, false};
    {
      std::lock_guard lk(mu_);
      ensure_running_locked();
      reg.id = ++next_id_;
      link_locked(reg);
      // Under mu_: the watcher closes wake_fd_ only when idle, which it is not while reg is linked.
      platform::signal_eventfd(wake_fd_);
    }
    reg.done.wait_until(deadline);
    // Taking mu_ orders us after the watcher's set() on reg.done, which runs under mu_: once we
    // hold it, the watcher no longer touches `reg`, so it may leave the stack.
    std::lock_guard lk(mu_);
    if (reg.linked) {
      unlink_locked(reg);
      // Timed out: make the watcher drop our fds from its poll set (the caller may close them).
      platform::signal_eventfd(wake_fd_);
      return false;
    }
    if (reg.error != 0) raise_os_error(-reg.error, "Popen: poll() in the fd watcher");
    return true;
  }

  bool running() {
    std::lock_guard lk(mu_);
    return running_;
  }

 private:
  void ensure_running_locked() {
    if (running_) return;
    int fd = platform::make_eventfd();
    if (fd < 0) raise_os_error(-fd, "Popen: eventfd() for the fd watcher");
    wake_fd_ = fd;
    running_ = true;
    try {
      std::thread([this] { run(); }).detach();
    } catch (...) {
      running_ = false;
      platform::close_fd(wake_fd_);
      wake_fd_ = -1;
      throw;
    }
  }

  void link_locked(Registration& r) {
    r.prev = tail_;
    r.next = nullptr;
    (tail_ != nullptr ? tail_->next : head_) = &r;
    tail_ = &r;
    r.linked = true;
  }
  void unlink_locked(Registration& r) {
    (r.prev != nullptr ? r.prev->next : head_) = r.next;
    (r.next != nullptr ? r.next->prev : tail_) = r.prev;
    r.linked = false;
  }

  void run() {
    std::vector<pollfd> fds;
    std::vector<std::pair<std::uint64_t, std::size_t>> owners;  // (registration id, first index)
    auto idle_since = std::chrono::steady_clock::now();
    for (;;) {
      fds.clear();
      owners.clear();
      int wake_fd;
      {
        std::lock_guard lk(mu_);
        wake_fd = wake_fd_;
        if (head_ == nullptr && std::chrono::steady_clock::now() - idle_since >= kLinger) {
          running_ = false;
          platform::close_fd(wake_fd_);
          wake_fd_ = -1;
          return;
        }
        fds.push_back({wake_fd, POLLIN, 0});
        for (Registration* r = head_; r != nullptr; r = r->next) {
          owners.emplace_back(r->id, fds.size());
          for (std::size_t i = 0; i < r->count; ++i) fds.push_back({r->fds[i].fd, r->fds[i].events, 0});
        }
      }
      auto until = owners.empty() ? idle_since + kLinger : std::chrono::steady_clock::time_point::max();
      int n = platform::poll_until(fds.data(), fds.size(), until);
      if (fds[0].revents != 0) platform::drain_eventfd(wake_fd);
      std::lock_guard lk(mu_);
      for (Registration* r = head_; r != nullptr;) {
        Registration* next = r->next;
        for (auto [id, first] : owners) {
          if (id != r->id) continue;
          bool ready = n < 0;
          for (std::size_t i = 0; i < r->count; ++i) {
            r->fds[i].revents = fds[first + i].revents;
            ready = ready || fds[first + i].revents != 0;
          }
          if (ready) {
            r->error = n < 0 ? n : 0;
            unlink_locked(*r);
            r->done.set();
          }
        }
        r = next;
      }
      if (!owners.empty() && head_ == nullptr) idle_since = std::chrono::steady_clock::now();
    }
  }

  FdWatcher() {
    // A forked child has no watcher thread: start afresh there.
    pthread_atfork(nullptr, nullptr, [] {
      FdWatcher& w = instance();
      // Another thread may have held mu_ at the fork; the child has only this thread.
      w.mu_.~Mutex();
      new (&w.mu_) Mutex();
      w.running_ = false;
      platform::close_fd(w.wake_fd_);
      w.wake_fd_ = -1;
      w.head_ = w.tail_ = nullptr;
    });
  }

  Mutex mu_;
  bool running_ = false;          // guarded by mu_
  int wake_fd_ = -1;              // guarded by mu_; written only while the thread is not running
  std::uint64_t next_id_ = 0;     // guarded by mu_
  Registration* head_ = nullptr;  // guarded by mu_
  Registration* tail_ = nullptr;  // guarded by mu_
};

}  // namespace

bool kernel_may_block() noexcept { return &trident::detail::current_parker() == &trident::detail::thread_parker(); }

bool wait_fds(pollfd* fds, std::size_t count, const Deadline& deadline) {
  if (!kernel_may_block()) {
    return FdWatcher::instance().wait(fds, count, deadline);
  }
  int n = platform::poll_until(fds, count, deadline.when());
  if (n < 0) raise_os_error(-n, "Popen: poll()");
  return n > 0;
}

bool fd_watcher_running() noexcept {
  try {
    return FdWatcher::instance().running();
  } catch (...) {
    return false;
  }
}

}  // namespace trident::subprocess::detail
