// trident/futures.hpp — Python's `concurrent.futures` (the thread part).
//
// `Future<T>`, `Executor`, `ThreadPoolExecutor`, `wait()`, `as_completed()`, `FIRST_COMPLETED`,
// `FIRST_EXCEPTION`, `ALL_COMPLETED`, with CPython's (3.13) names and semantics. Futures complete
// through trident's waiting core, so any waiter — an OS thread, later a greenlet — parks the same
// way on a thread-pool future. The errors (`CancelledError`, `InvalidStateError`,
// `BrokenExecutor`, `BrokenThreadPool`, `TimeoutError`) live in trident/errors.hpp.
//
// What deliberately differs from Python:
// - A future is typed: `Future<T>` (or `Future<void>`) is a shared handle; copies refer to the same
//   future (like Python references), `==` compares identity. `result()` returns a copy of the
//   value; for a move-only T it is not available and `take_result()` moves the value out once.
// - A task's exception is kept as a `std::exception_ptr`: `result()` rethrows it with its original
//   type, `exception()` returns it (nullptr when the call succeeded).
// - Keyword arguments are options structs (`ThreadPoolOptions`, `MapOptions`, given first);
//   Python's `initializer` + `initargs` is one closure. `submit(fn, args...)` decay-copies the
//   arguments (moving rvalues, so move-only arguments work) and calls `fn` with them as rvalues,
//   as std::thread does; a task returning a reference yields a copy of the referent.
// - `wait()` returns vectors instead of sets (input order, duplicates removed); `as_completed()`
//   and `Executor::map()` return lazy input ranges instead of generators (common ranges, with a
//   `to_vector()` for Python's `list(...)`). Both take any range of futures, or a map keyed by
//   futures (its keys, as iterating a Python dict gives); futures order and hash by identity.
// - `f.exception()` is a `std::exception_ptr`: `trident::repr(f.exception())` (errors.hpp) prints
//   it as Python's `repr(exc)` does.
// - A negative timeout is a ValueError (Python quietly treats it as 0), as everywhere in trident.
// - As in Python, `cancel()` makes `done()` true at once, but wait() and as_completed() count a
//   cancelled future as completed only once its executor noticed (Python's CANCELLED versus
//   CANCELLED_AND_NOTIFIED). Unlike Python, `shutdown(cancel_futures=true)` notifies them at once,
//   so a wait() on them returns instead of hanging.
// - An exception escaping a done-callback or a worker's initializer is reported through
//   set_log_handler() (Python's "concurrent.futures" logger); the default writes to stderr.
// - An executor's destructor is Python's `with` exit: `shutdown(wait=true)`. It also waits after
//   an earlier `shutdown(wait=false)`, since the workers use the executor's state.
#pragma once

#include <atomic>
#include <compare>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <functional>
#include <initializer_list>
#include <iterator>
#include <memory>
#include <new>
#include <optional>
#include <ranges>
#include <span>
#include <string>
#include <string_view>
#include <tuple>
#include <type_traits>
#include <typeinfo>
#include <utility>
#include <variant>
#include <vector>

#include "trident/detail/wait.hpp"
#include "trident/errors.hpp"
#include "trident/timeout.hpp"

namespace trident::futures {

template <class T>
class Future;
class Executor;
class ThreadPoolExecutor;

namespace detail {
class FutureCore;
template <class T>
class FutureState;
class AsCompletedState;
struct FutureAccess;
}  // namespace detail

/// Python's `return_when` values for wait().
enum class ReturnWhen {
  FIRST_COMPLETED,  ///< return when any future finishes or is cancelled
  FIRST_EXCEPTION,  ///< return when any future finishes by raising, or when all are done
  ALL_COMPLETED,    ///< return when all futures finished or were cancelled
};
/// Python's `concurrent.futures.FIRST_COMPLETED`.
inline constexpr ReturnWhen FIRST_COMPLETED = ReturnWhen::FIRST_COMPLETED;
/// Python's `concurrent.futures.FIRST_EXCEPTION`.
inline constexpr ReturnWhen FIRST_EXCEPTION = ReturnWhen::FIRST_EXCEPTION;
/// Python's `concurrent.futures.ALL_COMPLETED`.
inline constexpr ReturnWhen ALL_COMPLETED = ReturnWhen::ALL_COMPLETED;

/// Receives what Python logs on the "concurrent.futures" logger: an exception nobody can catch
/// (a done-callback's, a worker initializer's) with a line saying where it came from.
using LogHandler = std::function<void(std::string_view message, std::exception_ptr error)>;
/// Installs `handler` (empty: default_log_handler) and returns the previous one. Thread-safe; the
/// handler may be called from any thread and must not throw.
LogHandler set_log_handler(LogHandler handler);
/// Writes `message`, then "TYPE: what()" for `error` (when not null), to stderr.
void default_log_handler(std::string_view message, std::exception_ptr error);

/// Python's `concurrent.futures.Future`: the eventual outcome of a call. A shared handle: copies
/// refer to the same future, and the state lives as long as any handle (or its executor) does.
/// Every method may be called from any thread. A moved-from handle may only be assigned to or
/// destroyed.
template <class T>
class Future {
  static_assert(std::is_void_v<T> ||
                    (std::is_object_v<T> && !std::is_array_v<T> && !std::is_const_v<T> && !std::is_volatile_v<T>),
                "Future<T>: T must be void or a non-const, non-array object type");

 public:
  /// The result type (Python's futures are untyped).
  using value_type = T;

  /// A new pending future tied to no executor, for executor writers and tests (Python's `Future()`).
  Future();
  Future(const Future& other) noexcept;
  Future(Future&& other) noexcept;
  Future& operator=(const Future& other) noexcept;
  Future& operator=(Future&& other) noexcept;
  ~Future();

  /// Cancels the future if it has not started running: true if it is (now) cancelled, false if it
  /// is running or finished. Done-callbacks run in the calling thread.
  bool cancel() const;
  /// Whether the future was cancelled.
  bool cancelled() const noexcept;
  /// Whether the call is running (and so cannot be cancelled).
  bool running() const noexcept;
  /// Whether the future was cancelled or finished.
  bool done() const noexcept;

  /// The call's return value (a copy; void for Future<void>). Blocks until the future is done or
  /// `timeout` passes. Rethrows the call's exception with its original type; throws CancelledError
  /// if cancelled, TimeoutError "Future::result(): ..." on timeout, ValueError for a negative
  /// timeout, InvalidStateError if take_result() moved the value out.
  T result(Timeout timeout = std::nullopt) const requires(std::is_void_v<T> || std::copy_constructible<T>);
  /// Like result(), but moves the value out (the way to get a move-only T). Only once: afterwards
  /// result() and take_result() throw InvalidStateError. Not in Python.
  T take_result(Timeout timeout = std::nullopt) const requires(!std::is_void_v<T>);
  /// The call's exception, or nullptr if it returned. Blocks like result() and throws
  /// CancelledError, TimeoutError and ValueError as it does. `trident::repr(f.exception())`
  /// (errors.hpp) prints it as Python prints `repr(f.exception())`: "ValueError('bad value')".
  std::exception_ptr exception(Timeout timeout = std::nullopt) const;
  /// Calls `fn(future)` when the future is cancelled or finished: at once in the calling thread if
  /// it already is, otherwise in the thread that completes or cancels it. Callbacks run in the
  /// order they were added. An exception escaping `fn` is reported through the log handler
  /// ("exception calling callback for <Future ...>"), never propagated.
  void add_done_callback(std::function<void(const Future&)> fn) const;

  /// For executor writers: marks a pending future running and returns true, or, for a cancelled
  /// one, records that its executor noticed (waking wait()/as_completed()) and returns false.
  /// Throws RuntimeError "Future::set_running_or_notify_cancel(): Future in unexpected state ..."
  /// if it is already running or finished.
  bool set_running_or_notify_cancel() const;
  /// For executor writers: finishes the future with `value` (`set_result()` for Future<void>),
  /// waking waiters and running callbacks in the calling thread. Throws InvalidStateError
  /// "Future::set_result(): FINISHED: <Future ...>" if it is cancelled or finished (or is an
  /// executor's future whose call is running: its executor sets the outcome).
  template <class U = T>
  requires(!std::is_void_v<U> && std::same_as<U, T>) void set_result(std::type_identity_t<U> value) const;
  void set_result() const requires std::is_void_v<T>;
  /// For executor writers: finishes the future with the exception `error` (not null: ValueError).
  /// Throws InvalidStateError like set_result().
  void set_exception(std::exception_ptr error) const;

  /// Python's `repr(future)`: "<Future at 0x... state=finished returned int>".
  std::string repr() const;

  /// Identity, like Python's `is` (futures hash by identity, see std::hash below).
  friend bool operator==(const Future& a, const Future& b) noexcept { return a.state_ == b.state_; }
  /// An arbitrary but fixed total order on identities, so futures can key a std::map or fill a
  /// std::set (Python's dict and set of futures). It says nothing about submission order.
  friend std::strong_ordering operator<=>(const Future& a, const Future& b) noexcept {
    return std::compare_three_way()(a.state_, b.state_);
  }

 private:
  friend struct detail::FutureAccess;
  struct Adopt {};
  Future(detail::FutureState<T>* state, Adopt) noexcept : state_(state) {}

  detail::FutureState<T>* state_;
};

/// Python's `DoneAndNotDoneFutures` named tuple, with vectors for sets: each future of wait()'s
/// input appears once, in the order of its first appearance.
template <class T>
struct DoneAndNotDone {
  std::vector<Future<T>> done;
  std::vector<Future<T>> not_done;
};

/// Python's `wait()` keyword arguments: `futures::wait(fs, {.timeout = 2s, .return_when =
/// futures::FIRST_COMPLETED})`.
struct WaitOptions {
  /// How long to wait at most (nullopt: forever).
  Timeout timeout = std::nullopt;
  /// When to return.
  ReturnWhen return_when = ReturnWhen::ALL_COMPLETED;
};

namespace detail {
// What wait() and as_completed() accept as `fs`: a range of Future<T> — or, as iterating a
// Python dict gives its keys, a range of pairs whose first member is a Future<T> (a std::map or
// std::unordered_map keyed by futures).
template <class E>
struct future_element {};
template <class T>
struct future_element<Future<T>> {
  using result_type = T;
  static const Future<T>& get(const Future<T>& f) noexcept { return f; }
};
template <class T, class V>
struct future_element<std::pair<const Future<T>, V>> {
  using result_type = T;
  static const Future<T>& get(const std::pair<const Future<T>, V>& p) noexcept { return p.first; }
};
template <class T, class V>
struct future_element<std::pair<Future<T>, V>> {
  using result_type = T;
  static const Future<T>& get(const std::pair<Future<T>, V>& p) noexcept { return p.first; }
};
template <class R>
using future_element_t = future_element<std::ranges::range_value_t<R>>;
template <class R>
concept future_range = std::ranges::input_range<R> && requires {
  typename future_element_t<R>::result_type;
};
template <class R>
using range_result_t = typename future_element_t<R>::result_type;
}  // namespace detail

/// Python's `concurrent.futures.wait(fs, timeout, return_when)`: blocks until `return_when` is
/// met or `timeout` passes (nullopt: forever), then returns which futures are done. `fs` is any
/// input range of Future<T> (a vector, a std::set, a view, ...) or a map keyed by futures, whose
/// keys are waited for (Python's dict). Futures may come from any executors. Like Python, a
/// future cancelled but not yet noticed by its executor is not done yet. Throws ValueError for a
/// negative timeout; never TimeoutError.
template <detail::future_range R>
DoneAndNotDone<detail::range_result_t<R>> wait(R&& fs, Timeout timeout = std::nullopt,
                                               ReturnWhen return_when = ReturnWhen::ALL_COMPLETED);
/// Python's `wait(fs, return_when=...)`: `futures::wait(fs, futures::FIRST_COMPLETED)`, no timeout.
template <detail::future_range R>
DoneAndNotDone<detail::range_result_t<R>> wait(R&& fs, ReturnWhen return_when) {
  return wait(std::forward<R>(fs), std::nullopt, return_when);
}
/// wait() with Python's keyword arguments: `futures::wait(fs, {.return_when = FIRST_EXCEPTION})`.
template <detail::future_range R>
DoneAndNotDone<detail::range_result_t<R>> wait(R&& fs, WaitOptions options) {
  return wait(std::forward<R>(fs), options.timeout, options.return_when);
}
/// wait() on a braced list: `futures::wait({f1, f2}, 1s)`.
template <class T>
DoneAndNotDone<T> wait(std::initializer_list<Future<T>> fs, Timeout timeout = std::nullopt,
                       ReturnWhen return_when = ReturnWhen::ALL_COMPLETED) {
  return wait(std::span<const Future<T>>(fs.begin(), fs.size()), timeout, return_when);
}
/// wait() on a braced list with `return_when` only: `futures::wait({f1, f2}, FIRST_COMPLETED)`.
template <class T>
DoneAndNotDone<T> wait(std::initializer_list<Future<T>> fs, ReturnWhen return_when) {
  return wait(std::span<const Future<T>>(fs.begin(), fs.size()), std::nullopt, return_when);
}
/// wait() on a braced list with options: `futures::wait({f1, f2}, {.timeout = 1s})`.
template <class T>
DoneAndNotDone<T> wait(std::initializer_list<Future<T>> fs, WaitOptions options) {
  return wait(std::span<const Future<T>>(fs.begin(), fs.size()), options.timeout, options.return_when);
}

template <class T>
class AsCompleted;

/// Python's `concurrent.futures.as_completed(fs, timeout)`: yields each distinct future of `fs`
/// once, as it completes (see AsCompleted). `fs` is what wait() accepts: any input range of
/// Future<T>, or a map keyed by futures (its keys, as iterating a Python dict gives). The timeout
/// counts from this call. Throws ValueError for a negative timeout. Like Python, a future
/// cancelled but not yet noticed by its executor is not complete yet.
template <detail::future_range R>
AsCompleted<detail::range_result_t<R>> as_completed(R&& fs, Timeout timeout = std::nullopt);
/// as_completed() on a braced list: `futures::as_completed({f1, f2})`.
template <class T>
AsCompleted<T> as_completed(std::initializer_list<Future<T>> fs, Timeout timeout = std::nullopt) {
  return as_completed(std::span<const Future<T>>(fs.begin(), fs.size()), timeout);
}

/// The lazy range as_completed() returns: an input range of the futures as they complete.
/// `*it` blocks until the next future completes (those done at the call come first, in input
/// order) and throws TimeoutError "as_completed(): N (of M) futures unfinished" once the overall
/// timeout has passed with nothing left to give; `it == end()` never blocks. A common range
/// (begin() and end() have one type), so `std::vector<Future<T>> v(r.begin(), r.end())` works.
/// Movable, not copyable.
template <class T>
class AsCompleted {
 public:
  class iterator;
  AsCompleted(AsCompleted&&) noexcept = default;
  AsCompleted& operator=(AsCompleted&&) noexcept = default;
  ~AsCompleted();

  iterator begin() noexcept { return iterator(impl_.get()); }
  iterator end() const noexcept { return iterator(); }
  /// Blocks until every future completed and returns them in completion order (Python's
  /// `list(as_completed(fs))`). Throws TimeoutError as iterating does; the range is then used up
  /// as far as it got.
  std::vector<Future<T>> to_vector();

 private:
  friend struct detail::FutureAccess;
  struct Impl;
  explicit AsCompleted(std::unique_ptr<Impl> impl) noexcept : impl_(std::move(impl)) {}
  std::unique_ptr<Impl> impl_;
};

/// Python's `Executor.map()` keyword arguments.
struct MapOptions {
  /// The overall time allowed, counted from the map() call; each value's wait gets what is left.
  Timeout timeout = std::nullopt;
  /// Python's `chunksize`; must be >= 1 and, as in Python's ThreadPoolExecutor, has no effect.
  int chunksize = 1;
};

/// The lazy range Executor::map() returns (Python returns a generator): the calls' results in the
/// order of the inputs. `*it` blocks until that call finished (within MapOptions::timeout) and
/// returns a reference to its value — `std::monostate` (Python's None) for a void function;
/// it rethrows the call's exception, or throws TimeoutError. After such an exception the range is
/// over and the calls not yet reached are cancelled; once iteration has begun, destroying the
/// range cancels the calls not yet reached (Python's generator close). A range never iterated
/// cancels nothing, like an unstarted generator. A common range (begin() and end() have one
/// type), so `std::vector v(r.begin(), r.end())` copies the values out; to_vector() moves them.
/// Movable, not copyable.
template <class T>
class MapResults {
 public:
  /// What `*it` gives a reference to.
  using value_type = std::conditional_t<std::is_void_v<T>, std::monostate, T>;
  class iterator;
  MapResults(MapResults&&) noexcept = default;
  MapResults& operator=(MapResults&&) noexcept = default;
  ~MapResults();

  iterator begin() noexcept { return iterator(impl_.get()); }
  iterator end() const noexcept { return iterator(); }
  /// Python's `list(ex.map(fn, xs))`: blocks until every remaining call finished and moves their
  /// values out, in input order (works for a move-only T). Throws as iterating does (the call's
  /// exception, TimeoutError), cancelling the calls not reached.
  std::vector<value_type> to_vector();

 private:
  friend class Executor;
  struct Impl;
  explicit MapResults(std::unique_ptr<Impl> impl) noexcept : impl_(std::move(impl)) {}
  std::unique_ptr<Impl> impl_;
};

/// One submitted call and its future, as Executor::schedule() receives it (Python's `_WorkItem`).
/// Owns a reference to the future; dropping it unused leaves the future pending. run(), cancel()
/// and fail() each use the item up: afterwards the others do nothing.
class WorkItem {
 public:
  WorkItem(WorkItem&& other) noexcept : core_(std::exchange(other.core_, nullptr)) {}
  WorkItem& operator=(WorkItem&& other) noexcept;
  ~WorkItem();

  /// Runs the call in the calling thread and finishes the future with its value or exception
  /// (callbacks run here); a cancelled future is only marked as noticed. Python's `run()`.
  void run() noexcept;
  /// Cancels the future (if still pending) and marks it noticed, as an executor does for work it
  /// drops (shutdown with cancel_futures).
  void cancel() noexcept;
  /// Finishes the still-pending future with `error` (a BrokenExecutor, typically); a cancelled
  /// one is marked noticed instead.
  void fail(std::exception_ptr error) noexcept;

 private:
  friend class Executor;
  friend class ThreadPoolExecutor;
  explicit WorkItem(detail::FutureCore* core) noexcept : core_(core) {}
  detail::FutureCore* core_;
};

namespace detail {
// What submit(fn, args...) makes a future of: the call's result with references and cv dropped.
template <class F, class... Args>
using call_result_t = std::remove_cvref_t<std::invoke_result_t<std::decay_t<F>, std::decay_t<Args>...>>;
// What map(fn, ranges...) makes futures of: fn called through a const reference with copies.
template <class F, class... Ranges>
using map_result_t = std::remove_cvref_t<
    std::invoke_result_t<const std::decay_t<F>&, std::decay_t<std::ranges::range_reference_t<Ranges>>...>>;
template <class F, class... Ranges>
concept mappable = sizeof...(Ranges) > 0 && (std::ranges::input_range<Ranges> && ...) &&
                   std::invocable<const std::decay_t<F>&, std::decay_t<std::ranges::range_reference_t<Ranges>>...>;
}  // namespace detail

/// Python's `concurrent.futures.Executor`: the abstract base of executors. A concrete executor
/// implements schedule() and shutdown(), and calls shutdown(true) in its destructor.
class Executor {
 public:
  Executor() = default;
  Executor(const Executor&) = delete;
  Executor& operator=(const Executor&) = delete;
  virtual ~Executor();

  /// Schedules `fn(args...)` and returns its future. Does not block. `fn` and `args` are
  /// decay-copied and called as rvalues; they are destroyed as soon as the call returns. Throws
  /// what schedule() throws: RuntimeError "...: cannot schedule new futures after shutdown",
  /// BrokenExecutor when the executor is broken.
  template <class F, class... Args>
  requires std::invocable<std::decay_t<F>, std::decay_t<Args>...> Future<detail::call_result_t<F, Args...>> submit(
      F&& fn, Args&&... args);

  /// Python's `map(fn, *iterables)`: submits `fn(x, y, ...)` for each tuple of elements taken
  /// from the ranges in lockstep (stopping at the shortest), all at once, and returns their
  /// results lazily, in order (see MapResults). `fn` is copied once and called concurrently
  /// through a const reference; elements are copied. Throws like submit().
  template <class F, class... Ranges>
  requires detail::mappable<F, Ranges...> MapResults<detail::map_result_t<F, Ranges...>> map(F&& fn,
                                                                                             Ranges&&... iterables) {
    return map(MapOptions{}, std::forward<F>(fn), std::forward<Ranges>(iterables)...);
  }
  /// map() with Python's keyword arguments: `ex.map({.timeout = 2s}, fn, xs)`. Throws ValueError
  /// for a negative timeout or a chunksize below 1.
  template <class F, class... Ranges>
  requires detail::mappable<F, Ranges...> MapResults<detail::map_result_t<F, Ranges...>> map(MapOptions options, F&& fn,
                                                                                             Ranges&&... iterables);
  /// map() over a braced list, as Python's `ex.map(sq, [1, 2, 3])`: `ex.map(sq, {1, 2, 3})`. (With
  /// several iterables, name the lists: a braced list cannot be deduced among them.)
  template <class F, class U>
  requires detail::mappable<F, std::span<const U>> MapResults<detail::map_result_t<F, std::span<const U>>> map(
      F&& fn, std::initializer_list<U> iterable) {
    return map(MapOptions{}, std::forward<F>(fn), std::span<const U>(iterable.begin(), iterable.size()));
  }
  /// map() over a braced list with options: `ex.map({.timeout = 2s}, sq, {1, 2, 3})`.
  template <class F, class U>
  requires detail::mappable<F, std::span<const U>> MapResults<detail::map_result_t<F, std::span<const U>>> map(
      MapOptions options, F&& fn, std::initializer_list<U> iterable) {
    return map(options, std::forward<F>(fn), std::span<const U>(iterable.begin(), iterable.size()));
  }

  /// Python's `shutdown(wait=True, *, cancel_futures=False)`: no new work is accepted; with
  /// `cancel_futures`, calls not yet started are cancelled; with `wait`, blocks until every
  /// running and queued call finished and the executor's resources are freed. May be called
  /// more than once.
  virtual void shutdown(bool wait = true, bool cancel_futures = false) = 0;

 protected:
  /// Accepts `item` to run it later (item.run()), or throws (RuntimeError after shutdown,
  /// BrokenExecutor when broken) without running it.
  virtual void schedule(WorkItem item) = 0;
};

/// Python's `ThreadPoolExecutor(max_workers, thread_name_prefix, initializer, initargs)`.
struct ThreadPoolOptions {
  /// How many worker threads at most; unset: min(32, cpu_count() + 4), counting the CPUs this
  /// process may run on (Python 3.13's os.process_cpu_count()).
  std::optional<int> max_workers = std::nullopt;
  /// Workers are named "<prefix>_<i>"; empty: "ThreadPoolExecutor-<n>" (n counts executors).
  std::string thread_name_prefix = {};
  /// Called first in each worker thread (Python's initializer with its initargs bound). If it
  /// throws, the pool becomes broken (see ThreadPoolExecutor).
  std::function<void()> initializer = {};
};

/// Python's `concurrent.futures.ThreadPoolExecutor`: runs calls on a pool of threading::Thread
/// workers (they appear in threading::enumerate()). Workers start lazily: a submit() starts one
/// when no idle worker is left to take the call, up to max_workers. Calls run in submission
/// order. If an initializer throws, the pool is broken: the error is logged ("Exception in
/// initializer:"), every queued call fails with BrokenThreadPool "... A thread initializer failed,
/// the thread pool is not usable anymore", and so does every later submit().
class ThreadPoolExecutor : public Executor {
 public:
  /// Throws ValueError "ThreadPoolExecutor(): max_workers must be greater than 0".
  explicit ThreadPoolExecutor(ThreadPoolOptions options = {});
  /// Python's `ThreadPoolExecutor(max_workers)`; throws like the options form.
  explicit ThreadPoolExecutor(int max_workers);
  /// Python's `with` exit: shutdown(true). Must not run in one of the pool's own workers.
  ~ThreadPoolExecutor() override;

  /// See Executor::shutdown(). Throws RuntimeError (from Thread::join) when asked to wait from
  /// one of the pool's own workers, after the other workers finished.
  void shutdown(bool wait = true, bool cancel_futures = false) override;
  /// The maximum number of workers (Python's `_max_workers`).
  int max_workers() const noexcept;
  /// How many worker threads were started so far (Python's `len(executor._threads)`).
  std::size_t worker_count() const;

 protected:
  void schedule(WorkItem item) override;

 private:
  struct Pool;
  std::shared_ptr<Pool> pool_;  // shared with the exit handler, which may join the workers too
};

// ================================ implementation details ================================

namespace detail {

using trident::detail::Deadline;
using trident::detail::WaitList;

// A future's state: Python's five, plus kCompleting — one producer won the right to finish the
// future and is storing the outcome; it reads as running, and nothing else may change it.
enum class State : std::uint8_t { kPending, kRunning, kCompleting, kCancelled, kCancelledAndNotified, kFinished };

// How a future completed, as wait() and as_completed() learn it.
enum class Outcome : std::uint8_t { kResult, kException, kCancelled };

// A done-callback waiting in a future's list.
class CallbackNode {
 public:
  CallbackNode() = default;
  CallbackNode(const CallbackNode&) = delete;
  CallbackNode& operator=(const CallbackNode&) = delete;
  virtual ~CallbackNode() = default;
  virtual void invoke(FutureCore& core) = 0;
  CallbackNode* next = nullptr;  // guarded by the future's lock while queued
};

class FutureWaiter;

// One future's membership in a wait()/as_completed() call; owned by the FutureWaiter.
struct WaiterLink {
  FutureWaiter* owner = nullptr;
  std::size_t index = 0;
  FutureCore* core = nullptr;  // the future it is linked into, or null; touched by the owner only
  WaiterLink* prev = nullptr;  // guarded by the future's lock
  WaiterLink* next = nullptr;
};

// The untyped part of a future: its state machine, waiters, callbacks and reference count. A task
// submitted to an executor is a FutureCore too (TaskState), so a submit makes one allocation.
class FutureCore {
 public:
  FutureCore(const FutureCore&) = delete;
  FutureCore& operator=(const FutureCore&) = delete;

  void add_ref() noexcept { refs_.fetch_add(1, std::memory_order_relaxed); }
  void release() noexcept {
    if (refs_.fetch_sub(1, std::memory_order_acq_rel) == 1) delete this;
  }

  State state() const noexcept { return state_.load(std::memory_order_acquire); }
  static bool is_done(State s) noexcept {
    return s == State::kCancelled || s == State::kCancelledAndNotified || s == State::kFinished;
  }
  bool cancelled() const noexcept {
    const State s = state();
    return s == State::kCancelled || s == State::kCancelledAndNotified;
  }
  bool running() const noexcept {
    const State s = state();
    return s == State::kRunning || s == State::kCompleting;
  }
  bool done() const noexcept { return is_done(state()); }

  // Python's cancel(); callbacks run in the caller.
  bool cancel() noexcept;
  // Python's set_running_or_notify_cancel().
  bool set_running_or_notify_cancel();
  // Returns once the future is FINISHED; throws CancelledError / TimeoutError / ValueError (for a
  // negative timeout) naming `api`.
  void wait_finished(const Timeout& timeout, const char* api) {
    // Only the no-timeout call takes the inline fast path (a timed one is validated out of line):
    // reading the optional's payload here makes GCC 12 -O2 warn, wrongly, in callers' code.
    if (state() == State::kFinished && !timeout.has_value()) [[likely]]
      return;
    wait_finished_slow(timeout, api);
  }
  // The call's exception once FINISHED (written before the state became FINISHED).
  const std::exception_ptr& stored_exception() const noexcept { return exception_; }
  // Takes ownership of `node`; runs it now (in the caller) if the future is done.
  void add_callback(CallbackNode* node);
  // Python's repr(future).
  std::string repr() const;

  // ---- producers: claim, store the outcome, then publish and run the callbacks ----
  // PENDING/RUNNING -> COMPLETING and returns the previous state; else InvalidStateError("api: ...").
  State claim(const char* api);
  // Undoes claim() when storing the value threw.
  void unclaim(State previous) noexcept { state_.store(previous, std::memory_order_release); }
  // Stores `error` as the outcome (claimant only).
  void store_exception(std::exception_ptr error) noexcept { exception_ = std::move(error); }
  // COMPLETING -> FINISHED: wakes result() waiters and wait()/as_completed() callers; returns the
  // callbacks (in order) for run_callbacks().
  CallbackNode* publish() noexcept;
  // Runs and frees `list`, reporting exceptions through the log handler.
  void run_callbacks(CallbackNode* list) noexcept;
  void finish() noexcept { run_callbacks(publish()); }
  // Executors: PENDING -> COMPLETING before running the call; false (and the cancellation
  // noticed, or an unexpected state reported) if the future is not pending.
  bool start_task() noexcept;
  // CANCELLED -> CANCELLED_AND_NOTIFIED, telling wait()/as_completed(); false if not cancelled.
  bool notify_cancel() noexcept;
  // Fails a pending future with `error`, or notices its cancellation.
  void fail(std::exception_ptr error) noexcept;
  // Tasks: runs the call and stores its outcome without publishing it; false if there is nothing
  // to publish (the future was cancelled). Plain futures have no call.
  virtual bool execute() noexcept { return false; }
  // The executor's queue link, guarded by that queue's lock.
  FutureCore* next_work = nullptr;

  // ---- wait() / as_completed() ----
  // Links `link` unless the future is already finished or its cancellation noticed; then returns
  // false with `outcome` set.
  bool link(WaiterLink& link, Outcome& outcome) noexcept;
  void unlink(WaiterLink& link) noexcept;

 protected:
  FutureCore(const std::type_info& result_type, std::uint32_t refs) noexcept
      : refs_(refs), state_(State::kPending), result_type_(&result_type) {}
  virtual ~FutureCore();

  std::exception_ptr exception_;    // written by the claimant while COMPLETING
  bool has_value_ = false;          // likewise; the value is constructed
  std::atomic<bool> taken_{false};  // take_result() moved the value out

 private:
  void wait_finished_slow(const Timeout& timeout, const char* api);
  void notify_links_locked(Outcome outcome) noexcept;

  std::atomic<std::uint32_t> refs_;
  std::atomic<State> state_;
  // result() waiters. Its spin lock also guards callbacks_ and links_ and every change of state_
  // to FINISHED or CANCELLED_AND_NOTIFIED.
  WaitList waiters_;
  CallbackNode* callbacks_ = nullptr;  // newest first
  WaiterLink* links_ = nullptr;
  const std::type_info* result_type_;
};

[[noreturn]] void throw_taken(const char* api);

// The typed part: storage for the value.
template <class T>
class FutureState : public FutureCore {
 public:
  explicit FutureState(std::uint32_t refs = 1) noexcept : FutureCore(typeid(T), refs) {}

  template <class... A>
  void store_value(A&&... args) {
    ::new (static_cast<void*>(&value_)) T(std::forward<A>(args)...);
    has_value_ = true;
  }
  // Constructs the value from what `make()` returns, without a move for a prvalue.
  template <class G>
  void store_value_from(G& make) {
    ::new (static_cast<void*>(&value_)) T(make());
    has_value_ = true;
  }
  const T& value(const char* api) const {
    if (taken_.load(std::memory_order_acquire)) throw_taken(api);
    return value_;
  }
  T take_value(const char* api) {
    if (taken_.exchange(true, std::memory_order_acq_rel)) throw_taken(api);
    return std::move(value_);  // the moved-from value is destroyed with the state
  }

 protected:
  ~FutureState() override {
    if (has_value_) value_.~T();
  }

 private:
  union {
    T value_;  // constructed iff has_value_
  };
};

template <>
class FutureState<void> : public FutureCore {
 public:
  explicit FutureState(std::uint32_t refs = 1) noexcept : FutureCore(typeid(void), refs) {}
  template <class G>
  void store_value_from(G& make) {
    make();
    has_value_ = true;
  }
};

// A submitted call: its future's state plus the callable (destroyed as soon as it returns).
template <class T, class Fn>
class TaskState final : public FutureState<T> {
 public:
  // Two references: the returned Future's and the WorkItem's.
  explicit TaskState(Fn&& fn) : FutureState<T>(2) { ::new (static_cast<void*>(&fn_)) Fn(std::move(fn)); }

  bool execute() noexcept override {
    if (!this->start_task()) {
      drop();
      return false;
    }
    try {
      this->store_value_from(fn_);
      drop();
    } catch (...) {
      drop();
      this->store_exception(std::current_exception());
    }
    return true;
  }

 protected:
  ~TaskState() override { drop(); }

 private:
  void drop() noexcept {
    if (alive_) {
      fn_.~Fn();
      alive_ = false;
    }
  }
  union {
    Fn fn_;  // constructed iff alive_
  };
  bool alive_ = true;
};

template <class T>
class TypedCallback final : public CallbackNode {
 public:
  explicit TypedCallback(std::function<void(const Future<T>&)> fn) : fn_(std::move(fn)) {}
  void invoke(FutureCore& core) override;

 private:
  std::function<void(const Future<T>&)> fn_;
};

// Reaches Future's private state.
struct FutureAccess {
  template <class T>
  static FutureState<T>* state(const Future<T>& f) noexcept {
    return f.state_;
  }
  template <class T>
  static Future<T> adopt(FutureState<T>* s) noexcept {
    return Future<T>(s, typename Future<T>::Adopt{});
  }
  template <class T>
  static Future<T> share(FutureState<T>* s) noexcept {
    s->add_ref();
    return Future<T>(s, typename Future<T>::Adopt{});
  }
  template <class T>
  static AsCompleted<T> make_as_completed(std::vector<Future<T>> distinct, const std::vector<FutureCore*>& cores,
                                          const Deadline& deadline) {
    return AsCompleted<T>(std::make_unique<typename AsCompleted<T>::Impl>(std::move(distinct), cores, deadline));
  }
};

// One wait()/as_completed() call's waiting state: links into each future, the outcomes they
// report and the flag the caller waits for.
class FutureWaiter {
 public:
  enum class Mode : std::uint8_t { kAsCompleted, kFirstCompleted, kFirstException, kAllCompleted };
  struct Entry {
    std::size_t index;
    Outcome outcome;
  };
  FutureWaiter(Mode mode, std::size_t count);
  ~FutureWaiter();
  FutureWaiter(const FutureWaiter&) = delete;
  FutureWaiter& operator=(const FutureWaiter&) = delete;

  // Links entry `index` into `core`; false (with its outcome) if it is already complete.
  bool install(FutureCore& core, std::size_t index, Outcome& outcome) noexcept;
  // Ends installation; `satisfied` when the already-complete futures meet the mode.
  void installed(bool satisfied) noexcept;
  // Waits until the mode is met (or, as_completed, something completed); true if so.
  bool wait_until(const Deadline& deadline) noexcept;
  // Appends the outcomes reported so far to `out` and clears the flag.
  void take(std::vector<Entry>& out);
  void uninstall(std::size_t index) noexcept;
  void uninstall_all() noexcept;
  // Called by a future, its lock held.
  WaitList::Wake notify(std::size_t index, Outcome outcome) noexcept;

 private:
  bool satisfied_locked() const noexcept;
  const Mode mode_;
  std::vector<WaiterLink> links_;      // one per future, never reallocated
  WaitList wl_;                        // the caller parks here; its lock guards the fields below
  std::vector<Entry> reported_;        // reserved for every future, so notify() never allocates
  std::ptrdiff_t linked_pending_ = 0;  // linked futures not yet reported
  bool installing_ = true;
  bool event_ = false;
};

// wait() on distinct futures; done flag per future.
std::vector<char> wait_cores(const std::vector<FutureCore*>& cores, const Deadline& deadline, ReturnWhen return_when);
// The index of the first occurrence of each distinct future, in input order.
std::vector<std::size_t> first_occurrences(const std::vector<FutureCore*>& cores);

// as_completed()'s untyped part: which distinct future to give next.
class AsCompletedState {
 public:
  AsCompletedState(const std::vector<FutureCore*>& cores, const Deadline& deadline);
  // Blocks until a future completes; returns its index and unlinks it. TimeoutError when time is up.
  std::size_t next();
  bool exhausted() const noexcept { return given_ == total_; }
  void mark_given() noexcept { ++given_; }

 private:
  FutureWaiter waiter_;
  std::vector<FutureWaiter::Entry> ready_;
  std::size_t ready_pos_ = 0;
  std::size_t given_ = 0;
  std::size_t total_;
  Deadline deadline_;
};

[[noreturn]] void throw_value_error(const std::string& message);

}  // namespace detail

// ---- Future ----

template <class T>
Future<T>::Future() : state_(new detail::FutureState<T>(1)) {}

template <class T>
Future<T>::Future(const Future& other) noexcept : state_(other.state_) {
  if (state_ != nullptr) state_->add_ref();
}

template <class T>
Future<T>::Future(Future&& other) noexcept : state_(std::exchange(other.state_, nullptr)) {}

template <class T>
Future<T>& Future<T>::operator=(const Future& other) noexcept {
  if (other.state_ != nullptr) other.state_->add_ref();
  if (state_ != nullptr) state_->release();
  state_ = other.state_;
  return *this;
}

template <class T>
Future<T>& Future<T>::operator=(Future&& other) noexcept {
  if (this != &other) {
    if (state_ != nullptr) state_->release();
    state_ = std::exchange(other.state_, nullptr);
  }
  return *this;
}

template <class T>
Future<T>::~Future() {
  if (state_ != nullptr) state_->release();
}

template <class T>
bool Future<T>::cancel() const {
  return state_->cancel();
}

template <class T>
bool Future<T>::cancelled() const noexcept {
  return state_->cancelled();
}

template <class T>
bool Future<T>::running() const noexcept {
  return state_->running();
}

template <class T>
bool Future<T>::done() const noexcept {
  return state_->done();
}

template <class T>
T Future<T>::result(Timeout timeout) const requires(std::is_void_v<T> || std::copy_constructible<T>) {
  state_->wait_finished(timeout, "Future::result()");
  if (state_->stored_exception()) std::rethrow_exception(state_->stored_exception());
  if constexpr (!std::is_void_v<T>) return state_->value("Future::result()");
}

template <class T>
T Future<T>::take_result(Timeout timeout) const requires(!std::is_void_v<T>) {
  state_->wait_finished(timeout, "Future::take_result()");
  if (state_->stored_exception()) std::rethrow_exception(state_->stored_exception());
  return state_->take_value("Future::take_result()");
}

template <class T>
std::exception_ptr Future<T>::exception(Timeout timeout) const {
  state_->wait_finished(timeout, "Future::exception()");
  return state_->stored_exception();
}

template <class T>
void Future<T>::add_done_callback(std::function<void(const Future&)> fn) const {
  state_->add_callback(new detail::TypedCallback<T>(std::move(fn)));
}

template <class T>
bool Future<T>::set_running_or_notify_cancel() const {
  return state_->set_running_or_notify_cancel();
}

template <class T>
template <class U>
requires(!std::is_void_v<U> && std::same_as<U, T>) void Future<T>::set_result(std::type_identity_t<U> value) const {
  const detail::State previous = state_->claim("Future::set_result()");
  try {
    state_->store_value(std::move(value));
  } catch (...) {
    state_->unclaim(previous);
    throw;
  }
  state_->finish();
}

template <class T>
void Future<T>::set_result() const requires std::is_void_v<T> {
  state_->claim("Future::set_result()");
  state_->finish();
}

template <class T>
void Future<T>::set_exception(std::exception_ptr error) const {
  if (!error) detail::throw_value_error("Future::set_exception(): the exception must not be null");
  state_->claim("Future::set_exception()");
  state_->store_exception(std::move(error));
  state_->finish();
}

template <class T>
std::string Future<T>::repr() const {
  return state_->repr();
}

template <class T>
void detail::TypedCallback<T>::invoke(FutureCore& core) {
  const Future<T> handle = FutureAccess::share(static_cast<FutureState<T>*>(&core));
  fn_(handle);
}

// ---- wait ----

namespace detail {
// Calls `fn` with the futures of `fs` as one contiguous run: the range's own storage when it is
// a contiguous range of futures (a vector, an array, a span), otherwise a copy of its futures (or
// of a map's keys).
template <class R, class Fn>
decltype(auto) with_future_span(R& fs, Fn&& fn) {
  using T = range_result_t<R>;
  if constexpr (std::ranges::contiguous_range<R> && std::ranges::sized_range<R> &&
                std::same_as<std::ranges::range_value_t<R>, Future<T>>) {
    return fn(std::span<const Future<T>>(std::ranges::data(fs), std::ranges::size(fs)));
  } else {
    std::vector<Future<T>> copy;
    if constexpr (std::ranges::sized_range<R>) copy.reserve(std::ranges::size(fs));
    for (auto&& element : fs) copy.push_back(future_element_t<R>::get(element));
    return fn(std::span<const Future<T>>(copy));
  }
}

template <class T>
DoneAndNotDone<T> wait_span(std::span<const Future<T>> fs, const Deadline& deadline, ReturnWhen return_when) {
  std::vector<detail::FutureCore*> all;
  all.reserve(fs.size());
  for (const auto& f : fs) all.push_back(detail::FutureAccess::state(f));
  const std::vector<std::size_t> firsts = detail::first_occurrences(all);
  std::vector<detail::FutureCore*> distinct;
  distinct.reserve(firsts.size());
  for (std::size_t i : firsts) distinct.push_back(all[i]);
  const std::vector<char> done = detail::wait_cores(distinct, deadline, return_when);
  DoneAndNotDone<T> r;
  for (std::size_t k = 0; k < firsts.size(); ++k) (done[k] ? r.done : r.not_done).push_back(fs[firsts[k]]);
  return r;
}
}  // namespace detail

template <detail::future_range R>
DoneAndNotDone<detail::range_result_t<R>> wait(R&& fs, Timeout timeout, ReturnWhen return_when) {
  using T = detail::range_result_t<R>;
  const auto deadline = detail::Deadline::after(timeout, "futures::wait()");
  return detail::with_future_span(
      fs, [&](std::span<const Future<T>> s) { return detail::wait_span<T>(s, deadline, return_when); });
}

// ---- as_completed ----

template <class T>
struct AsCompleted<T>::Impl {
  Impl(std::vector<Future<T>> distinct, const std::vector<detail::FutureCore*>& cores, const detail::Deadline& d)
      : fs(std::move(distinct)), state(cores, d) {}
  Future<T>& current() {
    if (!cur) {
      const std::size_t i = state.next();
      cur.emplace(std::move(fs[i]));  // given away: the range keeps no reference (Python's too)
    }
    return *cur;
  }
  void advance() {
    if (state.exhausted()) return;
    if (!cur) current();
    cur.reset();
    state.mark_given();
  }
  std::vector<Future<T>> fs;
  detail::AsCompletedState state;
  std::optional<Future<T>> cur;
};

template <class T>
class AsCompleted<T>::iterator {
 public:
  using value_type = Future<T>;
  using difference_type = std::ptrdiff_t;
  using iterator_concept = std::input_iterator_tag;

  // For std::iterator_traits, so the C++17 iterator-pair constructors (std::vector's) accept it.
  using iterator_category = std::input_iterator_tag;
  using reference = Future<T>&;
  using pointer = Future<T>*;

  /// The end iterator.
  iterator() = default;
  /// Blocks until the next future completes (see AsCompleted).
  Future<T>& operator*() const { return impl_->current(); }
  Future<T>* operator->() const { return &impl_->current(); }
  iterator& operator++() {
    impl_->advance();
    return *this;
  }
  void operator++(int) { ++*this; }
  /// Never blocks: an iterator is at the end once every future was given.
  friend bool operator==(const iterator& a, const iterator& b) noexcept {
    const bool a_end = a.at_end();
    const bool b_end = b.at_end();
    return a_end || b_end ? a_end == b_end : a.impl_ == b.impl_;
  }
  friend bool operator==(const iterator& it, std::default_sentinel_t) noexcept { return it.at_end(); }

 private:
  friend class AsCompleted;
  explicit iterator(Impl* impl) noexcept : impl_(impl) {}
  bool at_end() const noexcept { return impl_ == nullptr || impl_->state.exhausted(); }
  Impl* impl_ = nullptr;
};

template <class T>
AsCompleted<T>::~AsCompleted() = default;

template <class T>
std::vector<Future<T>> AsCompleted<T>::to_vector() {
  std::vector<Future<T>> out;
  for (iterator it = begin(); it != end(); ++it) out.push_back(std::move(*it));
  return out;
}

namespace detail {
template <class T>
AsCompleted<T> as_completed_span(std::span<const Future<T>> fs, const Deadline& deadline) {
  std::vector<detail::FutureCore*> all;
  all.reserve(fs.size());
  for (const auto& f : fs) all.push_back(detail::FutureAccess::state(f));
  const std::vector<std::size_t> firsts = detail::first_occurrences(all);
  std::vector<Future<T>> distinct;
  std::vector<detail::FutureCore*> cores;
  distinct.reserve(firsts.size());
  cores.reserve(firsts.size());
  for (std::size_t i : firsts) {
    distinct.push_back(fs[i]);
    cores.push_back(all[i]);
  }
  return FutureAccess::make_as_completed<T>(std::move(distinct), cores, deadline);
}
}  // namespace detail

template <detail::future_range R>
AsCompleted<detail::range_result_t<R>> as_completed(R&& fs, Timeout timeout) {
  using T = detail::range_result_t<R>;
  const auto deadline = detail::Deadline::after(timeout, "as_completed()");
  return detail::with_future_span(
      fs, [&](std::span<const Future<T>> s) { return detail::as_completed_span<T>(s, deadline); });
}

// ---- map ----

template <class T>
struct MapResults<T>::Impl {
  Impl(std::vector<Future<T>> futures, std::optional<detail::Deadline> d) : fs(std::move(futures)), deadline(d) {}
  ~Impl() {
    if (started) cancel_rest();
  }
  void cancel_rest() noexcept {
    for (std::size_t i = next; i < fs.size(); ++i) {
      try {
        fs[i].cancel();
      } catch (...) {
        // A callback's exception was already reported; nothing else can throw here.
      }
    }
  }
  value_type& current() {
    started = true;
    if (!cur) {
      TRIDENT_ASSERT(next < fs.size(), "MapResults: dereferenced past the end");
      Future<T>& f = fs[next];
      Timeout t;
      if (deadline) t = deadline->remaining();  // Python passes what is left; past: zero
      try {
        if constexpr (std::is_void_v<T>) {
          f.result(t);
          cur.emplace();
        } else {
          cur.emplace(f.take_result(t));
        }
      } catch (...) {
        f.cancel();  // Python's _result_or_cancel()
        ++next;
        cancel_rest();
        next = fs.size();
        throw;
      }
    }
    return *cur;
  }
  void advance() {
    started = true;
    if (next >= fs.size()) return;
    cur.reset();
    Future<T> drop = std::move(fs[next]);  // keep no reference to a value given away
    ++next;
  }
  std::vector<Future<T>> fs;
  std::optional<detail::Deadline> deadline;
  std::size_t next = 0;
  bool started = false;
  std::optional<value_type> cur;
};

template <class T>
class MapResults<T>::iterator {
 public:
  using value_type = typename MapResults<T>::value_type;
  using difference_type = std::ptrdiff_t;
  using iterator_concept = std::input_iterator_tag;

  // For std::iterator_traits, so the C++17 iterator-pair constructors (std::vector's) accept it.
  using iterator_category = std::input_iterator_tag;
  using reference = value_type&;
  using pointer = value_type*;

  /// The end iterator.
  iterator() = default;
  /// Blocks until this call finished; rethrows its exception (see MapResults).
  value_type& operator*() const { return impl_->current(); }
  value_type* operator->() const { return &impl_->current(); }
  iterator& operator++() {
    impl_->advance();
    return *this;
  }
  void operator++(int) { ++*this; }
  /// Never blocks: an iterator is at the end once every value was given (or an exception ended
  /// the range).
  friend bool operator==(const iterator& a, const iterator& b) noexcept {
    const bool a_end = a.at_end();
    const bool b_end = b.at_end();
    return a_end || b_end ? a_end == b_end : a.impl_ == b.impl_;
  }
  friend bool operator==(const iterator& it, std::default_sentinel_t) noexcept { return it.at_end(); }

 private:
  friend class MapResults;
  explicit iterator(Impl* impl) noexcept : impl_(impl) {}
  bool at_end() const noexcept { return impl_ == nullptr || impl_->next >= impl_->fs.size(); }
  Impl* impl_ = nullptr;
};

template <class T>
MapResults<T>::~MapResults() = default;

template <class T>
std::vector<typename MapResults<T>::value_type> MapResults<T>::to_vector() {
  std::vector<value_type> out;
  if (impl_ != nullptr) out.reserve(impl_->fs.size() - impl_->next);
  for (iterator it = begin(); it != end(); ++it) out.push_back(std::move(*it));
  return out;
}

// ---- Executor ----

template <class F, class... Args>
requires std::invocable<std::decay_t<F>, std::decay_t<Args>...> Future<detail::call_result_t<F, Args...>>
Executor::submit(F&& fn, Args&&... args) {
  using R = detail::call_result_t<F, Args...>;
  auto call = [f = std::forward<F>(fn), ... a = std::forward<Args>(args)]() mutable -> decltype(auto) {
    return std::invoke(std::move(f), std::move(a)...);
  };
  auto* task = new detail::TaskState<R, decltype(call)>(std::move(call));
  Future<R> future = detail::FutureAccess::adopt<R>(task);
  schedule(WorkItem(task));
  return future;
}

template <class F, class... Ranges>
requires detail::mappable<F, Ranges...> MapResults<detail::map_result_t<F, Ranges...>> Executor::map(
    MapOptions options, F&& fn, Ranges&&... iterables) {
  using R = detail::map_result_t<F, Ranges...>;
  if (options.chunksize < 1) detail::throw_value_error("Executor::map(): chunksize must be >= 1");
  std::optional<detail::Deadline> deadline;
  if (options.timeout) deadline = detail::Deadline::after(options.timeout, "Executor::map()");
  auto shared = std::make_shared<const std::decay_t<F>>(std::forward<F>(fn));
  std::vector<Future<R>> fs;
  auto its = std::make_tuple(std::ranges::begin(iterables)...);
  auto ends = std::make_tuple(std::ranges::end(iterables)...);
  [&]<std::size_t... I>(std::index_sequence<I...>) {
    while (((std::get<I>(its) != std::get<I>(ends)) && ...)) {
      fs.push_back(submit([shared](auto&&... a) -> decltype(auto) { return std::invoke(*shared, std::move(a)...); },
                          *std::get<I>(its)...));
      (++std::get<I>(its), ...);
    }
  }
  (std::index_sequence_for<Ranges...>{});
  return MapResults<R>(std::make_unique<typename MapResults<R>::Impl>(std::move(fs), deadline));
}

}  // namespace trident::futures

template <class T>
struct std::hash<trident::futures::Future<T>> {
  std::size_t operator()(const trident::futures::Future<T>& f) const noexcept {
    return std::hash<const void*>()(trident::futures::detail::FutureAccess::state(f));
  }
};
