// multiprocessing.shared_memory: SharedMemory and ShareableList, after the themes of CPython's
// _test_multiprocessing _TestSharedMemory (create/attach by name, FileExistsError and
// FileNotFoundError, a random name when none is given, size rules, close and unlink, a child
// seeing the parent's bytes, ShareableList items, assignment, count/index and its storage limit),
// plus the tracking Python's resource_tracker only half does: no segment outlives a killed creator.
#include <cstring>

#include "shm_test_support.hpp"
#include "trident/multiprocessing/shared_memory.hpp"

namespace sm = trident::multiprocessing::shared_memory;
using shm_test::shm_exists;
using shm_test::ShmTest;
using sm::ShareableList;
using sm::SharedMemory;
using namespace std::chrono_literals;

namespace {

std::string unique_name(const char* tag) { return std::string("tshm_") + tag + "_" + std::to_string(getpid()); }

// Python: SharedMemory(create=True, size=n) picks a name ("psm_..."), maps at least n bytes, and
// another SharedMemory(name) sees the same bytes; unlink() removes the name.
TEST_F(ShmTest, CreateWithRandomNameAttachByNameAndUnlink) {
  SharedMemory a({.create = true, .size = 100});
  EXPECT_EQ(a.name().rfind("psm_", 0), 0u) << a.name();
  EXPECT_GE(a.size(), 100u);
  EXPECT_TRUE(shm_exists(a.name()));
  std::memcpy(a.buf().data(), "howdy", 5);
  SharedMemory b({.name = a.name()});
  EXPECT_EQ(b.size(), a.size());
  EXPECT_EQ(std::memcmp(b.buf().data(), "howdy", 5), 0);
  b.buf()[0] = std::byte{'H'};
  EXPECT_EQ(a.buf()[0], std::byte{'H'});
  a.unlink();
  EXPECT_FALSE(shm_exists(a.name()));
  // Mappings survive the name.
  EXPECT_EQ(b.buf()[1], std::byte{'o'});
}

// Python: creating a name that exists is FileExistsError; attaching to a missing one is
// FileNotFoundError; unlinking twice is FileNotFoundError.
TEST_F(ShmTest, NameErrorsAreFileExistsAndFileNotFound) {
  const std::string name = unique_name("exists");
  SharedMemory a({.name = name, .create = true, .size = 16});
  EXPECT_EQ(a.name(), name);
  EXPECT_THROW(SharedMemory({.name = name, .create = true, .size = 16}), trident::FileExistsError);
  a.unlink();
  EXPECT_THROW(a.unlink(), trident::FileNotFoundError);
  EXPECT_THROW(SharedMemory({.name = name}), trident::FileNotFoundError);
  try {
    SharedMemory({.name = name});
  } catch (const trident::FileNotFoundError& e) {
    EXPECT_EQ(e.filename(), name);
    EXPECT_NE(std::string(e.what()).find("SharedMemory()"), std::string::npos) << e.what();
  }
}

// Python: size must be positive to create ("'size' must be a positive number different from
// zero"), and attaching needs a name ("'name' can only be None if create=True").
TEST_F(ShmTest, SizeAndNameRulesAreValueErrors) {
  EXPECT_THROW(SharedMemory({.create = true, .size = 0}), trident::ValueError);
  EXPECT_THROW(SharedMemory({}), trident::ValueError);
  EXPECT_THROW(SharedMemory({.name = "a/b", .create = true, .size = 8}), trident::ValueError);
}

// Python: after close() the buffer is gone (buf is None); close is idempotent; unlink still works.
TEST_F(ShmTest, CloseDropsTheMapping) {
  SharedMemory a({.create = true, .size = 8});
  SharedMemory copy = a;  // a handle: copies share the mapping
  a.close();
  EXPECT_TRUE(a.buf().empty());
  EXPECT_TRUE(copy.buf().empty());
  a.close();
  a.unlink();
}

// Python: a child attaches by name and its writes are seen by the parent (and the reverse).
TEST_F(ShmTest, ChildWritesAreSeenByTheParent) {
  SharedMemory a({.create = true, .size = 4096});
  a.buf()[0] = std::byte{7};
  const std::string name = a.name();
  const int pid = fork_child([&] {
    SharedMemory b({.name = name});
    CHILD_CHECK(b.buf()[0] == std::byte{7});
    for (std::size_t i = 1; i < 4096; ++i) b.buf()[i] = std::byte{static_cast<unsigned char>(i)};
    return 0;
  });
  EXPECT_EQ(join_child(pid), 0);
  for (std::size_t i = 1; i < 4096; ++i) ASSERT_EQ(a.buf()[i], std::byte{static_cast<unsigned char>(i)});
  a.unlink();
}

// Tracking: a segment created by a child that is then SIGKILLed (Python leaks it until the whole
// program ends) is removed once the child is dead.
TEST_F(ShmTest, SegmentOfAKilledCreatorIsRemoved) {
  const std::string name = unique_name("killed");
  shm_test::Signal ready;
  const int pid = fork_child([&] {
    SharedMemory s({.name = name, .create = true, .size = 64});
    ready.notify();
    pause();
    return 0;
  });
  ASSERT_TRUE(ready.wait());
  EXPECT_TRUE(shm_exists(name));
  kill_child(pid);
  EXPECT_TRUE(shm_test::eventually_gone(name)) << name << " outlived its killed creator";
}

// Tracking: a child that exits without unlink() leaves nothing behind either (Python's tracker
// removes it with a "leaked shared_memory" warning at the end).
TEST_F(ShmTest, SegmentOfAnExitedCreatorIsRemoved) {
  const std::string name = unique_name("exited");
  const int pid = fork_child([&] {
    SharedMemory s({.name = name, .create = true, .size = 64});
    return 0;
  });
  EXPECT_EQ(join_child(pid), 0);
  EXPECT_TRUE(shm_test::eventually_gone(name));
}

// Python 3.13's track=False: the segment is handed on and outlives its creator until unlinked.
TEST_F(ShmTest, UntrackedSegmentOutlivesItsCreator) {
  const std::string name = unique_name("handed");
  const int pid = fork_child([&] {
    SharedMemory s({.name = name, .create = true, .size = 64, .track = false});
    s.buf()[3] = std::byte{42};
    return 0;
  });
  EXPECT_EQ(join_child(pid), 0);
  std::this_thread::sleep_for(50ms);  // give a (wrong) tracker removal the time to happen
  ASSERT_TRUE(shm_exists(name));
  SharedMemory s({.name = name});
  EXPECT_EQ(s.buf()[3], std::byte{42});
  s.unlink();
}

// A forked child's copy of the parent's handle does not remove the parent's segment at its exit.
TEST_F(ShmTest, ForkedCopyDoesNotUnlinkTheParentsSegment) {
  SharedMemory a({.create = true, .size = 64});
  const int pid = fork_child([&] {
    a.buf()[0] = std::byte{1};
    return 0;
  });
  EXPECT_EQ(join_child(pid), 0);
  std::this_thread::sleep_for(50ms);
  EXPECT_TRUE(shm_exists(a.name()));
  EXPECT_EQ(a.buf()[0], std::byte{1});
  a.unlink();
}

// Python's ShareableList: items of every kind read back with their types; assignment; negative
// indexes; IndexError; len; count and index with 1 == 1.0 == True.
TEST_F(ShmTest, ShareableListItemsAndAssignment) {
  ShareableList sl(
      {std::int64_t{-5}, 2.5, true, std::string("howdy"), sm::Bytes{std::string("b\0x", 3)}, nullptr, std::int64_t{1}});
  ASSERT_EQ(sl.size(), 7u);
  EXPECT_EQ(std::get<std::int64_t>(sl.get(0)), -5);
  EXPECT_EQ(std::get<double>(sl.get(1)), 2.5);
  EXPECT_EQ(std::get<bool>(sl.get(2)), true);
  EXPECT_EQ(std::get<std::string>(sl.get(3)), "howdy");
  EXPECT_EQ(std::get<sm::Bytes>(sl.get(4)).data, std::string("b\0x", 3));
  EXPECT_TRUE(std::holds_alternative<std::nullptr_t>(sl.get(5)));
  EXPECT_EQ(std::get<std::int64_t>(sl.get(-1)), 1);
  sl[0] = std::int64_t{99};
  sl[3] = std::string("hi");
  sl[5] = 3.25;  // a None slot holds any 8-byte item
  EXPECT_EQ(std::get<std::int64_t>(sl.get(0)), 99);
  EXPECT_EQ(std::get<std::string>(sl.get(3)), "hi");
  EXPECT_EQ(std::get<double>(sl.get(5)), 3.25);
  EXPECT_THROW(sl.get(7), trident::IndexError);
  EXPECT_THROW(sl.set(-8, nullptr), trident::IndexError);
  EXPECT_EQ(sl.count(std::int64_t{1}), 2u);  // True and 1
  EXPECT_EQ(sl.index(true), 2u);
  EXPECT_EQ(sl.index(std::string("hi")), 3u);
  EXPECT_THROW(sl.index(std::string("absent")), trident::ValueError);
  sl.shm().unlink();
}

// Python: a str slot keeps the storage of its first value rounded up to 8 bytes; a longer one is
// ValueError "exceeds available storage".
TEST_F(ShmTest, ShareableListStrLongerThanItsSlotIsValueError) {
  ShareableList sl({std::string("abc")});
  sl[0] = std::string("12345678");  // fits the 8 bytes reserved
  EXPECT_THROW(sl.set(0, std::string("123456789")), trident::ValueError);
  EXPECT_EQ(std::get<std::string>(sl.get(0)), "12345678");
  sl.shm().unlink();
}

// Python: ShareableList(name=...) in another process attaches to the same list; its assignments
// are seen by the creator.
TEST_F(ShmTest, ShareableListAttachedByNameInAChild) {
  ShareableList sl({std::int64_t{1}, std::string("xxxxxxxx")}, {.name = unique_name("list")});
  const std::string name = sl.shm().name();
  const int pid = fork_child([&] {
    ShareableList other(nullptr, {.name = name});
    CHILD_CHECK(other.size() == 2);
    CHILD_CHECK(std::get<std::int64_t>(other.get(0)) == 1);
    other[0] = std::int64_t{2};
    other[1] = std::string("child");
    return 0;
  });
  EXPECT_EQ(join_child(pid), 0);
  EXPECT_EQ(std::get<std::int64_t>(sl.get(0)), 2);
  EXPECT_EQ(std::get<std::string>(sl.get(1)), "child");
  sl.shm().unlink();
}

// Python: an empty ShareableList is allowed and attachable.
TEST_F(ShmTest, EmptyShareableList) {
  ShareableList sl(std::vector<ShareableList::Item>{});
  EXPECT_EQ(sl.size(), 0u);
  EXPECT_THROW(sl.get(0), trident::IndexError);
  ShareableList other(nullptr, {.name = sl.shm().name()});
  EXPECT_EQ(other.size(), 0u);
  sl.shm().unlink();
}

// Attaching a ShareableList to a segment that is not one is a clear ValueError, not garbage.
TEST_F(ShmTest, ShareableListOnForeignSegmentIsValueError) {
  SharedMemory s({.create = true, .size = 64});
  EXPECT_THROW(ShareableList(nullptr, {.name = s.name()}), trident::ValueError);
  s.unlink();
}

}  // namespace
