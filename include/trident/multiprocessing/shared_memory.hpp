// trident/multiprocessing/shared_memory.hpp — Python's `multiprocessing.shared_memory`.
//
// `SharedMemory` is a named POSIX shared-memory segment (/dev/shm/<name>) mapped into this process;
// `ShareableList` is Python's fixed-length list of None/int/float/bool/str/bytes items kept in one.
//
// What deliberately differs from Python:
// - A `SharedMemory` is a cheap copyable handle: copies (and a fork()ed child's copy) share one
//   mapping, so `close()` closes it for every copy in this process.
// - Tracking (Python's resource_tracker): a segment created with `.track = true` (the default) is
//   removed from /dev/shm once the process that created it has exited — normally or killed —
//   unless it was `unlink()`ed first. Python removes it only when the whole program ends (and warns);
//   here a name outlives its creator only with `.track = false` ("handed on": then the program
//   unlinks it). A helper process (the segment tracker) does the removal, so SIGKILL leaks nothing.
// - `ShareableList` items are a `std::variant` (`ShareableList::Item`); ints are 64-bit.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <variant>
#include <vector>

#include "trident/detail/mp_crossing.hpp"
#include "trident/detail/shm_segment.hpp"
#include "trident/errors.hpp"

namespace trident::multiprocessing::shared_memory {

/// Python's `SharedMemory(name=None, create=False, size=0, *, track=True)` keyword arguments.
struct SharedMemoryOptions {
  /// The segment's name, without a leading slash. Empty with `create = true`: a new random name
  /// ("psm_" and 8 hex digits, as CPython).
  std::string name{};
  /// Create a new segment (FileExistsError if the name is taken) rather than attach to one
  /// (FileNotFoundError if there is none).
  bool create = false;
  /// Bytes to create; must be positive when creating, ignored when attaching (the size is the
  /// existing segment's).
  std::size_t size = 0;
  /// Remove the segment once its creating process has exited, unless unlink() was called first.
  /// False hands the name on: it stays in /dev/shm until someone unlinks it.
  bool track = true;
};

/// Python's `multiprocessing.shared_memory.SharedMemory`.
class SharedMemory {
 public:
  /// Creates or attaches as `options` say. Throws ValueError (no name to attach to; zero size to
  /// create; a name with '/'), FileExistsError, FileNotFoundError or another OSError.
  explicit SharedMemory(SharedMemoryOptions options);

  /// Python's `buf`: the whole mapping; empty after close().
  std::span<std::byte> buf() const noexcept;
  /// Python's `name` (no leading slash).
  const std::string& name() const noexcept { return segment_->name(); }
  /// Python's `size`: bytes mapped.
  std::size_t size() const noexcept { return segment_->size(); }
  /// Python's `close()`: unmaps (for every copy of this handle in this process). Idempotent.
  void close() noexcept { segment_->close(); }
  /// Python's `unlink()`: removes the name; processes that mapped it keep their mappings. Call it
  /// once, from any process. Throws FileNotFoundError if the name is already gone.
  void unlink() { segment_->unlink("SharedMemory::unlink()"); }

 private:
  std::shared_ptr<trident::detail::ShmSegment> segment_;
};

/// Python's `bytes` in a ShareableList.
struct Bytes {
  std::string data;
  bool operator==(const Bytes&) const = default;
};

/// Python's `ShareableList(name=...)` keyword argument.
struct ShareableListOptions {
  /// The name of the segment: to create (empty = random), or to attach to.
  std::string name{};
};

/// Python's `multiprocessing.shared_memory.ShareableList`: a fixed number of items, each None, int
/// (64-bit), float, bool, str or bytes, in one SharedMemory segment that other processes attach to
/// by name. An item may be replaced by one of any of these types that fits its slot: 8 bytes for a
/// number, bool or None, and for a str/bytes its first length rounded up to 8 (Python's rule and
/// its ValueError "exceeds available storage"). No lock: as in Python, concurrent writers to one
/// item need one of their own (synchronize.hpp).
///
/// Layout (docs/multiprocessing.md): a header (magic, count), one 24-byte slot per item
/// (type, length, capacity, offset), then the items' bytes.
class ShareableList {
 public:
  using Item = std::variant<std::nullptr_t, std::int64_t, double, bool, std::string, Bytes>;

  /// Python's `ShareableList(sequence, name=...)`: creates a segment holding `sequence`. Throws
  /// FileExistsError if the name is taken.
  explicit ShareableList(const std::vector<Item>& sequence, ShareableListOptions options = {});
  /// Python's `ShareableList(None, name=...)`: attaches to an existing list by name
  /// (`ShareableList(nullptr, {.name = "x"})`). Throws FileNotFoundError, or ValueError if the
  /// segment does not hold a ShareableList.
  ShareableList(std::nullptr_t sequence, ShareableListOptions options);

  /// A reference to one item: reads convert to Item, `=` assigns (`sl[0] = 42`).
  class Reference {
   public:
    operator Item() const { return list_->get(index_); }
    Reference& operator=(const Item& v) {
      list_->set(index_, v);
      return *this;
    }
    bool operator==(const Item& v) const { return list_->get(index_) == v; }

   private:
    friend class ShareableList;
    Reference(ShareableList* list, long index) : list_(list), index_(index) {}
    ShareableList* list_;
    long index_;
  };

  /// Python's `sl[i]` (negative counts from the end). Throws IndexError when out of range.
  Reference operator[](long index) { return Reference(this, index); }
  Item operator[](long index) const { return get(index); }
  /// The item at `index`; IndexError when out of range.
  Item get(long index) const;
  /// Python's `sl[i] = value`. Throws IndexError, or ValueError when a str/bytes is longer than
  /// the slot.
  void set(long index, const Item& value);
  /// Python's `len(sl)`.
  std::size_t size() const noexcept { return count_; }
  /// Python's `count(value)`: items equal to `value` (numbers compare by value, as 1 == 1.0 == True).
  std::size_t count(const Item& value) const;
  /// Python's `index(value)`: the first equal item's position; ValueError if there is none.
  std::size_t index(const Item& value) const;
  /// Python's `shm`: the segment holding the list.
  SharedMemory& shm() noexcept { return shm_; }
  const SharedMemory& shm() const noexcept { return shm_; }
  /// Python's `==` between items: numbers by value across int/float/bool, else same type and value.
  static bool items_equal(const Item& a, const Item& b) noexcept;

 private:
  struct Slot;
  Slot* slot(long index, const char* api) const;
  SharedMemory shm_;
  std::size_t count_ = 0;
};

}  // namespace trident::multiprocessing::shared_memory

// A SharedMemory or ShareableList argument crosses to a forkserver or spawn child as its name; the
// child attaches to it (trident/detail/mp_crossing.hpp).
namespace trident::multiprocessing::detail {
template <>
struct Crossing<shared_memory::SharedMemory> {
  static SegmentRef save(const shared_memory::SharedMemory& m) { return {.parts = {{m.name(), 0}}}; }
  static shared_memory::SharedMemory load(const SegmentRef& r) {
    check_parts(r, 1, "SharedMemory");
    return shared_memory::SharedMemory({.name = r.parts[0].name});
  }
};
template <>
struct Crossing<shared_memory::ShareableList> {
  static SegmentRef save(const shared_memory::ShareableList& l) { return {.parts = {{l.shm().name(), 0}}}; }
  static shared_memory::ShareableList load(const SegmentRef& r) {
    check_parts(r, 1, "ShareableList");
    return shared_memory::ShareableList(nullptr, {.name = r.parts[0].name});
  }
};
}  // namespace trident::multiprocessing::detail
