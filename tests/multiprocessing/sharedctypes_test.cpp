// multiprocessing.sharedctypes: Value, Array, RawValue, RawArray across fork()ed processes, after
// CPython's _test_multiprocessing _TestValue (typecodes, get_lock/get_obj, lock=False has no lock,
// the child changes the parent's value) and _TestArray (from a size is zeroed, from an initializer,
// len, the child changes elements, lock=False), plus what C++ adds: a struct type and IndexError.
#include <mutex>

#include "shm_test_support.hpp"
#include "trident/multiprocessing/sharedctypes.hpp"

namespace mp = trident::multiprocessing;
using shm_test::ShmTest;

namespace {

struct Point {
  double x;
  double y;
  int tag;
};

// Python _TestValue.test_value: values of several types are changed by a child and the parent
// sees the change.
TEST_F(ShmTest, ValueChangedByChild) {
  mp::Value<int> i(-7);
  mp::Value<double> d(1.25);
  mp::Value<char> c('x');
  mp::Value<Point> p(Point{1, 2, 3});
  EXPECT_EQ(i.value(), -7);
  EXPECT_EQ(c.value(), 'x');
  const int pid = fork_child([&] {
    CHILD_CHECK(d.value() == 1.25);
    i.set_value(42);
    d.set_value(-0.5);
    c.set_value('y');
    p.set_value(Point{4, 5, 6});
    return 0;
  });
  EXPECT_EQ(join_child(pid), 0);
  EXPECT_EQ(i.value(), 42);
  EXPECT_EQ(d.value(), -0.5);
  EXPECT_EQ(c.value(), 'y');
  EXPECT_EQ(p.value().tag, 6);
  EXPECT_EQ(p.get_obj().x, 4);
}

// Python _TestValue.test_getobj_getlock: the lock is an RLock shared by copies and children;
// `with v.get_lock(): v.value += 1` from several processes loses no increment.
TEST_F(ShmTest, ValueIncrementUnderGetLockAcrossProcesses) {
  mp::Value<long> v(0);
  mp::Value<long> copy = v;
  EXPECT_EQ(&copy.get_obj(), &v.get_obj());
  constexpr int kChildren = 3;
  constexpr int kIters = 2000;
  std::vector<int> pids;
  for (int c = 0; c < kChildren; ++c) {
    pids.push_back(fork_child([&] {
      for (int i = 0; i < kIters; ++i) {
        std::lock_guard g(v.get_lock());
        v.set_value(v.value() + 1);  // value() re-enters the RLock, as Python's does
      }
      return 0;
    }));
  }
  for (int i = 0; i < kIters; ++i) {
    std::lock_guard g(copy.get_lock());
    copy.set_value(copy.value() + 1);
  }
  for (int pid : pids) EXPECT_EQ(join_child(pid), 0);
  EXPECT_EQ(v.value(), static_cast<long>((kChildren + 1) * kIters));
}

// Python: Value(..., lock=False) has no get_lock.
TEST_F(ShmTest, ValueWithoutLockHasNoLock) {
  mp::Value<int> v(3, {.lock = false});
  EXPECT_THROW(v.get_lock(), trident::RuntimeError);
  v.set_value(4);
  EXPECT_EQ(v.value(), 4);
  mp::RawValue<int> r(9);
  EXPECT_EQ(r.value(), 9);
  r.set_value(10);
  EXPECT_EQ(r.get_obj(), 10);
}

// Python _TestArray.test_array / test_array_from_size: from a size it is zeroed; from an
// initializer it holds the items; a child's writes are seen; len.
TEST_F(ShmTest, ArrayFromSizeAndInitializerChangedByChild) {
  mp::Array<int> zeros(std::size_t{5});
  EXPECT_EQ(zeros.size(), 5u);
  for (int x : zeros) EXPECT_EQ(x, 0);
  mp::Array<double> arr({1.5, 2.5, 3.5});
  EXPECT_EQ(arr.size(), 3u);
  EXPECT_EQ(arr.get(-1), 3.5);
  const int pid = fork_child([&] {
    for (std::size_t i = 0; i < zeros.size(); ++i) zeros.set(static_cast<long>(i), static_cast<int>(i * i));
    std::lock_guard g(arr.get_lock());
    for (double& x : arr) x = -x;
    return 0;
  });
  EXPECT_EQ(join_child(pid), 0);
  EXPECT_EQ(zeros[4], 16);
  EXPECT_EQ(arr[0], -1.5);
  EXPECT_EQ(arr.get_obj().size(), 3u);
}

// Python: an index out of range is IndexError.
TEST_F(ShmTest, ArrayIndexOutOfRangeIsIndexError) {
  mp::Array<int> a({1, 2});
  EXPECT_THROW(a.get(2), trident::IndexError);
  EXPECT_THROW(a.set(-3, 0), trident::IndexError);
  EXPECT_THROW(a.at(5), trident::IndexError);
  EXPECT_EQ(a.at(-2), 1);
  mp::RawArray<int> r(std::size_t{3});
  EXPECT_THROW(r.at(3), trident::IndexError);
  mp::Array<int> nolock(std::size_t{1}, {.lock = false});
  EXPECT_THROW(nolock.get_lock(), trident::RuntimeError);
}

// Python _TestArray.test_rawarray: a RawArray is shared with a child too.
TEST_F(ShmTest, RawArraySharedWithChild) {
  mp::RawArray<long> r({10, 20, 30});
  const int pid = fork_child([&] {
    r[1] = 21;
    return 0;
  });
  EXPECT_EQ(join_child(pid), 0);
  EXPECT_EQ(r[1], 21);
  EXPECT_EQ(r.size(), 3u);
}

}  // namespace
