// The hub's internals, shared by hub.cpp (loop, greenlets, sleep, timeouts) and hub_parker.cpp
// (the waiting core's parker for greenlets). See docs/gevent.md.
#pragma once

#include <ev.h>

#include <atomic>
#include <chrono>
#include <climits>
#include <cstdint>
#include <deque>
#include <exception>
#include <memory>
#include <optional>
#include <unordered_map>
#include <vector>

#include "trident/detail/wait.hpp"
#include "trident/gevent.hpp"

namespace trident::gevent {

namespace detail {

// One greenlet as its hub sees it: the main greenlet, a spawned one, or a raw trident::greenlet
// that blocked in a gevent or core wait on this thread.
struct Task {
  enum class Wait { kNone, kGevent, kCore };
  greenlet::greenlet g;                    // what the hub switches to
  StateBase* state = nullptr;              // spawned greenlets only
  std::shared_ptr<StateBase> keep;         // spawned: keeps the handles' state alive until it ends
  Wait waiting = Wait::kNone;              // suspended in the hub, and how
  const char* what = "";                   // what it waits in (LoopExit's message)
  bool scheduled = false;                  // in the ready queue
  bool ran = false;                        // switched into at least once (spawned)
  std::exception_ptr interrupt;            // raised at its next gevent wait (kill, Timeout, LoopExit)
  int interrupt_rank = -1;                 // who set it: a Timeout's depth, or INT_MAX for kill
  const void* interrupt_source = nullptr;  // the Timeout scope that set it
  int timeout_depth = 0;                   // Timeout scopes alive in this greenlet
  Task* prev_spawned = nullptr;            // the hub's list of spawned greenlets not yet reaped
  Task* next_spawned = nullptr;
};

}  // namespace detail

class ParkerBox;

// A greenlet parked in a core wait: found by the async callback when another thread marks it.
struct ParkRecord {
  detail::Task* task;
  std::atomic<std::uint32_t>* word;
  ParkRecord* next = nullptr;
  ParkRecord* prev = nullptr;
};

class HubImpl final : public Hub {
 public:
  HubImpl();
  ~HubImpl();

  // The calling thread's hub, or null.
  static HubImpl* current() noexcept;
  // The calling thread's hub, made on first use.
  static HubImpl& get();

  // The record of the running greenlet; null when the hub greenlet itself runs.
  detail::Task* current_task();
  // current_task(), or RuntimeError naming `api` in the hub greenlet.
  detail::Task& current_task_checked(const char* api);
  // Puts `t` at the end of the ready queue (once).
  void schedule(detail::Task* t);
  // Switches `t` (the running greenlet) to the hub until something schedules it; raises a pending
  // interrupt first and after.
  void suspend(detail::Task& t, const char* what);
  // suspend() until `ready()` or `deadline`; false on timeout.
  template <class P>
  bool wait_until(detail::Task& t, const trident::detail::Deadline& deadline, P ready, const char* what);
  // The core parker's park for greenlets of this hub.
  bool park_core(trident::detail::Waiter& w, const trident::detail::Deadline& deadline);
  // Registers a spawned greenlet.
  void add_spawned(std::unique_ptr<detail::Task> t);
  // Sets the interrupt of `t` (rank decides between several) and wakes it if it waits in gevent.
  void interrupt(detail::Task& t, std::exception_ptr e, int rank, const void* source);

  struct ev_loop* loop = nullptr;
  std::optional<greenlet::greenlet> hub_g;  // reset first when the hub dies
  detail::Task main_task;
  std::deque<detail::Task*> ready;
  int active_timers = 0;  // our referenced, started timers: whether ev_run would block

  // An ev_timer that schedules a task; counted in active_timers while started.
  struct Timer {
    ev_timer w;
    HubImpl* hub;
    detail::Task* task;
    bool fired = false;
    Timer(HubImpl& h, detail::Task& t, double seconds);
    ~Timer();
    void stop() noexcept;
    static void callback(struct ev_loop*, ev_timer* w, int);
  };

 private:
  void run();
  void run_ready();
  void finish(detail::Task* t);
  void loop_exit();
  static void async_callback(struct ev_loop*, ev_async* w, int);

  ev_async async_;
  // The main greenlet's and raw greenlets' records, by greenlet. Spawned ones are found through
  // running_ (the hub resumed them) and kept in an intrusive list: a spawn costs no map insert.
  std::unordered_map<greenlet::detail::Impl*, detail::Task*> tasks_;
  std::unordered_map<greenlet::detail::Impl*, std::unique_ptr<detail::Task>> owned_;  // raw ones
  detail::Task* spawned_ = nullptr;
  void unlink_spawned(detail::Task* t) noexcept;
  template <class F>
  void for_each_task(F f) {
    for (auto& [impl, t] : tasks_) f(t);
    for (detail::Task* t = spawned_; t != nullptr; t = t->next_spawned) f(t);
  }
  detail::Task* running_ = nullptr;  // the task the hub last switched into
  ParkRecord* parked_ = nullptr;     // greenlets in core waits
  ParkerBox* parker_ = nullptr;
  trident::detail::Parker* previous_parker_ = nullptr;
  int passes_since_poll_ = 0;
  std::chrono::steady_clock::time_point last_poll_{};
  friend class ParkerBox;
};

// The core's Parker for a hub's thread. Pooled and never freed: a waker on another thread may
// call unpark after the waiter returned, even after the hub is gone (docs/core.md: a parker
// outlives every wait that used it); `inflight` lets a hub wait out such calls before it dies.
class ParkerBox final : public trident::detail::Parker {
 public:
  static ParkerBox* acquire(HubImpl* hub);
  void release() noexcept;
  bool park(trident::detail::Waiter& w, const trident::detail::Deadline& deadline) noexcept override;
  void unpark(void* context, std::atomic<std::uint32_t>* word, std::uint32_t previous) noexcept override;
  void* current_context() noexcept override;
  void wake_hub(HubImpl* h) noexcept;

  std::atomic<HubImpl*> hub{nullptr};
  std::atomic<int> inflight{0};
  ParkerBox* next_free = nullptr;
  ev_async* async = nullptr;
};

template <class P>
bool HubImpl::wait_until(detail::Task& t, const trident::detail::Deadline& deadline, P ready_now, const char* what) {
  if (ready_now()) return true;
  std::optional<Timer> timer;
  if (!deadline.is_forever()) timer.emplace(*this, t, deadline.remaining().count());
  for (;;) {
    if (ready_now()) return true;
    if (timer && timer->fired) return false;
    suspend(t, what);
  }
}

}  // namespace trident::gevent
