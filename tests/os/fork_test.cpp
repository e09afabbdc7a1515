// trident::os: fork returning twice (note 001), waitpid and exit statuses, cpu counts, the order of
// register_at_fork handlers, and the state trident's modules are in inside a forked child — pinned
// to CPython's os.fork and threading._after_fork (test_threading's test_main_thread_after_fork*,
// test_os's test_register_at_fork). A child never returns into GoogleTest: it reports through its
// exit status (0 = every check held; a failed check prints itself on stderr) and calls os::_exit.
#include "trident/os.hpp"

#include <gtest/gtest.h>
#include <sched.h>
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <string>
#include <thread>
#include <vector>

#include "support/child.hpp"
#include "trident/errors.hpp"
#include "trident/futures.hpp"
#include "trident/subprocess.hpp"
#include "trident/threading.hpp"

// Threads started in a child forked from a multi-threaded parent are what these tests check; TSan
// refuses that by default (die_after_fork) because its own runtime may be inconsistent there.
extern "C" const char* __tsan_default_options() { return "die_after_fork=0"; }

// TSan cannot follow a thread started in a child forked from a multi-threaded parent: its thread
// registry still holds the parent's threads, and glibc hands the new thread a dead one's stack and
// pthread_t, which TSan rejects ("dup thread with used id") by exiting. Under TSan the children
// below therefore check everything except starting new threads; the release and ASan runs check
// that too.
#if defined(__SANITIZE_THREAD__)
constexpr bool kCanStartThreadsInChild = false;
#else
constexpr bool kCanStartThreadsInChild = true;
#endif

// ASan's allocator (GCC 12's runtime) has no at-fork handlers: a child forked while another parent
// thread was inside malloc inherits the allocator's lock held, and the child's first thread start
// (ASan allocates for it) blocks forever. Only a parent that keeps allocating while it forks hits
// this (InternalLocksAreFreshInChild's churn thread); its children skip starting threads under ASan.
#if defined(__SANITIZE_ADDRESS__)
constexpr bool kCanStartThreadsInChildOfBusyParent = false;
#else
constexpr bool kCanStartThreadsInChildOfBusyParent = kCanStartThreadsInChild;
#endif

namespace os = trident::os;
namespace threading = trident::threading;
using namespace std::chrono_literals;

namespace {

// Forks; the child runs `f` and exits with what it returns (101 if it threw). Returns the child's
// exit code as os.waitstatus_to_exitcode gives it.
template <class F>
int run_in_child(F f) {
  const int pid = trident::testing::start_child(f);
  auto [reaped, status] = os::waitpid(pid, 0);
  EXPECT_EQ(reaped, pid);
  return os::waitstatus_to_exitcode(status);
}

// What CPython guarantees in a forked child, whichever thread forked.
int check_threading_state_in_child(bool start_threads = kCanStartThreadsInChild) {
  CHILD_CHECK(&threading::current_thread() == &threading::main_thread());
  CHILD_CHECK(threading::active_count() == 1);
  CHILD_CHECK(threading::enumerate().size() == 1);
  CHILD_CHECK(threading::main_thread().is_alive());
  CHILD_CHECK(threading::main_thread().native_id() == os::getpid());
  if (!start_threads) return 0;
  // A new thread starts, runs and is joined.
  std::atomic<int> ran{0};
  threading::Event go;
  threading::Thread t([&] {
    go.wait();
    ran = 1;
  });
  t.start();
  const int while_running = threading::active_count();
  go.set();
  t.join();
  CHILD_CHECK(while_running == 2);
  CHILD_CHECK(ran == 1);
  CHILD_CHECK(threading::active_count() == 1);
  return 0;
}

}  // namespace

// Note 001: "fork() is called once and returns twice": the parent gets the child's pid, the child
// gets 0, and the child's getppid() is the parent.
TEST(OsFork, ReturnsTwice) {
  int fds[2];
  ASSERT_EQ(pipe(fds), 0);
  const int parent = os::getpid();
  const int pid = os::fork();
  if (pid == 0) {
    int ids[2] = {os::getpid(), os::getppid()};
    const bool ok = write(fds[1], ids, sizeof ids) == static_cast<ssize_t>(sizeof ids);
    os::_exit(ok ? 7 : 1);
  }
  ASSERT_GT(pid, 0);
  close(fds[1]);
  int ids[2] = {0, 0};
  ASSERT_EQ(read(fds[0], ids, sizeof ids), static_cast<ssize_t>(sizeof ids));
  close(fds[0]);
  EXPECT_EQ(ids[0], pid);
  EXPECT_EQ(ids[1], parent);
  auto [reaped, status] = os::waitpid(pid, 0);
  EXPECT_EQ(reaped, pid);
  EXPECT_EQ(os::waitstatus_to_exitcode(status), 7);
}

// os.waitpid(pid, WNOHANG) returns (0, 0) while the child runs; a signal death is -signum.
TEST(OsFork, WaitpidNohangAndSignalExitCode) {
  int fds[2];
  ASSERT_EQ(pipe(fds), 0);
  const int pid = os::fork();
  if (pid == 0) {
    close(fds[1]);
    char c;
    (void)!read(fds[0], &c, 1);  // until the parent closes its end
    raise(SIGKILL);
    os::_exit(0);
  }
  close(fds[0]);
  EXPECT_EQ(os::waitpid(pid, WNOHANG), std::make_pair(0, 0));
  close(fds[1]);
  auto [reaped, status] = os::waitpid(pid, 0);
  EXPECT_EQ(reaped, pid);
  EXPECT_EQ(os::waitstatus_to_exitcode(status), -SIGKILL);
}

// os.waitpid on a pid that is not our child raises ChildProcessError.
TEST(OsFork, WaitpidOnNonChildIsChildProcessError) {
  EXPECT_THROW(os::waitpid(os::getppid(), 0), trident::ChildProcessError);
}

// os.cpu_count() counts the system's CPUs; os.process_cpu_count() those this process may use.
TEST(OsCpuCount, AffinityAwareAndRaw) {
  ASSERT_TRUE(os::cpu_count().has_value());
  ASSERT_TRUE(os::process_cpu_count().has_value());
  EXPECT_GE(*os::cpu_count(), 1);
  EXPECT_GE(*os::process_cpu_count(), 1);
  EXPECT_LE(*os::process_cpu_count(), *os::cpu_count());
  const int raw = *os::cpu_count();
  EXPECT_EQ(run_in_child([raw] {
              cpu_set_t one;
              CPU_ZERO(&one);
              CHILD_CHECK(sched_getaffinity(0, sizeof one, &one) == 0);
              int first = 0;
              while (!CPU_ISSET(first, &one)) ++first;
              CPU_ZERO(&one);
              CPU_SET(first, &one);
              CHILD_CHECK(sched_setaffinity(0, sizeof one, &one) == 0);
              CHILD_CHECK(os::process_cpu_count() == 1);
              CHILD_CHECK(os::cpu_count() == raw);
              return 0;
            }),
            0);
}

// threading after a fork from the main thread while another thread runs: only the main thread
// is alive in the child, the other counts as finished, and new threads work.
TEST(OsFork, ThreadingStateAfterForkFromMainThread) {
  threading::Event release;
  threading::Thread other({.name = "other"}, [&] { release.wait(); });
  other.start();
  EXPECT_EQ(run_in_child([&] {
              CHILD_CHECK(!other.is_alive());
              other.join();  // returns at once: the thread is not in this process
              CHILD_CHECK(threading::main_thread().name() == "MainThread");
              return check_threading_state_in_child();
            }),
            0);
  EXPECT_TRUE(other.is_alive());
  release.set();
  other.join();
}

// CPython: "If os.fork() is called from a thread other than the main thread, the child's main
// thread is the thread that called fork" (test_main_thread_after_fork_from_nonmain_thread); a
// threading.Thread keeps its name.
TEST(OsFork, ForkingThreadBecomesMainThread) {
  int code = -1;
  threading::Thread forker({.name = "forker"}, [&] {
    code = run_in_child([] {
      CHILD_CHECK(threading::current_thread().name() == "forker");
      return check_threading_state_in_child();
    });
  });
  forker.start();
  forker.join();
  EXPECT_EQ(code, 0);
}

// A thread trident did not start (Python's _DummyThread) becomes a "MainThread" in the child.
TEST(OsFork, ForeignThreadBecomesMainThreadNamedMainThread) {
  for (bool seen_before : {false, true}) {
    int code = -1;
    std::thread([&] {
      if (seen_before) (void)threading::current_thread();  // a dummy exists for this thread
      code = run_in_child([] {
        CHILD_CHECK(threading::current_thread().name() == "MainThread");
        CHILD_CHECK(!threading::current_thread().daemon());
        return check_threading_state_in_child();
      });
    }).join();
    EXPECT_EQ(code, 0) << "seen_before=" << seen_before;
  }
}

// CPython reinitialises only threading's own locks after a fork: a user's Lock held by another
// thread at the fork stays held in the child (nobody there can release it on its owner's behalf,
// though any thread may release a Lock, as in Python).
TEST(OsFork, LockHeldByOtherThreadStaysHeldInChild) {
  threading::Lock lock;
  threading::Event holding;
  threading::Event release;
  threading::Thread holder([&] {
    lock.acquire();
    holding.set();
    release.wait();
    lock.release();
  });
  holder.start();
  holding.wait();
  EXPECT_EQ(run_in_child([&] {
              CHILD_CHECK(lock.locked());
              CHILD_CHECK(!lock.acquire(true, trident::Seconds(0.05)));
              lock.release();  // Python lets any thread release a Lock
              CHILD_CHECK(lock.acquire(false));
              return check_threading_state_in_child();
            }),
            0);
  release.set();
  holder.join();
}

// trident's own locks may be held by other threads at the moment of a fork (the thread registry
// while threads start and finish): the child must still be able to start threads. Repeated forks
// against a thread churning through thread starts; no child may hang or fail.
TEST(OsFork, InternalLocksAreFreshInChild) {
  std::atomic<bool> stop{false};
  threading::Thread churn([&] {
    while (!stop.load()) {
      threading::Thread t([] {});
      t.start();
      t.join();
    }
  });
  churn.start();
  for (int i = 0; i < 20; ++i) {
    EXPECT_EQ(run_in_child([] {
                CHILD_CHECK(threading::active_count() == 1);
                return check_threading_state_in_child(kCanStartThreadsInChildOfBusyParent);
              }),
              0)
        << "fork " << i;
  }
  stop = true;
  churn.join();
}

// A ThreadPoolExecutor made in the parent has no workers in the child: submit raises
// BrokenThreadPool instead of queueing a call no worker would run; a new executor works.
TEST(OsFork, ParentExecutorIsBrokenInChildNewOneWorks) {
  trident::futures::ThreadPoolExecutor pool(2);
  EXPECT_EQ(pool.submit([] { return 1; }).result(), 1);
  EXPECT_EQ(run_in_child([&] {
              try {
                (void)pool.submit([] { return 2; });
                CHILD_CHECK(false);
              } catch (const trident::futures::BrokenThreadPool& e) {
                CHILD_CHECK(std::string(e.what()).find("created before a fork") != std::string::npos);
              }
              pool.shutdown(true);  // returns: its workers are not here to join
              if (!kCanStartThreadsInChild) return 0;
              trident::futures::ThreadPoolExecutor fresh(2);
              CHILD_CHECK(fresh.submit([] { return 3; }).result() == 3);
              return 0;
            }),
            0);
  EXPECT_EQ(pool.submit([] { return 4; }).result(), 4);
}

// subprocess works in a forked child (its fd watcher and pipes start afresh there).
TEST(OsFork, SubprocessWorksInChild) {
  EXPECT_EQ(run_in_child([] {
              CHILD_CHECK(trident::subprocess::check_output({"echo", "child"}) == "child\n");
              return 0;
            }),
            0);
}

namespace {
// Handlers cannot be unregistered: each records only while the test that registered it runs (all
// tests of this file share one process when the binary runs as a whole).
std::vector<std::string>* g_calls = nullptr;
int g_active_test = 0;
void record(int test, const char* what) {
  if (g_calls != nullptr && g_active_test == test) g_calls->push_back(what);
}
}  // namespace

// os.register_at_fork: `before` handlers run in reverse registration order, `after_in_parent` and
// `after_in_child` in registration order (CPython's test_register_at_fork).
TEST(OsRegisterAtFork, HandlerOrder) {
  std::vector<std::string> calls;
  g_calls = &calls;
  g_active_test = 1;
  os::register_at_fork({.before = [] { record(1, "before1"); },
                        .after_in_parent = [] { record(1, "parent1"); },
                        .after_in_child = [] { record(1, "child1"); }});
  os::register_at_fork({.before = [] { record(1, "before2"); }, .after_in_child = [] { record(1, "child2"); }});
  os::register_at_fork({.before = [] { record(1, "before3"); },
                        .after_in_parent = [] { record(1, "parent3"); },
                        .after_in_child = [] { record(1, "child3"); }});
  EXPECT_EQ(
      run_in_child([&] {
        CHILD_CHECK((calls == std::vector<std::string>{"before3", "before2", "before1", "child1", "child2", "child3"}));
        return 0;
      }),
      0);
  EXPECT_EQ(calls, (std::vector<std::string>{"before3", "before2", "before1", "parent1", "parent3"}));
  g_calls = nullptr;
  g_active_test = 0;
}

// An exception in a handler is reported and ignored, as CPython's "Exception ignored in: ...":
// the fork happens and every other handler runs.
TEST(OsRegisterAtFork, ThrowingHandlerIsIgnored) {
  std::vector<std::string> calls;
  g_calls = &calls;
  g_active_test = 2;
  os::register_at_fork({.before = [] { record(2, "before1"); }, .after_in_parent = [] { record(2, "parent1"); }});
  os::register_at_fork({.before =
                            [] {
                              if (g_active_test == 2) throw trident::RuntimeError("boom");
                            },
                        .after_in_parent =
                            [] {
                              if (g_active_test == 2) throw trident::RuntimeError("boom");
                            }});
  os::register_at_fork({.after_in_parent = [] { record(2, "parent3"); }});
  testing::internal::CaptureStderr();
  EXPECT_EQ(run_in_child([] { return 0; }), 0);
  const std::string err = testing::internal::GetCapturedStderr();
  EXPECT_NE(err.find("Exception ignored in fork handler (before): RuntimeError: boom"), std::string::npos) << err;
  EXPECT_EQ(calls, (std::vector<std::string>{"before1", "parent1", "parent3"}));
  g_calls = nullptr;
  g_active_test = 0;
}

// Python's register_at_fork() with no argument is a TypeError ("At least one argument is
// required"); here a ValueError.
TEST(OsRegisterAtFork, NoHandlerIsValueError) { EXPECT_THROW(os::register_at_fork({}), trident::ValueError); }
