// Shared-memory handles as Process arguments, under every start method: Python's
// _test_multiprocessing passes a Lock, an Event, a Value or an Array in `args=` and the child uses
// the same object (test_lock across processes, test_event, test_value, test_array,
// test_shared_memory_across_processes). Under fork the child inherits the mapping; under forkserver
// and spawn the handle crosses as segment name + offset and the child maps the same segment.
#include <dirent.h>

#include <chrono>
#include <cstring>
#include <string>
#include <type_traits>
#include <vector>

#include "multiprocessing/process_test_support.hpp"
#include "trident/multiprocessing.hpp"
#include "trident/os.hpp"

using namespace std::chrono_literals;
namespace mp = trident::multiprocessing;
using mp::Connection;
using mp::Process;

namespace {

// ---- targets (plain functions: they cross to forkserver and spawn children) ----

// Reports whether the (held) lock could be taken at once, then takes it once the parent lets go.
void contend_for_lock(mp::Lock lock, Connection c) {
  c.send(lock.acquire(false));
  c.send(lock.acquire(true, 10s));
  lock.release();
}

// Takes the lock, says so, and waits to be killed holding it.
void hold_lock_forever(mp::Lock lock, Connection c) {
  lock.acquire();
  c.send(true);
  for (;;) c.recv<int>();
}

void hold_rlock_forever(mp::RLock lock, Connection c) {
  lock.acquire();
  lock.acquire();
  c.send(true);
  for (;;) c.recv<int>();
}

void increment(mp::Value<int> v, int times) {
  for (int i = 0; i < times; ++i) {
    std::lock_guard g(v.get_lock());
    v.set_value(v.value() + 1);
  }
}

void fill_arrays(mp::Array<double> a, mp::RawArray<int> raw, mp::RawValue<long> rv) {
  for (std::size_t i = 0; i < a.size(); ++i) a.set(static_cast<long>(i), 1.5 * static_cast<double>(i));
  for (std::size_t i = 0; i < raw.size(); ++i) raw[i] = static_cast<int>(10 * i);
  rv.set_value(-7);
}

void write_hello(mp::shared_memory::SharedMemory shm, mp::shared_memory::ShareableList list) {
  std::memcpy(shm.buf().data(), "hello", 5);
  list[0] = std::int64_t{42};
  list[1] = std::string("xy");
}

void signal_back(mp::Event started, mp::Semaphore permits, mp::BoundedSemaphore bounded, mp::Barrier barrier,
                 mp::Event done) {
  started.set();
  permits.release(2);
  bounded.acquire();
  if (barrier.wait(10s) < 0) trident::os::_exit(3);
  done.wait(10s);
}

// Waits on the condition until the parent's predicate holds, then answers through the value.
void wait_on_condition(mp::Condition cond, mp::Value<int> flag) {
  std::lock_guard g(cond);
  if (!cond.wait_for([&] { return flag.value() == 1; }, 10s)) trident::os::_exit(4);
  flag.set_value(2);
  cond.notify_all();
}

void wait_at(mp::Barrier b) { b.wait(10s); }

// trident's own segments of `pid` in /dev/shm.
int internal_segments(int pid) {
  const std::string prefix = "trident_" + std::to_string(pid) + "_";
  int n = 0;
  if (DIR* d = opendir("/dev/shm")) {
    while (dirent* e = readdir(d)) n += std::string(e->d_name).rfind(prefix, 0) == 0 ? 1 : 0;
    closedir(d);
  }
  return n;
}

// The first shared object starts the segment tracker, whose fd stays open for the program's life:
// start it before the first test so the fd leak check does not count it.
class StartTracker : public ::testing::Environment {
  void SetUp() override { mp::Lock(); }
};
[[maybe_unused]] ::testing::Environment* const g_start_tracker = ::testing::AddGlobalTestEnvironment(new StartTracker);

class SharedArgTest : public ::testing::TestWithParam<std::string> {
 protected:
  mp::Context ctx() const { return mp::get_context(GetParam()); }
  bool forks() const { return GetParam() == "fork"; }
  // No handle outlives the test, so none of its segments may stay in /dev/shm.
  void TearDown() override { EXPECT_EQ(internal_segments(::getpid()), 0) << "a segment outlived its handles"; }
};

// Python: a Lock passed to a child is the same lock — the child cannot take it while the parent
// holds it, and takes it once released.
TEST_P(SharedArgTest, LockIsTheSameLockInTheChild) {
  mp::Lock lock;
  auto [mine, theirs] = mp::Pipe();
  lock.acquire();
  Process p = ctx().Process(contend_for_lock, lock, theirs);
  p.start();
  EXPECT_FALSE(mine.recv<bool>());
  lock.release();
  EXPECT_TRUE(mine.recv<bool>());
  p.join(20s);
  EXPECT_EQ(p.exitcode(), 0);
  EXPECT_FALSE(lock.locked());
}

// trident's robust locks (CPython deadlocks here): a child killed holding the Lock or RLock it was
// given does not keep it; the parent gets it within a bound and owner_died() says so.
TEST_P(SharedArgTest, LockOfKilledChildIsRecovered) {
  mp::Lock lock;
  mp::RLock rlock;
  auto [mine, theirs] = mp::Pipe();
  Process p = ctx().Process(hold_lock_forever, lock, theirs);
  Process q = ctx().Process(hold_rlock_forever, rlock, theirs);
  p.start();
  q.start();
  EXPECT_TRUE(mine.recv<bool>());
  EXPECT_TRUE(mine.recv<bool>());
  EXPECT_TRUE(lock.locked());
  EXPECT_FALSE(lock.acquire(false));
  p.kill();
  q.kill();
  p.join(20s);
  q.join(20s);
  const auto t0 = std::chrono::steady_clock::now();
  EXPECT_TRUE(lock.acquire(true, 10s));
  EXPECT_TRUE(rlock.acquire(true, 10s));
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 5s);
  EXPECT_TRUE(lock.owner_died());
  EXPECT_TRUE(rlock.owner_died());
  lock.release();
  rlock.release();
}

// Python's test_value / test_array: changes made by children through the lock are all seen.
TEST_P(SharedArgTest, ValueAndArraysAreSharedWithChildren) {
  mp::Value<int> v(0);
  mp::Array<double> a(4);
  mp::RawArray<int> raw(3);
  mp::RawValue<long> rv(0);
  std::vector<Process> procs;
  for (int i = 0; i < 3; ++i) procs.push_back(ctx().Process(increment, v, 500));
  procs.push_back(ctx().Process(fill_arrays, a, raw, rv));
  for (auto& p : procs) p.start();
  for (auto& p : procs) {
    p.join(20s);
    EXPECT_EQ(p.exitcode(), 0);
  }
  EXPECT_EQ(v.value(), 1500);
  EXPECT_EQ(a.get(3), 4.5);
  EXPECT_EQ(raw[2], 20);
  EXPECT_EQ(rv.value(), -7);
}

// Python's test_shared_memory_across_processes: a child attaches to the segment (here: is handed
// it) and writes through its buf; a ShareableList likewise.
TEST_P(SharedArgTest, SharedMemoryAndShareableListAreSharedWithChild) {
  mp::shared_memory::SharedMemory shm({.create = true, .size = 64});
  mp::shared_memory::ShareableList list({std::int64_t{0}, std::string("ab")});
  Process p = ctx().Process(write_hello, shm, list);
  p.start();
  p.join(20s);
  EXPECT_EQ(p.exitcode(), 0);
  EXPECT_EQ(std::string(reinterpret_cast<const char*>(shm.buf().data()), 5), "hello");
  EXPECT_TRUE(list[0] == mp::shared_memory::ShareableList::Item(std::int64_t{42}));
  EXPECT_TRUE(list[1] == mp::shared_memory::ShareableList::Item(std::string("xy")));
  shm.unlink();
  list.shm().unlink();
}

// Python: Event, Semaphore, BoundedSemaphore and Barrier given to a child are the parent's.
TEST_P(SharedArgTest, EventSemaphoresAndBarrierAreSharedWithChild) {
  mp::Event started, done;
  mp::Semaphore permits(0);
  mp::BoundedSemaphore bounded(1);
  mp::Barrier barrier(2);
  bounded.acquire();
  Process p = ctx().Process(signal_back, started, permits, bounded, barrier, done);
  p.start();
  EXPECT_TRUE(started.wait(10s));
  EXPECT_TRUE(permits.acquire(true, 10s));
  EXPECT_TRUE(permits.acquire(true, 10s));
  bounded.release();
  EXPECT_GE(barrier.wait(10s), 0);
  done.set();
  p.join(20s);
  EXPECT_EQ(p.exitcode(), 0);
  EXPECT_EQ(bounded.get_value(), 0);  // the child holds the one permit it took
}

// Python's test_notify across processes: a Condition (over its default RLock) given to a child.
TEST_P(SharedArgTest, ConditionIsSharedWithChild) {
  mp::Condition cond;
  mp::Value<int> flag(0);
  Process p = ctx().Process(wait_on_condition, cond, flag);
  p.start();
  {
    std::lock_guard g(cond);
    flag.set_value(1);
    cond.notify_all();
    EXPECT_TRUE(cond.wait_for([&] { return flag.value() == 2; }, 10s));
  }
  p.join(20s);
  EXPECT_EQ(p.exitcode(), 0);
}

// A Barrier's action is a std::function: it crosses only under fork; forkserver/spawn refuse it at
// start() with a TypeError (nothing is started).
TEST_P(SharedArgTest, BarrierWithActionCrossesOnlyUnderFork) {
  mp::Barrier b(2, [] {});
  Process p = ctx().Process(wait_at, b);
  if (forks()) {
    p.start();
    EXPECT_GE(b.wait(10s), 0);
    p.join(20s);
    EXPECT_EQ(p.exitcode(), 0);
  } else {
    try {
      p.start();
      ADD_FAILURE() << "start() accepted a Barrier with an action";
    } catch (const trident::TypeError& e) {
      EXPECT_NE(std::string(e.what()).find("Barrier with an action"), std::string::npos) << e.what();
    }
    EXPECT_FALSE(p.pid().has_value());
  }
}

// Python's ctx.Lock(), ctx.Value(...), ...: a context makes the same objects as the module.
TEST_P(SharedArgTest, ContextMakesTheSameObjects) {
  const mp::Context c = ctx();
  static_assert(std::is_same_v<decltype(c.Lock()), mp::Lock>);
  static_assert(std::is_same_v<decltype(c.RLock()), mp::RLock>);
  static_assert(std::is_same_v<decltype(c.Semaphore(2)), mp::Semaphore>);
  static_assert(std::is_same_v<decltype(c.BoundedSemaphore(2)), mp::BoundedSemaphore>);
  static_assert(std::is_same_v<decltype(c.Condition()), mp::Condition>);
  static_assert(std::is_same_v<decltype(c.Event()), mp::Event>);
  static_assert(std::is_same_v<decltype(c.Barrier(2)), mp::Barrier>);
  static_assert(std::is_same_v<decltype(c.Value<int>(1)), mp::Value<int>>);
  static_assert(std::is_same_v<decltype(c.Array<int>(3)), mp::Array<int>>);
  static_assert(std::is_same_v<decltype(c.RawValue<int>(1)), mp::RawValue<int>>);
  static_assert(std::is_same_v<decltype(c.RawArray<int>({1, 2})), mp::RawArray<int>>);
  mp::Value<int> v = c.Value<int>(0);
  mp::Lock lock = c.Lock();
  Process p = c.Process(increment, v, 10);
  p.start();
  p.join(20s);
  EXPECT_EQ(v.value(), 10);
  EXPECT_TRUE(lock.acquire(false));
  EXPECT_EQ(c.Array<int>({1, 2, 3}).get(-1), 3);
  EXPECT_EQ(c.Semaphore(3).get_value(), 3);
  lock.release();
}

INSTANTIATE_TEST_SUITE_P(StartMethods, SharedArgTest, ::testing::ValuesIn(trident::testing::all_methods()),
                         trident::testing::method_test_name);

}  // namespace

TRIDENT_PROCESS_TEST_MAIN()
