// The hub: one greenlet per OS thread running a libev loop, and the gevent calls built on it.
//
// The loop (HubImpl::run): switch to every greenlet that was ready when the pass began, then poll
// libev — without blocking while greenlets are ready, else blocking until a timer or another
// thread's ev_async. A greenlet blocks by switching to the hub; whatever wakes it puts it back
// in the ready queue. See docs/gevent.md.
#include "gevent/hub.hpp"

#include <cmath>
#include <string>

#include "trident/threading.hpp"

namespace trident::gevent {

using detail::Task;
using trident::detail::Deadline;

namespace {

thread_local HubImpl* tl_hub = nullptr;
// Owns the thread's hub; destroying it at thread exit kills the hub's unfinished greenlets.
thread_local std::unique_ptr<HubImpl> tl_hub_owner;

std::atomic<unsigned long> g_counter{0};

// How long a hub with nothing to do but other threads alive waits before it checks again whether
// those threads are still there (the LoopExit rule, docs/gevent.md).
constexpr double kRecheckSeconds = 0.1;

// While greenlets are ready, the loop polls libev (without blocking) after this many passes or
// this much time, whichever comes first.
constexpr int kPollEvery = 64;
constexpr std::chrono::microseconds kPollInterval{50};

bool is_greenlet_exit(const std::exception_ptr& e) {
  try {
    std::rethrow_exception(e);
  } catch (const GreenletExit&) {
    return true;
  } catch (...) {
    return false;
  }
}

greenlet::greenlet root_greenlet() {
  greenlet::greenlet g = greenlet::getcurrent();
  while (auto p = g.parent()) g = *p;
  return g;
}

}  // namespace

// ---- Hub ----

HubImpl::HubImpl() {
  loop = ev_loop_new(static_cast<unsigned>(EVBACKEND_EPOLL) | static_cast<unsigned>(EVFLAG_NOENV));
  if (loop == nullptr) loop = ev_loop_new(EVFLAG_AUTO);
  if (loop == nullptr) throw OSError(errno, "gevent::get_hub(): ev_loop_new() failed");
  ev_set_userdata(loop, this);
  ev_async_init(&async_, &HubImpl::async_callback);
  ev_async_start(loop, &async_);
  ev_unref(loop);  // a pending cross-thread wake is no reason to keep looping
  main_task.g = root_greenlet();
  tasks_[main_task.g.native_handle()] = &main_task;
  hub_g.emplace([this] { run(); }, main_task.g);
  parker_ = ParkerBox::acquire(this);
  parker_->async = &async_;
  previous_parker_ = trident::detail::set_current_parker(parker_);
}

HubImpl::~HubImpl() {
  // Kill what is still alive, from the main greenlet: GreenletExit in every greenlet suspended in
  // a gevent wait; one never started is just marked dead. Then let them finish.
  for (int round = 0; round < 1000; ++round) {
    bool any = false;
    for (Task* t = spawned_; t != nullptr; t = t->next_spawned) {
      if (t->state->finished) continue;
      if (!t->ran) {
        t->state->error = std::make_exception_ptr(GreenletExit{});
        t->state->killed = true;
        t->state->finished = true;
        continue;
      }
      // One parked in a core wait cannot be interrupted (docs/gevent.md, "What is left").
      if (t->waiting != Task::Wait::kGevent) continue;
      any = true;
      interrupt(*t, std::make_exception_ptr(GreenletExit{}), INT_MAX, nullptr);
    }
    if (!any || greenlet::detail::current() != main_task.g.native_handle()) break;
    try {
      schedule(&main_task);
      suspend(main_task, "the hub's shutdown");
    } catch (...) {
    }
  }
  // The hub greenlet is suspended in its loop; dropping it kills it (GreenletExit unwinds run()).
  hub_g.reset();
  // What is left: finished but not yet reaped, never started, or parked in a core wait (whose
  // greenlet the greenlet module then kills: see park_core).
  while (spawned_ != nullptr) {
    Task* t = spawned_;
    unlink_spawned(t);
    delete t;
  }
  trident::detail::set_current_parker(previous_parker_);
  parker_->release();
  ev_async_stop(loop, &async_);
  ev_loop_destroy(loop);
  if (tl_hub == this) tl_hub = nullptr;
}

HubImpl* HubImpl::current() noexcept { return tl_hub; }

HubImpl& HubImpl::get() {
  if (tl_hub == nullptr) {
    // Made before tl_hub_owner is first touched, so that the owner's thread-exit destructor is
    // registered after the greenlet module's thread state and runs before it: the hub kills its
    // greenlets while greenlets still work.
    auto hub = std::make_unique<HubImpl>();
    tl_hub = hub.get();
    tl_hub_owner = std::move(hub);
  }
  return *tl_hub;
}

Hub& get_hub() { return HubImpl::get(); }

greenlet::greenlet Hub::greenlet() const { return *static_cast<const HubImpl*>(this)->hub_g; }

void Hub::destroy() {
  auto* self = static_cast<HubImpl*>(this);
  if (tl_hub != self || greenlet::detail::current() != self->main_task.g.native_handle()) {
    throw RuntimeError("Hub::destroy(): call it from the main greenlet of the hub's own thread");
  }
  tl_hub_owner.reset();
}

std::size_t Hub::ready_count() const noexcept { return static_cast<const HubImpl*>(this)->ready.size(); }

Task* HubImpl::current_task() {
  greenlet::detail::Impl* cur = greenlet::detail::current();
  if (running_ != nullptr && running_->g.native_handle() == cur) return running_;
  if (cur == hub_g->native_handle()) return nullptr;
  if (auto it = tasks_.find(cur); it != tasks_.end()) return it->second;
  // A spawned greenlet resumed by a raw switch rather than by the hub.
  for (Task* t = spawned_; t != nullptr; t = t->next_spawned) {
    if (t->g.native_handle() == cur) return t;
  }
  // A raw trident::greenlet blocking on this hub: give it a record for as long as the hub lives.
  auto t = std::make_unique<Task>();
  t->g = greenlet::getcurrent();
  Task* p = t.get();
  tasks_[cur] = p;
  owned_[cur] = std::move(t);
  return p;
}

Task& HubImpl::current_task_checked(const char* api) {
  Task* t = current_task();
  if (t == nullptr) throw RuntimeError(std::string(api) + ": cannot block in the hub greenlet");
  return *t;
}

void HubImpl::schedule(Task* t) {
  if (t->scheduled) return;
  t->scheduled = true;
  ready.push_back(t);
}

void HubImpl::interrupt(Task& t, std::exception_ptr e, int rank, const void* source) {
  // The first interrupt stays, except that a more deeply nested Timeout, or a kill, replaces a
  // Timeout's: of several expired scopes, the inner-most one fires.
  if (t.interrupt && t.interrupt_rank >= rank) return;
  t.interrupt = std::move(e);
  t.interrupt_rank = rank;
  t.interrupt_source = source;
  if (t.waiting == Task::Wait::kGevent) schedule(&t);
}

void HubImpl::suspend(Task& t, const char* what) {
  if (t.interrupt) {
    t.interrupt_rank = -1;
    t.interrupt_source = nullptr;
    std::rethrow_exception(std::exchange(t.interrupt, nullptr));
  }
  t.waiting = Task::Wait::kGevent;
  t.what = what;
  try {
    hub_g->switch_<void>();
  } catch (...) {
    t.waiting = Task::Wait::kNone;
    throw;
  }
  t.waiting = Task::Wait::kNone;
  if (t.interrupt) {
    t.interrupt_rank = -1;
    t.interrupt_source = nullptr;
    std::rethrow_exception(std::exchange(t.interrupt, nullptr));
  }
}

void HubImpl::add_spawned(std::unique_ptr<Task> t) {
  Task* p = t.release();  // owned by the list until finish()
  p->next_spawned = spawned_;
  if (spawned_ != nullptr) spawned_->prev_spawned = p;
  spawned_ = p;
  schedule(p);
}

void HubImpl::unlink_spawned(Task* t) noexcept {
  (t->prev_spawned != nullptr ? t->prev_spawned->next_spawned : spawned_) = t->next_spawned;
  if (t->next_spawned != nullptr) t->next_spawned->prev_spawned = t->prev_spawned;
  t->prev_spawned = t->next_spawned = nullptr;
}

void HubImpl::finish(Task* t) {
  // Called by the hub once a spawned greenlet ended (or was killed before it ran).
  std::shared_ptr<detail::StateBase> keep = std::move(t->keep);
  keep->task = nullptr;
  for (Task* j : keep->joiners) schedule(j);
  if (running_ == t) running_ = nullptr;
  unlink_spawned(t);
  delete t;
}

void HubImpl::run_ready() {
  // Only those ready when the pass began: a greenlet that sleep(0)s again waits for the next pass,
  // after a non-blocking poll, so it cannot starve timers and other threads' wake-ups for good.
  for (std::size_t n = ready.size(); n > 0 && !ready.empty(); --n) {
    Task* t = ready.front();
    ready.pop_front();
    t->scheduled = false;
    if (t->state != nullptr && t->state->finished) {
      finish(t);  // killed before it ever ran
      continue;
    }
    // Resume only what is suspended in this hub (or not yet started); a wake that arrives while
    // a greenlet is elsewhere (in a raw switch) is dropped: every wait re-checks its condition.
    if (t->waiting == Task::Wait::kNone && !(t->state != nullptr && !t->ran)) continue;
    t->ran = true;
    running_ = t;
    // RLock/Condition ownership follows the greenlet (the main greenlet keeps the thread's, so a
    // lock taken before the hub existed stays its own). A Task's address is unique while it lives.
    threading::detail::tl_greenlet_owner = t == &main_task ? 0 : reinterpret_cast<unsigned long>(t);
    t->g.switch_<void>();
    threading::detail::tl_greenlet_owner = 0;
    running_ = nullptr;
    if (t->state != nullptr && t->g.dead()) finish(t);
  }
}

void HubImpl::run() {
  for (;;) {
    run_ready();
    if (!ready.empty()) {
      // Greenlets are ready: poll without blocking, but not after every pass — a non-blocking
      // epoll_wait costs more than a whole pass of switches. Timers and other threads' wake-ups
      // wait at most kPollEvery passes or kPollInterval; sleep(> 0) still resumes only after a
      // poll, i.e. in a later loop iteration (note 004).
      // (The clock is read every 8th pass only: it was a tenth of a spawn+join.)
      ++passes_since_poll_;
      if (passes_since_poll_ >= kPollEvery ||
          ((passes_since_poll_ & 7) == 0 && std::chrono::steady_clock::now() - last_poll_ >= kPollInterval)) {
        passes_since_poll_ = 0;
        last_poll_ = std::chrono::steady_clock::now();
        ev_run(loop, EVRUN_NOWAIT);
      }
      continue;
    }
    passes_since_poll_ = 0;
    if (active_timers > 0) {
      ev_run(loop, EVRUN_ONCE);
      continue;
    }
    // Collect a cross-thread wake already sent before deciding that nothing can come.
    ev_run(loop, EVRUN_NOWAIT);
    if (!ready.empty()) continue;
    // The LoopExit rule: another thread alive (a trident Thread, the main thread, a thread that
    // called into threading) may still wake a waiter. current_thread() registers this one.
    threading::current_thread();
    if (threading::active_count() > 1) {
      // Another thread may still wake a waiter: block, but look again now and then, since a
      // thread that exits without waking anyone sends nothing.
      ev_timer recheck;
      ev_timer_init(
          &recheck, [](struct ev_loop*, ev_timer*, int) {}, kRecheckSeconds, 0.);
      ev_timer_start(loop, &recheck);
      ev_run(loop, EVRUN_ONCE);
      ev_timer_stop(loop, &recheck);
      continue;
    }
    loop_exit();
  }
}

void HubImpl::loop_exit() {
  // gevent raises LoopExit in the main greenlet. It can be raised only where the main greenlet
  // waits in a gevent call; blocked in a core wait, nothing can wake it, as a lone thread
  // deadlocked on a lock: the hub then sleeps on its loop (docs/gevent.md, "What is left").
  if (main_task.waiting == Task::Wait::kGevent && !main_task.scheduled) {
    std::string msg = std::string("gevent: this operation would block forever: the main greenlet waits in ") +
                      main_task.what +
                      " and the hub has no ready greenlet, no timer and no other thread that could wake it";
    int others = 0;
    std::string list;
    for_each_task([&](Task* t) {
      if (t == &main_task || t->waiting == Task::Wait::kNone) return;
      if (++others <= 5) list += std::string(others > 1 ? ", " : "") + t->what;
    });
    if (others > 0)
      msg += "; " + std::to_string(others) + " other greenlet(s) wait too (" + list + (others > 5 ? ", ...)" : ")");
    interrupt(main_task, std::make_exception_ptr(LoopExit(msg)), INT_MAX, nullptr);
    return;
  }
  ev_ref(loop);
  ev_run(loop, EVRUN_ONCE);
  ev_unref(loop);
}

void HubImpl::async_callback(struct ev_loop* l, ev_async*, int) {
  auto* h = static_cast<HubImpl*>(ev_userdata(l));
  for (ParkRecord* r = h->parked_; r != nullptr; r = r->next) {
    if (r->word->load(std::memory_order_acquire) == trident::detail::Waiter::kNotified) h->schedule(r->task);
  }
}

HubImpl::Timer::Timer(HubImpl& h, Task& t, double seconds) : hub(&h), task(&t) {
  ev_now_update(h.loop);
  ev_timer_init(&w, &Timer::callback, seconds > 0 ? seconds : 0., 0.);
  w.data = this;
  ev_timer_start(h.loop, &w);
  ++h.active_timers;
}

HubImpl::Timer::~Timer() { stop(); }

void HubImpl::Timer::stop() noexcept {
  if (!ev_is_active(&w)) return;
  ev_timer_stop(hub->loop, &w);
  --hub->active_timers;
}

void HubImpl::Timer::callback(struct ev_loop*, ev_timer* w, int) {
  auto* self = static_cast<Timer*>(w->data);
  --self->hub->active_timers;  // a fired one-shot timer is no longer active
  self->fired = true;
  self->hub->schedule(self->task);
}

// ---- greenlets ----

namespace detail {

StateBase::~StateBase() = default;

namespace {
HubImpl& hub_of(StateBase& s, const char* api) {
  HubImpl* h = HubImpl::current();
  if (h == nullptr || h != s.hub) {
    throw greenlet::error(std::string(api) + ": the greenlet belongs to another thread's hub");
  }
  return *h;
}
}  // namespace

void start(const std::shared_ptr<StateBase>& state, std::size_t stack_size) {
  HubImpl& h = HubImpl::get();
  state->hub = &h;
  if (state->name.empty()) state->name = "Greenlet-" + std::to_string(g_counter.fetch_add(1) + 1);
  auto t = std::make_unique<Task>();
  t->state = state.get();
  t->keep = state;
  StateBase* s = state.get();
  t->g = greenlet::greenlet(
      greenlet::Options{.stack_size = stack_size},
      [s] {
        try {
          s->invoke();
        } catch (const GreenletExit&) {
          s->error = std::current_exception();
          s->killed = true;
        } catch (...) {
          s->error = std::current_exception();
        }
        s->finished = true;
      },
      *h.hub_g);
  state->task = t.get();
  h.add_spawned(std::move(t));
}

bool join(StateBase& s, const trident::Timeout& timeout) {
  const Deadline deadline = Deadline::after(timeout, "Greenlet::join()");
  if (s.finished) return true;
  HubImpl& h = hub_of(s, "Greenlet::join()");
  Task& me = h.current_task_checked("Greenlet::join()");
  s.joiners.push_back(&me);
  struct Unjoin {
    StateBase& s;
    Task* me;
    ~Unjoin() { std::erase(s.joiners, me); }
  } unjoin{s, &me};
  return h.wait_until(
      me, deadline, [&] { return s.finished; }, "Greenlet::join()");
}

void rethrow_or_timeout(StateBase& s, bool block, const trident::Timeout& timeout) {
  if (!s.finished) {
    if (block) join(s, timeout);
    if (!s.finished) throw TimeoutExpired(nullptr, timeout ? timeout->count() : 0.0);
  }
  if (s.error) std::rethrow_exception(s.error);
}

void kill(StateBase& s, std::exception_ptr exception, bool block, const trident::Timeout& timeout) {
  trident::detail::check_timeout(timeout, "Greenlet::kill()");
  if (s.finished) return;
  HubImpl& h = hub_of(s, "Greenlet::kill()");
  if (!exception) exception = std::make_exception_ptr(GreenletExit{});
  Task* victim = s.task;
  if (victim == h.current_task()) std::rethrow_exception(exception);
  if (!victim->ran) {
    // gevent: a greenlet killed before it started never runs; it is dead at once.
    s.error = exception;
    s.killed = is_greenlet_exit(exception);
    s.finished = true;
    for (Task* j : s.joiners) h.schedule(j);
    return;  // the hub drops its record when it reaches it in the ready queue
  }
  h.interrupt(*victim, exception, INT_MAX, nullptr);
  if (block) join(s, timeout);
}

bool started(const StateBase& s) noexcept { return !s.finished; }
bool dead(const StateBase& s) noexcept { return s.finished; }

}  // namespace detail

void sleep(double seconds) {
  if (std::isnan(seconds)) throw ValueError("gevent::sleep(): seconds must be a number, got NaN");
  HubImpl& h = HubImpl::get();
  Task& me = h.current_task_checked("gevent::sleep()");
  if (seconds <= 0) {
    // gevent treats a negative delay as 0: a yield to the greenlets ready now.
    h.schedule(&me);
    h.suspend(me, "gevent::sleep(0)");
    return;
  }
  const Deadline deadline = Deadline::after(Seconds(seconds), "gevent::sleep()");
  h.wait_until(
      me, deadline, [] { return false; }, "gevent::sleep()");
}

greenlet::greenlet getcurrent() { return greenlet::getcurrent(); }

std::vector<GreenletBase> joinall(const std::vector<GreenletBase>& greenlets, const JoinAllOptions& options) {
  const Deadline deadline = Deadline::after(options.timeout, "gevent::joinall()");
  const std::size_t want = std::min(options.count.value_or(greenlets.size()), greenlets.size());
  std::vector<GreenletBase> done;
  std::vector<bool> seen(greenlets.size(), false);
  // Collects the newly finished ones; true when enough have.
  auto collect = [&] {
    for (std::size_t i = 0; i < greenlets.size(); ++i) {
      if (seen[i] || !greenlets[i].ready()) continue;
      seen[i] = true;
      done.push_back(greenlets[i]);
      if (options.raise_error && greenlets[i].exception()) std::rethrow_exception(greenlets[i].exception());
    }
    return done.size() >= want;
  };
  if (collect()) return done;
  HubImpl& h = HubImpl::get();
  Task& me = h.current_task_checked("gevent::joinall()");
  std::vector<detail::StateBase*> joined;
  struct Unjoin {
    std::vector<detail::StateBase*>& joined;
    Task* me;
    ~Unjoin() {
      for (auto* s : joined) std::erase(s->joiners, me);
    }
  } unjoin{joined, &me};
  for (const auto& g : greenlets) {
    auto* s = g.state_for_hub();
    if (s->hub != &h) throw greenlet::error("gevent::joinall(): a greenlet belongs to another thread's hub");
    if (!s->finished) {
      s->joiners.push_back(&me);
      joined.push_back(s);
    }
  }
  h.wait_until(me, deadline, collect, "gevent::joinall()");
  return done;
}

void killall(const std::vector<GreenletBase>& greenlets, const KillOptions& options) {
  trident::detail::check_timeout(options.timeout, "gevent::killall()");
  for (const auto& g : greenlets) g.kill({.exception = options.exception, .block = false, .timeout = std::nullopt});
  if (options.block) joinall(greenlets, {.timeout = options.timeout, .raise_error = false, .count = std::nullopt});
}

// ---- Timeout ----

struct Timeout::Rec {
  HubImpl* hub;
  Task* task;
  int depth;
  ev_timer timer;
  bool armed = false;
  const Timeout* owner;
  double seconds;
  static void callback(struct ev_loop*, ev_timer* w, int) {
    auto* r = static_cast<Rec*>(w->data);
    --r->hub->active_timers;
    r->armed = false;
    r->hub->interrupt(*r->task, std::make_exception_ptr(TimeoutExpired(r->owner, r->seconds)), r->depth, r->owner);
  }
};

Timeout::Timeout(trident::Timeout seconds) : seconds_(seconds) {
  trident::detail::check_timeout(seconds, "gevent::Timeout()");
  HubImpl& h = HubImpl::get();
  Task& me = h.current_task_checked("gevent::Timeout()");
  rec_ = std::make_unique<Rec>(Rec{&h, &me, me.timeout_depth++, {}, false, this, seconds ? seconds->count() : 0.0});
  if (!seconds) return;
  ev_now_update(h.loop);
  ev_timer_init(&rec_->timer, &Rec::callback, seconds->count(), 0.);
  rec_->timer.data = rec_.get();
  ev_timer_start(h.loop, &rec_->timer);
  rec_->armed = true;
  ++h.active_timers;
}

Timeout::~Timeout() {
  cancel();
  Task& t = *rec_->task;
  // A scope that fired while its greenlet was parked where it could not be raised takes its
  // exception with it.
  if (t.interrupt && t.interrupt_source == this) {
    t.interrupt = nullptr;
    t.interrupt_rank = -1;
    t.interrupt_source = nullptr;
  }
  --t.timeout_depth;
}

void Timeout::cancel() noexcept {
  if (!rec_->armed) return;
  ev_timer_stop(rec_->hub->loop, &rec_->timer);
  --rec_->hub->active_timers;
  rec_->armed = false;
}

bool Timeout::pending() const noexcept { return rec_->armed; }

}  // namespace trident::gevent
