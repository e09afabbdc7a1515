// trident/multiprocessing/queues.hpp — Python's `multiprocessing.queues`: process-shared `Queue`,
// `SimpleQueue` and `JoinableQueue`.
//
// A queue is a byte ring in one shared-memory segment (docs/multiprocessing.md, "Queues", has the
// layout and the wake-up protocol). `put` serializes the item in the calling thread and copies it
// into the ring; `get` decodes it straight out of the ring. There is no feeder thread, so:
// - a serialization error is thrown by `put` itself (CPython loses it in its feeder thread);
// - `put` returns once the item is in shared memory (the ring or its spill), where every process
//   sees it at once;
// - `close()` marks this process's handle closed (put/get then throw ValueError "... is closed"),
//   `join_thread()` returns at once (everything this process put is already shared), and
//   `cancel_join_thread()` only records the wish (there is never unflushed data to lose).
//
// What deliberately differs from Python:
// - Queues are typed (`Queue<T>`); T is anything `trident::pickle` pickles (the item crosses as
//   `pickle::dumps(item)`, so a `serialize` that throws makes `put` throw and puts nothing). Every
//   item carries a fingerprint of its C++ type, so a handle of another type attached
//   to the same segment gets TypeError from `get` (and the item stays in the queue).
// - The ring holds a fixed number of bytes (`QueueOptions::buffer_size`). With `maxsize = 0`, `put`
//   never waits for room (as CPython's, whose feeder thread buffers without limit): when the ring
//   is full, items go on, in order, into spill segments (shared memory growing with what is
//   queued, freed as consumers drain it). With a maxsize, `put` blocks while the ring is full.
//   Items too big for a quarter of the ring travel in a segment of their own.
// - The handle is cheap and copyable; copies (and a fork()ed child's copy) share the queue.
//   `close()` applies to every copy in the calling process (they are one Python object). As a
//   Process argument, a forkserver/spawn child receives the handle as its segment name
//   (`segment_name()`) and attaches to the same queue (detail::Crossing below); the child's handle
//   starts open whatever this process's `close()` said, as a Python child's unpickled queue does.
// - Robust: a process killed while blocked in `get`/`put`, or while holding the consumers' or
//   producers' lock (mid-put), never hangs the others (the locks are trident's robust process
//   locks), and a half-written item is never seen (an item is published by one store once whole).
// - `JoinableQueue::join(timeout)` is an extra overload returning whether every task was done.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <typeinfo>
#include <vector>

#include "trident/detail/mp_crossing.hpp"
#include "trident/detail/shm_segment.hpp"
#include "trident/errors.hpp"
#include "trident/multiprocessing/synchronize.hpp"
#include "trident/pickle.hpp"
#include "trident/timeout.hpp"

namespace trident::multiprocessing {

/// `Queue`'s keyword arguments (Python's `maxsize`, plus the ring's size).
struct QueueOptions {
  /// Python's `maxsize`: at most this many items in the queue; 0 (or less) = no item limit.
  long maxsize = 0;
  /// Bytes of the shared ring (rounded up to a power of two, 4 KiB to 2 GiB). Items up to a
  /// quarter of it travel in the ring; larger ones in a segment of their own.
  std::size_t buffer_size = std::size_t{1} << 18;
};

namespace detail {

// ---- serialization: trident::pickle ----
//
// The only place that turns an item into bytes and back. `put` needs only `.data()`/`.size()` of
// what encode returns.

// What the queue carries: anything trident::pickle can dump and load (arithmetic types, enums,
// std::string, standard containers, pair/tuple/optional/variant, user types with a cereal
// `serialize` or `save`/`load`), default-constructible as pickle::loads requires.
template <class T>
concept QueueItem = std::is_default_constructible_v<T> && std::move_constructible<T> &&
    cereal::traits::is_output_serializable<T, pickle::detail::OutputArchive>::value &&
    cereal::traits::is_input_serializable<T, pickle::detail::InputArchive>::value;

// The item's pickle frame. Throws what the type's `serialize` throws (then nothing is put).
template <QueueItem T>
pickle::bytes encode(const T& item) {
  return pickle::dumps(item);
}

// Rebuilds the `T` whose frame is `p[0..n)`. Throws pickle::UnpicklingError for a bad frame.
template <QueueItem T>
T decode(const std::byte* p, std::size_t n) {
  return pickle::loads<T>(std::string_view(reinterpret_cast<const char*>(p), n));
}

// The 64-bit FNV-1a hash of T's mangled name: what every item is tagged with (trident::pickle
// derives its frame fingerprint the same way). Computed once per handle, never on the hot path.
std::uint64_t type_fingerprint(const std::type_info& type) noexcept;
std::string demangled_name(const std::type_info& type);

// The shared part of every queue: the ring, its two robust locks, and the wake-up words.
// Implemented in src/multiprocessing/queues.cpp; one object per process shared by handle copies.
class QueueCore {
 public:
  // A record `get` is reading: the item's bytes, valid until finish_get/abandon_get.
  struct Claim {
    const std::byte* data = nullptr;
    std::size_t size = 0;
    std::uint64_t next = 0;                                 // the consumers' progress word once this record is removed
    std::shared_ptr<trident::detail::ShmSegment> overflow;  // a big item's own segment
    std::shared_ptr<trident::detail::ShmSegment> keep;      // the spill segment `data` points into
    std::uint64_t spill_next = 0;                           // the spill read offset once removed
  };

  // Creates a queue; `cls` ("Queue", "SimpleQueue", "JoinableQueue") names it in messages.
  QueueCore(QueueOptions options, const char* cls);
  // Attaches to the queue in segment `name`. Throws FileNotFoundError, or ValueError if the
  // segment is not a queue.
  QueueCore(const std::string& name, const char* cls);
  QueueCore(const QueueCore&) = delete;
  QueueCore& operator=(const QueueCore&) = delete;
  ~QueueCore();

  // Copies one item in (with fingerprint `fp`); throws queue::Full, ValueError (closed, bad
  // timeout). `count_task` adds one unfinished task (JoinableQueue) before publishing.
  void put(std::uint64_t fp, const char* data, std::size_t n, bool block, const Timeout& timeout, bool count_task);
  // Waits for an item and returns it with the consumers' lock held; throws queue::Empty,
  // ValueError, or TypeError (another type's item, left in the queue: the lock is released).
  Claim begin_get(std::uint64_t fp, bool block, const Timeout& timeout, const std::type_info& type);
  // Removes the claimed item and releases the consumers' lock.
  void finish_get(Claim& claim) noexcept;
  // Leaves the claimed item in the queue and releases the consumers' lock (decoding threw).
  void abandon_get(Claim& claim) noexcept;

  long qsize() const noexcept;
  bool empty() const noexcept;
  bool full() const noexcept;
  long maxsize() const noexcept;
  void close() noexcept { closed_ = true; }
  bool closed() const noexcept { return closed_; }
  void check_open(const char* method) const;
  void task_done();
  bool join(const Timeout& timeout);
  const std::string& name() const noexcept { return segment_->name(); }
  const char* cls() const noexcept { return cls_; }
  bool join_cancelled = false;  // cancel_join_thread() was called (nothing else reads it)

 private:
  struct Layout;
  void wake_consumer() noexcept;
  void wake_producer() noexcept;
  std::shared_ptr<trident::detail::ShmSegment> new_spill_segment(std::size_t min_size, char* name);
  std::shared_ptr<trident::detail::ShmSegment> spill_segment(std::shared_ptr<trident::detail::ShmSegment>& cache,
                                                             const char* name);
  bool spill_write(std::uint64_t fp, const char* data, std::size_t n);
  std::shared_ptr<trident::detail::ShmSegment> open_spill_w();
  std::uint64_t leave_spill_segment(const std::shared_ptr<trident::detail::ShmSegment>& seg, bool to_next,
                                    std::uint64_t progress) noexcept;
  std::shared_ptr<trident::detail::ShmSegment> segment_;
  Layout* l_;
  std::byte* ring_;
  const char* cls_;
  bool closed_ = false;
  // This process's mappings of the spill segments being written (put lock) and read (get lock).
  std::shared_ptr<trident::detail::ShmSegment> spill_w_seg_;
  std::shared_ptr<trident::detail::ShmSegment> spill_r_seg_;
};

}  // namespace detail

/// Python's `multiprocessing.Queue(maxsize=0)`: a FIFO queue between processes (and threads).
template <detail::QueueItem T>
class Queue {
 public:
  /// A new, empty queue holding at most `maxsize` items (0 = no limit: a full ring spills; with a
  /// limit, the ring's bytes also bound it, see the header comment).
  explicit Queue(long maxsize = 0) : Queue(QueueOptions{.maxsize = maxsize}) {}
  explicit Queue(QueueOptions options) : Queue(options, "Queue") {}
  /// The queue living in segment `segment_name` (how a forkserver/spawn child rebuilds a handle).
  /// Throws FileNotFoundError, or ValueError if the segment is not a queue.
  static Queue attach(const std::string& segment_name) { return Queue(segment_name, "Queue"); }

  /// Python's `put(obj, block=True, timeout=None)`: appends `item`. With a maxsize, blocks while
  /// the queue is full (maxsize items, or no room in the ring) until `timeout` passes (`block =
  /// false` tries once); without one, never waits for room (a full ring spills to shared memory).
  /// Throws queue::Full, ValueError "Queue::put(): the queue is closed" after close(), ValueError
  /// for a negative timeout, and whatever serializing the item throws (nothing is put then).
  void put(const T& item, bool block = true, Timeout timeout = std::nullopt) {
    const auto bytes = detail::encode(item);
    core_->put(fp_, bytes.data(), bytes.size(), block, timeout, joinable_);
  }
  /// `put(item, timeout)`: Python's `put(obj, timeout=t)`.
  void put(const T& item, Timeout timeout) { put(item, true, timeout); }
  /// Python's `put_nowait(obj)`: `put(item, false)`.
  void put_nowait(const T& item) { put(item, false); }

  /// Python's `get(block=True, timeout=None)`: removes and returns the oldest item. Blocks while
  /// empty until `timeout`; `block = false` tries once. Throws queue::Empty, ValueError after
  /// close() or for a negative timeout, TypeError if the item was put as another type (it stays).
  T get(bool block = true, Timeout timeout = std::nullopt) {
    auto claim = core_->begin_get(fp_, block, timeout, typeid(T));
    try {
      T out = detail::decode<T>(claim.data, claim.size);
      core_->finish_get(claim);
      return out;
    } catch (...) {
      core_->abandon_get(claim);
      throw;
    }
  }
  /// `get(timeout)`: Python's `get(timeout=t)`.
  T get(Timeout timeout) { return get(true, timeout); }
  /// Python's `get_nowait()`: `get(false)`.
  T get_nowait() { return get(false); }

  /// Python's `qsize()`: items in the queue now (a snapshot).
  long qsize() const noexcept { return core_->qsize(); }
  /// Python's `empty()` and `full()` (snapshots; `full()` is about maxsize items).
  bool empty() const noexcept { return core_->empty(); }
  bool full() const noexcept { return core_->full(); }
  /// Python's `maxsize` (0 = no item limit).
  long maxsize() const noexcept { return core_->maxsize(); }

  /// Python's `close()`: this process will put (and get) no more through this queue; put/get then
  /// throw ValueError. Other processes are not affected. Idempotent.
  void close() noexcept { core_->close(); }
  /// Python's `join_thread()`: returns once everything this process put is shared — at once,
  /// since put copies into shared memory itself. Throws ValueError if close() was not called (CPython
  /// asserts it).
  void join_thread() const {
    if (!core_->closed()) throw ValueError(std::string(core_->cls()) + "::join_thread(): the queue is not closed");
  }
  /// Python's `cancel_join_thread()`: in CPython it lets a process exit without flushing buffered
  /// items; here no item is ever buffered in the process, so nothing can be lost by it.
  void cancel_join_thread() noexcept { core_->join_cancelled = true; }

  /// The shared-memory segment holding the queue: what crosses to a forkserver/spawn child.
  const std::string& segment_name() const noexcept { return core_->name(); }

 protected:
  Queue(QueueOptions options, const char* cls)
      : core_(std::make_shared<detail::QueueCore>(options, cls)), fp_(detail::type_fingerprint(typeid(T))) {}
  Queue(const std::string& name, const char* cls)
      : core_(std::make_shared<detail::QueueCore>(name, cls)), fp_(detail::type_fingerprint(typeid(T))) {}

  std::shared_ptr<detail::QueueCore> core_;
  std::uint64_t fp_;
  bool joinable_ = false;
};

/// Python's `multiprocessing.JoinableQueue(maxsize=0)`: a Queue whose consumers report each item
/// done with `task_done()`, so that `join()` can wait for all of them.
template <detail::QueueItem T>
class JoinableQueue : public Queue<T> {
 public:
  explicit JoinableQueue(long maxsize = 0) : JoinableQueue(QueueOptions{.maxsize = maxsize}) {}
  explicit JoinableQueue(QueueOptions options) : Queue<T>(options, "JoinableQueue") { this->joinable_ = true; }
  /// See Queue::attach; `put` through the handle counts tasks.
  static JoinableQueue attach(const std::string& segment_name) { return JoinableQueue(segment_name); }

  /// Python's `task_done()`: one item got earlier is done. Throws ValueError "JoinableQueue::
  /// task_done(): called too many times" when more are reported done than were put.
  void task_done() { this->core_->task_done(); }
  /// Python's `join()`: blocks until every item put has been reported done.
  void join() { this->core_->join(std::nullopt); }
  /// Waits at most `timeout`; true if every item was done. ValueError for a negative timeout.
  bool join(Timeout timeout) { return this->core_->join(timeout); }

 private:
  explicit JoinableQueue(const std::string& name) : Queue<T>(name, "JoinableQueue") { this->joinable_ = true; }
};

/// Python's `multiprocessing.SimpleQueue`: get, put, empty, close — no size limit, no timeouts.
template <detail::QueueItem T>
class SimpleQueue {
 public:
  SimpleQueue() : q_(QueueOptions{}, "SimpleQueue") {}
  /// See Queue::attach.
  static SimpleQueue attach(const std::string& segment_name) { return SimpleQueue(segment_name); }
  /// Python's `put(obj)`: never waits for room (see Queue::put). ValueError after close().
  void put(const T& item) { q_.put(item); }
  /// Python's `get()`: blocks until an item arrives. ValueError after close().
  T get() { return q_.get(); }
  /// Python's `empty()`.
  bool empty() const noexcept { return q_.empty(); }
  /// Python's `close()`.
  void close() noexcept { q_.close(); }
  const std::string& segment_name() const noexcept { return q_.segment_name(); }

 private:
  struct Inner : Queue<T> {
    Inner(QueueOptions o, const char* cls) : Queue<T>(o, cls) {}
    Inner(const std::string& name, const char* cls) : Queue<T>(name, cls) {}
  };
  explicit SimpleQueue(const std::string& name) : q_(name, "SimpleQueue") {}
  Inner q_;
};

}  // namespace trident::multiprocessing

// A queue argument crosses to a forkserver or spawn child as its segment's name; the child attaches
// to the same queue (trident/detail/mp_crossing.hpp).
namespace trident::multiprocessing::detail {
template <class Q>
struct QueueCrossing {
  static SegmentRef save(const Q& q) { return {.parts = {{q.segment_name(), 0}}}; }
  static Q load(const SegmentRef& r, const char* type) {
    check_parts(r, 1, type);
    return Q::attach(r.parts[0].name);
  }
};
template <class T>
struct Crossing<Queue<T>> {
  static SegmentRef save(const Queue<T>& q) { return QueueCrossing<Queue<T>>::save(q); }
  static Queue<T> load(const SegmentRef& r) { return QueueCrossing<Queue<T>>::load(r, "Queue"); }
};
template <class T>
struct Crossing<JoinableQueue<T>> {
  static SegmentRef save(const JoinableQueue<T>& q) { return QueueCrossing<JoinableQueue<T>>::save(q); }
  static JoinableQueue<T> load(const SegmentRef& r) {
    return QueueCrossing<JoinableQueue<T>>::load(r, "JoinableQueue");
  }
};
template <class T>
struct Crossing<SimpleQueue<T>> {
  static SegmentRef save(const SimpleQueue<T>& q) { return QueueCrossing<SimpleQueue<T>>::save(q); }
  static SimpleQueue<T> load(const SegmentRef& r) { return QueueCrossing<SimpleQueue<T>>::load(r, "SimpleQueue"); }
};
}  // namespace trident::multiprocessing::detail
