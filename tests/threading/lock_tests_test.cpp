// The synchronisation primitives of trident::threading against the behaviour CPython's
// Lib/test/lock_tests.py pins, instantiated the way test_threading.py instantiates it: one
// lock-like conformance suite (BaseLockTests) for Lock, RLock, Semaphore(1), BoundedSemaphore(1)
// and Condition, then the suites for each primitive's own rules.
//
// Not ported, because they have no C++ meaning: repr, weak references, constructor argument
// type errors, _at_fork_reinit, _release_save. Python's OverflowError for a huge timeout becomes
// "a huge timeout waits forever", which is what trident documents.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <climits>
#include <concepts>
#include <limits>
#include <memory>
#include <mutex>
#include <optional>
#include <ostream>
#include <set>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "support/helpers.hpp"
#include "threading/conformance_support.hpp"
#include "trident/errors.hpp"
#include "trident/threading.hpp"

namespace {

using namespace std::chrono_literals;
using ::testing::HasSubstr;
using ::testing::ThrowsMessage;
using trident::RuntimeError;
using trident::Seconds;
using trident::ValueError;
using trident::testing::BlockingWatch;
using trident::testing::Bunch;
using trident::testing::in_other_thread;
using trident::testing::kLongTimeout;
using trident::testing::kTimeoutSlack;
using trident::testing::lasted;
using trident::testing::Stopwatch;
using trident::testing::wait_until;
using trident::threading::Barrier;
using trident::threading::BoundedSemaphore;
using trident::threading::BrokenBarrierError;
using trident::threading::Condition;
using trident::threading::Event;
using trident::threading::Lock;
using trident::threading::RLock;
using trident::threading::Semaphore;

// A short timeout for waits that are meant to time out; long enough to be measured reliably.
constexpr auto kShort = 200ms;

// What differs between the lock-like types in the common suite.
template <class T>
struct LockKind;
template <>
struct LockKind<Lock> {
  static constexpr bool kRecursive = false;  // the holder cannot acquire again
  static constexpr bool kOwned = false;      // any thread may release
};
template <>
struct LockKind<RLock> {
  static constexpr bool kRecursive = true;
  static constexpr bool kOwned = true;  // only the owner may release
};
template <>
struct LockKind<Semaphore> {
  static constexpr bool kRecursive = false;
  static constexpr bool kOwned = false;
};
template <>
struct LockKind<BoundedSemaphore> {
  static constexpr bool kRecursive = false;
  static constexpr bool kOwned = false;
};
template <>
struct LockKind<Condition> {  // Condition() owns an RLock and exports its API
  static constexpr bool kRecursive = true;
  static constexpr bool kOwned = true;
};

struct TypeNames {
  template <class T>
  static std::string GetName(int) {
    if constexpr (std::is_same_v<T, Lock>) return "Lock";
    if constexpr (std::is_same_v<T, RLock>) return "RLock";
    if constexpr (std::is_same_v<T, Semaphore>) return "Semaphore";
    if constexpr (std::is_same_v<T, BoundedSemaphore>) return "BoundedSemaphore";
    if constexpr (std::is_same_v<T, Condition>) return "Condition";
    return "Unknown";
  }
};

// Whether another thread can take `lock` right now without waiting (it releases it again).
template <class L>
bool free_for_other_thread(L& lock) {
  return in_other_thread([&] {
    const bool got = lock.acquire(false);
    if (got) lock.release();
    return got;
  });
}

// What std's lock helpers need: BasicLockable and Lockable.
template <class L>
concept StdLockable = requires(L& l) {
  l.lock();
  l.unlock();
  { l.try_lock() } -> std::same_as<bool>;
};

// ===================================================================================================
// BaseLockTests: every lock-like type.
// ===================================================================================================

template <class T>
class BaseLockTest : public ::testing::Test {};
using LockLikeTypes = ::testing::Types<Lock, RLock, Semaphore, BoundedSemaphore, Condition>;
TYPED_TEST_SUITE(BaseLockTest, LockLikeTypes, TypeNames);

// lock_tests.BaseLockTests.test_constructor, test_acquire_destroy: destroying a held lock is fine.
TYPED_TEST(BaseLockTest, DestroyingAHeldLockIsAllowed) {
  auto lock = std::make_unique<TypeParam>();
  ASSERT_TRUE(lock->acquire());
  lock.reset();
  SUCCEED();
}

// lock_tests.BaseLockTests.test_acquire_release
TYPED_TEST(BaseLockTest, AcquireReturnsTrueAndReleaseFreesIt) {
  TypeParam lock;
  EXPECT_TRUE(lock.acquire());
  EXPECT_FALSE(free_for_other_thread(lock));
  lock.release();
  EXPECT_TRUE(free_for_other_thread(lock));
}

// lock_tests.BaseLockTests.test_try_acquire
TYPED_TEST(BaseLockTest, NonBlockingAcquireOfAFreeLockSucceeds) {
  TypeParam lock;
  EXPECT_TRUE(lock.acquire(false));
  lock.release();
  EXPECT_TRUE(lock.try_lock());
  lock.unlock();
  EXPECT_TRUE(lock.acquire(true, 0s));  // a zero timeout is a single attempt
  lock.release();
  EXPECT_TRUE(free_for_other_thread(lock));
}

// lock_tests.BaseLockTests.test_try_acquire_contended
TYPED_TEST(BaseLockTest, NonBlockingAcquireFailsWhileAnotherThreadHoldsIt) {
  TypeParam lock;
  ASSERT_TRUE(lock.acquire());
  std::vector<bool> results = in_other_thread([&] {
    std::vector<bool> r;
    r.push_back(lock.acquire(false));
    r.push_back(lock.try_lock());
    r.push_back(lock.acquire(true, 0s));
    return r;
  });
  EXPECT_EQ(results, (std::vector<bool>{false, false, false}));
  lock.release();
}

// lock_tests.BaseLockTests.test_acquire_contended
TYPED_TEST(BaseLockTest, BlockingAcquireWaitsUntilTheHolderReleases) {
  TypeParam lock;
  ASSERT_TRUE(lock.acquire());
  constexpr int kN = 5;
  BlockingWatch watch;
  std::atomic<int> acquired{0};
  {
    Bunch bunch(kN, [&] {
      const bool got = watch.around([&] { return lock.acquire(true, kLongTimeout); });
      EXPECT_TRUE(got);
      if (got) {
        acquired.fetch_add(1);
        lock.release();
      }
    });
    ASSERT_TRUE(watch.wait_blocked(kN));
    EXPECT_EQ(bunch.finished(), 0);
    EXPECT_EQ(acquired.load(), 0);
    lock.release();
    EXPECT_TRUE(bunch.wait_for_finished());
  }
  EXPECT_EQ(acquired.load(), kN);
  EXPECT_TRUE(free_for_other_thread(lock));
}

// lock_tests.BaseLockTests.test_with: `with lock:` is RAII; the lock is released when the block
// exits normally and when it exits by an exception.
TYPED_TEST(BaseLockTest, ScopedLockReleasesOnNormalExitAndOnException) {
  static_assert(StdLockable<TypeParam>);
  TypeParam lock;
  {
    std::scoped_lock hold(lock);
    EXPECT_FALSE(free_for_other_thread(lock));
  }
  EXPECT_TRUE(free_for_other_thread(lock));
  EXPECT_THROW(
      {
        std::unique_lock hold(lock);
        EXPECT_TRUE(hold.owns_lock());
        throw std::invalid_argument("TypeError");
      },
      std::invalid_argument);
  EXPECT_TRUE(free_for_other_thread(lock));
}

// lock_tests.BaseLockTests.test_try_acquire_contended, through std::unique_lock(try_to_lock).
TYPED_TEST(BaseLockTest, UniqueLockTryToLockFailsWhileHeldElsewhere) {
  TypeParam lock;
  std::unique_lock mine(lock, std::try_to_lock);
  ASSERT_TRUE(mine.owns_lock());
  EXPECT_FALSE(in_other_thread([&] {
    std::unique_lock theirs(lock, std::try_to_lock);
    return theirs.owns_lock();
  }));
  mine.unlock();
  EXPECT_TRUE(in_other_thread([&] {
    std::unique_lock theirs(lock, std::try_to_lock);
    return theirs.owns_lock();
  }));
}

// std::scoped_lock over two locks taken in opposite orders by two threads must not deadlock: it
// relies on try_lock failing (never blocking) while another thread holds the lock.
TYPED_TEST(BaseLockTest, StdScopedLockOfTwoLocksAvoidsDeadlock) {
  TypeParam a;
  TypeParam b;
  constexpr int kRounds = 300;
  long both_held = 0;  // guarded by holding a and b
  std::atomic<int> which{0};
  {
    Bunch bunch(2, [&] {
      const bool forward = which.fetch_add(1) == 0;
      for (int i = 0; i < kRounds; ++i) {
        if (forward) {
          std::scoped_lock hold(a, b);
          ++both_held;
        } else {
          std::scoped_lock hold(b, a);
          ++both_held;
        }
      }
    });
  }
  EXPECT_EQ(both_held, 2 * kRounds);
}

// Many threads contending: the lock gives mutual exclusion, and what one holder wrote is visible to
// the next (ThreadSanitizer checks the happens-before edge on the unprotected counter).
TYPED_TEST(BaseLockTest, ManyContendingThreadsAreMutuallyExclusive) {
  TypeParam lock;
  constexpr int kThreads = 6;
  constexpr int kIterations = 1000;
  long counter = 0;  // guarded by lock
  std::atomic<int> inside{0};
  std::atomic<int> overlaps{0};
  {
    Bunch bunch(kThreads, [&] {
      for (int i = 0; i < kIterations; ++i) {
        ASSERT_TRUE(lock.acquire(true, kLongTimeout));
        if (inside.fetch_add(1) != 0) overlaps.fetch_add(1);
        ++counter;
        inside.fetch_sub(1);
        lock.release();
      }
    });
  }
  EXPECT_EQ(overlaps.load(), 0);
  EXPECT_EQ(counter, long{kThreads} * kIterations);
}

// lock_tests.BaseLockTests.test_thread_leak: using a lock from foreign (non-trident) threads does
// not register them as trident threads.
TYPED_TEST(BaseLockTest, UseFromForeignThreadsLeavesNoThreadBehind) {
  TypeParam lock;
  const int before = trident::threading::active_count();
  {
    Bunch bunch(15, [&] {
      ASSERT_TRUE(lock.acquire(true, kLongTimeout));
      lock.release();
    });
  }
  EXPECT_EQ(trident::threading::active_count(), before);
}

// lock_tests.BaseLockTests.test_timeout: argument checks.
TYPED_TEST(BaseLockTest, TimeoutArgumentsAreChecked) {
  TypeParam lock;
  // Can't set a timeout if not blocking.
  EXPECT_THAT([&] { lock.acquire(false, 1s); }, ThrowsMessage<ValueError>(HasSubstr("non-blocking")));
  // Invalid timeout values.
  EXPECT_THROW(lock.acquire(true, Seconds(-100)), ValueError);
  EXPECT_THROW(lock.acquire(true, Seconds(-1e-9)), ValueError);
  // None of the rejected calls took the lock.
  EXPECT_TRUE(free_for_other_thread(lock));
}

// Python's _PyTime conversion rejects NaN with ValueError ("Invalid value NaN (not a number)").
TYPED_TEST(BaseLockTest, NanTimeoutIsValueError) {
  TypeParam lock;
  EXPECT_THROW(lock.acquire(true, Seconds(std::numeric_limits<double>::quiet_NaN())), ValueError);
  EXPECT_TRUE(free_for_other_thread(lock));
}

// lock_tests.BaseLockTests.test_timeout: "TIMEOUT_MAX is ok" — a huge timeout is accepted (trident
// treats it as forever rather than Python's OverflowError) and does not wait when the lock is free.
TYPED_TEST(BaseLockTest, HugeTimeoutIsAcceptedAndDoesNotWaitWhenFree) {
  TypeParam lock;
  Stopwatch sw;
  EXPECT_TRUE(lock.acquire(true, Seconds(1e100)));
  lock.release();
  EXPECT_TRUE(lock.acquire(true, Seconds(std::numeric_limits<double>::max())));
  lock.release();
  EXPECT_TRUE(lock.acquire(true, Seconds(std::numeric_limits<double>::infinity())));
  lock.release();
  EXPECT_TRUE(lock.acquire(true, trident::threading::TIMEOUT_MAX));
  lock.release();
  EXPECT_TRUE(lock.acquire(true, 5s));
  EXPECT_LT(sw.elapsed(), 5s);
  lock.release();
}

// lock_tests.BaseLockTests.test_timeout: a timed acquire of a held lock gives up after the timeout.
TYPED_TEST(BaseLockTest, TimedAcquireOfAHeldLockReturnsFalseAfterTheTimeout) {
  TypeParam lock;
  ASSERT_TRUE(lock.acquire());
  struct Result {
    bool got = true;
    Seconds took{};
  };
  const Result r = in_other_thread([&] {
    Stopwatch sw;
    Result res;
    res.got = lock.acquire(true, kShort);
    res.took = sw.elapsed();
    if (res.got) lock.release();
    return res;
  });
  EXPECT_FALSE(r.got);
  EXPECT_TRUE(lasted(r.took, kShort));
  lock.release();
}

// lock_tests.LockTests.test_state_after_timeout, for every lock-like type: a timed-out acquire
// leaves no trace, so the lock is free once its holder releases it.
TYPED_TEST(BaseLockTest, StateAfterATimedOutAcquireIsClean) {
  TypeParam lock;
  ASSERT_TRUE(lock.acquire());
  EXPECT_FALSE(in_other_thread([&] { return lock.acquire(true, 10ms); }));
  lock.release();
  EXPECT_TRUE(free_for_other_thread(lock));
  EXPECT_TRUE(lock.acquire(false));
  lock.release();
}

// lock_tests.LockTests.test_reacquire / RLockTests.test_reacquire: recursive types let their holder
// acquire again (and need as many releases); the others do not, even with a timeout.
TYPED_TEST(BaseLockTest, ReacquireByTheHolderFollowsTheTypesRecursion) {
  TypeParam lock;
  ASSERT_TRUE(lock.acquire());
  if constexpr (LockKind<TypeParam>::kRecursive) {
    EXPECT_TRUE(lock.acquire(false));
    EXPECT_TRUE(lock.acquire(true, kShort));
    lock.release();
    lock.release();
    EXPECT_FALSE(free_for_other_thread(lock));
    lock.release();
  } else {
    EXPECT_FALSE(lock.acquire(false));
    Stopwatch sw;
    EXPECT_FALSE(lock.acquire(true, 50ms));
    EXPECT_TRUE(lasted(sw.elapsed(), 50ms));
    lock.release();
  }
  EXPECT_TRUE(free_for_other_thread(lock));
}

// lock_tests.LockTests.test_different_thread / RLockTests.test_different_thread: a Lock or a
// semaphore may be released by another thread; an RLock (and a Condition over one) may not.
TYPED_TEST(BaseLockTest, ReleaseFromAnotherThreadFollowsTheTypesOwnership) {
  TypeParam lock;
  ASSERT_TRUE(lock.acquire());
  if constexpr (LockKind<TypeParam>::kOwned) {
    EXPECT_TRUE(in_other_thread([&] {
      try {
        lock.release();
        return false;
      } catch (const RuntimeError& e) {
        EXPECT_THAT(e.what(), HasSubstr("cannot release un-acquired lock"));
        return true;
      }
    }));
    EXPECT_FALSE(free_for_other_thread(lock));  // still held by this thread
    lock.release();
  } else {
    EXPECT_TRUE(in_other_thread([&] {
      lock.release();
      return true;
    }));
  }
  EXPECT_TRUE(free_for_other_thread(lock));
  EXPECT_TRUE(lock.acquire(false));
  lock.release();
}

// ===================================================================================================
// LockTests: Lock only.
// ===================================================================================================

// lock_tests.LockTests.test_reacquire: a thread blocked re-acquiring its own Lock proceeds once
// another thread releases it.
TEST(LockTests, ReacquireBlocksUntilAnotherThreadReleases) {
  Lock lock;
  BlockingWatch watch;
  std::atomic<int> phase{0};
  {
    Bunch bunch(1, [&] {
      ASSERT_TRUE(lock.acquire(true, kLongTimeout));
      phase = 1;
      EXPECT_TRUE(watch.around([&] { return lock.acquire(true, kLongTimeout); }));
      phase = 2;
    });
    ASSERT_TRUE(wait_until([&] { return phase.load() == 1; }));
    ASSERT_TRUE(watch.wait_blocked(1));
    EXPECT_EQ(phase.load(), 1);
    lock.release();  // a Lock may be released by a thread that did not acquire it
    EXPECT_TRUE(bunch.wait_for_finished());
  }
  EXPECT_EQ(phase.load(), 2);
  EXPECT_TRUE(lock.locked());  // the thread's second acquire holds it
  lock.release();
  EXPECT_FALSE(lock.locked());
}

// lock_tests.LockTests.test_different_thread
TEST(LockTests, ReleaseByAnotherThreadIsAllowed) {
  Lock lock;
  ASSERT_TRUE(lock.acquire());
  {
    Bunch bunch(1, [&] { lock.release(); });
  }
  EXPECT_FALSE(lock.locked());
  EXPECT_TRUE(lock.acquire(false));
  lock.release();
}

// lock_tests.LockTests.test_state_after_timeout (issue #11618), in the same thread.
TEST(LockTests, StateAfterTimeout) {
  Lock lock;
  ASSERT_TRUE(lock.acquire());
  Stopwatch sw;
  EXPECT_FALSE(lock.acquire(true, 10ms));
  EXPECT_TRUE(lasted(sw.elapsed(), 10ms));
  lock.release();
  EXPECT_FALSE(lock.locked());
  EXPECT_TRUE(lock.acquire(false));
  lock.release();
}

// threading.Lock.locked(), as seen by the holder and by another thread.
TEST(LockTests, LockedReportsTheState) {
  Lock lock;
  EXPECT_FALSE(lock.locked());
  ASSERT_TRUE(lock.acquire());
  EXPECT_TRUE(lock.locked());
  EXPECT_TRUE(in_other_thread([&] { return lock.locked(); }));
  lock.release();
  EXPECT_FALSE(lock.locked());
  EXPECT_FALSE(in_other_thread([&] { return lock.locked(); }));
  {
    std::scoped_lock hold(lock);
    EXPECT_TRUE(lock.locked());
  }
  EXPECT_FALSE(lock.locked());
}

// test_threading.ThreadingExceptionTests.test_releasing_unacquired_lock
TEST(LockTests, ReleaseUnlockedIsRuntimeError) {
  Lock lock;
  EXPECT_THAT([&] { lock.release(); }, ThrowsMessage<RuntimeError>(HasSubstr("release unlocked lock")));
  ASSERT_TRUE(lock.acquire());
  lock.release();
  EXPECT_THAT([&] { lock.release(); }, ThrowsMessage<RuntimeError>(HasSubstr("release unlocked lock")));
  EXPECT_FALSE(lock.locked());
}

// _thread.lock.acquire(False, 1): "can't specify a timeout for a non-blocking call".
TEST(LockTests, NonBlockingAcquireWithTimeoutNamesTheRule) {
  Lock lock;
  EXPECT_THAT([&] { lock.acquire(false, 1s); },
              ThrowsMessage<ValueError>(HasSubstr("can't specify a timeout for a non-blocking call")));
  EXPECT_THAT([&] { lock.acquire(false, 0s); },
              ThrowsMessage<ValueError>(HasSubstr("can't specify a timeout for a non-blocking call")));
  EXPECT_FALSE(lock.locked());
}

// ===================================================================================================
// RLockTests: RLock, and Condition() which owns an RLock and exports its API
// (test_threading.ConditionAsRLockTests).
// ===================================================================================================

template <class T>
class RLockTest : public ::testing::Test {};
using RLockLikeTypes = ::testing::Types<RLock, Condition>;
TYPED_TEST_SUITE(RLockTest, RLockLikeTypes, TypeNames);

// lock_tests.RLockTests.test_reacquire
TYPED_TEST(RLockTest, Reacquire) {
  TypeParam lock;
  ASSERT_TRUE(lock.acquire());
  ASSERT_TRUE(lock.acquire());
  lock.release();
  ASSERT_TRUE(lock.acquire());
  lock.release();
  EXPECT_FALSE(free_for_other_thread(lock));
  lock.release();
  EXPECT_TRUE(free_for_other_thread(lock));
}

// lock_tests.RLockTests.test_release_unacquired
TYPED_TEST(RLockTest, ReleaseUnacquiredIsRuntimeError) {
  TypeParam lock;
  const auto unacquired = ThrowsMessage<RuntimeError>(HasSubstr("cannot release un-acquired lock"));
  EXPECT_THAT([&] { lock.release(); }, unacquired);
  ASSERT_TRUE(lock.acquire());
  ASSERT_TRUE(lock.acquire());
  lock.release();
  ASSERT_TRUE(lock.acquire());
  lock.release();
  lock.release();
  EXPECT_THAT([&] { lock.release(); }, unacquired);
  EXPECT_TRUE(free_for_other_thread(lock));
}

// lock_tests.RLockTests.test_different_thread: a thread holding the lock (and still alive) cannot
// have it released by another thread.
TYPED_TEST(RLockTest, ReleaseByANonOwnerIsRuntimeError) {
  TypeParam lock;
  Bunch bunch(
      1, [&] { ASSERT_TRUE(lock.acquire(true, kLongTimeout)); }, /*wait_before_exit=*/true);
  ASSERT_TRUE(bunch.wait_for_finished());
  EXPECT_THAT([&] { lock.release(); }, ThrowsMessage<RuntimeError>(HasSubstr("cannot release un-acquired lock")));
  EXPECT_FALSE(lock.acquire(false));  // the other thread still owns it
  bunch.do_finish();
}

// ===================================================================================================
// RLock only.
// ===================================================================================================

// lock_tests.RLockTests.test__is_owned
TEST(RLockTests, IsOwned) {
  RLock lock;
  EXPECT_FALSE(lock.is_owned());
  ASSERT_TRUE(lock.acquire());
  EXPECT_TRUE(lock.is_owned());
  ASSERT_TRUE(lock.acquire());
  EXPECT_TRUE(lock.is_owned());
  EXPECT_FALSE(in_other_thread([&] { return lock.is_owned(); }));
  lock.release();
  EXPECT_TRUE(lock.is_owned());
  lock.release();
  EXPECT_FALSE(lock.is_owned());
}

// lock_tests.RLockTests.test_locked
TEST(RLockTests, LockedFollowsTheRecursionLevel) {
  RLock lock;
  EXPECT_FALSE(lock.locked());
  ASSERT_TRUE(lock.acquire());
  EXPECT_TRUE(lock.locked());
  ASSERT_TRUE(lock.acquire());
  EXPECT_TRUE(lock.locked());
  lock.release();
  EXPECT_TRUE(lock.locked());
  lock.release();
  EXPECT_FALSE(lock.locked());
}

// lock_tests.RLockTests.test_locked_with_2threads (gh-134323): an RLock acquired in another thread
// is locked as seen from this one.
TEST(RLockTests, LockedWhenHeldByAnotherThread) {
  RLock lock;
  std::vector<bool> seen;
  Bunch bunch(
      1,
      [&] {
        seen.push_back(lock.locked());
        ASSERT_TRUE(lock.acquire(true, kLongTimeout));
        seen.push_back(lock.locked());
      },
      /*wait_before_exit=*/true);
  ASSERT_TRUE(bunch.wait_for_finished());
  EXPECT_TRUE(lock.locked());
  EXPECT_FALSE(lock.is_owned());
  EXPECT_EQ(seen, (std::vector<bool>{false, true}));
  bunch.do_finish();
}

// lock_tests.RLockTests.test_recursion_count (recursion_count() is Python's _recursion_count()):
// the lock stays held until the last of N releases, and another thread's holding does not count as
// this thread's.
TEST(RLockTests, RecursionCount) {
  RLock lock;
  EXPECT_EQ(lock.recursion_count(), 0);
  ASSERT_TRUE(lock.acquire());
  EXPECT_EQ(lock.recursion_count(), 1);
  ASSERT_TRUE(lock.acquire());
  ASSERT_TRUE(lock.acquire());
  EXPECT_EQ(lock.recursion_count(), 3);
  lock.release();
  EXPECT_EQ(lock.recursion_count(), 2);
  EXPECT_FALSE(free_for_other_thread(lock));
  lock.release();
  EXPECT_FALSE(free_for_other_thread(lock));
  lock.release();
  EXPECT_EQ(lock.recursion_count(), 0);
  EXPECT_TRUE(free_for_other_thread(lock));

  std::atomic<int> phase{0};
  Bunch bunch(1, [&] {
    ASSERT_TRUE(lock.acquire(true, kLongTimeout));
    EXPECT_EQ(lock.recursion_count(), 1);
    phase = 1;
    ASSERT_TRUE(wait_until([&] { return phase.load() == 2; }));
    lock.release();
    phase = 3;
  });
  ASSERT_TRUE(wait_until([&] { return phase.load() == 1; }));
  EXPECT_EQ(lock.recursion_count(), 0);
  EXPECT_FALSE(lock.is_owned());
  EXPECT_TRUE(lock.locked());
  phase = 2;
  ASSERT_TRUE(wait_until([&] { return phase.load() == 3; }));
  EXPECT_EQ(lock.recursion_count(), 0);
  EXPECT_TRUE(lock.acquire(false));
  lock.release();
}

// Ownership works the same for trident Threads as for foreign threads (test_threading runs
// lock_tests with threading.Thread-started threads too).
TEST(RLockTests, OwnershipIsPerTridentThread) {
  RLock lock;
  ASSERT_TRUE(lock.acquire());
  std::atomic<int> outcome{0};
  trident::threading::Thread t([&] {
    if (lock.is_owned()) {
      outcome = 1;
      return;
    }
    try {
      lock.release();
      outcome = 2;
    } catch (const RuntimeError&) {
      outcome = lock.acquire(false) ? 4 : 3;
    }
  });
  t.start();
  t.join(kLongTimeout);
  ASSERT_FALSE(t.is_alive());
  EXPECT_EQ(outcome.load(), 3);
  EXPECT_TRUE(lock.is_owned());
  lock.release();
}

// ===================================================================================================
// EventTests
// ===================================================================================================

// lock_tests.EventTests.test_is_set
TEST(EventTests, IsSet) {
  Event evt;
  EXPECT_FALSE(evt.is_set());
  evt.set();
  EXPECT_TRUE(evt.is_set());
  evt.set();
  EXPECT_TRUE(evt.is_set());
  evt.clear();
  EXPECT_FALSE(evt.is_set());
  evt.clear();
  EXPECT_FALSE(evt.is_set());
}

// lock_tests.EventTests._check_notify: set() wakes every waiter, and a set event lets wait() return
// at once.
void check_event_notify(Event& evt) {
  constexpr int kN = 5;
  BlockingWatch watch;
  std::mutex mu;
  std::vector<bool> results1;
  std::vector<bool> results2;
  {
    Bunch bunch(kN, [&] {
      const bool r1 = watch.around([&] { return evt.wait(kLongTimeout); });
      {
        std::lock_guard g(mu);
        results1.push_back(r1);
      }
      const bool r2 = evt.wait(kLongTimeout);
      std::lock_guard g(mu);
      results2.push_back(r2);
    });
    ASSERT_TRUE(watch.wait_blocked(kN));
    {
      std::lock_guard g(mu);
      EXPECT_TRUE(results1.empty());
    }
    evt.set();
  }
  EXPECT_EQ(results1, std::vector<bool>(kN, true));
  EXPECT_EQ(results2, std::vector<bool>(kN, true));
}

// lock_tests.EventTests.test_notify
TEST(EventTests, SetWakesAllWaitersAgainAfterClear) {
  Event evt;
  check_event_notify(evt);
  // Another time, after an explicit clear().
  evt.set();
  evt.clear();
  check_event_notify(evt);
}

// lock_tests.EventTests.test_timeout
TEST(EventTests, WaitTimeoutReturnsFalseThenTrueOnceSet) {
  Event evt;
  constexpr int kN = 5;
  std::mutex mu;
  std::vector<bool> results1;
  std::vector<std::pair<bool, Seconds>> results2;
  auto f = [&] {
    const bool r1 = evt.wait(0s);
    Stopwatch sw;
    const bool r2 = evt.wait(kShort);
    const Seconds took = sw.elapsed();
    std::lock_guard g(mu);
    results1.push_back(r1);
    results2.emplace_back(r2, took);
  };
  { Bunch bunch(kN, f); }
  EXPECT_EQ(results1, std::vector<bool>(kN, false));
  ASSERT_EQ(results2.size(), std::size_t{kN});
  for (const auto& [r, took] : results2) {
    EXPECT_FALSE(r);
    EXPECT_TRUE(lasted(took, kShort));
  }
  // The event is set: every wait returns true, without waiting out its timeout.
  results1.clear();
  results2.clear();
  evt.set();
  { Bunch bunch(kN, f); }
  EXPECT_EQ(results1, std::vector<bool>(kN, true));
  for (const auto& [r, took] : results2) {
    EXPECT_TRUE(r);
    EXPECT_LT(took, kShort);
  }
}

// lock_tests.EventTests.test_set_and_clear (gh-57711): wait() returns true even when the event is
// cleared again before the waiting thread runs.
TEST(EventTests, SetThenClearStillWakesEveryWaiterWithTrue) {
  Event evt;
  constexpr int kN = 5;
  BlockingWatch watch;
  std::mutex mu;
  std::vector<bool> results;
  {
    Bunch bunch(kN, [&] {
      const bool r = watch.around([&] { return evt.wait(kLongTimeout); });
      std::lock_guard g(mu);
      results.push_back(r);
    });
    ASSERT_TRUE(watch.wait_blocked(kN));
    evt.set();
    evt.clear();
  }
  EXPECT_EQ(results, std::vector<bool>(kN, true));
  EXPECT_FALSE(evt.is_set());
}

// trident: a negative timeout is a ValueError (Python's `threading` would treat it as zero).
TEST(EventTests, NegativeTimeoutIsValueError) {
  Event evt;
  EXPECT_THROW(evt.wait(-1s), ValueError);
  evt.set();
  EXPECT_THROW(evt.wait(-1s), ValueError);
}

// ===================================================================================================
// ConditionTests
// ===================================================================================================

// lock_tests.ConditionTests.test_acquire: the default Condition holds an RLock; one over a Lock
// shares that Lock.
TEST(ConditionTests, DefaultLockIsRecursiveAndAGivenLockIsShared) {
  {
    Condition cond;
    ASSERT_TRUE(cond.acquire());
    ASSERT_TRUE(cond.acquire());
    cond.release();
    cond.release();
    EXPECT_TRUE(free_for_other_thread(cond));
  }
  Lock lock;
  Condition cond(lock);
  ASSERT_TRUE(cond.acquire());
  EXPECT_FALSE(lock.acquire(false));
  cond.release();
  EXPECT_TRUE(lock.acquire(false));
  EXPECT_FALSE(cond.acquire(false));
  lock.release();
  {
    std::scoped_lock hold(cond);
    EXPECT_FALSE(lock.acquire(false));
  }
  EXPECT_FALSE(lock.locked());
}

// threading.Condition(RLock): acquiring the condition acquires that RLock, for this thread.
TEST(ConditionTests, AGivenRLockIsShared) {
  RLock rlock;
  Condition cond(rlock);
  ASSERT_TRUE(cond.acquire());
  EXPECT_TRUE(rlock.is_owned());
  ASSERT_TRUE(rlock.acquire(false));  // recursive
  rlock.release();
  cond.release();
  EXPECT_FALSE(rlock.is_owned());
  EXPECT_FALSE(rlock.locked());
}

// lock_tests.ConditionTests.test_unacquired_wait, for each kind of underlying lock.
TEST(ConditionTests, WaitWithoutHoldingTheLockIsRuntimeError) {
  const auto unacquired = ThrowsMessage<RuntimeError>(HasSubstr("cannot wait on un-acquired lock"));
  Condition cond;
  EXPECT_THAT([&] { cond.wait(); }, unacquired);
  EXPECT_THAT([&] { cond.wait(kShort); }, unacquired);
  EXPECT_THAT([&] { cond.wait_for([] { return false; }, kShort); }, unacquired);
  Lock lock;
  Condition over_lock(lock);
  EXPECT_THAT([&] { over_lock.wait(kShort); }, unacquired);
  RLock rlock;
  Condition over_rlock(rlock);
  EXPECT_THAT([&] { over_rlock.wait(kShort); }, unacquired);
}

// lock_tests.ConditionTests.test_unacquired_notify (notify_all calls notify in Python).
TEST(ConditionTests, NotifyWithoutHoldingTheLockIsRuntimeError) {
  const auto unacquired = ThrowsMessage<RuntimeError>(HasSubstr("cannot notify on un-acquired lock"));
  Condition cond;
  EXPECT_THAT([&] { cond.notify(); }, unacquired);
  EXPECT_THAT([&] { cond.notify(3); }, unacquired);
  EXPECT_THAT([&] { cond.notify_all(); }, unacquired);
  Lock lock;
  Condition over_lock(lock);
  EXPECT_THAT([&] { over_lock.notify(); }, unacquired);
  EXPECT_THAT([&] { over_lock.notify_all(); }, unacquired);
}

// threading.Condition over an RLock checks ownership, not just "locked": a thread that does not
// hold it cannot wait or notify while another thread does.
TEST(ConditionTests, WaitAndNotifyWhileAnotherThreadHoldsTheRLockAreRuntimeErrors) {
  Condition cond;
  Bunch bunch(
      1, [&] { ASSERT_TRUE(cond.acquire(true, kLongTimeout)); }, /*wait_before_exit=*/true);
  ASSERT_TRUE(bunch.wait_for_finished());
  EXPECT_THAT([&] { cond.wait(kShort); }, ThrowsMessage<RuntimeError>(HasSubstr("cannot wait on un-acquired lock")));
  EXPECT_THAT([&] { cond.notify(); }, ThrowsMessage<RuntimeError>(HasSubstr("cannot notify on un-acquired lock")));
  EXPECT_THAT([&] { cond.notify_all(); }, ThrowsMessage<RuntimeError>(HasSubstr("cannot notify on un-acquired lock")));
  bunch.do_finish();
}

// Which lock a Condition in the parameterised tests is built over.
enum class CondLock { kOwnRLock, kLock, kRLock };

struct CondUnderTest {
  explicit CondUnderTest(CondLock kind) {
    switch (kind) {
      case CondLock::kOwnRLock:
        cond = std::make_unique<Condition>();
        break;
      case CondLock::kLock:
        cond = std::make_unique<Condition>(lock);
        break;
      case CondLock::kRLock:
        cond = std::make_unique<Condition>(rlock);
        break;
    }
  }
  Lock lock;
  RLock rlock;
  std::unique_ptr<Condition> cond;
};

// So ctest and gtest show the kind of lock rather than the enum's bytes.
void PrintTo(CondLock kind, std::ostream* os) {
  switch (kind) {
    case CondLock::kOwnRLock:
      *os << "Condition()";
      return;
    case CondLock::kLock:
      *os << "Condition(Lock&)";
      return;
    case CondLock::kRLock:
      *os << "Condition(RLock&)";
      return;
  }
}

class ConditionTest : public ::testing::TestWithParam<CondLock> {};

std::string cond_lock_name(const ::testing::TestParamInfo<CondLock>& info) {
  switch (info.param) {
    case CondLock::kOwnRLock:
      return "OwnRLock";
    case CondLock::kLock:
      return "OverLock";
    case CondLock::kRLock:
      return "OverRLock";
  }
  return "Unknown";
}

INSTANTIATE_TEST_SUITE_P(Locks, ConditionTest,
                         ::testing::Values(CondLock::kOwnRLock, CondLock::kLock, CondLock::kRLock), cond_lock_name);

using Outcome = std::pair<bool, int>;  // (what wait() returned, the phase it woke in)

// lock_tests.ConditionTests._check_notify: notify(3) wakes exactly three waiters (the oldest),
// notify(5) wakes five, notify_all() wakes the rest; each wait() returns true.
void check_condition_notify(Condition& cond) {
  constexpr int kN = 5;
  BlockingWatch watch;
  int phase = 0;  // guarded by cond
  std::mutex mu;
  std::vector<Outcome> results1;  // guarded by mu
  std::vector<Outcome> results2;  // guarded by mu
  auto sizes = [&] {
    std::lock_guard g(mu);
    return std::pair<std::size_t, std::size_t>(results1.size(), results2.size());
  };
  {
    Bunch bunch(kN, [&] {
      for (auto* results : {&results1, &results2}) {
        ASSERT_TRUE(cond.acquire(true, kLongTimeout));
        const bool r = watch.around([&] { return cond.wait(kLongTimeout); });
        const int woke_in = phase;
        cond.release();
        std::lock_guard g(mu);
        results->emplace_back(r, woke_in);
      }
    });
    // All five are in their first wait.
    ASSERT_TRUE(watch.wait_blocked(kN));
    EXPECT_EQ(sizes(), std::make_pair(std::size_t{0}, std::size_t{0}));

    // Phase 1: notify three.
    ASSERT_TRUE(cond.acquire(true, kLongTimeout));
    cond.notify(3);
    phase = 1;
    cond.release();
    ASSERT_TRUE(wait_until([&] { return sizes().first >= 3; }));
    // The three woken ones are back in (their second) wait; the other two never left the first.
    ASSERT_TRUE(watch.wait_blocked(kN));
    EXPECT_EQ(watch.arrivals(), kN + 3);
    {
      std::lock_guard g(mu);
      EXPECT_EQ(results1, std::vector<Outcome>(3, {true, 1}));
      EXPECT_TRUE(results2.empty());
    }

    // Phase 2: notify five — the two in their first wait and the three in their second.
    ASSERT_TRUE(cond.acquire(true, kLongTimeout));
    cond.notify(5);
    phase = 2;
    cond.release();
    ASSERT_TRUE(wait_until([&] { return sizes().first + sizes().second >= 8; }));
    ASSERT_TRUE(watch.wait_blocked(2));
    {
      std::lock_guard g(mu);
      std::vector<Outcome> expected1(3, {true, 1});
      expected1.insert(expected1.end(), 2, {true, 2});
      EXPECT_EQ(results1, expected1);
      EXPECT_EQ(results2, std::vector<Outcome>(3, {true, 2}));
    }

    // Phase 3: notify_all wakes the two left in their second wait.
    ASSERT_TRUE(cond.acquire(true, kLongTimeout));
    cond.notify_all();
    phase = 3;
    cond.release();
    ASSERT_TRUE(wait_until([&] { return sizes().second >= 5; }));
  }
  std::vector<Outcome> expected2(3, {true, 2});
  expected2.insert(expected2.end(), 2, {true, 3});
  EXPECT_EQ(results2, expected2);
}

// lock_tests.ConditionTests.test_notify: twice, to check the internal state is still right.
TEST_P(ConditionTest, NotifyWakesExactlyNThenNotifyAllWakesTheRest) {
  CondUnderTest c(GetParam());
  check_condition_notify(*c.cond);
  check_condition_notify(*c.cond);
}

// notify() with no waiter, and notify(0), are no-ops (Python's Condition.notify(0) wakes nobody).
TEST_P(ConditionTest, NotifyZeroWakesNobody) {
  CondUnderTest c(GetParam());
  Condition& cond = *c.cond;
  ASSERT_TRUE(cond.acquire());
  cond.notify();
  cond.notify_all();
  cond.release();
  BlockingWatch watch;
  std::atomic<bool> woke{false};
  Bunch bunch(1, [&] {
    ASSERT_TRUE(cond.acquire(true, kLongTimeout));
    woke = watch.around([&] { return cond.wait(kLongTimeout); });
    cond.release();
  });
  ASSERT_TRUE(watch.wait_blocked(1));
  ASSERT_TRUE(cond.acquire(true, kLongTimeout));
  cond.notify(0);
  cond.release();
  EXPECT_TRUE(watch.wait_blocked(1));
  EXPECT_EQ(bunch.finished(), 0);
  ASSERT_TRUE(cond.acquire(true, kLongTimeout));
  cond.notify();
  cond.release();
  EXPECT_TRUE(bunch.wait_for_finished());
  EXPECT_TRUE(woke.load());
}

// lock_tests.ConditionTests.test_timeout: wait(timeout) with no notify returns false after it.
TEST_P(ConditionTest, WaitTimeoutReturnsFalse) {
  CondUnderTest c(GetParam());
  Condition& cond = *c.cond;
  constexpr int kN = 5;
  std::mutex mu;
  std::vector<std::pair<Seconds, bool>> results;
  {
    Bunch bunch(kN, [&] {
      ASSERT_TRUE(cond.acquire(true, kLongTimeout));
      Stopwatch sw;
      const bool r = cond.wait(kShort);
      const Seconds took = sw.elapsed();
      cond.release();
      std::lock_guard g(mu);
      results.emplace_back(took, r);
    });
  }
  ASSERT_EQ(results.size(), std::size_t{kN});
  for (const auto& [took, r] : results) {
    EXPECT_TRUE(lasted(took, kShort));
    EXPECT_FALSE(r);
  }
  EXPECT_TRUE(free_for_other_thread(cond));
}

// The lock is held again when wait() returns, whether it was notified or timed out.
TEST_P(ConditionTest, WaitReacquiresTheLockBeforeReturning) {
  CondUnderTest c(GetParam());
  Condition& cond = *c.cond;
  ASSERT_TRUE(cond.acquire());
  EXPECT_FALSE(cond.wait(10ms));
  EXPECT_FALSE(free_for_other_thread(cond));
  cond.release();
  EXPECT_TRUE(free_for_other_thread(cond));
}

// A negative timeout is a ValueError in trident (Python's Condition.wait treats it as zero).
TEST_P(ConditionTest, NegativeTimeoutIsValueError) {
  CondUnderTest c(GetParam());
  Condition& cond = *c.cond;
  ASSERT_TRUE(cond.acquire());
  EXPECT_THROW(cond.wait(-1s), ValueError);
  EXPECT_THROW(cond.wait_for([] { return false; }, -1s), ValueError);
  // Still held: the rejected waits never released the lock.
  EXPECT_FALSE(free_for_other_thread(cond));
  cond.release();
}

// lock_tests.ConditionTests.test_waitfor
TEST_P(ConditionTest, WaitForReturnsOnceThePredicateHolds) {
  CondUnderTest c(GetParam());
  Condition& cond = *c.cond;
  int state = 0;  // guarded by cond
  BlockingWatch watch;
  {
    Bunch bunch(1, [&] {
      std::unique_lock hold(cond);
      const bool r = watch.around([&] { return cond.wait_for([&] { return state == 4; }, kLongTimeout); });
      EXPECT_TRUE(r);
      EXPECT_EQ(state, 4);
    });
    for (int i = 0; i < 4; ++i) {
      ASSERT_TRUE(watch.wait_blocked(1));
      std::scoped_lock hold(cond);
      ++state;
      cond.notify();
    }
  }
}

// lock_tests.ConditionTests.test_waitfor_timeout: the predicate never holds, so wait_for returns
// false after its timeout, having re-checked it on each notify.
TEST_P(ConditionTest, WaitForTimesOutWhenThePredicateNeverHolds) {
  CondUnderTest c(GetParam());
  Condition& cond = *c.cond;
  int state = 0;  // guarded by cond
  std::atomic<int> checks{0};
  std::atomic<bool> success{false};
  constexpr auto kTimeout = 500ms;
  {
    Bunch bunch(1, [&] {
      std::unique_lock hold(cond);
      Stopwatch sw;
      const bool r = cond.wait_for(
          [&] {
            checks.fetch_add(1);
            return state == 4;
          },
          kTimeout);
      EXPECT_FALSE(r);
      EXPECT_TRUE(lasted(sw.elapsed(), kTimeout));
      success = true;
    });
    // Only increment 3 times, so state == 4 is never reached. Each increment waits until the
    // previous one has been checked, so every notify finds the waiter waiting.
    for (int i = 0; i < 3; ++i) {
      ASSERT_TRUE(wait_until([&] { return checks.load() >= i + 1; }));
      std::scoped_lock hold(cond);
      ++state;
      cond.notify();
    }
  }
  EXPECT_TRUE(success.load());
  EXPECT_GE(checks.load(), 4);
}

// threading.Condition.wait_for evaluates the predicate first: a true predicate returns at once
// without waiting, a false one with a zero timeout returns false at once.
TEST_P(ConditionTest, WaitForChecksThePredicateBeforeWaiting) {
  CondUnderTest c(GetParam());
  Condition& cond = *c.cond;
  std::scoped_lock hold(cond);
  Stopwatch sw;
  EXPECT_TRUE(cond.wait_for([] { return true; }, kLongTimeout));
  EXPECT_TRUE(cond.wait_for([] { return true; }));
  EXPECT_FALSE(cond.wait_for([] { return false; }, 0s));
  EXPECT_LT(sw.elapsed(), kTimeoutSlack);
}

// Condition over an RLock held several times: wait() releases every level (so another thread can
// take the lock and notify) and restores the same recursion level on return.
TEST(ConditionTests, WaitReleasesAnRLockFullyAndRestoresItsLevel) {
  RLock rlock;
  Condition cond(rlock);
  ASSERT_TRUE(cond.acquire());
  ASSERT_TRUE(cond.acquire());
  ASSERT_TRUE(rlock.acquire());  // three levels
  std::atomic<bool> other_held_it{false};
  Bunch bunch(1, [&] {
    ASSERT_TRUE(cond.acquire(true, kLongTimeout));
    other_held_it = rlock.is_owned();
    cond.notify();
    cond.release();
  });
  EXPECT_TRUE(cond.wait(kLongTimeout));
  EXPECT_TRUE(other_held_it.load());
  EXPECT_TRUE(rlock.is_owned());
  rlock.release();
  rlock.release();
  EXPECT_TRUE(rlock.is_owned());
  EXPECT_FALSE(free_for_other_thread(rlock));
  rlock.release();
  EXPECT_FALSE(rlock.is_owned());
  EXPECT_THAT([&] { rlock.release(); }, ThrowsMessage<RuntimeError>(HasSubstr("cannot release un-acquired lock")));
  EXPECT_TRUE(free_for_other_thread(rlock));
}

// The same after a timed-out wait: the recursion level is restored too.
TEST(ConditionTests, TimedOutWaitRestoresTheRLockLevel) {
  Condition cond;
  ASSERT_TRUE(cond.acquire());
  ASSERT_TRUE(cond.acquire());
  EXPECT_FALSE(cond.wait(10ms));
  cond.release();
  EXPECT_FALSE(free_for_other_thread(cond));
  cond.release();
  EXPECT_TRUE(free_for_other_thread(cond));
}

// ===================================================================================================
// SemaphoreTests: Semaphore and BoundedSemaphore (lock_tests.BaseSemaphoreTests).
// ===================================================================================================

template <class T>
class SemaphoreTest : public ::testing::Test {};
using SemaphoreTypes = ::testing::Types<Semaphore, BoundedSemaphore>;
TYPED_TEST_SUITE(SemaphoreTest, SemaphoreTypes, TypeNames);

// lock_tests.BaseSemaphoreTests.test_constructor
TYPED_TEST(SemaphoreTest, NegativeInitialValueIsValueError) {
  const auto negative = ThrowsMessage<ValueError>(HasSubstr("semaphore initial value must be >= 0"));
  EXPECT_THAT([] { TypeParam sem(-1); }, negative);
  EXPECT_THAT([] { TypeParam sem(INT_MIN); }, negative);
  TypeParam zero(0);
  EXPECT_FALSE(zero.acquire(false));
}

// lock_tests.BaseSemaphoreTests.test_acquire
TYPED_TEST(SemaphoreTest, AcquireCountsDownToTheInitialValue) {
  TypeParam sem1(1);
  EXPECT_TRUE(sem1.acquire());
  sem1.release();
  TypeParam sem2(2);
  EXPECT_TRUE(sem2.acquire());
  EXPECT_TRUE(sem2.acquire());
  EXPECT_FALSE(sem2.acquire(false));
  sem2.release();
  sem2.release();
}

// lock_tests.BaseSemaphoreTests.test_acquire_destroy
TYPED_TEST(SemaphoreTest, DestroyingAnAcquiredSemaphoreIsAllowed) {
  auto sem = std::make_unique<TypeParam>();
  ASSERT_TRUE(sem->acquire());
  sem.reset();
  SUCCEED();
}

// lock_tests.BaseSemaphoreTests.test_acquire_contended (release one at a time) and
// test_multirelease (release(n)): exactly as many waiters proceed as permits are released.
template <class Sem>
void check_semaphore_contended(Sem& sem, bool multirelease) {
  constexpr int kValue = 7;
  constexpr int kThreads = 10;
  ASSERT_TRUE(sem.acquire());
  BlockingWatch watch;
  std::atomic<int> phase{0};
  std::atomic<int> next_index{0};
  std::mutex mu;
  std::vector<int> phases;                   // guarded by mu: the phase of every successful acquire
  std::vector<int> per_thread(kThreads, 0);  // guarded by mu: successful acquires of each thread
  auto count = [&] {
    std::lock_guard g(mu);
    return static_cast<int>(phases.size());
  };
  auto sorted_phases = [&] {
    std::lock_guard g(mu);
    std::vector<int> v = phases;
    std::sort(v.begin(), v.end());
    return v;
  };
  // Threads that have not made both acquires yet: once the permits are gone, exactly these block.
  auto unfinished = [&] {
    std::lock_guard g(mu);
    return static_cast<int>(std::count_if(per_thread.begin(), per_thread.end(), [](int n) { return n < 2; }));
  };
  auto release = [&](int n) {
    if (multirelease) {
      sem.release(n);
    } else {
      for (int i = 0; i < n; ++i) sem.release();
    }
  };
  {
    Bunch bunch(kThreads, [&] {
      const auto me = static_cast<std::size_t>(next_index.fetch_add(1));
      for (int i = 0; i < 2; ++i) {
        const bool got = watch.around([&] { return sem.acquire(true, kLongTimeout); });
        EXPECT_TRUE(got);
        if (!got) return;
        std::lock_guard g(mu);
        phases.push_back(phase.load());
        ++per_thread[me];
      }
    });
    // Phase 0: the six permits left are taken and everyone else blocks.
    constexpr int kCount1 = kValue - 1;
    ASSERT_TRUE(wait_until([&] { return count() >= kCount1; }));
    ASSERT_TRUE(watch.wait_blocked(unfinished()));
    EXPECT_EQ(sorted_phases(), std::vector<int>(kCount1, 0));

    // Phase 1: release seven.
    phase = 1;
    release(kValue);
    constexpr int kCount2 = kValue;
    ASSERT_TRUE(wait_until([&] { return count() >= kCount1 + kCount2; }));
    ASSERT_TRUE(watch.wait_blocked(unfinished()));
    std::vector<int> expected(kCount1, 0);
    expected.insert(expected.end(), kCount2, 1);
    EXPECT_EQ(sorted_phases(), expected);

    // Phase 2: release six.
    phase = 2;
    constexpr int kCount3 = kValue - 1;
    release(kCount3);
    ASSERT_TRUE(wait_until([&] { return count() >= kCount1 + kCount2 + kCount3; }));
    ASSERT_TRUE(watch.wait_blocked(1));  // 19 of 20 acquires done: one thread still waits
    expected.insert(expected.end(), kCount3, 2);
    EXPECT_EQ(sorted_phases(), expected);
    // The semaphore is still at zero.
    EXPECT_FALSE(sem.acquire(false));

    // Final release, to let the last thread finish.
    phase = 3;
    sem.release();
  }
  EXPECT_EQ(count(), 2 * kThreads);
  EXPECT_FALSE(sem.acquire(false));
}

TYPED_TEST(SemaphoreTest, ContendedAcquireAdmitsOneWaiterPerRelease) {
  TypeParam sem(7);
  check_semaphore_contended(sem, /*multirelease=*/false);
}

TYPED_TEST(SemaphoreTest, ReleaseNAdmitsNWaiters) {
  TypeParam sem(7);
  check_semaphore_contended(sem, /*multirelease=*/true);
}

// threading.Semaphore.release(n): n < 1 is ValueError ("n must be one or more") and changes nothing.
TYPED_TEST(SemaphoreTest, ReleaseOfLessThanOneIsValueError) {
  TypeParam sem(1);
  ASSERT_TRUE(sem.acquire());
  EXPECT_THROW(sem.release(0), ValueError);
  EXPECT_THROW(sem.release(-1), ValueError);
  EXPECT_FALSE(sem.acquire(false));
  sem.release();
  EXPECT_TRUE(sem.acquire(false));
}

// lock_tests.BaseSemaphoreTests.test_try_acquire
TYPED_TEST(SemaphoreTest, NonBlockingAcquire) {
  TypeParam sem(2);
  EXPECT_TRUE(sem.acquire(false));
  EXPECT_TRUE(sem.acquire(false));
  EXPECT_FALSE(sem.acquire(false));
  sem.release();
  EXPECT_TRUE(sem.acquire(false));
}

// lock_tests.BaseSemaphoreTests.test_try_acquire_contended
TYPED_TEST(SemaphoreTest, NonBlockingAcquireContended) {
  TypeParam sem(4);
  ASSERT_TRUE(sem.acquire());
  std::mutex mu;
  std::vector<bool> results;
  {
    Bunch bunch(5, [&] {
      const bool a = sem.acquire(false);
      const bool b = sem.acquire(false);
      std::lock_guard g(mu);
      results.push_back(a);
      results.push_back(b);
    });
  }
  std::sort(results.begin(), results.end());
  std::vector<bool> expected(7, false);
  expected.insert(expected.end(), 3, true);
  EXPECT_EQ(results, expected);
}

// lock_tests.BaseSemaphoreTests.test_acquire_timeout
TYPED_TEST(SemaphoreTest, TimedAcquire) {
  TypeParam sem(2);
  EXPECT_THROW(sem.acquire(false, 1s), ValueError);
  EXPECT_THROW(sem.acquire(true, -1s), ValueError);
  EXPECT_TRUE(sem.acquire(true, 5ms));
  EXPECT_TRUE(sem.acquire(true, 5ms));
  EXPECT_FALSE(sem.acquire(true, 5ms));
  sem.release();
  EXPECT_TRUE(sem.acquire(true, 5ms));
  Stopwatch sw;
  EXPECT_FALSE(sem.acquire(true, kShort));
  EXPECT_TRUE(lasted(sw.elapsed(), kShort));
}

// lock_tests.BaseSemaphoreTests.test_default_value: the default initial value is 1.
TYPED_TEST(SemaphoreTest, DefaultValueIsOne) {
  TypeParam sem;
  ASSERT_TRUE(sem.acquire());
  BlockingWatch watch;
  {
    Bunch bunch(1, [&] {
      ASSERT_TRUE(watch.around([&] { return sem.acquire(true, kLongTimeout); }));
      sem.release();
    });
    ASSERT_TRUE(watch.wait_blocked(1));
    EXPECT_EQ(bunch.finished(), 0);
    sem.release();
    EXPECT_TRUE(bunch.wait_for_finished());
  }
  EXPECT_TRUE(sem.acquire(false));
  EXPECT_FALSE(sem.acquire(false));
}

// lock_tests.BaseSemaphoreTests.test_with
TYPED_TEST(SemaphoreTest, ScopedLockTakesOnePermit) {
  TypeParam sem(2);
  auto with = [&](bool fail) {
    std::scoped_lock outer(sem);
    EXPECT_TRUE(sem.acquire(false));
    sem.release();
    std::scoped_lock inner(sem);
    EXPECT_FALSE(sem.acquire(false));
    if (fail) throw std::invalid_argument("TypeError");
  };
  with(false);
  EXPECT_TRUE(sem.acquire(false));
  sem.release();
  EXPECT_THROW(with(true), std::invalid_argument);
  EXPECT_TRUE(sem.acquire(false));
  EXPECT_TRUE(sem.acquire(false));
  EXPECT_FALSE(sem.acquire(false));
}

// lock_tests.SemaphoreTests.test_release_unacquired: unbounded releases raise the value.
TEST(SemaphoreTests, ReleaseBeyondTheInitialValueRaisesIt) {
  Semaphore sem(1);
  sem.release();
  EXPECT_TRUE(sem.acquire(false));
  EXPECT_TRUE(sem.acquire(false));
  EXPECT_FALSE(sem.acquire(false));
  sem.release(3);
  for (int i = 0; i < 3; ++i) EXPECT_TRUE(sem.acquire(false));
  EXPECT_FALSE(sem.acquire(false));
}

// lock_tests.BoundedSemaphoreTests.test_release_unacquired: cannot go past the initial value.
TEST(BoundedSemaphoreTests, ReleaseBeyondTheInitialValueIsValueError) {
  const auto too_many = ThrowsMessage<ValueError>(HasSubstr("Semaphore released too many times"));
  BoundedSemaphore sem;
  EXPECT_THAT([&] { sem.release(); }, too_many);
  ASSERT_TRUE(sem.acquire());
  sem.release();
  EXPECT_THAT([&] { sem.release(); }, too_many);
  EXPECT_TRUE(sem.acquire(false));
  EXPECT_FALSE(sem.acquire(false));
}

// threading.BoundedSemaphore.release(n) checks the whole n first: an over-release changes nothing.
TEST(BoundedSemaphoreTests, ReleaseNPastTheInitialValueChangesNothing) {
  const auto too_many = ThrowsMessage<ValueError>(HasSubstr("Semaphore released too many times"));
  BoundedSemaphore sem(3);
  ASSERT_TRUE(sem.acquire());
  EXPECT_THAT([&] { sem.release(2); }, too_many);
  sem.release(1);
  EXPECT_THAT([&] { sem.release(1); }, too_many);
  ASSERT_TRUE(sem.acquire());
  ASSERT_TRUE(sem.acquire());
  sem.release(2);
  for (int i = 0; i < 3; ++i) EXPECT_TRUE(sem.acquire(false));
  EXPECT_FALSE(sem.acquire(false));
}

// ===================================================================================================
// BarrierTests
// ===================================================================================================

class BarrierTests : public ::testing::Test {
 protected:
  static constexpr int kN = 5;
  // lock_tests.BarrierTests.setUp: a default timeout, so a broken barrier cannot hang the test.
  BarrierTests() : barrier(kN, {}, kLongTimeout) {}
  // lock_tests.BarrierTests.tearDown
  void TearDown() override { barrier.abort(); }

  // All kN parties run f (lock_tests.BarrierTests.run_threads).
  void run_threads(const std::function<void()>& f) { Bunch bunch(kN, f); }

  // lock_tests.BarrierTests.multipass: the parties move through the barrier in lockstep.
  void multipass(int passes) {
    std::atomic<int> before{0};
    std::atomic<int> after{0};
    run_threads([&] {
      ASSERT_EQ(barrier.parties(), kN);
      for (int i = 0; i < passes; ++i) {
        before.fetch_add(1);
        EXPECT_EQ(after.load(), i * kN);
        barrier.wait();
        after.fetch_add(1);
        EXPECT_EQ(before.load(), (i + 1) * kN);
        barrier.wait();
      }
      EXPECT_EQ(barrier.n_waiting(), 0);
      EXPECT_FALSE(barrier.broken());
    });
    EXPECT_EQ(before.load(), passes * kN);
    EXPECT_EQ(after.load(), passes * kN);
  }

  Barrier barrier;
};

// lock_tests.BarrierTests.test_constructor
TEST_F(BarrierTests, PartiesBelowOneIsValueError) {
  EXPECT_THAT([] { Barrier b(0); }, ThrowsMessage<ValueError>(HasSubstr("parties")));
  EXPECT_THAT([] { Barrier b(-1); }, ThrowsMessage<ValueError>(HasSubstr("parties")));
  EXPECT_THROW([] { Barrier b(INT_MIN); }(), ValueError);
}

// lock_tests.BarrierTests.test_barrier
TEST_F(BarrierTests, PartiesPassInLockstep) { multipass(1); }

// lock_tests.BarrierTests.test_barrier_10
TEST_F(BarrierTests, PartiesPassInLockstepTenTimes) { multipass(10); }

// lock_tests.BarrierTests.test_wait_return: each round hands out the indices 0..parties-1, once
// each.
TEST_F(BarrierTests, WaitReturnsDistinctIndicesEachRound) {
  constexpr int kRounds = 3;
  std::mutex mu;
  std::vector<std::multiset<int>> indices(kRounds);
  run_threads([&] {
    for (int round = 0; round < kRounds; ++round) {
      const int i = barrier.wait();
      std::lock_guard g(mu);
      indices[static_cast<std::size_t>(round)].insert(i);
    }
  });
  std::multiset<int> all;
  for (int i = 0; i < kN; ++i) all.insert(i);
  for (const auto& round : indices) EXPECT_EQ(round, all);
}

// lock_tests.BarrierTests.test_action: the action runs once per round, in one of the parties,
// before any of them leaves wait().
TEST_F(BarrierTests, ActionRunsOncePerRoundBeforeAnyPartyLeaves) {
  constexpr int kRounds = 3;
  std::atomic<int> runs{0};
  std::mutex mu;
  std::set<pid_t> parties;
  pid_t runner = 0;
  Barrier b(
      kN,
      [&] {
        runs.fetch_add(1);
        std::lock_guard g(mu);
        runner = trident::testing::current_tid();
      },
      kLongTimeout);
  run_threads([&] {
    {
      std::lock_guard g(mu);
      parties.insert(trident::testing::current_tid());
    }
    for (int round = 0; round < kRounds; ++round) {
      b.wait();
      EXPECT_EQ(runs.load(), round + 1);
      barrier.wait();  // nobody enters the next round of b before everyone checked this one
    }
  });
  EXPECT_EQ(runs.load(), kRounds);
  EXPECT_EQ(parties.count(runner), 1u);
}

// threading.Barrier: an exception from the action breaks the barrier; the party that ran it gets
// the exception, the others BrokenBarrierError.
TEST_F(BarrierTests, ActionExceptionBreaksTheBarrier) {
  struct ActionFailed : std::exception {
    const char* what() const noexcept override { return "action failed"; }
  };
  Barrier b(
      kN, [] { throw ActionFailed(); }, kLongTimeout);
  std::atomic<int> failed{0};
  std::atomic<int> broken{0};
  run_threads([&] {
    try {
      b.wait();
    } catch (const ActionFailed&) {
      failed.fetch_add(1);
    } catch (const BrokenBarrierError&) {
      broken.fetch_add(1);
    }
  });
  EXPECT_EQ(failed.load(), 1);
  EXPECT_EQ(broken.load(), kN - 1);
  EXPECT_TRUE(b.broken());
  EXPECT_THROW(b.wait(), BrokenBarrierError);
}

// lock_tests.BarrierTests.test_abort
TEST_F(BarrierTests, AbortBreaksTheBarrierForEveryWaiter) {
  std::atomic<int> passed{0};
  std::atomic<int> broken{0};
  run_threads([&] {
    try {
      const int i = barrier.wait();
      if (i == kN / 2) {
        barrier.abort();
        return;
      }
      barrier.wait();
      passed.fetch_add(1);
    } catch (const BrokenBarrierError&) {
      broken.fetch_add(1);
    }
  });
  EXPECT_EQ(passed.load(), 0);
  EXPECT_EQ(broken.load(), kN - 1);
  EXPECT_TRUE(barrier.broken());
}

// lock_tests.BarrierTests.test_reset: reset() frees the waiting parties with BrokenBarrierError,
// and the barrier is usable again afterwards.
TEST_F(BarrierTests, ResetWakesWaitersWithBrokenBarrierErrorThenTheBarrierIsReusable) {
  std::atomic<int> passed{0};
  std::atomic<int> broken{0};
  std::atomic<int> passed_again{0};
  run_threads([&] {
    const int i = barrier.wait();
    if (i == kN / 2) {
      // Wait until the other parties are all in the barrier.
      ASSERT_TRUE(wait_until([&] { return barrier.n_waiting() >= kN - 1; }));
      barrier.reset();
    } else {
      try {
        barrier.wait();
        passed.fetch_add(1);
      } catch (const BrokenBarrierError&) {
        broken.fetch_add(1);
      }
    }
    // Now, pass the barrier again.
    barrier.wait();
    passed_again.fetch_add(1);
  });
  EXPECT_EQ(passed.load(), 0);
  EXPECT_EQ(broken.load(), kN - 1);
  EXPECT_EQ(passed_again.load(), kN);
  EXPECT_FALSE(barrier.broken());
}

// lock_tests.BarrierTests.test_abort_and_reset: a broken barrier can be reset and reused.
TEST_F(BarrierTests, AbortedBarrierCanBeResetAndReused) {
  std::atomic<int> passed{0};
  std::atomic<int> broken{0};
  std::atomic<int> passed_again{0};
  Barrier barrier2(kN, {}, kLongTimeout);
  run_threads([&] {
    try {
      const int i = barrier.wait();
      if (i == kN / 2) throw std::runtime_error("abort");
      barrier.wait();
      passed.fetch_add(1);
    } catch (const BrokenBarrierError&) {
      broken.fetch_add(1);
    } catch (const std::runtime_error&) {
      barrier.abort();
    }
    // Synchronise and reset the barrier: everyone has left it when it is reset, and nobody enters
    // it before the reset.
    if (barrier2.wait() == kN / 2) barrier.reset();
    barrier2.wait();
    barrier.wait();
    passed_again.fetch_add(1);
  });
  EXPECT_EQ(passed.load(), 0);
  EXPECT_EQ(broken.load(), kN - 1);
  EXPECT_EQ(passed_again.load(), kN);
}

// lock_tests.BarrierTests.test_timeout: a wait that times out breaks the barrier for everyone,
// including the late party (which finds it broken). Instead of sleeping, the late party waits until
// the barrier is broken.
TEST_F(BarrierTests, WaitTimeoutBreaksTheBarrier) {
  std::mutex mu;
  std::vector<Seconds> took;
  std::atomic<int> broken{0};
  run_threads([&] {
    const int i = barrier.wait();
    if (i == kN / 2) {
      // One party is late.
      ASSERT_TRUE(wait_until([&] { return barrier.broken(); }));
      EXPECT_THROW(barrier.wait(kShort), BrokenBarrierError);
      broken.fetch_add(1);
      return;
    }
    Stopwatch sw;
    EXPECT_THROW(barrier.wait(kShort), BrokenBarrierError);
    broken.fetch_add(1);
    std::lock_guard g(mu);
    took.push_back(sw.elapsed());
  });
  EXPECT_EQ(broken.load(), kN);
  EXPECT_TRUE(barrier.broken());
  ASSERT_EQ(took.size(), std::size_t{kN - 1});
  // The first to time out waited its whole timeout; the others were woken by the break at the latest.
  EXPECT_TRUE(lasted(*std::max_element(took.begin(), took.end()), kShort));
  for (const auto t : took) EXPECT_LE(t, kShort + kTimeoutSlack);
}

// lock_tests.BarrierTests.test_default_timeout: the constructor's timeout applies to wait().
TEST_F(BarrierTests, DefaultTimeoutFromTheConstructor) {
  constexpr auto kTimeout = 100ms;
  Barrier b(2, {}, kTimeout);
  Stopwatch sw;
  EXPECT_THROW(b.wait(), BrokenBarrierError);
  EXPECT_TRUE(lasted(sw.elapsed(), kTimeout));
  EXPECT_TRUE(b.broken());
}

// threading.Barrier.wait(timeout) overrides the constructor's default.
TEST_F(BarrierTests, WaitTimeoutOverridesTheDefault) {
  Barrier b(2, {}, kLongTimeout);
  Stopwatch sw;
  EXPECT_THROW(b.wait(kShort), BrokenBarrierError);
  EXPECT_TRUE(lasted(sw.elapsed(), kShort));
}

// lock_tests.BarrierTests.test_single_thread
TEST_F(BarrierTests, SinglePartyNeverWaits) {
  Barrier b(1);
  EXPECT_EQ(b.wait(), 0);
  EXPECT_EQ(b.wait(), 0);
  EXPECT_FALSE(b.broken());
}

// lock_tests.BarrierTests.test_repr, as properties: parties, n_waiting, broken.
TEST_F(BarrierTests, PartiesWaitingAndBrokenProperties) {
  Barrier b(3);
  EXPECT_EQ(b.parties(), 3);
  EXPECT_EQ(b.n_waiting(), 0);
  EXPECT_FALSE(b.broken());
  {
    Bunch bunch(2, [&] { b.wait(kLongTimeout); });
    ASSERT_TRUE(wait_until([&] { return b.n_waiting() >= 2; }));
    EXPECT_EQ(b.n_waiting(), 2);
    EXPECT_GE(b.wait(kLongTimeout), 0);
  }
  EXPECT_EQ(b.n_waiting(), 0);
  EXPECT_FALSE(b.broken());
  b.abort();
  EXPECT_TRUE(b.broken());
  EXPECT_THROW(b.wait(kLongTimeout), BrokenBarrierError);
  b.reset();
  EXPECT_FALSE(b.broken());
}

// A negative timeout is a ValueError, raised before the caller joins the barrier.
TEST_F(BarrierTests, NegativeTimeoutIsValueErrorAndLeavesTheBarrierIntact) {
  Barrier b(2, {}, kLongTimeout);
  EXPECT_THROW(b.wait(-1s), ValueError);
  EXPECT_FALSE(b.broken());
  EXPECT_EQ(b.n_waiting(), 0);
}

}  // namespace
