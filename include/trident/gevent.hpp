// trident/gevent.hpp — gevent's core: a hub per OS thread (a greenlet running a libev loop),
// greenlets spawned on it, cooperative sleep, joins, kills and timeouts.
//
// `get_hub()`, `spawn`, `Greenlet` (join, get, kill, ready, successful, value, exception, dead,
// started, name), `sleep`, `joinall`, `killall`, `getcurrent`, `Timeout`, `with_timeout` and
// `LoopExit` keep gevent's semantics (docs/gevent.md). Beyond gevent: every trident blocking call
// (threading locks, conditions, events, semaphores, queues, Future::result, Thread::join) made by a
// greenlet of a thread that has a hub parks THAT greenlet and lets the hub run the others, and a
// thread may wake a greenlet of another thread's hub. No monkey-patching is involved: the waiting
// core's parker seam (docs/core.md) is where the hub plugs in.
//
// What differs from gevent:
// - A Greenlet handle is typed by its function's result: `Greenlet<int> g = spawn(f)`; `get()`
//   returns that R. `GreenletBase` is the untyped handle joinall/killall take.
// - Dropping a Greenlet handle neither joins nor kills (unlike a running Thread handle, which joins
//   when destroyed): the hub keeps a spawned greenlet alive until it finishes, as gevent does. When
//   the thread that owns the hub exits, its unfinished greenlets are killed (GreenletExit).
// - A greenlet killed by GreenletExit is successful() with no value(); `get()` rethrows the
//   GreenletExit (gevent returns the exception object as the value).
// - Errors escaping a greenlet are stored, not printed.
// - Timeout and kill interrupt gevent's own waits (sleep, join, get, joinall, kill with block). A
//   greenlet parked in a trident core wait (Lock::acquire, Queue::get, ...) is not interrupted yet:
//   the exception is raised at its next gevent wait inside the same Timeout scope (docs/gevent.md,
//   "What is left").
// - RLock/Condition ownership follows the greenlet, as under gevent's patched threading; the
//   thread's main greenlet keeps the thread's identity. threading::local and current_thread() are
//   still per OS thread (docs/gevent.md).
#pragma once

#include <cstddef>
#include <exception>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "trident/errors.hpp"
#include "trident/greenlet.hpp"
#include "trident/timeout.hpp"

namespace trident::gevent {

using greenlet::GreenletExit;

class Hub;
class GreenletBase;

namespace detail {
struct Task;

// What a spawned greenlet's handles share. The runtime (src/gevent) owns `task`.
class StateBase {
 public:
  StateBase() = default;
  StateBase(const StateBase&) = delete;
  StateBase& operator=(const StateBase&) = delete;
  virtual ~StateBase();
  // Runs the function and stores its result; exceptions escape to the runtime.
  virtual void invoke() = 0;

  std::string name = {};
  Hub* hub = nullptr;
  Task* task = nullptr;        // the hub's record of the greenlet; null once it finished
  bool finished = false;       // ran to its end (or was killed before starting)
  bool killed = false;         // ended by GreenletExit
  std::exception_ptr error;    // what escaped it (GreenletExit included, see killed)
  std::vector<Task*> joiners;  // greenlets of this hub waiting for it to finish
};

template <class R>
class State final : public StateBase {
 public:
  template <class F>
  explicit State(F&& f) : fn(std::forward<F>(f)) {}
  void invoke() override {
    if constexpr (std::is_void_v<R>) {
      fn();
    } else {
      value.emplace(fn());
    }
  }
  std::function<R()> fn;
  std::optional<std::conditional_t<std::is_void_v<R>, bool, R>> value;
};

// Starts `state` on the calling thread's hub (scheduled: it first runs when the hub next runs).
void start(const std::shared_ptr<StateBase>& state, std::size_t stack_size);
bool join(StateBase& s, const trident::Timeout& timeout);
void rethrow_or_timeout(StateBase& s, bool block, const trident::Timeout& timeout);
void kill(StateBase& s, std::exception_ptr exception, bool block, const trident::Timeout& timeout);
bool started(const StateBase& s) noexcept;
bool dead(const StateBase& s) noexcept;
}  // namespace detail

/// The hub of the calling thread: a greenlet running a libev loop (epoll backend), created on
/// first use, one per OS thread, destroyed when the thread exits. Not copyable; not API beyond
/// these members.
class Hub {
 public:
  Hub(const Hub&) = delete;
  Hub& operator=(const Hub&) = delete;
  /// The hub's greenlet (the parent of every spawned greenlet).
  greenlet::greenlet greenlet() const;
  /// How many greenlets are ready to run (scheduled, not yet resumed).
  std::size_t ready_count() const noexcept;
  /// gevent's `hub.destroy()`: does what the thread's exit would — kills the hub's unfinished
  /// greenlets (GreenletExit), then closes the loop; the next get_hub() makes a new hub. Call it
  /// from the thread's main greenlet (RuntimeError otherwise).
  void destroy();

 private:
  friend class HubImpl;
  Hub() = default;
  ~Hub() = default;
};

/// gevent's `get_hub()`: the calling thread's hub, created on first use.
Hub& get_hub();

/// Options of spawn: `spawn({.name = "worker"}, f, 1)`.
struct SpawnOptions {
  /// The greenlet's name; empty gives gevent's "Greenlet-N".
  std::string name = {};
  /// Stack size in bytes (0: greenlet::kDefaultStackSize).
  std::size_t stack_size = 0;
};

/// Options of kill and killall: gevent's `kill(exception=GreenletExit, block=True, timeout=None)`.
struct KillOptions {
  /// What to raise in the greenlet; null means GreenletExit.
  std::exception_ptr exception = nullptr;
  /// Wait for the greenlet to finish.
  bool block = true;
  /// How long to wait when blocking (nullopt: forever).
  trident::Timeout timeout = std::nullopt;
};

/// gevent's `Greenlet`, untyped: what joinall and killall take. Copies share the greenlet.
class GreenletBase {
 public:
  /// gevent's `join(timeout)`: waits until the greenlet finishes; true if it did (gevent returns
  /// None either way — check ready()). Interruptible by a Timeout scope or kill.
  bool join(const trident::Timeout& timeout = std::nullopt) const { return detail::join(*state_, timeout); }
  /// gevent's `kill(exception, block, timeout)`: raises `exception` (GreenletExit by default) in
  /// the greenlet at its current wait — or marks it dead at once if it has not started — and, with
  /// `block`, waits for it to finish.
  void kill(const KillOptions& options = {}) const {
    detail::kill(*state_, options.exception, options.block, options.timeout);
  }
  /// gevent's `ready()`: finished (returned, raised, or killed).
  bool ready() const noexcept { return state_->finished; }
  /// gevent's `successful()`: finished without an error (a GreenletExit counts as success).
  bool successful() const noexcept { return state_->finished && (!state_->error || state_->killed); }
  /// gevent's `exception`: what ended the greenlet with an error; null otherwise.
  std::exception_ptr exception() const noexcept { return state_->killed ? nullptr : state_->error; }
  /// gevent's `dead`: finished, or killed before it started.
  bool dead() const noexcept { return detail::dead(*state_); }
  /// gevent's `started`: scheduled or running (true right after spawn), until it finishes.
  bool started() const noexcept { return detail::started(*state_); }
  /// gevent's `name`.
  const std::string& name() const noexcept { return state_->name; }
  /// Whether two handles name the same greenlet (Python's `is`).
  friend bool operator==(const GreenletBase& a, const GreenletBase& b) noexcept { return a.state_ == b.state_; }
  /// Internal: the state the handles share.
  detail::StateBase* state_for_hub() const noexcept { return state_.get(); }

 protected:
  explicit GreenletBase(std::shared_ptr<detail::StateBase> s) noexcept : state_(std::move(s)) {}
  std::shared_ptr<detail::StateBase> state_;
};

/// gevent's `Greenlet` whose function returns R. Made by spawn().
template <class R>
class Greenlet : public GreenletBase {
 public:
  /// gevent's `value`: the result once finished successfully; nullopt before, after an error, and
  /// after GreenletExit. (For R = void, `true` once it returned.)
  auto value() const { return state().value; }
  /// gevent's `get(block, timeout)`: the result, or rethrows what ended the greenlet. Not ready
  /// and `block` false, or still not ready after `timeout`: raises TimeoutExpired (source null).
  R get(bool block = true, const trident::Timeout& timeout = std::nullopt) const {
    detail::rethrow_or_timeout(*state_, block, timeout);
    if constexpr (!std::is_void_v<R>) return *state().value;
  }

 private:
  template <class F, class... A>
  friend auto spawn(const SpawnOptions& options, F&& f, A&&... args);
  explicit Greenlet(std::shared_ptr<detail::StateBase> s) noexcept : GreenletBase(std::move(s)) {}
  detail::State<R>& state() const noexcept { return static_cast<detail::State<R>&>(*state_); }
};

/// gevent's `spawn(fn, *args)` with options: a Greenlet running `f(args...)` (decay-copied) on
/// the calling thread's hub. It starts when the hub next runs: at the spawner's next wait.
template <class F, class... A>
auto spawn(const SpawnOptions& options, F&& f, A&&... args) {
  using R = std::invoke_result_t<std::decay_t<F>, std::decay_t<A>...>;
  auto state = std::make_shared<detail::State<R>>(
      [fn = std::forward<F>(f), ... a = std::forward<A>(args)]() mutable -> R { return std::invoke(fn, a...); });
  state->name = options.name;
  detail::start(state, options.stack_size);
  return Greenlet<R>(std::move(state));
}

/// gevent's `spawn(fn, *args)`.
template <class F, class... A>
requires(!std::is_same_v<std::remove_cvref_t<F>, SpawnOptions>) auto spawn(F&& f, A&&... args) {
  return spawn(SpawnOptions{}, std::forward<F>(f), std::forward<A>(args)...);
}

/// gevent's `sleep(seconds)`. 0 yields to the other ready greenlets, and this one may run again
/// before the loop polls for events; > 0 resumes no earlier than the next loop iteration (note
/// 004). Negative counts as 0, as in gevent; NaN is ValueError. Interruptible by a Timeout scope or kill.
void sleep(double seconds = 0);

/// gevent's `getcurrent()`: the running greenlet (the thread's main greenlet outside any other).
greenlet::greenlet getcurrent();

/// Options of joinall: gevent's `joinall(greenlets, timeout=None, raise_error=False, count=None)`.
struct JoinAllOptions {
  /// Give up after this long (nullopt: forever).
  trident::Timeout timeout = std::nullopt;
  /// Rethrow the first error of a finished greenlet (GreenletExit is not an error).
  bool raise_error = false;
  /// Return once this many have finished (nullopt: all of them).
  std::optional<std::size_t> count = std::nullopt;
};

/// gevent's `joinall`: waits for the greenlets (see JoinAllOptions); returns those that finished,
/// in the order they finished (ties in argument order).
std::vector<GreenletBase> joinall(const std::vector<GreenletBase>& greenlets, const JoinAllOptions& options = {});

/// joinall over greenlets of one result type, returning them typed.
template <class R>
std::vector<Greenlet<R>> joinall(const std::vector<Greenlet<R>>& greenlets, const JoinAllOptions& options = {}) {
  std::vector<GreenletBase> base(greenlets.begin(), greenlets.end());
  std::vector<Greenlet<R>> out;
  for (auto& done : joinall(base, options)) {
    for (auto& g : greenlets) {
      if (g == done) out.push_back(g);
    }
  }
  return out;
}

/// gevent's `killall(greenlets, exception, block, timeout)`: raises the exception in each, then
/// (with block) waits for all of them together.
void killall(const std::vector<GreenletBase>& greenlets, const KillOptions& options = {});

/// gevent's `Timeout(seconds)` used as a context manager: while this scope lives, a blocking gevent
/// call of the greenlet that made it raises TimeoutExpired once `seconds` passed. Nested scopes
/// each have their own timer; when several have expired, the inner-most one's exception is raised.
/// Leaving the scope cancels it. nullopt never fires (gevent's `Timeout(None)`).
class Timeout {
 public:
  explicit Timeout(trident::Timeout seconds);
  Timeout(const Timeout&) = delete;
  Timeout& operator=(const Timeout&) = delete;
  ~Timeout();
  /// gevent's `cancel()`: disarms the timer (also done when the scope ends).
  void cancel() noexcept;
  /// gevent's `pending`: armed and not yet expired or cancelled.
  bool pending() const noexcept;
  /// The seconds it was made with (nullopt: never).
  trident::Timeout seconds() const noexcept { return seconds_; }

 private:
  struct Rec;
  trident::Timeout seconds_;
  std::unique_ptr<Rec> rec_;
};

/// gevent's `with_timeout(seconds, fn, *args)`: `f(args...)` inside a Timeout scope.
template <class F, class... A>
decltype(auto) with_timeout(trident::Timeout seconds, F&& f, A&&... args) {
  Timeout scope(seconds);
  return std::invoke(std::forward<F>(f), std::forward<A>(args)...);
}

}  // namespace trident::gevent
