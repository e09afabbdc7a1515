// trident/multiprocessing/process.hpp — Python's `multiprocessing.process` and the start methods
// of `multiprocessing.context`: `Process`, `current_process`, `parent_process`, `active_children`,
// `cpu_count`, `set_start_method`/`get_start_method`/`get_all_start_methods`/`get_context`, and
// `multiprocessing::main(argc, argv)`, the C++ form of `if __name__ == "__main__":`.
//
// What deliberately differs from Python:
// - Handle lifetime (Python counts references; C++ needs a rule, the same as Thread's): destroying
//   the handle of a started, still running non-daemon child waits for the child; a daemon child's
//   handle lets it run on (it is still terminated when this process exits). Handles are movable.
// - What crosses to a `forkserver` or `spawn` child (docs/multiprocessing.md, "Processes"): the
//   target must be a plain function or a captureless lambda, and each argument picklable
//   (trident/pickle.hpp), a `Connection` (its fd crosses) or a shared-memory handle — a process
//   lock, `Value`, `Array`, `SharedMemory`, ... (its segment's name crosses; a `Barrier` only
//   without an action). Under `fork` anything works. The typed contexts (`spawn_context`,
//   `forkserver_context`) reject a target that cannot cross at compile time; through the default
//   or a runtime `Context` it is a TypeError from start().
// - A Process subclass crosses to forkserver/spawn children when registered with
//   TRIDENT_REGISTER_PROCESS(Type) and given a cereal `serialize` member (Python pickles the
//   object); under fork any subclass works.
// - Python's `SystemExit` has no C++ form: a child's exit code is 0 after run() returns, 1 after an
//   exception escaped it (reported on the child's stderr as `Process NAME:` and `Type: message`),
//   or what the target passed to os::_exit / std::exit.
#pragma once

#include <cstdint>
#include <functional>
#include <initializer_list>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <tuple>
#include <type_traits>
#include <typeinfo>
#include <utility>
#include <vector>

#include "trident/detail/mp_crossing.hpp"
#include "trident/errors.hpp"
#include "trident/multiprocessing.hpp"
#include "trident/multiprocessing/queues.hpp"
#include "trident/multiprocessing/shared_memory.hpp"
#include "trident/multiprocessing/sharedctypes.hpp"
#include "trident/multiprocessing/synchronize.hpp"
#include "trident/pickle.hpp"
#include "trident/timeout.hpp"

namespace trident::multiprocessing {

class Process;

/// `Process(name=, daemon=)` keyword arguments.
struct ProcessOptions {
  /// The name; empty means "Process-N" ("Process-N:M" in a child, after its own identity), or
  /// for a subclass "ClassName-N" (the unqualified class name, as Python's `type(self).__name__`).
  std::string name{};
  /// Whether the child is a daemon; unset inherits the creating process's flag (Python's
  /// `daemon=None`). Daemon children are terminated when this process exits and may not start
  /// children of their own.
  std::optional<bool> daemon{};
};

/// The start methods (Python spells them as strings; so do set_start_method and get_context).
enum class StartMethod { fork, forkserver, spawn };

namespace detail {

class ProcessState;

// What a forkserver or spawn child needs to rebuild the target: the trampoline that loads the
// arguments and calls the target, found in the child by its place in its module.
struct CrossedTarget {
  using Trampoline = void (*)(std::uintptr_t target, std::string_view args, std::span<const int> fds);
  Trampoline trampoline = nullptr;
  std::uintptr_t target = 0;  // the function's address, 0 for a captureless lambda (rebuilt by type)
  pickle::bytes args;         // pickle of the arguments, Connections replaced by ConnectionRef
  std::vector<int> fds;       // the Connections' fds, in argument order
};

// A Connection argument on the wire: its index in CrossedTarget::fds and its direction.
struct ConnectionRef {
  std::uint32_t index = 0;
  bool readable = false;
  bool writable = false;
  template <class A>
  void serialize(A& ar) {
    ar(index, readable, writable);
  }
};

template <class T>
struct is_connection : std::is_same<std::decay_t<T>, Connection> {};

// What an argument is on the wire: a Connection its fd's index, a shared-memory handle its
// segments (mp_crossing.hpp), anything else its pickle.
template <class A>
using wire_t =
    std::conditional_t<is_connection<A>::value, ConnectionRef, std::conditional_t<CrossingHandle<A>, SegmentRef, A>>;

template <class T>
concept Picklable = cereal::traits::is_output_serializable<T, pickle::detail::OutputArchive>::value &&
    cereal::traits::is_input_serializable<T, pickle::detail::InputArchive>::value && std::is_default_constructible_v<T>;

/// Whether the callable `F` can be rebuilt in another process of the same program: a function
/// (pointer) is found by its address, an empty default-constructible class (a captureless lambda)
/// by its type.
template <class F>
inline constexpr bool target_crosses = (std::is_pointer_v<F> && std::is_function_v<std::remove_pointer_t<F>>) ||
                                       (std::is_class_v<F> && std::is_empty_v<F> && std::is_default_constructible_v<F>);

template <class A>
inline constexpr bool arg_crosses = is_connection<A>::value || CrossingHandle<A> || Picklable<A>;

template <class F, class... Args>
inline constexpr bool crosses = target_crosses<F> && (arg_crosses<Args> && ...);

template <class A>
wire_t<A> to_wire(const A& a, std::vector<int>& fds) {
  if constexpr (is_connection<A>::value) {
    fds.push_back(a.fileno());
    return ConnectionRef{static_cast<std::uint32_t>(fds.size() - 1), a.readable(), a.writable()};
  } else if constexpr (CrossingHandle<A>) {
    return Crossing<A>::save(a);
  } else {
    return a;
  }
}

[[noreturn]] void bad_connection_ref();

template <class A>
A from_wire(wire_t<A>&& w, std::span<const int> fds) {
  if constexpr (is_connection<A>::value) {
    if (w.index >= fds.size()) bad_connection_ref();
    return Connection(fds[w.index], w.readable, w.writable);
  } else if constexpr (CrossingHandle<A>) {
    return Crossing<A>::load(w);
  } else {
    return std::move(w);
  }
}

template <class F, class... Args>
void trampoline(std::uintptr_t target, std::string_view data, std::span<const int> fds) {
  auto wire = pickle::loads<std::tuple<wire_t<Args>...>>(data);
  auto call = [&](auto&&... w) {
    if constexpr (std::is_pointer_v<F>) {
      std::invoke(reinterpret_cast<F>(target), from_wire<Args>(std::move(w), fds)...);
    } else {
      std::invoke(F{}, from_wire<Args>(std::move(w), fds)...);
    }
  };
  std::apply(call, std::move(wire));
}

// The callable form's target and arguments (decay-copied, as Thread's).
class ProcessTargetBase {
 public:
  virtual ~ProcessTargetBase() = default;
  /// Calls the target with its arguments (in the child, under fork).
  virtual void invoke() = 0;
  /// Fills `out` for a forkserver/spawn child; returns an explanation when it cannot cross.
  virtual std::optional<std::string> cross(CrossedTarget& out) const = 0;
};

template <class F, class... Args>
class ProcessTarget final : public ProcessTargetBase {
 public:
  template <class G, class... A>
  explicit ProcessTarget(G&& g, A&&... a) : target_(std::forward<G>(g), std::forward<A>(a)...) {}
  void invoke() override {
    std::apply([](F& f, Args&... args) { std::invoke(std::move(f), std::move(args)...); }, target_);
  }
  std::optional<std::string> cross(CrossedTarget& out) const override {
    if constexpr (!target_crosses<F>) {
      return std::string(
          "the target cannot cross to the child: only a plain function or a captureless lambda can (a "
          "capturing lambda, std::function or other object with state needs the 'fork' start method)");
    } else if constexpr (!(arg_crosses<Args> && ...)) {
      return std::string(
          "an argument cannot cross to the child: each must be picklable with trident::pickle (cereal), a "
          "Connection, or a shared-memory handle (a process lock, Semaphore, Condition, Event, Barrier, Value, "
          "Array, RawValue, RawArray, SharedMemory, ShareableList)");
    } else {
      out.trampoline = &trampoline<F, Args...>;
      if constexpr (std::is_pointer_v<F>) out.target = reinterpret_cast<std::uintptr_t>(std::get<0>(target_));
      std::vector<int> fds;
      out.args = std::apply(
          [&](const F&, const Args&... args) {
            return pickle::dumps(std::tuple<wire_t<Args>...>(to_wire<Args>(args, fds)...));
          },
          target_);
      out.fds = std::move(fds);
      return std::nullopt;
    }
  }

 private:
  std::tuple<F, Args...> target_;
};

template <class F, class... Args>
concept ProcessInvocable = std::is_invocable_v<std::decay_t<F>, std::decay_t<Args>...>;

// The registry behind TRIDENT_REGISTER_PROCESS: how a registered subclass is pickled in the parent
// and rebuilt and run in the child.
struct RegisteredProcess {
  const char* key;                          // typeid(T).name()
  pickle::bytes (*save)(const Process& p);  // pickle of the object's serialize()
  void (*run)(std::string_view data);       // rebuilds a T, makes it current, runs it
};
bool register_process(const RegisteredProcess& r) noexcept;
/// In a forkserver/spawn child: gives `p` (the rebuilt subclass object) this process's identity
/// (name, daemon flag) and makes it current_process().
void become_current(Process& p);

}  // namespace detail

/// Python's `multiprocessing.Process`: a child process running `run()`.
///
/// Two forms, as in Python:
/// - callable: `Process p(fn, args...)` calls `fn(args...)` in the child (see the header comment
///   for what may cross under forkserver and spawn);
/// - subclass: derive, override `run()`, construct the base with `Process()` or
///   `Process(ProcessOptions)`.
/// The start method is the context's (the default one: set_start_method / "forkserver").
class Process {
 public:
  /// Subclass form: `run()` is yours to override; the default run() does nothing.
  Process();
  /// Subclass form with Python's keyword arguments.
  explicit Process(ProcessOptions options);
  /// Python's `Process(target=f, args=(...))`.
  template <class F, class... Args>
  explicit Process(F&& target, Args&&... args) requires(!std::is_same_v<std::remove_cvref_t<F>, ProcessOptions> &&
                                                        detail::ProcessInvocable<F, Args...>)
      : Process(ProcessOptions{}, std::forward<F>(target), std::forward<Args>(args)...) {}
  /// Python's `Process(target=f, args=(...), name=..., daemon=...)`.
  template <class F, class... Args>
  Process(ProcessOptions options, F&& target, Args&&... args) requires detail::ProcessInvocable<F, Args...>
      : Process(std::move(options), std::nullopt) {
    target_ = std::make_unique<detail::ProcessTarget<std::decay_t<F>, std::decay_t<Args>...>>(
        std::forward<F>(target), std::forward<Args>(args)...);
  }
  /// A handle moved from is empty: every call but destruction throws ValueError.
  Process(Process&& other) noexcept;
  Process& operator=(Process&& other);
  /// See "Handle lifetime" in the header comment: waits for a running non-daemon child.
  virtual ~Process();

  /// Starts the child, which calls run(). Throws RuntimeError "Process::start(): cannot start a
  /// process twice", "... daemonic processes are not allowed to have children", "... can only
  /// start a process object created by current process", the bootstrapping-phase RuntimeError
  /// when forkserver/spawn is used without multiprocessing::main(); TypeError when the target (or
  /// an unregistered subclass) cannot cross to a forkserver/spawn child; OSError if the OS refuses.
  void start();
  /// What the child does: calls the target with its arguments, or nothing without one. Override it
  /// in a subclass. Calling it directly runs it in the calling process, as in Python.
  virtual void run();
  /// Blocks until the child exits or `timeout` passes (check exitcode()/is_alive() after, as in
  /// Python). Throws RuntimeError "Process::join(): can only join a started process", "... can
  /// only join a child process", ValueError for a negative timeout or a closed process.
  void join(Timeout timeout = std::nullopt);
  /// True from start() until the child exited. Does not block.
  bool is_alive() const;
  /// Python's `terminate()`: sends SIGTERM; nothing if the child has already exited.
  void terminate();
  /// Python's `kill()`: sends SIGKILL; nothing if the child has already exited.
  void kill();
  /// Python's `close()`: releases the handle's resources (the sentinel). Throws ValueError
  /// "Cannot close a process while it is still running. You should first call join() or
  /// terminate()."; afterwards most calls throw ValueError "process object is closed".
  void close();
  /// The name (Python's `name` attribute).
  std::string name() const;
  void set_name(std::string name);
  /// Python's `daemon` attribute; set_daemon throws RuntimeError after start().
  bool daemon() const;
  void set_daemon(bool daemonic);
  /// Python's `pid` (and `ident`, the same): nullopt before start(); in the child, its own pid.
  std::optional<int> pid() const;
  std::optional<int> ident() const { return pid(); }
  /// Python's `exitcode`: nullopt while running (or not started); the exit status, or minus the
  /// signal that killed the child. Does not block.
  std::optional<int> exitcode() const;
  /// Python's `sentinel`: an fd that becomes readable when the child exits, for
  /// connection::wait. Owned by the handle (valid until close() or destruction). Throws
  /// ValueError "process not started" before start().
  int sentinel() const;
  /// Whether the handle was moved from.
  bool empty() const noexcept { return st_ == nullptr; }

 private:
  friend struct ProcessAccess;
  Process(ProcessOptions options, std::nullopt_t);

  std::shared_ptr<detail::ProcessState> st_;
  std::unique_ptr<detail::ProcessTargetBase> target_;
};

/// Python's `multiprocessing.current_process()`: the Process object of this process —
/// "MainProcess" in the main program; in a child, the object that was started (under fork the
/// handle itself; under forkserver/spawn the rebuilt one).
Process& current_process();
/// Python's `multiprocessing.parent_process()`: in a child, an object describing the process that
/// started it (name, pid, is_alive(), join(timeout), sentinel — readable once the parent exited;
/// exitcode stays nullopt); nullptr in the main program.
Process* parent_process();
/// Python's `multiprocessing.active_children()`: the handles of this process's started, still
/// running children (reaping those that finished, as Python does). Children whose handles were
/// destroyed (detached daemons) are not listed but still count for the exit rule.
std::vector<Process*> active_children();
/// Python's `multiprocessing.cpu_count()`: CPUs in the system. Throws NotImplementedError in
/// Python when unknown; here RuntimeError.
int cpu_count();

/// Python's `get_all_start_methods()`: {"forkserver", "spawn", "fork"}, the default first.
std::vector<std::string> get_all_start_methods();
/// Python's `set_start_method(method, force=False)`: sets the default start method once. Throws
/// RuntimeError "context has already been set" when set before without `force`, ValueError for an
/// unknown method.
void set_start_method(std::string_view method, bool force = false);
/// Python's `get_start_method(allow_none=False)`: the default start method's name (fixing it to
/// "forkserver" if none was set, as Python does); with `allow_none`, "" when none was set.
std::string get_start_method(bool allow_none = false);

/// Python's `multiprocessing.context.BaseContext` for a runtime-chosen method (get_context).
/// `ctx.Process(...)` builds a Process that starts with this context's method; a target that cannot
/// cross is found by start() (TypeError), as only the method's value knows.
class Context {
 public:
  explicit constexpr Context(StartMethod m) noexcept : method_(m) {}
  /// Python's `ctx.Process(target=f, args=(...))`; for a subclass object, `ctx.bind(obj)`.
  template <class F, class... Args>
  multiprocessing::Process Process(F&& target, Args&&... args) const
      requires(!std::is_same_v<std::remove_cvref_t<F>, ProcessOptions>) {
    return Process(ProcessOptions{}, std::forward<F>(target), std::forward<Args>(args)...);
  }
  /// Python's `ctx.Process(target=f, args=(...), name=..., daemon=...)`.
  template <class F, class... Args>
  multiprocessing::Process Process(ProcessOptions options, F&& target, Args&&... args) const {
    multiprocessing::Process p(std::move(options), std::forward<F>(target), std::forward<Args>(args)...);
    bind(p);
    return p;
  }
  /// Python's `ctx.Pipe(duplex)`.
  std::pair<Connection, Connection> Pipe(bool duplex = true) const { return multiprocessing::Pipe(duplex); }
  /// Python's `ctx.Lock()`, `ctx.RLock()`, `ctx.Semaphore(value)`, `ctx.BoundedSemaphore(value)`,
  /// `ctx.Condition(lock)`, `ctx.Event()`, `ctx.Barrier(parties, action, timeout)`: the same objects
  /// as the module-level ones under every start method (as in Python, where a context only changes
  /// how processes start); each crosses to this context's children as a Process argument.
  multiprocessing::Lock Lock() const { return {}; }
  multiprocessing::RLock RLock() const { return {}; }
  multiprocessing::Semaphore Semaphore(int value = 1) const { return multiprocessing::Semaphore(value); }
  multiprocessing::BoundedSemaphore BoundedSemaphore(int value = 1) const {
    return multiprocessing::BoundedSemaphore(value);
  }
  multiprocessing::Condition Condition() const { return {}; }
  template <class L>
  multiprocessing::Condition Condition(L lock) const {
    return multiprocessing::Condition(std::move(lock));
  }
  multiprocessing::Event Event() const { return {}; }
  multiprocessing::Barrier Barrier(int parties, std::function<void()> action = {},
                                   Timeout timeout = std::nullopt) const {
    return multiprocessing::Barrier(parties, std::move(action), timeout);
  }
  /// Python's `ctx.Value(typecode, value, lock=True)` (`ctx.Value<int>(0)`), `ctx.Array(...)`,
  /// `ctx.RawValue(...)`, `ctx.RawArray(...)`: as the module-level class templates.
  template <class T>
  multiprocessing::Value<T> Value(const T& value = T{}, ValueOptions options = {}) const {
    return multiprocessing::Value<T>(value, options);
  }
  template <class T>
  multiprocessing::Array<T> Array(std::size_t n, ValueOptions options = {}) const {
    return multiprocessing::Array<T>(n, options);
  }
  template <class T>
  multiprocessing::Array<T> Array(std::initializer_list<T> init, ValueOptions options = {}) const {
    return multiprocessing::Array<T>(init, options);
  }
  template <class T>
  multiprocessing::RawValue<T> RawValue(const T& value = T{}) const {
    return multiprocessing::RawValue<T>(value);
  }
  template <class T>
  multiprocessing::RawArray<T> RawArray(std::size_t n) const {
    return multiprocessing::RawArray<T>(n);
  }
  template <class T>
  multiprocessing::RawArray<T> RawArray(std::initializer_list<T> init) const {
    return multiprocessing::RawArray<T>(init);
  }
  /// Python's `ctx.Queue(maxsize)` (`ctx.Queue<int>(10)`), `ctx.JoinableQueue(maxsize)`,
  /// `ctx.SimpleQueue()`: the module-level queues, which cross to this context's children.
  template <class T>
  multiprocessing::Queue<T> Queue(long maxsize = 0) const {
    return multiprocessing::Queue<T>(maxsize);
  }
  template <class T>
  multiprocessing::JoinableQueue<T> JoinableQueue(long maxsize = 0) const {
    return multiprocessing::JoinableQueue<T>(maxsize);
  }
  template <class T>
  multiprocessing::SimpleQueue<T> SimpleQueue() const {
    return multiprocessing::SimpleQueue<T>();
  }
  /// Python's `ctx.get_start_method()`.
  std::string get_start_method() const;
  StartMethod method() const noexcept { return method_; }
  /// Makes `p` (not yet started; a subclass object too) start with this context's method.
  void bind(multiprocessing::Process& p) const;

 private:
  StartMethod method_;
};

/// Python's `ForkContext`, `ForkServerContext`, `SpawnContext`: the method is in the type, so
/// `ctx.Process(f, args...)` with a target or an argument that cannot cross to a forkserver or
/// spawn child does not compile.
template <StartMethod M>
class MethodContext : public Context {
 public:
  constexpr MethodContext() noexcept : Context(M) {}
  template <class F, class... Args>
  multiprocessing::Process Process(F&& target, Args&&... args) const
      requires(!std::is_same_v<std::remove_cvref_t<F>, ProcessOptions>) {
    return Process(ProcessOptions{}, std::forward<F>(target), std::forward<Args>(args)...);
  }
  template <class F, class... Args>
  multiprocessing::Process Process(ProcessOptions options, F&& target, Args&&... args) const {
    if constexpr (M != StartMethod::fork) {
      static_assert(detail::target_crosses<std::decay_t<F>>,
                    "ctx.Process(): with the 'forkserver' and 'spawn' start methods the target must be a plain "
                    "function or a captureless lambda (a capturing lambda or std::function needs 'fork')");
      static_assert((detail::arg_crosses<std::decay_t<Args>> && ...),
                    "ctx.Process(): with the 'forkserver' and 'spawn' start methods every argument must be "
                    "picklable with trident::pickle (cereal), a Connection or a shared-memory handle");
    }
    return Context::Process(std::move(options), std::forward<F>(target), std::forward<Args>(args)...);
  }
};
using ForkContext = MethodContext<StartMethod::fork>;
using ForkServerContext = MethodContext<StartMethod::forkserver>;
using SpawnContext = MethodContext<StartMethod::spawn>;
inline constexpr ForkContext fork_context{};
inline constexpr ForkServerContext forkserver_context{};
inline constexpr SpawnContext spawn_context{};

/// Python's `get_context(method=None)`: the context of `method` ("fork", "forkserver", "spawn"),
/// or of the default method. Throws ValueError "cannot find context for 'x'".
Context get_context(std::string_view method = {});

/// The C++ form of `if __name__ == "__main__":` (note 004). Call it first thing in `main`:
/// - in a child started with the `spawn` method (this program re-executed with a marker
///   argument), it runs the requested target and exits — it never returns there;
/// - otherwise it starts the fork server (for the `forkserver` method) while no other thread
///   exists, and returns.
/// Starting a forkserver or spawn process without it is a RuntimeError naming this fix.
void main(int argc, char** argv);

}  // namespace trident::multiprocessing

/// Registers a Process subclass `T` so it crosses to forkserver and spawn children: `T` must be
/// default-constructible and have a cereal `serialize` member (its state; the base's name and
/// daemon flag cross on their own). Use at namespace scope, once per type.
#define TRIDENT_REGISTER_PROCESS(T)                                                       \
  static const bool TRIDENT_REGISTER_PROCESS_CAT(trident_registered_process_, __LINE__) = \
      ::trident::multiprocessing::detail::register_process(                               \
          {typeid(T).name(),                                                              \
           [](const ::trident::multiprocessing::Process& p) -> ::trident::pickle::bytes { \
             return ::trident::pickle::dumps(static_cast<const T&>(p));                   \
           },                                                                             \
           [](std::string_view data) {                                                    \
             T obj = ::trident::pickle::loads<T>(data);                                   \
             ::trident::multiprocessing::detail::become_current(obj);                     \
             obj.run();                                                                   \
           }})
#define TRIDENT_REGISTER_PROCESS_CAT2(a, b) a##b
#define TRIDENT_REGISTER_PROCESS_CAT(a, b) TRIDENT_REGISTER_PROCESS_CAT2(a, b)
