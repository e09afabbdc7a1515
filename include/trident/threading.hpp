// trident/threading.hpp — Python's `threading` module.
//
// Names, arguments and semantics follow CPython's `threading` (3.13): `Thread`, `current_thread`,
// `local`, `Lock`, `RLock`, `Condition`, `Semaphore`, `BoundedSemaphore`, `Event`, `Barrier`,
// `Timer`, `excepthook`. Threads are real OS threads running in parallel (no GIL). Every blocking
// call waits through trident's waiting core, so a greenlet that blocks on these primitives will
// switch instead of blocking its OS thread.
//
// What deliberately differs from Python:
// - Keyword arguments are `ThreadOptions{.name, .daemon}`, given first when a callable follows:
//   `Thread t({.name = "worker"}, fn, 1, 2);`. Attributes (`name`, `daemon`) have setters.
// - Timeouts are `trident::Timeout` (std::nullopt = Python's `None`/`-1`: wait forever). A negative
//   timeout is always a ValueError (Python accepts `-1` on locks; spell it std::nullopt here).
// - `with lock:` is RAII: every lock is Lockable (`lock/unlock/try_lock`), so `std::scoped_lock`,
//   `std::unique_lock` and `std::lock_guard` work.
// - Destroying a `Thread` handle: see "Lifetime" on `Thread` below (C++ has no reference counting).
// - Deprecated camelCase aliases (`setDaemon`, `isAlive`, `notifyAll`, ...) are not provided.
#pragma once

#include <pthread.h>

#include <atomic>
#include <cstdint>
#include <exception>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <tuple>
#include <type_traits>
#include <utility>
#include <vector>

#include "trident/detail/wait.hpp"
#include "trident/errors.hpp"
#include "trident/timeout.hpp"

namespace trident::threading {

class Thread;
class Timer;

/// Python's `threading.TIMEOUT_MAX`: the largest timeout Python accepts. Larger timeouts are
/// accepted here too and mean "forever".
inline constexpr Seconds TIMEOUT_MAX{9223372036.0};

namespace detail {

// The shared state of one thread, owned jointly (reference count) by the Thread handle and by the
// running OS thread, so neither outlives what it uses. Not API: the callable form's templates
// derive from it to keep the target and its arguments in the same allocation.
class ThreadCore {
 public:
  ThreadCore() noexcept = default;
  ThreadCore(const ThreadCore&) = delete;
  ThreadCore& operator=(const ThreadCore&) = delete;
  virtual ~ThreadCore();
  /// Runs the target once with its arguments, then destroys them (as Python's run() deletes
  /// `_target` and `_args`); does nothing when there is no target or it already ran.
  virtual void invoke() {}

  void ref() noexcept { refs.fetch_add(1, std::memory_order_relaxed); }
  void unref() noexcept {
    if (refs.fetch_sub(1, std::memory_order_acq_rel) == 1) delete this;
  }

  // States of `state`:
  static constexpr int kNew = 0;      // constructed, start() not called
  static constexpr int kStarted = 1;  // start() succeeded (the thread may also have finished)

  std::atomic<int> refs{1};
  std::atomic<int> state{kNew};
  trident::detail::Mutex mutex;  // guards name, exited, orphan, in_hook
  std::string name{};
  bool daemon = false;                  // written before start() only
  bool exited = false;                  // the thread is past run(), the excepthook and its locals' destruction
  bool in_hook = false;                 // the thread is calling the excepthook with `self` == the handle
  bool detached_run = false;            // set by start(): the thread calls invoke(), not self->run()
  bool dummy = false;                   // a thread trident did not start (Python's _DummyThread)
  Thread* orphan = nullptr;             // the stand-in object created when a detachable handle was destroyed
  std::atomic<Thread*> self{nullptr};   // what current_thread() returns in this thread
  std::atomic<unsigned long> ident{0};  // pthread_self(); 0 = not started
  // The OS thread's reaping (pthread_join by join(), or pthread_detach when the handle goes):
  static constexpr int kOsNone = 0;      // no OS thread of ours (not started, main, dummy)
  static constexpr int kOsJoinable = 1;  // started; nobody reaped it yet
  static constexpr int kOsReaped = 2;    // joined or detached
  std::atomic<int> os_state{kOsNone};
  std::atomic<long> native_id{0};      // gettid(); 0 = not yet published by the thread
  trident::detail::EventFlag started;  // set once native_id and the OS name are set
  trident::detail::EventFlag done;     // set when the thread finished (what join() waits for)
  ThreadCore* reg_prev = nullptr;      // links in the registry of live threads, guarded by its lock
  ThreadCore* reg_next = nullptr;
  bool registered = false;
};

// The callable form's core: target and arguments stored by value (decay-copied, as std::thread).
template <class F, class... Args>
class ThreadTarget final : public ThreadCore {
 public:
  template <class G, class... A>
  explicit ThreadTarget(G&& g, A&&... a) : target_(std::in_place, std::forward<G>(g), std::forward<A>(a)...) {}
  void invoke() override {
    if (!target_) return;
    struct Reset {
      std::optional<std::tuple<F, Args...>>& t;
      ~Reset() { t.reset(); }
    } reset{target_};
    std::apply([](F& f, Args&... args) { std::invoke(std::move(f), std::move(args)...); }, *target_);
  }

 private:
  std::optional<std::tuple<F, Args...>> target_;
};

template <class...>
inline constexpr bool kAlwaysFalse = false;

// What the callable form does with its target and arguments (decay-copy each into the thread, then
// call the target with the copies as rvalues), checked up front: a mistake is then one
// static_assert naming the fix, not pages of errors from inside std::tuple. `kTimer` only picks the
// wording. Returns whether the checks passed (a failed check has already stopped compilation).
template <bool kTimer, class F, class... Args>
consteval bool check_target() {
  if constexpr (!(std::is_constructible_v<std::decay_t<Args>, Args> && ...)) {
    if constexpr (kTimer) {
      static_assert(kAlwaysFalse<F>,
                    "threading::Timer: an argument cannot be copied into the timer's thread (Event, Lock, RLock, "
                    "Condition, Semaphore and Barrier never can): to share it, pass it with std::ref(...) and keep it "
                    "alive until the timer is joined");
    } else {
      static_assert(kAlwaysFalse<F>,
                    "threading::Thread: an argument cannot be copied into the new thread (Event, Lock, RLock, "
                    "Condition, Semaphore and Barrier never can): to share it, pass it with std::ref(...) and keep it "
                    "alive until the thread is joined");
    }
    return false;
  } else if constexpr (!std::is_constructible_v<std::decay_t<F>, F>) {
    if constexpr (kTimer) {
      static_assert(kAlwaysFalse<F>,
                    "threading::Timer: the function cannot be copied into the timer's thread: move it in "
                    "(std::move(...)), or pass it with std::ref(...) and keep it alive until the timer is joined");
    } else {
      static_assert(kAlwaysFalse<F>,
                    "threading::Thread: the target cannot be copied into the new thread: move it in "
                    "(std::move(...)), or pass it with std::ref(...) and keep it alive until the thread is joined");
    }
    return false;
  } else if constexpr (!std::is_invocable_v<std::decay_t<F>, std::decay_t<Args>...>) {
    if constexpr (kTimer) {
      static_assert(kAlwaysFalse<F>,
                    "threading::Timer: the function cannot be called with these arguments as the timer passes them "
                    "(copies, as rvalues): for a parameter that is a non-const reference, pass the object with "
                    "std::ref(...) and keep it alive until the timer is joined");
    } else {
      static_assert(kAlwaysFalse<F>,
                    "threading::Thread: the target cannot be called with these arguments as the thread passes them "
                    "(copies, as rvalues): for a parameter that is a non-const reference, pass the object with "
                    "std::ref(...) and keep it alive until the thread is joined");
    }
    return false;
  } else {
    return true;
  }
}

// A new core for Thread(target, args...) (nullptr only after check_target failed compilation).
template <bool kTimer, class F, class... Args>
ThreadCore* new_target_core(F&& f, Args&&... args) {
  if constexpr (check_target<kTimer, F, Args...>()) {
    return new ThreadTarget<std::decay_t<F>, std::decay_t<Args>...>(std::forward<F>(f), std::forward<Args>(args)...);
  } else {
    return nullptr;
  }
}

// The non-template half of threading::local<T>: per-thread slots, created on first use.
class LocalBase {
 public:
  LocalBase(const LocalBase&) = delete;
  LocalBase& operator=(const LocalBase&) = delete;

 protected:
  using Create = void* (*)(const LocalBase& self);
  using Destroy = void (*)(void* value) noexcept;
  LocalBase(Create create, Destroy destroy) noexcept;
  /// Destroys every thread's value (in the destroying thread).
  ~LocalBase();
  /// The calling thread's value, created with `create` on first use.
  void* get_value();

 private:
  friend struct LocalAccess;
  struct Slot;
  std::uint64_t id_;  // never reused, so a dead local's stale per-thread entries never match
  Create create_;
  Destroy destroy_;
  Slot* slots_ = nullptr;  // every thread's slot for this local, guarded by the global locals lock
};

[[noreturn]] void throw_runtime_error(const char* message);
// RuntimeError "<api>: the handle is empty (it was moved from)".
[[noreturn]] void throw_empty_handle(const char* api);

// The identity RLock and Condition use for "owner": the OS thread.
inline unsigned long owner_token() noexcept { return static_cast<unsigned long>(pthread_self()); }

}  // namespace detail

/// Python's `Thread(name=, daemon=)` keyword arguments.
struct ThreadOptions {
  /// The thread's name; empty means "Thread-N" (N counts threads and dummies from 1, per process).
  std::string name{};
  /// Whether the thread is a daemon; unset inherits the creating thread's flag (Python's
  /// `daemon=None`). The process does not wait for daemon threads at exit.
  std::optional<bool> daemon{};
};

/// Python's `threading.Thread`: an OS thread running `run()`.
///
/// Two forms, as in Python:
/// - callable: `Thread t(fn, args...)` calls `fn(args...)` in the new thread. Arguments are
///   decay-copied (moved when given as rvalues, so move-only arguments work) and passed as
///   rvalues; the callable and arguments are destroyed when run() finishes. To share an object
///   (an Event, a Lock, a counter) pass `std::ref(obj)` and keep `obj` alive until the thread is
///   joined; passing such a non-copyable object by value is a compile-time error saying so.
/// - subclass: derive, override `run()` and construct the base with `Thread()` or
///   `Thread(ThreadOptions)`; `start()` calls your `run()` in the new thread.
///
/// An exception escaping `run()` is passed to the excepthook (see set_excepthook), never
/// terminates the program, and join() does not rethrow it (Python's behaviour).
///
/// Lifetime (Python keeps a thread object, and what its target uses, alive by reference counting;
/// C++ needs a rule, the one of std::jthread and of Python's exit):
/// - Destroying the handle of a started **non-daemon** thread that is still running joins it
///   (after flushing stdout and stderr, so what the program printed is out before it blocks). So
///   objects declared before the thread outlive it:
///   `Event ready; Thread t(worker, std::ref(ready)); t.start(); ready.set();` is correct at the
///   end of any scope. A handle created and dropped inside a loop body therefore runs its thread to
///   completion before the next turn: keep handles in a container (`std::vector<Thread>`) to run
///   several at once.
/// - Destroying the handle of a running **daemon** thread of exactly type `Thread` or `Timer`
///   detaches it (Python abandons daemon threads at exit): the thread goes on, and from then on
///   current_thread() and enumerate() return a stand-in Thread object with the same name, ident and
///   flags. What it uses must outlive it by other means (a static, a shared_ptr it owns).
/// - A thread destroying its own handle (`delete this` from run()) is not waited for.
/// - An object of a class derived from Thread runs your `run()` on that object, so it must outlive
///   the thread: `~Thread` joins a thread still running, daemon or not, and prints a diagnostic on
///   stderr, because by then the derived members are already destroyed. If your object may be
///   destroyed while its thread runs, call `if (is_alive()) join();` first thing in your own
///   destructor.
///
/// Moving (so `std::vector<Thread>` works; Timer likewise):
/// - The moved-to object takes over the thread (started or not); current_thread(), enumerate() and
///   the excepthook name it from then on. The moved-from object is **empty**: every method throws
///   RuntimeError "Thread::join(): the handle is empty (it was moved from)" (naming the method),
///   and its destructor does nothing. Assigning a new handle to it makes it usable again.
/// - Move assignment first releases the thread the target object holds, exactly as its
///   destructor would (joins a running non-daemon thread, detaches a daemon), then takes over.
/// - A started object of a class derived from Thread cannot be moved (its run() runs on the
///   original object): moving one throws RuntimeError; keep such objects in place (or in a
///   std::unique_ptr). Unstarted ones move normally. The objects trident owns (main_thread(), a
///   dummy thread's, a stand-in) cannot be moved from or assigned to either.
/// - Moving while the excepthook runs for this thread with a pointer to the handle waits for the
///   thread to finish first (the hook's pointer must stay valid during its call).
/// Pointers and references obtained from current_thread(), main_thread(), enumerate() and
/// ExceptHookArgs name a handle object: they are valid while that object exists and holds the
/// thread (for started threads: at least until the thread finishes, unless the handle is moved;
/// main and dummy thread objects live as long as their OS threads).
class Thread {
 public:
  /// Subclass form: `run()` is yours to override; the default run() does nothing.
  Thread();
  /// Subclass form with Python's keyword arguments.
  explicit Thread(ThreadOptions options);
  /// Python's `Thread(target=f, args=(...))`.
  template <class F, class... Args>
  explicit Thread(F&& target, Args&&... args) requires(!std::is_same_v<std::remove_cvref_t<F>, ThreadOptions> &&
                                                       !std::is_base_of_v<Thread, std::remove_cvref_t<F>>)
      : Thread(ThreadOptions{}, std::forward<F>(target), std::forward<Args>(args)...) {}
  /// Python's `Thread(target=f, args=(...), name=..., daemon=...)`.
  template <class F, class... Args>
  Thread(ThreadOptions options, F&& target, Args&&... args)
      : core_(adopt(detail::new_target_core<false>(std::forward<F>(target), std::forward<Args>(args)...),
                    std::move(options))) {}
  /// See "Lifetime" above: joins a running non-daemon thread, detaches a running daemon one (of
  /// exactly type Thread or Timer), joins a derived object's running thread.
  virtual ~Thread();
  Thread(const Thread&) = delete;
  Thread& operator=(const Thread&) = delete;
  /// Takes over `other`'s thread; `other` becomes empty. Throws RuntimeError for a started object
  /// of a derived class and for the objects trident owns (see "Moving" above).
  Thread(Thread&& other);
  /// Releases this handle's thread as the destructor would (joining a running non-daemon thread),
  /// then takes over `other`'s; `other` becomes empty. Throws as the move constructor (before
  /// releasing anything).
  Thread& operator=(Thread&& other);

  /// Starts the thread, which calls run(). Throws RuntimeError "Thread::start(): threads can only
  /// be started once", or RuntimeError "Thread::start(): can't start new thread (...)" when the OS
  /// refuses (the thread may then be started again).
  void start();
  /// What the thread does: calls the target with its arguments (once), or nothing without one.
  /// Override it in a subclass. Calling it directly runs it in the calling thread, as in Python.
  virtual void run();
  /// Blocks until the thread finishes or `timeout` passes; returns nothing either way (check
  /// is_alive(), as in Python). Throws RuntimeError "Thread::join(): cannot join thread before it
  /// is started", "Thread::join(): cannot join current thread" (also for dummy threads: "cannot
  /// join a dummy thread"), ValueError for a negative timeout.
  void join(Timeout timeout = std::nullopt);
  /// True from start() until run() (and the excepthook) finished.
  bool is_alive() const;
  /// The name (Python's `name` attribute).
  std::string name() const;
  /// Renames the thread at any time; a running thread's OS name (first 15 bytes, shown by top -H
  /// and gdb) follows.
  void set_name(std::string name);
  /// Python's `ident`: the thread's get_ident() value; nullopt before start(). Kept after the
  /// thread finished (and may then be reused by a new thread, as in Python).
  std::optional<unsigned long> ident() const;
  /// Python's `native_id`: the kernel thread id (gettid); nullopt before start(). Right after
  /// start() it may wait a moment for the new thread to publish it.
  std::optional<long> native_id() const;
  /// Python's `daemon` attribute.
  bool daemon() const;
  /// Sets `daemon` before start(); afterwards throws RuntimeError "Thread::set_daemon(): cannot
  /// set daemon status of active thread".
  void set_daemon(bool daemonic);

 protected:
  /// For Timer: a handle over a callable-form core built by the derived class.
  Thread(ThreadOptions options, detail::ThreadCore* core) : core_(adopt(core, std::move(options))) {}

 private:
  friend struct detail_access;
  struct AdoptTag {};
  // Wraps an existing core (stand-ins, the main thread, dummy threads); takes one reference.
  Thread(detail::ThreadCore* core, AdoptTag) noexcept;
  // Names the core and sets its daemon flag; frees the core if that throws.
  static detail::ThreadCore* adopt(detail::ThreadCore* core, ThreadOptions&& options);
  // The core, or RuntimeError "<api>: the handle is empty (it was moved from)".
  detail::ThreadCore* core(const char* api) const;
  // Throws when `other` may not be moved from, or this object may not be assigned to.
  void check_movable(const Thread& other, const char* api) const;
  // Takes over `other`'s core and points the core's `self` at this object.
  void take(Thread& other) noexcept;
  // Lets go of the core as the destructor does (join, detach or wait); leaves this object empty.
  void release(bool destroying) noexcept;

  detail::ThreadCore* core_;       // nullptr: empty (moved from)
  bool owned_by_trident_ = false;  // main thread, dummy or stand-in object: never moved
};

/// Python's `threading.current_thread()`: the Thread object of the calling thread. For a thread
/// trident did not start, a daemon "Dummy-N" object that lives until that OS thread exits; for the
/// process's main thread, main_thread().
Thread& current_thread();
/// Python's `threading.main_thread()`: the "MainThread" object of the process's initial thread.
Thread& main_thread();
/// Python's `threading.active_count()`: how many Thread objects are alive (started and not
/// finished, including the main thread and dummy threads); enumerate().size().
int active_count();
/// Python's `threading.enumerate()`: every alive Thread (see active_count()).
std::vector<Thread*> enumerate();
/// Python's `threading.get_ident()`: a non-zero number identifying the calling thread among the
/// threads alive (pthread_self()).
unsigned long get_ident();
/// Python's `threading.get_native_id()`: the calling thread's kernel id (gettid).
long get_native_id();
/// Python's `threading.stack_size([size])`: returns the stack size used for threads started from
/// now on (0 = the system default) and, given `size`, sets it. Throws ValueError "stack_size():
/// size not valid: N bytes" unless `size` is 0 or at least 32 KiB (Python's minimum).
std::size_t stack_size(std::optional<std::size_t> size = std::nullopt);

/// Python's `threading.ExceptHookArgs`: what the excepthook receives.
struct ExceptHookArgs {
  /// The exception that escaped run() (Python's `exc_value`; rethrow it to inspect it).
  std::exception_ptr exc_value;
  /// The thread it escaped from (Python's `thread`); valid during the call.
  Thread* thread;
  /// Python's `exc_type.__name__`: trident::Exception::type_name() for trident errors, otherwise
  /// the demangled C++ type name ("std::out_of_range", "int").
  std::string exc_type() const;
};
/// A callable taking ExceptHookArgs (Python's `threading.excepthook` signature).
using ExceptHook = std::function<void(const ExceptHookArgs&)>;
/// Python's `threading.excepthook = hook`: called in the failing thread for an exception escaping
/// run(). An empty hook restores default_excepthook. An exception thrown by the hook is reported
/// on stderr and dropped.
void set_excepthook(ExceptHook hook);
/// The current hook (default_excepthook unless set).
ExceptHook get_excepthook();
/// Python's `threading.__excepthook__`: writes "Exception in thread NAME:" and then "TYPE: what()"
/// (just "TYPE" for an empty message or a non-std exception) on stderr.
void default_excepthook(const ExceptHookArgs& args);

/// Python's `threading.local`: one T per thread. Each thread's value is created on its first use
/// in that thread — default-constructed, or constructed from copies of the constructor's
/// arguments (Python calls a local subclass's `__init__` with them in each thread) — and destroyed
/// when that thread ends (for trident threads, before join() returns) or when the local is
/// destroyed, whichever comes first. A local must not be destroyed while other threads use it.
template <class T>
class local : private detail::LocalBase {
 public:
  template <class... A>
  explicit local(A&&... init_args)
      : detail::LocalBase(&create, &destroy),
        make_([args = std::tuple<std::decay_t<A>...>(std::forward<A>(init_args)...)] {
          return std::apply([](const auto&... a) { return new T(a...); }, args);
        }) {}
  ~local() = default;

  /// The calling thread's value (created now if this thread never used it).
  T& get() { return *static_cast<T*>(get_value()); }
  T& operator*() { return get(); }
  T* operator->() { return &get(); }

 private:
  static void* create(const detail::LocalBase& self) { return static_cast<const local&>(self).make_(); }
  static void destroy(void* value) noexcept { delete static_cast<T*>(value); }
  std::function<T*()> make_;
};

/// Python's `threading.Lock`: a non-recursive lock that any thread may release. Not fair (a
/// releasing thread may re-acquire before a waiter wakes), as CPython's.
class Lock {
 public:
  Lock() = default;
  Lock(const Lock&) = delete;
  Lock& operator=(const Lock&) = delete;

  /// Acquires the lock. Blocking: waits until free or `timeout` passes (true if acquired).
  /// `blocking = false`: one attempt. Throws ValueError "Lock::acquire(): can't specify a timeout
  /// for a non-blocking call", or for a negative timeout.
  bool acquire(bool blocking = true, Timeout timeout = std::nullopt) {
    if (blocking && !timeout) [[likely]] {
      mutex_.lock();
      return true;
    }
    return acquire_slow(blocking, timeout);
  }
  /// Releases the lock (any thread may). Throws RuntimeError "Lock::release(): release unlocked
  /// lock".
  void release() {
    if (!mutex_.unlock_if_locked()) [[unlikely]]
      detail::throw_runtime_error("Lock::release(): release unlocked lock");
  }
  /// Whether some thread holds the lock.
  bool locked() const noexcept { return mutex_.locked(); }
  /// BasicLockable / Lockable, for std::scoped_lock and friends.
  void lock() { mutex_.lock(); }
  void unlock() { release(); }
  bool try_lock() noexcept { return mutex_.try_lock(); }

 private:
  bool acquire_slow(bool blocking, const Timeout& timeout);
  trident::detail::Mutex mutex_;
};

/// Python's `threading.RLock`: a lock its owner thread may acquire again; released when the
/// owner released it as many times as it acquired it.
class RLock {
 public:
  RLock() = default;
  RLock(const RLock&) = delete;
  RLock& operator=(const RLock&) = delete;

  /// As Lock::acquire (messages say "RLock::acquire()"); an owner re-acquires at once.
  bool acquire(bool blocking = true, Timeout timeout = std::nullopt) {
    if (!blocking || timeout) [[unlikely]]
      return acquire_slow(blocking, timeout);
    const unsigned long me = detail::owner_token();
    if (owner_.load(std::memory_order_relaxed) == me) {
      ++count_;
      return true;
    }
    mutex_.lock();
    owner_.store(me, std::memory_order_relaxed);
    count_ = 1;
    return true;
  }
  /// Releases one level of ownership. Throws RuntimeError "RLock::release(): cannot release
  /// un-acquired lock" when the calling thread is not the owner.
  void release() {
    if (owner_.load(std::memory_order_relaxed) != detail::owner_token()) [[unlikely]]
      detail::throw_runtime_error("RLock::release(): cannot release un-acquired lock");
    if (--count_ == 0) {
      owner_.store(0, std::memory_order_relaxed);
      mutex_.unlock();
    }
  }
  /// Whether some thread holds the lock (Python 3.14's `RLock.locked()`).
  bool locked() const noexcept { return mutex_.locked(); }
  /// Whether the calling thread owns the lock (Python's `RLock._is_owned()`).
  bool is_owned() const noexcept { return owner_.load(std::memory_order_relaxed) == detail::owner_token(); }
  /// How many times the calling thread holds it; 0 if it is not the owner (Python's
  /// `RLock._recursion_count()`).
  int recursion_count() const noexcept { return is_owned() ? count_ : 0; }
  /// BasicLockable / Lockable, for std::scoped_lock and friends.
  void lock() { acquire(); }
  void unlock() { release(); }
  bool try_lock() { return acquire(false); }

 private:
  friend class Condition;
  bool acquire_slow(bool blocking, const Timeout& timeout);
  trident::detail::Mutex mutex_;
  std::atomic<unsigned long> owner_{0};  // owner_token() of the owner, 0 when free
  int count_ = 0;                        // recursion depth, touched only by the owner
};

/// Python's `threading.Condition`: waiting for a state change under a lock.
class Condition {
 public:
  /// A condition with its own RLock (Python's `Condition()`).
  Condition();
  /// A condition over `lock`, which must outlive it (Python's `Condition(lock)`).
  explicit Condition(Lock& lock) noexcept;
  explicit Condition(RLock& lock) noexcept;
  Condition(const Condition&) = delete;
  Condition& operator=(const Condition&) = delete;

  /// Acquire/release the underlying lock (Python's `with cond:`).
  bool acquire(bool blocking = true, Timeout timeout = std::nullopt);
  void release();
  void lock() { acquire(); }
  void unlock() { release(); }
  bool try_lock() { return acquire(false); }

  /// Releases the lock (fully, for an RLock held several times), blocks until notified or
  /// `timeout` passes, re-acquires the lock (to the same depth) and returns false on timeout.
  /// Throws RuntimeError "Condition::wait(): cannot wait on un-acquired lock", ValueError for a
  /// negative timeout. Callers loop on their predicate (or use wait_for).
  bool wait(Timeout timeout = std::nullopt);
  /// Waits until `predicate()` is true or `timeout` passes (one overall deadline); returns the
  /// predicate's last value. The lock must be held, as for wait().
  template <class Pred>
  bool wait_for(Pred predicate, Timeout timeout = std::nullopt);
  /// Wakes up to `n` waiters. Throws RuntimeError "Condition::notify(): cannot notify on
  /// un-acquired lock".
  void notify(int n = 1);
  /// Wakes every waiter (same precondition as notify()).
  void notify_all();

 private:
  bool is_owned() const noexcept;
  void check_owned(const char* message) const;
  bool wait_deadline(const trident::detail::Deadline& deadline);
  RLock own_;
  Lock* lock_ = nullptr;    // exactly one of lock_/rlock_ is set
  RLock* rlock_ = nullptr;  // &own_ for Condition()
  trident::detail::WaitList waiters_;
};

/// Python's `threading.Semaphore`: a counter of permits. Waiters are served first come, first
/// served: a release hands its permits straight to the longest waiters.
class Semaphore {
 public:
  /// Throws ValueError "Semaphore(): semaphore initial value must be >= 0".
  explicit Semaphore(int value = 1);
  Semaphore(const Semaphore&) = delete;
  Semaphore& operator=(const Semaphore&) = delete;

  /// Takes a permit, blocking while there is none until `timeout` passes (true if taken).
  /// `blocking = false`: one attempt. Throws ValueError "Semaphore::acquire(): can't specify
  /// timeout for non-blocking acquire", or for a negative timeout.
  bool acquire(bool blocking = true, Timeout timeout = std::nullopt);
  /// Returns `n` permits, waking as many waiters. Throws ValueError "Semaphore::release(): n must
  /// be one or more"; for a BoundedSemaphore, ValueError "BoundedSemaphore::release(): Semaphore
  /// released too many times" when it would exceed the initial value (nothing is released).
  void release(int n = 1);
  /// BasicLockable / Lockable, for std::scoped_lock and friends.
  void lock() { acquire(); }
  void unlock() { release(); }
  bool try_lock() { return acquire(false); }

 protected:
  Semaphore(int value, bool bounded);

 private:
  bool try_take() noexcept;
  int bound_;  // the initial value for a BoundedSemaphore, -1 otherwise
  // The free permits live in the list's lock word (as value << 1; never > 0 while waiters are
  // queued), so release() publishes them with the store that unlocks the list: a thread that
  // takes the last permit and destroys the semaphore at once never races a release in progress.
  trident::detail::WaitList waiters_;
};

/// Python's `threading.BoundedSemaphore`: a Semaphore that refuses to go above its initial value.
class BoundedSemaphore : public Semaphore {
 public:
  /// Throws ValueError "Semaphore(): semaphore initial value must be >= 0".
  explicit BoundedSemaphore(int value = 1);
};

/// Python's `threading.Event`: a flag threads wait for.
class Event {
 public:
  Event() = default;
  Event(const Event&) = delete;
  Event& operator=(const Event&) = delete;

  /// Whether the flag is set.
  bool is_set() const noexcept { return flag_.is_set(); }
  /// Sets the flag and wakes every waiter.
  void set();
  /// Resets the flag.
  void clear() noexcept;
  /// Blocks until the flag is set or `timeout` passes; true if it was set (even if cleared again
  /// before this thread woke), false on timeout. ValueError for a negative timeout.
  bool wait(Timeout timeout = std::nullopt);

 private:
  trident::detail::EventFlag flag_;
};

/// Python's `threading.Barrier`: `parties` threads wait for each other, then all go on together.
class Barrier {
 public:
  /// `action` runs in one of the threads when all arrived, before any is released; `timeout` is
  /// the default for wait(). Throws ValueError "Barrier(): parties must be >= 1", or for a
  /// negative timeout.
  explicit Barrier(int parties, std::function<void()> action = {}, Timeout timeout = std::nullopt);
  Barrier(const Barrier&) = delete;
  Barrier& operator=(const Barrier&) = delete;

  /// Waits until `parties` threads called wait(); returns this thread's arrival index
  /// (0..parties-1). `timeout` (default: the constructor's) passing breaks the barrier. Throws
  /// BrokenBarrierError when the barrier is or becomes broken (reset, abort, a timeout, or a
  /// failed action) while this thread waits. An exception from the action breaks the barrier and
  /// propagates from wait() in the thread that ran it.
  int wait(Timeout timeout = std::nullopt);
  /// Returns the barrier to its initial state; threads waiting get BrokenBarrierError.
  void reset();
  /// Breaks the barrier: waiting and future wait() calls throw BrokenBarrierError until reset().
  void abort();
  /// How many threads must call wait().
  int parties() const noexcept { return parties_; }
  /// How many threads are waiting now.
  int n_waiting() const;
  /// Whether the barrier is broken.
  bool broken() const;

 private:
  // Python's states: 0 filling, 1 draining, -1 resetting, -2 broken.
  void enter(std::unique_lock<trident::detail::Mutex>& lk);
  void release_all();
  void wait_release(std::unique_lock<trident::detail::Mutex>& lk, const trident::detail::Deadline& deadline);
  void exit_wait();
  void break_barrier() noexcept;

  const int parties_;
  const std::function<void()> action_;
  const Timeout timeout_;
  mutable trident::detail::Mutex mutex_;
  trident::detail::CondVar cond_;
  int state_ = 0;  // guarded by mutex_
  int count_ = 0;  // guarded by mutex_
};

/// Python's `threading.Timer`: a thread that calls `function(args...)` after `interval`, unless
/// cancel() was called first. Same lifetime and move rules as Thread: destroying the handle of a
/// non-daemon Timer does not cancel it but waits for it (for the interval, then the call), as
/// Python's exit waits for a pending non-daemon Timer; cancel() first to stop it. A moved-from
/// Timer is empty: its methods throw RuntimeError.
class Timer : public Thread {
 public:
  /// Python's `Timer(interval, function, args=(...))`; arguments as for Thread.
  template <class F, class... Args>
  Timer(Seconds interval, F&& function, Args&&... args)
      : Timer(ThreadOptions{}, interval, std::forward<F>(function), std::forward<Args>(args)...) {}
  /// With Python's Thread keyword arguments (`name`, `daemon`).
  template <class F, class... Args>
  Timer(ThreadOptions options, Seconds interval, F&& function, Args&&... args)
      : Timer(std::make_shared<Event>(), std::move(options), interval, std::forward<F>(function),
              std::forward<Args>(args)...) {}

  /// Stops the timer if it is still waiting (Python's `cancel()`); harmless afterwards.
  void cancel() { checked_finished("Timer::cancel()").set(); }
  /// Python's `interval` attribute.
  Seconds interval() const {
    (void)checked_finished("Timer::interval()");
    return interval_;
  }
  /// Python's `finished` attribute: set by cancel() or once the function ran.
  Event& finished() { return checked_finished("Timer::finished()"); }

 private:
  template <class F, class... Args>
  Timer(std::shared_ptr<Event> finished, ThreadOptions options, Seconds interval, F&& function, Args&&... args)
      : Thread(std::move(options),
               new_core(finished, interval, std::forward<F>(function), std::forward<Args>(args)...)),
        finished_(std::move(finished)),
        interval_(interval) {}

  // The core: a callable-form thread waiting on `finished` before calling the function. The
  // arguments are checked with the Timer's wording, then handed over unchanged.
  template <class F, class... Args>
  static detail::ThreadCore* new_core(std::shared_ptr<Event> finished, Seconds interval, F&& function, Args&&... args) {
    if constexpr (detail::check_target<true, F, Args...>()) {
      return detail::new_target_core<true>(
          [finished = std::move(finished), interval](std::decay_t<F>&& fn, std::decay_t<Args>&&... a) {
            finished->wait(interval.count() > 0 ? interval : Seconds(0));
            if (!finished->is_set()) std::invoke(std::move(fn), std::move(a)...);
            finished->set();
          },
          std::forward<F>(function), std::forward<Args>(args)...);
    } else {
      return nullptr;
    }
  }
  Event& checked_finished(const char* api) const {
    if (!finished_) detail::throw_empty_handle(api);
    return *finished_;
  }

  std::shared_ptr<Event> finished_;  // shared with the thread; null once moved from
  Seconds interval_;
};

// ---- template definitions ----

template <class Pred>
bool Condition::wait_for(Pred predicate, Timeout timeout) {
  const auto deadline = trident::detail::Deadline::after(timeout, "Condition::wait_for()");
  bool result = static_cast<bool>(predicate());
  // Like Python, wait at least once with the timeout before giving up on a false predicate.
  bool waited = false;
  while (!result) {
    if (waited && deadline.expired()) break;
    wait_deadline(deadline);
    waited = true;
    result = static_cast<bool>(predicate());
  }
  return result;
}

}  // namespace trident::threading
