// threading::Thread and the module functions: the Thread behaviour CPython's test_threading
// (Lib/test/test_threading.py) and test_threading_local check, plus trident's lifetime rules.
#include <fcntl.h>
#include <poll.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iostream>
#include <memory>
#include <set>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "support/helpers.hpp"
#include "trident/threading.hpp"

extern char** environ;

namespace {

using namespace std::chrono_literals;
using trident::RuntimeError;
using trident::ValueError;
using trident::testing::kTimeoutSlack;
namespace threading = trident::threading;
using threading::Event;
using threading::Thread;
using Clock = std::chrono::steady_clock;

// A bound for waits that should succeed: long enough never to fire on a loaded machine.
constexpr auto kLong = 10s;

// Redirects file descriptor 2 into a temporary file while alive (the default excepthook and
// trident's diagnostics write there).
class StderrCapture {
 public:
  StderrCapture() {
    std::fflush(stderr);
    file_ = std::tmpfile();
    saved_ = dup(2);
    dup2(fileno(file_), 2);
  }
  ~StderrCapture() { finish(); }
  // Stops capturing and returns what was written.
  std::string finish() {
    if (file_ == nullptr) return text_;
    std::fflush(stderr);
    dup2(saved_, 2);
    close(saved_);
    std::rewind(file_);
    char buf[4096];
    std::size_t n;
    while ((n = std::fread(buf, 1, sizeof buf, file_)) > 0) text_.append(buf, n);
    std::fclose(file_);
    file_ = nullptr;
    return text_;
  }

 private:
  FILE* file_ = nullptr;
  int saved_ = -1;
  std::string text_;
};

// Installs an excepthook for one test and restores the default afterwards.
class HookGuard {
 public:
  explicit HookGuard(threading::ExceptHook hook) { threading::set_excepthook(std::move(hook)); }
  ~HookGuard() { threading::set_excepthook({}); }
};

bool contains(const std::vector<Thread*>& v, const Thread* t) { return std::find(v.begin(), v.end(), t) != v.end(); }

std::string os_thread_name(long tid) {
  std::ifstream f("/proc/self/task/" + std::to_string(tid) + "/comm");
  std::string s;
  std::getline(f, s);
  return s;
}

// Waits (bounded) until active_count() drops to `n`: a detached thread leaves the registry just
// after it signals the test, and nothing else can be joined to know when.
bool wait_active_count(int n) {
  const auto until = Clock::now() + kLong;
  while (threading::active_count() > n) {
    if (Clock::now() > until) return false;
    std::this_thread::yield();
  }
  return true;
}

// ---- start / join / is_alive ----

// Python: Thread.start() a second time raises RuntimeError("threads can only be started once").
TEST(Thread, StartTwiceThrowsRuntimeError) {
  Thread t([] {});
  t.start();
  try {
    t.start();
    FAIL() << "second start() did not throw";
  } catch (const RuntimeError& e) {
    EXPECT_STREQ(e.what(), "Thread::start(): threads can only be started once");
  }
  t.join();
  EXPECT_THROW(t.start(), RuntimeError);  // also once finished
}

// Python: join() of a thread never started raises RuntimeError("cannot join thread before it is
// started").
TEST(Thread, JoinBeforeStartThrowsRuntimeError) {
  Thread t([] {});
  try {
    t.join();
    FAIL() << "join() did not throw";
  } catch (const RuntimeError& e) {
    EXPECT_STREQ(e.what(), "Thread::join(): cannot join thread before it is started");
  }
}

// Python: a thread joining itself raises RuntimeError("cannot join current thread"); so does
// joining main_thread() from the main thread.
TEST(Thread, JoinCurrentThreadThrowsRuntimeError) {
  std::string message;
  Thread t([&] {
    try {
      threading::current_thread().join();
    } catch (const RuntimeError& e) {
      message = e.what();
    }
  });
  t.start();
  t.join();
  EXPECT_EQ(message, "Thread::join(): cannot join current thread");
  EXPECT_THROW(threading::main_thread().join(), RuntimeError);
}

// Python: join(timeout) returns after the timeout with the thread still alive; is_alive() is the
// way to tell (test_various_ops / test_join_timeout).
TEST(Thread, JoinTimeoutReturnsWithThreadStillAlive) {
  Event release;
  Thread t([&] { release.wait(kLong); });
  t.start();
  const auto t0 = Clock::now();
  t.join(100ms);
  const auto elapsed = Clock::now() - t0;
  EXPECT_TRUE(t.is_alive());
  EXPECT_GE(elapsed, 99ms);
  EXPECT_LT(elapsed, 100ms + kTimeoutSlack);
  release.set();
  t.join(kLong);
  EXPECT_FALSE(t.is_alive());
}

// trident: a negative join timeout is a ValueError (Python clamps it to 0; trident rejects every
// negative timeout the same way).
TEST(Thread, JoinNegativeTimeoutThrowsValueError) {
  Thread t([] {});
  t.start();
  EXPECT_THROW(t.join(-1s), ValueError);
  t.join();
}

// Python: is_alive() is False before start(), True while running, False after join().
TEST(Thread, IsAliveFollowsTheThreadsLife) {
  Event release;
  Thread t([&] { release.wait(kLong); });
  EXPECT_FALSE(t.is_alive());
  t.start();
  EXPECT_TRUE(t.is_alive());
  release.set();
  t.join();
  EXPECT_FALSE(t.is_alive());
}

// Python: several threads may join the same thread at once; all return when it ends.
TEST(Thread, ManyJoinersAllReturn) {
  Event release;
  Thread target([&] { release.wait(kLong); });
  target.start();
  std::atomic<int> joined{0};
  std::vector<std::unique_ptr<Thread>> joiners;
  for (int i = 0; i < 4; ++i) {
    joiners.push_back(std::make_unique<Thread>([&] {
      target.join(kLong);
      if (!target.is_alive()) ++joined;
    }));
    joiners.back()->start();
  }
  release.set();
  for (auto& j : joiners) j->join();
  target.join();
  EXPECT_EQ(joined.load(), 4);
}

// Python: calling run() directly runs the target in the calling thread, once (run() deletes the
// target afterwards).
TEST(Thread, RunCalledDirectlyRunsTargetInCaller) {
  int calls = 0;
  unsigned long ran_on = 0;
  Thread t([&] {
    ++calls;
    ran_on = threading::get_ident();
  });
  t.run();
  t.run();
  EXPECT_EQ(calls, 1);
  EXPECT_EQ(ran_on, threading::get_ident());
}

// ---- names, idents, daemon ----

// Python: default names are "Thread-N" with N from one process-wide counter (test_various_ops);
// an explicit name is kept; the main thread is "MainThread".
TEST(Thread, DefaultNamesCountUpAndExplicitNamesAreKept) {
  Thread a([] {});
  Thread b([] {});
  ASSERT_EQ(a.name().rfind("Thread-", 0), 0u) << a.name();
  ASSERT_EQ(b.name().rfind("Thread-", 0), 0u) << b.name();
  EXPECT_EQ(std::stoi(b.name().substr(7)), std::stoi(a.name().substr(7)) + 1);
  Thread c({.name = "worker"}, [] {});
  EXPECT_EQ(c.name(), "worker");
  EXPECT_EQ(threading::main_thread().name(), "MainThread");
}

// Python: the name can be changed at any time; trident also renames the OS thread (first 15
// bytes), which top -H and gdb show.
TEST(Thread, NameIsSettableAndSetsTheOsThreadName) {
  Event started, renamed, release;
  std::string seen_inside;
  Thread t({.name = "a-rather-long-thread-name"}, [&] {
    started.set();
    renamed.wait(kLong);
    seen_inside = threading::current_thread().name();
    release.wait(kLong);
  });
  t.start();
  ASSERT_TRUE(started.wait(kLong));
  const long tid = *t.native_id();
  EXPECT_EQ(os_thread_name(tid), "a-rather-long-t");
  t.set_name("renamed");
  EXPECT_EQ(t.name(), "renamed");
  EXPECT_EQ(os_thread_name(tid), "renamed");
  renamed.set();
  release.set();
  t.join();
  EXPECT_EQ(seen_inside, "renamed");
  t.set_name("after");  // still allowed once finished
  EXPECT_EQ(t.name(), "after");
}

// Python: ident and native_id are None before start(); inside the thread they equal get_ident()
// and get_native_id(); they survive the thread (test_ident_of_no_threading_threads,
// test_native_id_after_fork's premise).
TEST(Thread, IdentAndNativeIdMatchTheRunningThread) {
  unsigned long ident_inside = 0;
  long native_inside = 0;
  Thread t([&] {
    ident_inside = threading::get_ident();
    native_inside = threading::get_native_id();
  });
  EXPECT_FALSE(t.ident().has_value());
  EXPECT_FALSE(t.native_id().has_value());
  t.start();
  t.join();
  ASSERT_TRUE(t.ident().has_value());
  ASSERT_TRUE(t.native_id().has_value());
  EXPECT_EQ(*t.ident(), ident_inside);
  EXPECT_EQ(*t.native_id(), native_inside);
  EXPECT_NE(*t.ident(), threading::get_ident());
  EXPECT_NE(*t.native_id(), threading::get_native_id());
  EXPECT_NE(ident_inside, 0u);
}

// Python (test_thread.test_stack_size): stack_size() reports and sets the size for new threads
// (0 = default); a size below 32 KiB is ValueError; threads start and run with the new size.
TEST(Thread, StackSizeAppliesToNewThreads) {
  EXPECT_EQ(threading::stack_size(), 0u);
  EXPECT_THROW(threading::stack_size(4096), ValueError);
  EXPECT_EQ(threading::stack_size(256 * 1024), 0u);
  std::size_t seen = 0;
  Thread t([&] {
    pthread_attr_t attr;
    if (pthread_getattr_np(pthread_self(), &attr) == 0) {
      pthread_attr_getstacksize(&attr, &seen);
      pthread_attr_destroy(&attr);
    }
  });
  t.start();
  t.join();
  EXPECT_EQ(threading::stack_size(0), 256u * 1024);
  EXPECT_GE(seen, 256u * 1024);
  EXPECT_LT(seen, 1024u * 1024);  // not the 8 MiB default
}

// Python: the main thread's native id is the process id.
TEST(Thread, MainThreadNativeIdIsThePid) {
  EXPECT_EQ(threading::get_native_id(), static_cast<long>(getpid()));
  EXPECT_EQ(threading::main_thread().native_id(), static_cast<long>(getpid()));
  EXPECT_EQ(threading::main_thread().ident(), threading::get_ident());
}

// Python: daemon defaults to the creating thread's flag (the main thread is not a daemon);
// daemon=True overrides; a thread created by a daemon thread is a daemon (test_daemon_param,
// test_default_daemon-style checks).
TEST(Thread, DaemonIsInheritedFromTheCreatingThread) {
  Thread plain([] {});
  EXPECT_FALSE(plain.daemon());
  EXPECT_FALSE(threading::main_thread().daemon());
  bool child_daemon = false;
  bool explicit_false = true;
  Thread d({.daemon = true}, [&] {
    Thread inner([] {});
    child_daemon = inner.daemon();
    Thread inner2({.daemon = false}, [] {});
    explicit_false = inner2.daemon();
  });
  EXPECT_TRUE(d.daemon());
  d.start();
  d.join();
  EXPECT_TRUE(child_daemon);
  EXPECT_FALSE(explicit_false);
}

// Python: the daemon flag may be set before start(); afterwards RuntimeError("cannot set daemon
// status of active thread").
TEST(Thread, SetDaemonAfterStartThrowsRuntimeError) {
  Event release;
  Thread t([&] { release.wait(kLong); });
  t.set_daemon(true);
  EXPECT_TRUE(t.daemon());
  t.set_daemon(false);
  t.start();
  try {
    t.set_daemon(true);
    ADD_FAILURE() << "set_daemon() after start() did not throw";
  } catch (const RuntimeError& e) {
    EXPECT_STREQ(e.what(), "Thread::set_daemon(): cannot set daemon status of active thread");
  }
  release.set();
  t.join();
  EXPECT_FALSE(t.daemon());
}

// ---- subclass form, arguments ----

class Counter : public Thread {
 public:
  explicit Counter(int n) : Thread({.name = "counter"}), n_(n) {}
  ~Counter() override {
    if (is_alive()) join();
  }
  void run() override {
    for (int i = 0; i < n_; ++i) total_ += i;
    self_ = &threading::current_thread();
  }
  int total() const { return total_; }
  Thread* self() const { return self_; }

 private:
  int n_;
  int total_ = 0;
  Thread* self_ = nullptr;
};

// Python: a Thread subclass overrides run(); start() calls it in the new thread, and
// current_thread() there is the subclass object.
TEST(Thread, SubclassRunIsCalledInTheNewThread) {
  Counter c(5);
  c.start();
  c.join();
  EXPECT_EQ(c.total(), 10);
  EXPECT_EQ(c.self(), &c);
  EXPECT_EQ(c.name(), "counter");
}

// Python: a subclass without run() override and without a target does nothing.
TEST(Thread, ThreadWithoutTargetDoesNothing) {
  Thread t;
  t.start();
  t.join();
  EXPECT_FALSE(t.is_alive());
}

void add_to(int a, const std::string& b, int* out) { *out = a + static_cast<int>(b.size()); }

// Python: Thread(target=f, args=(...)) calls f(*args) in the new thread; here arguments are
// copied or moved in (move-only arguments work), and std::ref passes a reference.
TEST(Thread, ArgumentsAreForwardedToTheTarget) {
  int out = 0;
  Thread t(add_to, 40, std::string("ab"), &out);
  t.start();
  t.join();
  EXPECT_EQ(out, 42);

  auto p = std::make_unique<int>(7);
  int seen = 0;
  Thread m([&seen](std::unique_ptr<int> q) { seen = *q; }, std::move(p));
  m.start();
  m.join();
  EXPECT_EQ(seen, 7);

  int counter = 0;
  Thread r([](int& c) { c = 99; }, std::ref(counter));
  r.start();
  r.join();
  EXPECT_EQ(counter, 99);

  // Python's Thread(target=obj.method): a member function with its object.
  struct Account {
    int balance = 0;
    void deposit(int n) { balance += n; }
  } account;
  Thread b(&Account::deposit, &account, 5);
  b.start();
  b.join();
  EXPECT_EQ(account.balance, 5);
}

// Python: the target and its arguments are released when run() finishes (run() deletes
// _target/_args, test_no_refcycle_through_target), not when the Thread object dies.
TEST(Thread, TargetAndArgumentsAreDestroyedWhenRunFinishes) {
  auto resource = std::make_shared<int>(1);
  Thread t([](std::shared_ptr<int>) {}, resource);
  EXPECT_EQ(resource.use_count(), 2);
  t.start();
  t.join();
  EXPECT_EQ(resource.use_count(), 1);
}

// ---- exceptions and the excepthook ----

// Python: an exception escaping run() goes to threading.excepthook with the thread and the
// exception (ExceptHookTests.test_custom_excepthook); join() does not raise it.
TEST(Excepthook, CustomHookReceivesThreadAndException) {
  std::atomic<int> calls{0};
  Thread* hook_thread = nullptr;
  std::string type, what, name;
  HookGuard guard([&](const threading::ExceptHookArgs& args) {
    ++calls;
    hook_thread = args.thread;
    type = args.exc_type();
    name = args.thread->name();
    try {
      std::rethrow_exception(args.exc_value);
    } catch (const ValueError& e) {
      what = e.what();
    }
  });
  Thread t({.name = "failing"}, [] { throw ValueError("bad value"); });
  t.start();
  EXPECT_NO_THROW(t.join());
  EXPECT_EQ(calls.load(), 1);
  EXPECT_EQ(hook_thread, &t);
  EXPECT_EQ(type, "ValueError");
  EXPECT_EQ(what, "bad value");
  EXPECT_EQ(name, "failing");
  EXPECT_FALSE(t.is_alive());
}

// Python: the default hook prints "Exception in thread NAME:" and then "Type: message" on stderr
// (ExceptHookTests.test_excepthook). trident prints no traceback; the type is the Python name for
// trident errors, the demangled C++ name otherwise, and just the type for a non-std exception.
TEST(Excepthook, DefaultHookPrintsNameTypeAndMessage) {
  StderrCapture capture;
  Thread a({.name = "t-runtime"}, [] { throw RuntimeError("it broke"); });
  Thread b({.name = "t-std"}, [] { throw std::out_of_range("index 3"); });
  Thread c({.name = "t-int"}, [] { throw 42; });
  a.start();
  a.join();
  b.start();
  b.join();
  c.start();
  c.join();
  const std::string err = capture.finish();
  EXPECT_NE(err.find("Exception in thread t-runtime:\nRuntimeError: it broke\n"), std::string::npos) << err;
  EXPECT_NE(err.find("Exception in thread t-std:\nstd::out_of_range: index 3\n"), std::string::npos) << err;
  EXPECT_NE(err.find("Exception in thread t-int:\nint\n"), std::string::npos) << err;
}

// Python: an exception from run() of a subclass is reported the same way.
TEST(Excepthook, SubclassRunExceptionGoesToHook) {
  class Failing : public Thread {
   public:
    void run() override { throw std::logic_error("subclass failure"); }
  };
  std::string type;
  HookGuard guard([&](const threading::ExceptHookArgs& args) { type = args.exc_type(); });
  Failing f;
  f.start();
  f.join();
  EXPECT_EQ(type, "std::logic_error");
}

// Python: a hook that raises is reported ("Exception in threading.excepthook") and the thread
// still finishes normally; nothing terminates.
TEST(Excepthook, HookThatThrowsIsReportedAndContained) {
  StderrCapture capture;
  HookGuard guard([](const threading::ExceptHookArgs&) { throw std::runtime_error("hook failed"); });
  Thread t([] { throw 1.5; });
  t.start();
  t.join();
  EXPECT_FALSE(t.is_alive());
  const std::string err = capture.finish();
  EXPECT_NE(err.find("Exception in threading.excepthook:\nstd::runtime_error: hook failed"), std::string::npos) << err;
}

// Python: threading.excepthook can be read back; setting None-equivalent restores
// __excepthook__ (here: an empty hook).
TEST(Excepthook, GetReturnsTheHookAndEmptyRestoresDefault) {
  int calls = 0;
  {
    HookGuard guard([&](const threading::ExceptHookArgs&) { ++calls; });
    threading::ExceptHook h = threading::get_excepthook();
    ASSERT_TRUE(h);
    h({std::make_exception_ptr(1), nullptr});
    EXPECT_EQ(calls, 1);
  }
  StderrCapture capture;
  threading::get_excepthook()({std::make_exception_ptr(ValueError("x")), &threading::main_thread()});
  EXPECT_EQ(capture.finish(), "Exception in thread MainThread:\nValueError: x\n");
  EXPECT_EQ(calls, 1);
}

// trident: pthread_exit() inside a target (Python's SystemExit in a thread) ends the thread
// quietly; joiners still return.
TEST(Thread, PthreadExitInTargetStillCompletesJoin) {
  StderrCapture capture;
  Thread t([] { pthread_exit(nullptr); });
  t.start();
  t.join(kLong);
  EXPECT_FALSE(t.is_alive());
  EXPECT_EQ(capture.finish(), "");
}

// ---- current_thread, main_thread, enumerate, active_count ----

// Python: current_thread() in a thread is its Thread object; enumerate() lists it and
// active_count() counts it while it runs, and neither after join (test_enumerate_after_join,
// test_active_count).
TEST(Registry, CurrentThreadEnumerateAndActiveCount) {
  const int base = threading::active_count();
  EXPECT_TRUE(contains(threading::enumerate(), &threading::main_thread()));
  EXPECT_EQ(&threading::current_thread(), &threading::main_thread());
  Event started, release;
  Thread* seen = nullptr;
  Thread t([&] {
    seen = &threading::current_thread();
    started.set();
    release.wait(kLong);
  });
  t.start();
  EXPECT_TRUE(contains(threading::enumerate(), &t));  // listed from start() on (Python's _limbo)
  ASSERT_TRUE(started.wait(kLong));
  EXPECT_EQ(seen, &t);
  EXPECT_EQ(threading::active_count(), base + 1);
  EXPECT_EQ(static_cast<int>(threading::enumerate().size()), threading::active_count());
  release.set();
  t.join();
  EXPECT_FALSE(contains(threading::enumerate(), &t));
  EXPECT_EQ(threading::active_count(), base);
}

// Python: a thread threading did not start gets a _DummyThread from current_thread(): named
// "Dummy-N", a daemon, alive, listed by enumerate(), not joinable, and gone when it exits
// (test_foreign_thread, test_dummy_thread_after_fork's premise).
TEST(Registry, ForeignThreadsGetDummyThreadObjects) {
  const int base = threading::active_count();
  std::string name;
  bool daemon = false, alive = false, listed = false, second_call_same = false;
  std::string join_error;
  std::thread foreign([&] {
    Thread& me = threading::current_thread();
    name = me.name();
    daemon = me.daemon();
    alive = me.is_alive();
    listed = contains(threading::enumerate(), &me);
    second_call_same = &threading::current_thread() == &me;
    try {
      me.join();
    } catch (const RuntimeError& e) {
      join_error = e.what();
    }
  });
  foreign.join();
  EXPECT_EQ(name.rfind("Dummy-", 0), 0u) << name;
  EXPECT_TRUE(daemon);
  EXPECT_TRUE(alive);
  EXPECT_TRUE(listed);
  EXPECT_TRUE(second_call_same);
  EXPECT_EQ(join_error, "Thread::join(): cannot join a dummy thread");
  EXPECT_EQ(threading::active_count(), base);
}

// Python (test_is_alive_after_fork, test_enumerate_after_fork): in a forked child only the
// forking thread remains; the parent's other threads are not alive there and joining them returns.
TEST(Registry, OnlyTheForkingThreadSurvivesFork) {
  Event release;
  Thread worker([&] { release.wait(kLong); });
  worker.start();
  const pid_t pid = fork();
  if (pid == 0) {
    // The child: only async-signal-safe-ish checks, then _exit with a code naming the failure.
    int code = 0;
    if (worker.is_alive()) code = 10;
    worker.join(5s);  // returns at once: that thread does not exist here
    if (worker.is_alive()) code = 13;
    if (threading::active_count() != 1) code = 11;
    const auto all = threading::enumerate();
    if (all.size() != 1 || all[0] != &threading::current_thread()) code = 12;
    _exit(code);
  }
  ASSERT_GT(pid, 0);
  int status = 0;
  ASSERT_EQ(waitpid(pid, &status, 0), pid);
  release.set();
  worker.join();
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0);
}

// ---- lifetime of handles ----

// trident's rule: destroying the handle of a running daemon thread detaches it (Python abandons
// daemon threads); the thread goes on and current_thread()/enumerate() keep returning a valid
// stand-in with the same name.
TEST(Lifetime, DestroyingARunningDaemonHandleDetachesIt) {
  const int base = threading::active_count();
  Event go, finished;
  std::string name_after;
  bool alive_after = false;
  auto* t = new Thread({.name = "detached", .daemon = true}, [&] {
    go.wait(kLong);
    Thread& me = threading::current_thread();
    name_after = me.name();
    alive_after = me.is_alive();
    finished.set();
  });
  t->start();
  delete t;
  bool listed = false;
  for (Thread* x : threading::enumerate()) listed = listed || x->name() == "detached";
  EXPECT_TRUE(listed);
  go.set();
  ASSERT_TRUE(finished.wait(kLong));
  EXPECT_EQ(name_after, "detached");
  EXPECT_TRUE(alive_after);
  EXPECT_TRUE(wait_active_count(base));
}

// Sets an Event when destroyed: declared after the threads of a scope, it runs first as the scope
// ends, so the threads are provably still running when their handles are destroyed.
struct SetOnScopeExit {
  Event& event;
  ~SetOnScopeExit() { event.set(); }
};

// trident's rule (issue 13), the natural port of note 003's Event program: destroying the handle of
// a running non-daemon thread waits for it (std::jthread's rule; Python's exit waits for t1 and
// t2, and reference counting keeps `ready` alive), so the Event declared before the threads
// outlives them. Before, the handles detached and the workers used a destroyed Event.
TEST(Lifetime, NonDaemonHandleJoinsWhenDestroyedSoEarlierObjectsOutliveTheThread) {
  Event gate;
  std::atomic<int> finished{0};
  std::atomic<bool> ready_still_set{true};
  auto worker = [&](Event& ready) {
    ready.wait(kLong);
    gate.wait(kLong);  // opened only once main is leaving the scope
    // `ready` is used after main's scope ended: it must still exist.
    ready_still_set = ready_still_set && ready.is_set() && ready.wait(0s);
    ++finished;
  };
  {
    Event ready;
    Thread t1({.name = "t1"}, worker, std::ref(ready));
    Thread t2({.name = "t2"}, worker, std::ref(ready));
    SetOnScopeExit open_gate{gate};
    t1.start();
    t2.start();
    ready.set();
  }  // open_gate opens the gate, then ~t2 and ~t1 wait for the workers still using `ready`
  EXPECT_EQ(finished.load(), 2);
  EXPECT_TRUE(ready_still_set.load());
}

// trident's rule (issue 13): a handle created and dropped inside a loop body runs its thread to
// completion before the next turn (keep handles in a container to run them together).
TEST(Lifetime, HandleDroppedInALoopBodyRunsOneThreadAtATime) {
  std::atomic<int> finished{0};
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(finished.load(), i);
    Event gate;
    Thread t([&] {
      gate.wait(kLong);
      ++finished;
    });
    SetOnScopeExit open_gate{gate};
    t.start();
  }
  EXPECT_EQ(finished.load(), 3);
}

// trident's rule: a thread destroying its own (non-daemon) handle is not waited for (it cannot
// wait for itself); it goes on with a stand-in as its current_thread().
TEST(Lifetime, ThreadDestroyingItsOwnHandleGoesOn) {
  const int base = threading::active_count();
  Event go, finished;
  std::string name_after;
  Thread* handle = nullptr;
  handle = new Thread({.name = "self-deleting"}, [&] {
    go.wait(kLong);
    delete handle;
    name_after = threading::current_thread().name();
    finished.set();
  });
  handle->start();
  go.set();
  ASSERT_TRUE(finished.wait(kLong));
  EXPECT_EQ(name_after, "self-deleting");
  EXPECT_TRUE(wait_active_count(base));
}

// trident's rule: a Thread subclass still running when destroyed is joined by ~Thread, with a
// diagnostic on stderr; run() never runs on a freed object.
TEST(Lifetime, DestroyingARunningSubclassWaitsAndWarns) {
  struct Slow : Thread {
    Slow(Event& started, Event& release, std::atomic<bool>& done)
        : Thread({.name = "slow"}), started_(started), release_(release), done_(done) {}
    void run() override {
      // Copy what run() needs: the derived members die before ~Thread waits.
      Event& release = release_;
      std::atomic<bool>& done = done_;
      started_.set();
      release.wait(kLong);
      done = true;
    }
    Event& started_;
    Event& release_;
    std::atomic<bool>& done_;
  };
  Event started, release;
  std::atomic<bool> done{false};
  StderrCapture capture;
  auto* s = new Slow(started, release, done);
  s->start();
  ASSERT_TRUE(started.wait(kLong));
  threading::Timer releaser(50ms, [&] { release.set(); });
  releaser.start();
  delete s;  // blocks until run() finished
  EXPECT_TRUE(done.load());
  releaser.join();
  const std::string err = capture.finish();
  EXPECT_NE(err.find("trident: ~Thread(): thread 'slow' is still running"), std::string::npos) << err;
}

// trident's rule: a subclass that joins in its own destructor gets no diagnostic.
TEST(Lifetime, SubclassJoiningInItsDestructorIsQuiet) {
  StderrCapture capture;
  Event started;
  {
    struct Quick : Thread {
      explicit Quick(Event& e) : e_(e) {}
      ~Quick() override {
        if (is_alive()) join();
      }
      void run() override { e_.set(); }
      Event& e_;
    } q(started);
    q.start();
    ASSERT_TRUE(started.wait(kLong));
  }
  EXPECT_EQ(capture.finish(), "");
}

// ---- moving handles ----

// Expects `f()` to throw RuntimeError whose message contains `what`.
template <class F>
void expect_runtime_error(F f, const std::string& what) {
  try {
    f();
    ADD_FAILURE() << "no RuntimeError; expected: " << what;
  } catch (const RuntimeError& e) {
    EXPECT_NE(std::string(e.what()).find(what), std::string::npos) << e.what();
  }
}

// trident (issue 13): Thread is movable, so a std::vector<Thread> holds threads that run together
// (Python: a list of Thread objects, start all, join all). Handles moved after start (the vector
// reallocating) stay what current_thread() and enumerate() return.
TEST(Move, VectorOfThreadsStartAllJoinAll) {
  constexpr int kN = 6;
  threading::Barrier all_running(kN + 1);
  Event moved;
  std::vector<Thread*> seen(kN, nullptr);
  std::vector<char> listed(kN, 0);
  std::vector<std::string> names(kN);
  auto body = [&](int i) {
    all_running.wait(kLong);  // every thread of the vector runs at the same time
    moved.wait(kLong);
    seen[i] = &threading::current_thread();
    listed[i] = contains(threading::enumerate(), seen[i]) ? 1 : 0;
    names[i] = seen[i]->name();
  };
  std::vector<Thread> threads;
  for (int i = 0; i < kN; ++i) {
    if (i % 2 == 0) {
      threads.emplace_back(threading::ThreadOptions{.name = "w" + std::to_string(i)}, body, i);
    } else {
      Thread t({.name = "w" + std::to_string(i)}, body, i);
      threads.push_back(std::move(t));
    }
  }
  for (Thread& t : threads) t.start();
  all_running.wait(kLong);
  threads.reserve(threads.capacity() * 2 + 1);  // moves every started handle
  moved.set();
  for (Thread& t : threads) t.join();
  for (int i = 0; i < kN; ++i) {
    EXPECT_EQ(seen[i], &threads[i]) << i;
    EXPECT_TRUE(listed[i]) << i;
    EXPECT_EQ(names[i], "w" + std::to_string(i));
    EXPECT_FALSE(threads[i].is_alive());
  }
}

// trident: a moved-from handle is empty: every method throws a RuntimeError naming it, its
// destructor does nothing, and assigning a new handle makes it usable again.
TEST(Move, MovedFromHandleIsEmpty) {
  std::atomic<int> runs{0};
  Thread a({.name = "a"}, [&] { ++runs; });
  Thread b(std::move(a));
  EXPECT_EQ(b.name(), "a");
  expect_runtime_error([&] { a.start(); }, "Thread::start(): the handle is empty (it was moved from)");
  expect_runtime_error([&] { a.join(); }, "Thread::join(): the handle is empty");
  expect_runtime_error([&] { (void)a.is_alive(); }, "Thread::is_alive(): the handle is empty");
  expect_runtime_error([&] { (void)a.name(); }, "Thread::name(): the handle is empty");
  expect_runtime_error([&] { a.set_name("x"); }, "Thread::set_name(): the handle is empty");
  expect_runtime_error([&] { (void)a.ident(); }, "Thread::ident(): the handle is empty");
  expect_runtime_error([&] { (void)a.native_id(); }, "Thread::native_id(): the handle is empty");
  expect_runtime_error([&] { (void)a.daemon(); }, "Thread::daemon(): the handle is empty");
  expect_runtime_error([&] { a.set_daemon(true); }, "Thread::set_daemon(): the handle is empty");
  expect_runtime_error([&] { a.run(); }, "Thread::run(): the handle is empty");
  b.start();
  b.join();
  EXPECT_EQ(runs.load(), 1);
  a = Thread({.name = "again"}, [&] { ++runs; });
  a.start();
  a.join();
  EXPECT_EQ(runs.load(), 2);
  EXPECT_EQ(a.name(), "again");
  Thread empty(std::move(a));
  a = std::move(empty);  // an empty handle taking over a finished thread's handle
  EXPECT_FALSE(a.is_alive());
  expect_runtime_error([&] { empty.join(); }, "the handle is empty");
}

// trident (as std::jthread): move-assigning onto the handle of a running non-daemon thread joins
// that thread first, then takes over the other thread.
TEST(Move, MoveAssignOntoARunningNonDaemonHandleJoinsItFirst) {
  Event gate;
  std::atomic<bool> first_finished{false};
  Thread a({.name = "first"}, [&] {
    gate.wait(kLong);
    first_finished = true;
  });
  a.start();
  Thread b({.name = "second"}, [] {});
  gate.set();
  a = std::move(b);  // waits for "first"
  EXPECT_TRUE(first_finished.load());
  EXPECT_EQ(a.name(), "second");
  a.start();
  a.join();
}

// trident: move-assigning onto the handle of a running daemon thread detaches that thread, as
// destroying the handle does; it stays listed under its name until it ends.
TEST(Move, MoveAssignOntoARunningDaemonHandleDetachesIt) {
  const int base = threading::active_count();
  Event gate, finished;
  Thread a({.name = "daemon-first", .daemon = true}, [&] {
    gate.wait(kLong);
    finished.set();
  });
  a.start();
  a = Thread({.name = "second"}, [] {});
  EXPECT_EQ(a.name(), "second");
  bool listed = false;
  for (Thread* x : threading::enumerate()) listed = listed || x->name() == "daemon-first";
  EXPECT_TRUE(listed);
  gate.set();
  ASSERT_TRUE(finished.wait(kLong));
  EXPECT_TRUE(wait_active_count(base));
}

// trident: an object of a class derived from Thread runs run() on itself, so a started one cannot
// be moved (RuntimeError, nothing moved); an unstarted one moves, and run() then runs on the
// moved-to object.
TEST(Move, StartedSubclassObjectCannotBeMoved) {
  struct Sub : Thread {
    explicit Sub(std::atomic<int>& out) : Thread({.name = "sub"}), out_(&out) {}
    void run() override { *out_ = value_; }
    std::atomic<int>* out_;
    int value_ = 7;
  };
  std::atomic<int> out{0};
  Sub a(out);
  a.value_ = 8;
  Sub b(std::move(a));
  b.start();
  b.join();
  EXPECT_EQ(out.load(), 8);
  expect_runtime_error([&] { a.start(); }, "Thread::start(): the handle is empty");

  Sub c(out);
  c.start();
  expect_runtime_error([&] { Sub d(std::move(c)); },
                       "Thread(Thread&&): cannot move a started object of a class derived from Thread");
  Sub e(out);
  expect_runtime_error([&] { e = std::move(c); },
                       "Thread::operator=(Thread&&): cannot move a started object of a class derived from Thread");
  c.join();  // c still holds its thread
  EXPECT_EQ(c.name(), "sub");
  EXPECT_EQ(e.ident(), std::nullopt);  // e untouched
}

// trident: the Thread objects trident owns (main thread, dummies, stand-ins) are neither moved from
// nor assigned to: current_thread() must keep returning them.
TEST(Move, ObjectsOwnedByTridentCannotBeMoved) {
  expect_runtime_error([] { Thread stolen(std::move(threading::main_thread())); },
                       "Thread(Thread&&): cannot move a Thread object owned by trident");
  expect_runtime_error([] { threading::main_thread() = Thread([] {}); },
                       "Thread::operator=(Thread&&): cannot assign to a Thread object owned by trident");
  EXPECT_EQ(threading::main_thread().name(), "MainThread");
  EXPECT_EQ(&threading::current_thread(), &threading::main_thread());
}

// trident: the excepthook receives the handle the thread has when it fails, also after a move.
TEST(Move, ExcepthookSeesTheMovedToHandle) {
  Thread* hook_thread = nullptr;
  HookGuard guard([&](const threading::ExceptHookArgs& args) { hook_thread = args.thread; });
  Event go;
  Thread a([&] {
    go.wait(kLong);
    throw ValueError("late");
  });
  a.start();
  Thread b(std::move(a));
  go.set();
  b.join();
  EXPECT_EQ(hook_thread, &b);
}

// ---- local ----

// Python (test_threading_local): each thread sees its own value, created on first use.
TEST(Local, ValuesArePerThread) {
  threading::local<int> value;
  *value = 5;
  int seen_first = -1, seen_after = -1;
  Thread t([&] {
    seen_first = *value;
    *value = 7;
    seen_after = value.get();
  });
  t.start();
  t.join();
  EXPECT_EQ(seen_first, 0);
  EXPECT_EQ(seen_after, 7);
  EXPECT_EQ(*value, 5);
}

// Python: a local subclass's __init__ runs in each thread with the constructor's arguments.
TEST(Local, ConstructorArgumentsInitialiseEachThreadsValue) {
  threading::local<std::string> s(3, 'x');
  std::string seen;
  Thread t([&] {
    seen = *s;
    s->push_back('!');
  });
  t.start();
  t.join();
  EXPECT_EQ(seen, "xxx");
  EXPECT_EQ(*s, "xxx");
}

struct Tracked {
  static inline std::atomic<int> alive{0};
  Tracked() { ++alive; }
  ~Tracked() { --alive; }
};

// Python (test_threading_local.test_local_refs): a thread's value is released when the thread
// ends; here before join() returns.
TEST(Local, ValueIsDestroyedWhenItsThreadEnds) {
  threading::local<Tracked> l;
  Thread t([&] { l.get(); });
  t.start();
  t.join();
  EXPECT_EQ(Tracked::alive.load(), 0);

  std::thread foreign([&] { l.get(); });  // not a trident thread: freed at its exit too
  foreign.join();
  EXPECT_EQ(Tracked::alive.load(), 0);
}

// Python: dropping the local object releases every thread's value.
TEST(Local, DestroyingTheLocalDestroysEveryThreadsValue) {
  Event used, release;
  auto l = std::make_unique<threading::local<Tracked>>();
  l->get();
  Thread t([&] {
    l->get();
    used.set();
    release.wait(kLong);
  });
  t.start();
  ASSERT_TRUE(used.wait(kLong));
  EXPECT_EQ(Tracked::alive.load(), 2);
  l.reset();
  EXPECT_EQ(Tracked::alive.load(), 0);
  release.set();
  t.join();
  EXPECT_EQ(Tracked::alive.load(), 0);
}

// Python: a local that dies releases its values at once, also in a thread that keeps running and
// keeps using other locals (trident prunes the thread's stale entries as they pile up).
TEST(Local, ShortLivedLocalsInALongLivedThread) {
  threading::local<int> keeper;
  int kept = -1, alive_in_loop = -1;
  Thread t([&] {
    *keeper = 11;
    for (int i = 0; i < 200; ++i) {
      threading::local<Tracked> temp;
      temp.get();
    }
    alive_in_loop = Tracked::alive.load();
    kept = *keeper;
  });
  t.start();
  t.join();
  EXPECT_EQ(alive_in_loop, 0);
  EXPECT_EQ(kept, 11);
  EXPECT_EQ(*keeper, 0);  // the main thread's own value is separate
}

// ---- Timer ----

// Python (test_threading.TimerTests): a Timer calls its function with its arguments after the
// interval.
TEST(Timer, FiresAfterTheInterval) {
  Event fired;
  int got = 0;
  const auto t0 = Clock::now();
  threading::Timer timer(
      100ms,
      [&](int v) {
        got = v;
        fired.set();
      },
      42);
  EXPECT_EQ(timer.interval(), 100ms);
  timer.start();
  ASSERT_TRUE(fired.wait(kLong));
  const auto elapsed = Clock::now() - t0;
  timer.join();
  EXPECT_EQ(got, 42);
  EXPECT_GE(elapsed, 99ms);
  EXPECT_LT(elapsed, 100ms + kTimeoutSlack);
  EXPECT_TRUE(timer.finished().is_set());
}

// Python: cancel() before the interval passes stops the function from running, and the timer
// thread ends promptly.
TEST(Timer, CancelBeforeFiringPreventsTheCall) {
  std::atomic<bool> called{false};
  threading::Timer timer(30s, [&] { called = true; });
  timer.start();
  const auto t0 = Clock::now();
  timer.cancel();
  timer.join(kLong);
  EXPECT_FALSE(timer.is_alive());
  EXPECT_LT(Clock::now() - t0, 30s);
  EXPECT_FALSE(called.load());
}

// trident (issue 13): Timer is movable (std::vector<Timer>); a moved-from Timer is empty.
TEST(Timer, TimersAreMovableAndMovedFromTimersAreEmpty) {
  std::atomic<int> fired{0};
  std::vector<threading::Timer> timers;
  for (int i = 0; i < 3; ++i) timers.emplace_back(10ms, [&] { ++fired; });
  for (auto& t : timers) t.start();
  for (auto& t : timers) t.join();
  EXPECT_EQ(fired.load(), 3);

  std::atomic<bool> called{false};
  threading::Timer a(30s, [&] { called = true; });
  a.start();
  threading::Timer b(std::move(a));
  expect_runtime_error([&] { a.cancel(); }, "Timer::cancel(): the handle is empty (it was moved from)");
  expect_runtime_error([&] { (void)a.finished(); }, "Timer::finished(): the handle is empty");
  expect_runtime_error([&] { (void)a.interval(); }, "Timer::interval(): the handle is empty");
  EXPECT_EQ(b.interval(), 30s);
  b.cancel();
  b.join(kLong);
  EXPECT_FALSE(b.is_alive());
  EXPECT_FALSE(called.load());
}

// trident: destroying the handle of a pending non-daemon Timer does not cancel it: it waits for
// the call (Python's exit waits for a pending non-daemon Timer).
TEST(Timer, DestroyingAPendingNonDaemonTimerWaitsForTheCall) {
  std::atomic<bool> called{false};
  {
    threading::Timer t(20ms, [&] { called = true; });
    t.start();
  }
  EXPECT_TRUE(called.load());
}

// ---- process exit (the test binary re-executes itself) ----

constexpr const char* kScenarioVar = "TRIDENT_THREADING_EXIT_SCENARIO";

struct ChildResult {
  bool finished = false;            // exited within the time limit
  bool seen_while_running = false;  // every `kill_when_seen` string appeared before the child ended
  int status = 0;
  std::string output;  // stdout and stderr
};

// Runs this test binary again with only `test` selected and the scenario variable set; returns its
// exit status and output (killed after `bound` so a hang fails instead of blocking). With
// `kill_when_seen`, the child is killed as soon as its output (a pipe) holds all those strings.
ChildResult run_self(const std::string& test, const char* scenario, const std::vector<std::string>& kill_when_seen = {},
                     std::chrono::seconds bound = 30s) {
  ChildResult res;
  int fds[2];
  if (pipe2(fds, O_CLOEXEC) != 0) return res;
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_adddup2(&fa, fds[1], 1);
  posix_spawn_file_actions_adddup2(&fa, fds[1], 2);
  const std::string filter = "--gtest_filter=" + test;
  const std::string var = std::string(kScenarioVar) + "=" + scenario;
  std::vector<char*> envp;
  for (char** e = environ; *e != nullptr; ++e) envp.push_back(*e);
  envp.push_back(const_cast<char*>(var.c_str()));
  envp.push_back(nullptr);
  char exe[] = "/proc/self/exe";
  char* argv[] = {exe, const_cast<char*>(filter.c_str()), nullptr};
  pid_t pid = -1;
  const int rc = posix_spawn(&pid, exe, &fa, nullptr, argv, envp.data());
  posix_spawn_file_actions_destroy(&fa);
  close(fds[1]);
  if (rc != 0) {
    close(fds[0]);
    return res;
  }
  const auto until = Clock::now() + bound;
  char buf[4096];
  for (;;) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(until - Clock::now()).count();
    if (left <= 0) break;
    pollfd p{fds[0], POLLIN, 0};
    if (poll(&p, 1, static_cast<int>(left)) <= 0) continue;
    const ssize_t n = read(fds[0], buf, sizeof buf);
    if (n <= 0) {
      res.finished = true;
      break;
    }
    res.output.append(buf, static_cast<std::size_t>(n));
    if (!kill_when_seen.empty() &&
        std::all_of(kill_when_seen.begin(), kill_when_seen.end(),
                    [&](const std::string& needle) { return res.output.find(needle) != std::string::npos; })) {
      res.seen_while_running = true;
      break;
    }
  }
  close(fds[0]);
  if (!res.finished) kill(pid, SIGKILL);
  waitpid(pid, &res.status, 0);
  return res;
}

std::string current_test_name() {
  const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
  return std::string(info->test_suite_name()) + "." + info->name();
}

void say(const char* line) {
  std::fputs(line, stdout);
  std::fputc('\n', stdout);
  std::fflush(stdout);
}

// Constructed before any thread starts, so (Python's order: threads are joined before the
// interpreter tears down) its destructor must run after the exit handler joined the threads.
struct ExitOrderProbe {
  ~ExitOrderProbe() {
    if (std::getenv(kScenarioVar) != nullptr) say("statics destroyed");
  }
} g_exit_order_probe;

Event* g_exit_release = nullptr;

// Python: at normal exit the interpreter joins every non-daemon thread (threading._shutdown),
// even one whose Thread object is gone, before finalization; the exit status is unchanged.
TEST(ProcessExit, NonDaemonThreadsAreJoinedAtExit) {
  if (std::getenv(kScenarioVar) != nullptr) {
    static Event release;  // outlives the thread: a function static built before exit starts
    g_exit_release = &release;
    // The handle stays alive (std::exit does not unwind the stack), so nothing joins the thread
    // but the exit handler.
    Thread worker([] {
      g_exit_release->wait(kLong);
      // Still working after exit() began: exit must wait for this line.
      Event().wait(200ms);
      say("worker finished");
    });
    worker.start();
    // Runs before trident's handler (registered at the first start(), atexit runs in reverse).
    std::atexit([] {
      say("exit began");
      g_exit_release->set();
    });
    say("main exiting");
    std::exit(3);
  }
  const ChildResult r = run_self(current_test_name(), "nondaemon");
  ASSERT_TRUE(r.finished) << r.output;
  ASSERT_TRUE(WIFEXITED(r.status)) << r.output;
  EXPECT_EQ(WEXITSTATUS(r.status), 3);
  const auto began = r.output.find("exit began");
  const auto worker = r.output.find("worker finished");
  const auto statics = r.output.find("statics destroyed");
  ASSERT_NE(began, std::string::npos) << r.output;
  ASSERT_NE(worker, std::string::npos) << r.output;
  ASSERT_NE(statics, std::string::npos) << r.output;
  EXPECT_LT(began, worker) << r.output;
  EXPECT_LT(worker, statics) << r.output;
}

// Python: daemon threads are not waited for: the process exits while they still block.
TEST(ProcessExit, DaemonThreadsAreNotWaitedFor) {
  if (std::getenv(kScenarioVar) != nullptr) {
    static Event& never = *new Event;  // never destroyed: the daemon still waits on it at exit
    static Thread daemon({.daemon = true}, [] {
      never.wait();
      say("daemon finished");
    });
    daemon.start();
    say("main exiting");
    std::exit(0);
  }
  const auto t0 = Clock::now();
  const ChildResult r = run_self(current_test_name(), "daemon");
  ASSERT_TRUE(r.finished) << "the child hung at exit: " << r.output;
  ASSERT_TRUE(WIFEXITED(r.status)) << r.output;
  EXPECT_EQ(WEXITSTATUS(r.status), 0);
  EXPECT_NE(r.output.find("main exiting"), std::string::npos) << r.output;
  EXPECT_EQ(r.output.find("daemon finished"), std::string::npos) << r.output;
  EXPECT_LT(Clock::now() - t0, 30s);
}

// trident (issue 13): at exit, stdout and stderr (C stdio and iostreams) are flushed before the
// exit handler waits for non-daemon threads, so a program that then hangs on a thread has shown
// what it printed, even with stdout on a pipe (fully buffered). The child is killed once the lines
// arrive; without the flush they would come only after its worker's 20 s.
TEST(ProcessExit, StandardStreamsAreFlushedBeforeWaitingAtExit) {
  if (std::getenv(kScenarioVar) != nullptr) {
    Thread worker([] { Event().wait(20s); });  // still running when exit() waits for it
    worker.start();
    std::printf("printf before exit\n");
    std::cout << "cout before exit\n";
    std::exit(0);  // does not unwind: the handle stays alive, the exit handler waits
  }
  const ChildResult r = run_self(current_test_name(), "flush_at_exit", {"printf before exit", "cout before exit"}, 10s);
  EXPECT_TRUE(r.seen_while_running) << "nothing flushed before waiting: " << r.output;
  EXPECT_FALSE(r.finished) << r.output;
}

// trident (issue 13): likewise before a handle's destructor waits for its running non-daemon
// thread (the end of main in the natural port of a Python program).
TEST(ProcessExit, StandardStreamsAreFlushedBeforeAHandleWaits) {
  if (std::getenv(kScenarioVar) != nullptr) {
    {
      Thread worker([] { Event().wait(20s); });
      worker.start();
      std::printf("printf before join\n");
      std::cout << "cout before join\n";
    }  // waits for the worker
    std::exit(0);
  }
  const ChildResult r =
      run_self(current_test_name(), "flush_in_destructor", {"printf before join", "cout before join"}, 10s);
  EXPECT_TRUE(r.seen_while_running) << "nothing flushed before waiting: " << r.output;
  EXPECT_FALSE(r.finished) << r.output;
}

}  // namespace
