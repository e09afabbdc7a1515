// threading::Thread, the registry of live threads, current_thread(), the excepthook and the exit
// rule (Python's threading._shutdown: non-daemon threads are joined at normal exit).
//
// A thread's state lives in a reference-counted detail::ThreadCore shared by the handle and the
// running thread. The thread waits for nothing at start (unlike CPython, start() does not wait
// for the new thread to signal it runs): what start() must make visible at once (is_alive, ident,
// membership in enumerate()) is recorded by start() itself, and the few things only the new thread
// knows (native_id) are waited for on demand through `started`.
#include <cxxabi.h>
#include <pthread.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <mutex>
#include <new>
#include <string>
#include <typeinfo>

#include "platform/linux/thread.hpp"
#include "threading/internal.hpp"
#include "trident/threading.hpp"

namespace trident::threading {

using trident::detail::Deadline;
using trident::detail::EventFlag;
using trident::detail::Mutex;

struct detail_access {
  static detail::ThreadCore* core(const Thread& t) noexcept { return t.core_; }
  // A Thread object for an existing core, taking over one reference the caller holds.
  static Thread* wrap(detail::ThreadCore* c) {
    auto* t = new Thread(c, Thread::AdoptTag{});
    t->owned_by_trident_ = true;
    return t;
  }
};

namespace detail {

ThreadCore::~ThreadCore() = default;

void throw_runtime_error(const char* message) { throw RuntimeError(message); }

void throw_empty_handle(const char* api) {
  throw RuntimeError(std::string(api) + ": the handle is empty (it was moved from)");
}

}  // namespace detail

namespace {

using detail::ThreadCore;

// Python's `_counter`: one sequence for "Thread-N" and "Dummy-N" names.
std::atomic<unsigned> g_name_counter{0};

std::string new_name(const char* prefix) { return prefix + std::to_string(g_name_counter.fetch_add(1) + 1); }

// Python's threading.stack_size(): for threads started from now on; 0 = the system default.
std::atomic<std::size_t> g_stack_size{0};

// The core of the calling thread, once it has a Thread object (started by trident, the main
// thread, or a dummy). Cleared when a trident thread finishes.
thread_local ThreadCore* tl_core = nullptr;

// Every live thread: started and not finished (Python's `_active` plus `_limbo`). Never destroyed,
// so daemon threads still running during static destruction can use it.
struct Registry {
  Mutex mutex;
  ThreadCore* head = nullptr;  // guarded by mutex
  int count = 0;               // guarded by mutex
};
Registry& registry() {
  static Registry* const r = new Registry;
  return *r;
}

void register_core(ThreadCore* c) noexcept {
  Registry& r = registry();
  std::lock_guard g(r.mutex);
  c->reg_prev = nullptr;
  c->reg_next = r.head;
  if (r.head != nullptr) r.head->reg_prev = c;
  r.head = c;
  c->registered = true;
  ++r.count;
}

void unregister_locked(Registry& r, ThreadCore* c) noexcept {
  if (!c->registered) return;
  (c->reg_prev != nullptr ? c->reg_prev->reg_next : r.head) = c->reg_next;
  if (c->reg_next != nullptr) c->reg_next->reg_prev = c->reg_prev;
  c->reg_prev = c->reg_next = nullptr;
  c->registered = false;
  --r.count;
}

void unregister_core(ThreadCore* c) noexcept {
  Registry& r = registry();
  std::lock_guard g(r.mutex);
  unregister_locked(r, c);
}

ThreadCore* main_core();

// Frees the OS thread once: pthread_join from join() (the thread has finished run(); this waits
// only for it to exit, and returns its stack to glibc's cache so the next start() reuses it),
// pthread_detach when the handle goes away first.
void reap_os_thread(ThreadCore* c, bool join) noexcept {
  int expected = ThreadCore::kOsJoinable;
  if (!c->os_state.compare_exchange_strong(expected, ThreadCore::kOsReaped, std::memory_order_acq_rel)) return;
  const unsigned long ident = c->ident.load(std::memory_order_relaxed);
  if (join) {
    platform::join_thread(ident);
  } else {
    platform::detach_thread(ident);
  }
}

// Blocks until `c`'s thread finished and reaps it. A plain OS thread lets the kernel wake it when
// the thread exits: one wake-up instead of `done`'s plus the reaping's, no spinning while the new
// thread needs a CPU, and the stack is back in glibc's cache for the next start(). (A greenlet
// waits for `done` through the core instead.)
void join_forever(ThreadCore* c) noexcept {
  if (&trident::detail::current_parker() == &trident::detail::thread_parker()) {
    int expected = ThreadCore::kOsJoinable;
    if (c->os_state.compare_exchange_strong(expected, ThreadCore::kOsReaped, std::memory_order_acq_rel)) {
      platform::join_thread(c->ident.load(std::memory_order_relaxed));
      return;
    }
  }
  c->done.wait_until(Deadline::forever());
  reap_os_thread(c, true);
}

// Before trident blocks on its own (a handle's destructor, the exit handler) rather than in a
// join() the program wrote: what the program printed so far reaches its pipe or file even if the
// thread waited for never ends. Only stdout and stderr: fflush(nullptr) would lock every FILE, and
// a thread blocked reading stdin holds that one's lock.
void flush_standard_streams() noexcept {
  std::fflush(stdout);
  std::fflush(stderr);
  try {
    // The same buffers unless the program called sync_with_stdio(false).
    std::cout.flush();
    std::cerr.flush();
    std::clog.flush();
  } catch (...) {
    // A stream whose exceptions() mask throws on a failed flush: nothing more to do before waiting.
  }
}

// ---- exit and fork ----

// Python's threading._shutdown: at normal exit, wait for every non-daemon thread (also those
// started meanwhile). Runs in the exiting thread, which is not waited for.
void join_non_daemon_threads() {
  ThreadCore* const me = tl_core;
  if (me != nullptr && me == main_core()) {
    // The main thread is done with its work: a thread joining it must not block exit.
    unregister_core(me);
    me->done.set();
  }
  bool flushed = false;
  for (;;) {
    ThreadCore* wait_for = nullptr;
    {
      Registry& r = registry();
      std::lock_guard g(r.mutex);
      for (ThreadCore* c = r.head; c != nullptr; c = c->reg_next) {
        if (!c->daemon && !c->dummy && c != me && !c->done.is_set()) {
          wait_for = c;
          c->ref();
          break;
        }
      }
    }
    if (wait_for == nullptr) return;
    if (!flushed) {
      flush_standard_streams();
      flushed = true;
    }
    // Reaps it too: its handle may outlive exit() (std::exit does not unwind), so nobody else would.
    join_forever(wait_for);
    wait_for->unref();
  }
}

// Registered at the first start(), not at load time: atexit handlers and static destructors run in
// reverse order of registration, so the join happens before any static constructed earlier (all
// of the program's namespace-scope objects) is destroyed.
void ensure_exit_handler() {
  static const bool registered = (std::atexit(&join_non_daemon_threads), true);
  (void)registered;
}

void become_main_after_fork() noexcept;

// In a forked child only the forking thread exists (Python's _after_fork): the others leave the
// registry and count as finished, so exit does not wait for them and joining them returns.
void after_fork_in_child() noexcept {
  Registry& r = registry();
  new (&r.mutex) Mutex;  // a parent thread may have held it
  ThreadCore* c = r.head;
  while (c != nullptr) {
    ThreadCore* next = c->reg_next;
    if (c != tl_core) {
      unregister_locked(r, c);
      // Their waiters and lock holders were threads of the parent: start the sync state afresh.
      new (&c->mutex) Mutex;
      c->exited = true;
      new (&c->done) EventFlag;
      c->done.set();
      c->os_state.store(ThreadCore::kOsReaped, std::memory_order_relaxed);  // no such thread here
    }
    c = next;
  }
  become_main_after_fork();
}

[[maybe_unused]] const bool g_fork_handler = (pthread_atfork(nullptr, nullptr, &after_fork_in_child), true);

// ---- main and dummy threads ----

ThreadCore* new_foreign_core(std::string name, bool daemon, bool dummy) {
  auto* c = new ThreadCore;
  c->name = std::move(name);
  c->daemon = daemon;
  c->dummy = dummy;
  c->state.store(ThreadCore::kStarted, std::memory_order_relaxed);
  c->ident.store(platform::current_thread_ident(), std::memory_order_relaxed);
  c->native_id.store(platform::current_tid(), std::memory_order_relaxed);
  c->started.set();
  c->self.store(detail_access::wrap(c), std::memory_order_release);
  register_core(c);
  return c;
}

// The child's main thread after a fork (become_main_after_fork); null until this process forked.
// Written only in a just-forked child, while it has a single thread.
ThreadCore* g_forked_main = nullptr;

ThreadCore* main_core() {
  if (g_forked_main != nullptr) return g_forked_main;
  // Made on the initial thread by g_main_init below (so its ident is right); if another thread
  // gets here first (trident loaded later by dlopen), the ident is fixed when main first asks.
  static ThreadCore* const c = [] {
    ThreadCore* m = new_foreign_core("MainThread", false, false);
    if (!platform::is_process_main_thread()) {
      m->ident.store(0, std::memory_order_relaxed);
      m->native_id.store(static_cast<long>(getpid()), std::memory_order_relaxed);
    }
    return m;
  }();
  return c;
}

// Frees a dummy thread's object when its OS thread exits (Python frees _DummyThread objects when
// their thread ends).
struct DummyReaper {
  ThreadCore* core = nullptr;
  ~DummyReaper() {
    if (core == nullptr) return;
    if (tl_core == core) tl_core = nullptr;
    unregister_core(core);
    {
      std::lock_guard g(core->mutex);
      core->exited = true;
    }
    core->done.set();
    delete core->self.load(std::memory_order_acquire);  // drops the only reference
  }
};
thread_local DummyReaper tl_dummy;

Thread& current_thread_slow() {
  if (platform::is_process_main_thread()) {
    ThreadCore* m = main_core();
    unsigned long expected = 0;
    m->ident.compare_exchange_strong(expected, platform::current_thread_ident(), std::memory_order_relaxed);
    tl_core = m;
    return *m->self.load(std::memory_order_acquire);
  }
  ThreadCore* c = new_foreign_core(new_name("Dummy-"), true, true);
  tl_dummy.core = c;
  tl_core = c;
  return *c->self.load(std::memory_order_acquire);
}

// Python's _after_fork: the forking thread becomes the child's main thread. A thread trident had
// not seen yet, or a dummy, becomes a "MainThread" as CPython turns a _DummyThread into a
// _MainThread; a trident Thread keeps its name. Its lock and join event may hold parent threads'
// waiters: fresh ones.
void become_main_after_fork() noexcept {
  ThreadCore* me = tl_core;
  if (me == nullptr) {
    me = new_foreign_core("MainThread", false, false);
    tl_core = me;
  } else {
    new (&me->mutex) Mutex;
    new (&me->done) EventFlag;
    if (me->dummy) {
      me->name = "MainThread";
      me->daemon = false;
      me->dummy = false;
      tl_dummy.core = nullptr;  // its reaper must not free the main thread at exit
    }
  }
  me->native_id.store(platform::current_tid(), std::memory_order_relaxed);
  g_forked_main = me;
}

[[maybe_unused]] const bool g_main_init = (platform::is_process_main_thread() ? (void)current_thread() : (void)0, true);

// ---- the excepthook ----

struct HookStore {
  Mutex mutex;
  ExceptHook hook;  // guarded by mutex; empty = default_excepthook
};
HookStore& hook_store() {
  static HookStore* const h = new HookStore;  // never destroyed: daemon threads may fail late
  return *h;
}

std::string demangle(const char* mangled) {
  int status = 0;
  char* s = abi::__cxa_demangle(mangled, nullptr, nullptr, &status);
  std::string out = (status == 0 && s != nullptr) ? s : mangled;
  std::free(s);
  return out;
}

// The message of an exception; empty for one that is not a std or trident exception.
std::string exception_message(const std::exception_ptr& e) {
  if (!e) return {};
  try {
    std::rethrow_exception(e);
  } catch (const Exception& x) {
    return x.what();
  } catch (const std::exception& x) {
    return x.what();
  } catch (...) {
    return {};
  }
}

void write_stderr(const std::string& text) noexcept {
  std::fwrite(text.data(), 1, text.size(), stderr);
  std::fflush(stderr);
}

void call_excepthook(ThreadCore* c, std::exception_ptr error) noexcept {
  Thread* thread;
  {
    // While in_hook is set, a detachable handle's destructor waits instead of freeing `thread`.
    std::lock_guard g(c->mutex);
    thread = c->self.load(std::memory_order_acquire);
    c->in_hook = true;
  }
  try {
    ExceptHook hook = get_excepthook();
    hook(ExceptHookArgs{std::move(error), thread});
  } catch (...) {
    // Python reports a failing hook through sys.excepthook and carries on.
    try {
      const ExceptHookArgs failure{std::current_exception(), thread};
      std::string what = exception_message(failure.exc_value);
      write_stderr("Exception in threading.excepthook:\n" + failure.exc_type() + (what.empty() ? "" : ": " + what) +
                   "\n");
    } catch (...) {
      write_stderr("Exception in threading.excepthook\n");
    }
  }
  std::lock_guard g(c->mutex);
  c->in_hook = false;
}

// ---- the new thread ----

// What a trident thread does last, also when unwound by pthread_exit: destroy its locals, leave
// the registry, wake its joiners, drop its reference.
void finish_thread(ThreadCore* c) noexcept {
  destroy_current_thread_locals();
  unregister_core(c);
  Thread* orphan;
  {
    std::lock_guard g(c->mutex);
    c->exited = true;
    orphan = c->orphan;
    c->orphan = nullptr;
  }
  tl_core = nullptr;
  c->done.set();
  delete orphan;
  c->unref();
}

void* thread_main(void* arg) {
  auto* c = static_cast<ThreadCore*>(arg);
  tl_core = c;
  struct Finish {
    ThreadCore* c;
    ~Finish() { finish_thread(c); }
  } finish{c};
  c->ident.store(platform::current_thread_ident(), std::memory_order_relaxed);
  {
    // Under the mutex so a concurrent set_name() cannot be overwritten by the old name.
    std::lock_guard g(c->mutex);
    c->native_id.store(platform::current_tid(), std::memory_order_release);
    platform::set_current_thread_name(c->name.c_str());
  }
  c->started.set();
  try {
    if (c->detached_run) {
      c->invoke();
    } else {
      c->self.load(std::memory_order_acquire)->run();
    }
  } catch (...) {
    // pthread_exit()/cancellation unwinds with a foreign exception, for which current_exception()
    // is null: let it finish unwinding (Finish still runs). Catching abi::__forced_unwind by
    // type would do the same, but binds a reference to no object (UBSan rightly objects).
    std::exception_ptr error = std::current_exception();
    if (!error) throw;
    call_excepthook(c, std::move(error));
  }
  return nullptr;
}

}  // namespace

// ---- Thread ----

Thread::Thread() : Thread(ThreadOptions{}) {}

Thread::Thread(ThreadOptions options) : core_(adopt(new detail::ThreadCore, std::move(options))) {}

Thread::Thread(detail::ThreadCore* core, AdoptTag) noexcept : core_(core) {}

detail::ThreadCore* Thread::adopt(detail::ThreadCore* core, ThreadOptions&& options) {
  try {
    core->name = options.name.empty() ? new_name("Thread-") : std::move(options.name);
    core->daemon = options.daemon ? *options.daemon : current_thread().daemon();
  } catch (...) {
    delete core;
    throw;
  }
  return core;
}

Thread::~Thread() {
  if (core_ != nullptr) release(true);
}

Thread::Thread(Thread&& other) : core_(nullptr) {
  check_movable(other, "Thread(Thread&&)");
  take(other);
}

Thread& Thread::operator=(Thread&& other) {
  if (&other == this) return *this;
  check_movable(other, "Thread::operator=(Thread&&)");
  if (owned_by_trident_) {
    throw RuntimeError(
        "Thread::operator=(Thread&&): cannot assign to a Thread object owned by trident (main_thread(), "
        "a dummy thread's or a stand-in's)");
  }
  if (core_ != nullptr) release(false);
  take(other);
  return *this;
}

detail::ThreadCore* Thread::core(const char* api) const {
  if (core_ == nullptr) [[unlikely]]
    detail::throw_empty_handle(api);
  return core_;
}

void Thread::check_movable(const Thread& other, const char* api) const {
  if (other.owned_by_trident_) {
    throw RuntimeError(std::string(api) +
                       ": cannot move a Thread object owned by trident (main_thread(), a dummy thread's or a "
                       "stand-in's)");
  }
  ThreadCore* c = other.core_;
  if (c != nullptr && c->state.load(std::memory_order_acquire) == ThreadCore::kStarted && !c->detached_run) {
    throw RuntimeError(std::string(api) +
                       ": cannot move a started object of a class derived from Thread (its run() runs on the original "
                       "object); keep it in place, e.g. in a std::unique_ptr");
  }
}

void Thread::take(Thread& other) noexcept {
  ThreadCore* c = std::exchange(other.core_, nullptr);
  core_ = c;
  if (c == nullptr) return;
  // current_thread(), enumerate() and the excepthook find the handle through `self`: point it here,
  // under the core's mutex (the excepthook and a stand-in's creation read it under the same lock).
  for (;;) {
    {
      std::lock_guard g(c->mutex);
      if (c->self.load(std::memory_order_relaxed) != &other) return;  // not started, or started from here on
      if (!c->in_hook || tl_core == c) {
        c->self.store(this, std::memory_order_release);
        return;
      }
    }
    // The excepthook holds a pointer to `other`, valid during its call: let the thread finish.
    c->done.wait_until(Deadline::forever());
  }
}

void Thread::release(bool destroying) noexcept {
  ThreadCore* c = core_;
  if (c->state.load(std::memory_order_acquire) == ThreadCore::kStarted && !c->dummy && !c->done.is_set() &&
      c->self.load(std::memory_order_acquire) == this) {
    if (tl_core == c || (c->detached_run && c->daemon)) {
      // Detach: the thread carries on with a stand-in object as its current_thread(). (A thread
      // destroying its own object is `delete this`: its run() no longer touches the object; it
      // cannot wait for itself.)
      bool wait = false;
      {
        std::lock_guard g(c->mutex);
        if (c->in_hook && tl_core != c) {
          wait = true;  // the excepthook holds a pointer to this object
        } else if (!c->exited) {
          c->ref();
          Thread* orphan = detail_access::wrap(c);
          c->orphan = orphan;
          c->self.store(orphan, std::memory_order_release);
        }
      }
      if (wait) c->done.wait_until(Deadline::forever());
    } else {
      if (!c->detached_run && destroying) {
        // A subclass's run() may use the object, whose derived part is already gone: say so.
        std::string name;
        {
          std::lock_guard g(c->mutex);
          name = c->name;
        }
        write_stderr("trident: ~Thread(): thread '" + name +
                     "' is still running; waiting for it to finish (call join() in the destructor of your Thread "
                     "subclass)\n");
      }
      // A non-daemon thread outlives no handle (std::jthread's rule, and Python's exit waiting for
      // it), so what was declared before the handle outlives the thread.
      flush_standard_streams();
      join_forever(c);
    }
  }
  reap_os_thread(c, false);
  core_ = nullptr;
  c->unref();
}

void Thread::start() {
  ThreadCore* c = core("Thread::start()");
  int expected = ThreadCore::kNew;
  if (!c->state.compare_exchange_strong(expected, ThreadCore::kStarted, std::memory_order_acq_rel)) {
    throw RuntimeError("Thread::start(): threads can only be started once");
  }
  const std::type_info& type = typeid(*this);
  c->detached_run = type == typeid(Thread) || type == typeid(Timer);
  c->self.store(this, std::memory_order_release);
  ensure_exit_handler();
  register_core(c);
  c->ref();  // the new thread's reference
  unsigned long ident = 0;
  const int err = platform::start_thread(&thread_main, c, g_stack_size.load(std::memory_order_relaxed), &ident);
  if (err != 0) {
    unregister_core(c);
    c->unref();
    c->self.store(nullptr, std::memory_order_release);
    c->state.store(ThreadCore::kNew, std::memory_order_release);
    throw RuntimeError(std::string("Thread::start(): can't start new thread (") + std::strerror(-err) + ")");
  }
  c->ident.store(ident, std::memory_order_relaxed);
  c->os_state.store(ThreadCore::kOsJoinable, std::memory_order_release);
}

void Thread::run() { core("Thread::run()")->invoke(); }

void Thread::join(Timeout timeout) {
  ThreadCore* c = core("Thread::join()");
  if (c->dummy) throw RuntimeError("Thread::join(): cannot join a dummy thread");
  if (c->state.load(std::memory_order_acquire) != ThreadCore::kStarted) {
    throw RuntimeError("Thread::join(): cannot join thread before it is started");
  }
  if (tl_core == c) throw RuntimeError("Thread::join(): cannot join current thread");
  const Deadline deadline = Deadline::after(timeout, "Thread::join()");
  if (deadline.is_forever()) {
    join_forever(c);
    return;
  }
  if (c->done.wait_until(deadline)) reap_os_thread(c, true);
}

bool Thread::is_alive() const {
  ThreadCore* c = core("Thread::is_alive()");
  return c->state.load(std::memory_order_acquire) == ThreadCore::kStarted && !c->done.is_set();
}

std::string Thread::name() const {
  ThreadCore* c = core("Thread::name()");
  std::lock_guard g(c->mutex);
  return c->name;
}

void Thread::set_name(std::string name) {
  ThreadCore* c = core("Thread::set_name()");
  std::lock_guard g(c->mutex);
  c->name = std::move(name);
  // Only threads trident started get OS names (the main thread's is the program's; a dummy's
  // belongs to whoever started it). `exited` is set under this mutex, so the tid is still valid.
  const long tid = c->native_id.load(std::memory_order_acquire);
  if (tid == 0 || c->dummy || c == main_core() || c->exited) return;
  if (tl_core == c) {
    platform::set_current_thread_name(c->name.c_str());
  } else {
    platform::set_thread_name(tid, c->name.c_str());
  }
}

std::optional<unsigned long> Thread::ident() const {
  ThreadCore* c = core("Thread::ident()");
  if (c->state.load(std::memory_order_acquire) != ThreadCore::kStarted) return std::nullopt;
  unsigned long id = c->ident.load(std::memory_order_relaxed);
  if (id == 0) {
    // start() is still between pthread_create and recording it: the thread records it first.
    c->started.wait_until(Deadline::forever());
    id = c->ident.load(std::memory_order_relaxed);
  }
  return id;
}

std::optional<long> Thread::native_id() const {
  ThreadCore* c = core("Thread::native_id()");
  if (c->state.load(std::memory_order_acquire) != ThreadCore::kStarted) return std::nullopt;
  long id = c->native_id.load(std::memory_order_acquire);
  if (id == 0) {
    c->started.wait_until(Deadline::forever());
    id = c->native_id.load(std::memory_order_acquire);
  }
  return id;
}

bool Thread::daemon() const { return core("Thread::daemon()")->daemon; }

void Thread::set_daemon(bool daemonic) {
  ThreadCore* c = core("Thread::set_daemon()");
  if (c->state.load(std::memory_order_acquire) != ThreadCore::kNew) {
    throw RuntimeError("Thread::set_daemon(): cannot set daemon status of active thread");
  }
  c->daemon = daemonic;
}

// ---- module functions ----

Thread& current_thread() {
  if (ThreadCore* c = tl_core) [[likely]] {
    return *c->self.load(std::memory_order_acquire);
  }
  return current_thread_slow();
}

Thread& main_thread() { return *main_core()->self.load(std::memory_order_acquire); }

int active_count() {
  Registry& r = registry();
  std::lock_guard g(r.mutex);
  return r.count;
}

std::vector<Thread*> enumerate() {
  Registry& r = registry();
  std::vector<Thread*> out;
  std::lock_guard g(r.mutex);
  out.reserve(static_cast<std::size_t>(r.count));
  for (ThreadCore* c = r.head; c != nullptr; c = c->reg_next) out.push_back(c->self.load(std::memory_order_acquire));
  return out;
}

unsigned long get_ident() { return platform::current_thread_ident(); }

long get_native_id() { return platform::current_tid(); }

std::size_t stack_size(std::optional<std::size_t> size) {
  if (!size) return g_stack_size.load(std::memory_order_relaxed);
  constexpr std::size_t kMinimum = 32 * 1024;  // Python's THREAD_STACK_MIN-style lower bound
  if (*size != 0 && *size < kMinimum) {
    throw ValueError("stack_size(): size not valid: " + std::to_string(*size) + " bytes");
  }
  return g_stack_size.exchange(*size, std::memory_order_relaxed);
}

std::string ExceptHookArgs::exc_type() const {
  if (!exc_value) return "NoneType";
  try {
    std::rethrow_exception(exc_value);
  } catch (const Exception& x) {
    return x.type_name();
  } catch (...) {
    const std::type_info* t = abi::__cxa_current_exception_type();
    return t != nullptr ? demangle(t->name()) : "unknown exception";
  }
}

void set_excepthook(ExceptHook hook) {
  HookStore& h = hook_store();
  {
    std::lock_guard g(h.mutex);
    h.hook.swap(hook);
  }
  // The previous hook is destroyed here, outside the lock.
}

ExceptHook get_excepthook() {
  HookStore& h = hook_store();
  std::lock_guard g(h.mutex);
  if (!h.hook) return ExceptHook(&default_excepthook);
  return h.hook;
}

void default_excepthook(const ExceptHookArgs& args) {
  const std::string name = args.thread != nullptr ? args.thread->name() : std::to_string(get_ident());
  const std::string what = exception_message(args.exc_value);
  write_stderr("Exception in thread " + name + ":\n" + args.exc_type() + (what.empty() ? "" : ": " + what) + "\n");
}

}  // namespace trident::threading
