// trident/queue.hpp — Python's `queue` module: synchronized queues between threads.
//
// Mirrors `queue.Queue`, `queue.LifoQueue`, `queue.PriorityQueue` and `queue.SimpleQueue`, with
// Python 3.13's `shutdown(immediate)`, and the exceptions `queue::Empty`, `queue::Full` and
// `queue::ShutDown` (in trident/errors.hpp). What deliberately differs from Python:
// - Queues are typed (`Queue<T>`) and hold values; items are moved in and out, so move-only
//   types (`std::unique_ptr`) work. `put` has a `const T&` and a `T&&` overload and only copies or
//   moves the item once a slot is secured: a `put` that throws (`Full`, `ShutDown`, ValueError)
//   leaves the caller's item untouched, even when it was passed with std::move.
// - `timeout` is a trident::Timeout (`std::nullopt` = Python's None). Besides `get(block, timeout)`
//   there is `get(timeout)`, so Python's `q.get(timeout=1.5)` reads `q.get(1.5s)`; likewise
//   `q.put(item, 1.5s)`. A bool argument is always `block` (`q.get(false)` is `q.get(block=False)`).
// - A negative timeout with `block=true` is always a ValueError (Python skips that check in
//   `put` on an unbounded queue); with `block=false` the timeout is ignored, as in Python.
// - `join(timeout)` is an extra overload returning whether every task was done in time (trident
//   gives every blocking call a timeout form; Python's `join()` has none).
// - `PriorityQueue<T, Compare>` takes a comparator: `get()` returns the smallest item per Compare
//   (Python's heapq order is `std::less`). Equal items come out in no particular order, as in Python.
// - `maxsize` is fixed at construction (Python lets you assign `q.maxsize`).
// - A `LifoQueue` is not a `Queue` (no common base with virtual calls): both are built on one
//   skeleton, detail::BasicQueue, with a different container policy.
// Items the queue still holds when it is destroyed are destroyed with it; `shutdown(true)`
// destroys the drained items after releasing the queue's lock.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <new>
#include <optional>
#include <type_traits>
#include <utility>
#include <vector>

#include "trident/detail/wait.hpp"
#include "trident/errors.hpp"
#include "trident/timeout.hpp"

namespace trident::queue {

namespace detail {

// The cold paths, out of line (src/queue/queue.cpp) so the hot paths stay small. `cls` is the
// queue's class name, `method` the Python method name; messages read "Queue::get(): ...".
[[noreturn]] void raise_empty(const char* cls, bool timed_out);
[[noreturn]] void raise_full(const char* cls, long maxsize, bool timed_out);
[[noreturn]] void raise_shut_down(const char* cls, const char* method);
[[noreturn]] void raise_task_done_too_many(const char* cls);
[[noreturn]] void raise_bad_timeout(const char* cls, const char* method, const Timeout& timeout);

// ValueError for a negative (or NaN) timeout, as Python's queue module checks it.
inline void check_timeout(const char* cls, const char* method, const Timeout& timeout) {
  if (timeout && !(timeout->count() >= 0)) raise_bad_timeout(cls, method, timeout);
}

// A growable ring buffer: the FIFO container. Unlike std::deque it never allocates in a steady
// state (a deque frees and allocates a block every few hundred items); capacity is a power of two
// that only grows, so it stays at the queue's high-water mark.
template <class T>
class RingBuffer {
 public:
  RingBuffer() noexcept = default;
  RingBuffer(RingBuffer&& other) noexcept
      : data_(std::exchange(other.data_, nullptr)),
        capacity_(std::exchange(other.capacity_, 0)),
        head_(std::exchange(other.head_, 0)),
        size_(std::exchange(other.size_, 0)) {}
  RingBuffer& operator=(RingBuffer&& other) noexcept {
    if (this != &other) {
      release();
      data_ = std::exchange(other.data_, nullptr);
      capacity_ = std::exchange(other.capacity_, 0);
      head_ = std::exchange(other.head_, 0);
      size_ = std::exchange(other.size_, 0);
    }
    return *this;
  }
  RingBuffer(const RingBuffer&) = delete;
  RingBuffer& operator=(const RingBuffer&) = delete;
  ~RingBuffer() { release(); }

  std::size_t size() const noexcept { return size_; }
  bool empty() const noexcept { return size_ == 0; }

  /// Appends a T built from `value`; strong guarantee (a throwing copy or growth changes nothing).
  template <class U>
  void push_back(U&& value) {
    if (size_ == capacity_) grow();
    ::new (static_cast<void*>(slot(head_ + size_))) T(std::forward<U>(value));
    ++size_;
  }
  /// Removes and returns the first item; if moving it out throws, the buffer is unchanged.
  T pop_front() {
    T* p = slot(head_);
    T out(std::move(*p));
    p->~T();
    head_ = (head_ + 1) & (capacity_ - 1);
    --size_;
    return out;
  }

 private:
  static constexpr std::size_t kInitialCapacity = 16;

  T* slot(std::size_t i) const noexcept { return data_ + (i & (capacity_ - 1)); }

  void grow() {
    const std::size_t capacity = capacity_ == 0 ? kInitialCapacity : capacity_ * 2;
    T* data = std::allocator<T>().allocate(capacity);
    std::size_t moved = 0;
    try {
      // move_if_noexcept: a type whose move may throw is copied, so a failure leaves us intact.
      for (; moved < size_; ++moved)
        ::new (static_cast<void*>(data + moved)) T(std::move_if_noexcept(*slot(head_ + moved)));
    } catch (...) {
      std::destroy_n(data, moved);
      std::allocator<T>().deallocate(data, capacity);
      throw;
    }
    release();
    data_ = data;
    capacity_ = capacity;
    size_ = moved;
  }

  void release() noexcept {
    for (; size_ > 0; --size_) {
      slot(head_)->~T();
      head_ = (head_ + 1) & (capacity_ - 1);
    }
    if (data_ != nullptr) std::allocator<T>().deallocate(data_, capacity_);
    data_ = nullptr;
    capacity_ = 0;
    head_ = 0;
  }

  T* data_ = nullptr;
  std::size_t capacity_ = 0;  // zero or a power of two
  std::size_t head_ = 0;      // index of the first item
  std::size_t size_ = 0;
};

// Container policies: how a queue stores its items and which one `get` takes. Each offers
// size(), push(U&&), pop() and take_all() (empties the store, returning what it held).

// FIFO (Python's Queue: a deque, append / popleft).
template <class T>
class FifoStore {
 public:
  using container_type = RingBuffer<T>;
  std::size_t size() const noexcept { return items_.size(); }
  template <class U>
  void push(U&& value) {
    items_.push_back(std::forward<U>(value));
  }
  T pop() { return items_.pop_front(); }
  container_type take_all() noexcept { return std::move(items_); }

 private:
  container_type items_;
};

// LIFO (Python's LifoQueue: a list, append / pop).
template <class T>
class LifoStore {
 public:
  using container_type = std::vector<T>;
  std::size_t size() const noexcept { return items_.size(); }
  template <class U>
  void push(U&& value) {
    items_.emplace_back(std::forward<U>(value));
  }
  T pop() {
    T out(std::move(items_.back()));
    items_.pop_back();
    return out;
  }
  container_type take_all() noexcept { return std::exchange(items_, container_type()); }

 private:
  container_type items_;
};

// Smallest first per Compare (Python's PriorityQueue: heapq.heappush / heappop on a list).
template <class T, class Compare>
class HeapStore {
 public:
  using container_type = std::vector<T>;
  HeapStore() = default;
  explicit HeapStore(Compare compare) : compare_(std::move(compare)) {}
  std::size_t size() const noexcept { return items_.size(); }
  template <class U>
  void push(U&& value) {
    items_.emplace_back(std::forward<U>(value));
    std::push_heap(items_.begin(), items_.end(), Greater{compare_});
  }
  T pop() {
    std::pop_heap(items_.begin(), items_.end(), Greater{compare_});
    T out(std::move(items_.back()));
    items_.pop_back();
    return out;
  }
  container_type take_all() noexcept { return std::exchange(items_, container_type()); }

 private:
  // std's heap algorithms keep the largest on top; reversing the comparison keeps the smallest.
  struct Greater {
    Compare& compare;
    bool operator()(const T& a, const T& b) const { return compare(b, a); }
  };
  container_type items_;
  [[no_unique_address]] Compare compare_;
};

// The one queue skeleton every public queue is made of: CPython's design (one mutex, three
// conditions: not_empty, not_full, all_tasks_done) on the waiting core. Fast paths: a put or a
// get that need not wait takes the mutex once and makes no system call; a waiter is notified only
// when one exists (checked exactly, under the mutex), and woken after the mutex is released; a put
// that finds a getter waiting on an empty queue hands the item over directly, so the getter
// returns without taking the mutex again. See docs/queue.md.
template <class T, class Store>
class BasicQueue {
 public:
  using value_type = T;

  template <class... StoreArgs>
  BasicQueue(const char* class_name, long maxsize, StoreArgs&&... store_args)
      : store_(std::forward<StoreArgs>(store_args)...), maxsize_(maxsize), class_name_(class_name) {}
  BasicQueue(const BasicQueue&) = delete;
  BasicQueue& operator=(const BasicQueue&) = delete;

  /// `qsize()` is the number of items queued (approximate as soon as it returns, as in Python).
  std::size_t qsize() const {
    Guard g(mutex_);
    return store_.size();
  }
  /// `empty()` is `qsize() == 0` (approximate, as in Python).
  bool empty() const { return qsize() == 0; }
  /// `full()` is true when the queue is bounded and holds `maxsize` items (approximate).
  bool full() const {
    Guard g(mutex_);
    return is_full();
  }
  /// The bound given at construction; zero or negative means unbounded.
  long maxsize() const noexcept { return maxsize_; }

  /// `put(item, block, timeout)` adds a copy of `item`. With `block` (the default) it waits for a
  /// free slot: forever when `timeout` is nullopt, else at most `timeout`, then throws Full; a
  /// zero timeout tries once. Without `block` it throws Full at once if the queue is full (the
  /// timeout is ignored). Throws ShutDown after shutdown() (also when it happens during the
  /// wait) and ValueError for a negative timeout. On any exception `item` is not copied.
  void put(const T& item, bool block = true, Timeout timeout = std::nullopt) { put_impl(item, block, timeout); }
  /// `put(std::move(item), ...)` moves `item` in, only once a slot is secured: when the call
  /// throws, `item` is left untouched (not moved from).
  void put(T&& item, bool block = true, Timeout timeout = std::nullopt) { put_impl(std::move(item), block, timeout); }
  /// `put(item, timeout)` is Python's `put(item, timeout=...)`: blocking, at most `timeout`.
  void put(const T& item, Timeout timeout) { put_impl(item, true, timeout); }
  void put(T&& item, Timeout timeout) { put_impl(std::move(item), true, timeout); }
  /// `put_nowait(item)` is `put(item, false)`: throws Full when no slot is free right now.
  void put_nowait(const T& item) { put_impl(item, false, std::nullopt); }
  void put_nowait(T&& item) { put_impl(std::move(item), false, std::nullopt); }

  /// `get(block, timeout)` removes and returns the next item. With `block` (the default) it waits
  /// for one: forever when `timeout` is nullopt, else at most `timeout`, then throws Empty; a
  /// zero timeout tries once. Without `block` it throws Empty at once when there is no item.
  /// After shutdown() it still returns queued items, and throws ShutDown once the queue is
  /// empty (at once after shutdown(true), which empties it). ValueError for a negative timeout.
  T get(bool block = true, Timeout timeout = std::nullopt);
  /// `get(timeout)` is Python's `get(timeout=...)`: blocking, at most `timeout`.
  T get(Timeout timeout) { return get(true, timeout); }
  /// `get_nowait()` is `get(false)`: throws Empty when there is no item right now.
  T get_nowait() { return get(false); }

  /// `task_done()` tells the queue that the processing of an item fetched by get() is complete;
  /// when every item put has been so acknowledged, join() returns. Throws ValueError
  /// "task_done() called too many times" when more calls were made than items were put.
  void task_done();
  /// `join()` blocks until every item put has been fetched and task_done() was called for it
  /// (shutdown(true) counts the items it drains as done, so it unblocks join() when no fetched
  /// item is still being processed).
  void join() { join(std::nullopt); }
  /// `join(timeout)` (not in Python) waits at most `timeout`; true if every task is done.
  /// ValueError for a negative timeout.
  bool join(Timeout timeout);

  /// `shutdown(immediate)` (Python 3.13) shuts the queue down: later put()s throw ShutDown, get()s
  /// throw ShutDown once the queue is empty, and every blocked put()/get() wakes (blocked put()s
  /// throw ShutDown). With `immediate`, the queue is emptied at once, the unfinished-task count is
  /// reduced by the number of items drained, and join()ers wake if it reached zero. Can be called
  /// again (e.g. with `immediate` after a plain shutdown).
  void shutdown(bool immediate = false);
  /// Python's `is_shutdown` attribute: whether shutdown() was called.
  bool is_shutdown() const {
    Guard g(mutex_);
    return shutdown_;
  }
  /// Python's `unfinished_tasks` attribute: items put and not yet acknowledged by task_done().
  std::size_t unfinished_tasks() const {
    Guard g(mutex_);
    return unfinished_;
  }

 private:
  using Mutex = trident::detail::Mutex;
  using WaitList = trident::detail::WaitList;
  using Deadline = trident::detail::Deadline;

  // Holds the queue's mutex for a scope; unlock() releases it early.
  class Guard {
   public:
    explicit Guard(Mutex& m) noexcept : mutex_(&m) { m.lock(); }
    Guard(const Guard&) = delete;
    Guard& operator=(const Guard&) = delete;
    ~Guard() {
      if (mutex_ != nullptr) mutex_->unlock();
    }
    void unlock() noexcept {
      mutex_->unlock();
      mutex_ = nullptr;
    }
    bool owns_lock() const noexcept { return mutex_ != nullptr; }
    void relock(Mutex& m) noexcept {
      m.lock();
      mutex_ = &m;
    }

   private:
    Mutex* mutex_;
  };

  bool is_full() const noexcept { return maxsize_ > 0 && store_.size() >= static_cast<std::size_t>(maxsize_); }

  template <class U>
  void put_impl(U&& item, bool block, const Timeout& timeout);
  // Called with mutex_ held when the put cannot proceed at once: waits for a slot; throws
  // ShutDown, Full. Returns with mutex_ held and a free slot.
  void wait_for_slot(bool block, const Timeout& timeout);
  // Called with mutex_ held (by `g`) and the store empty: waits for an item; throws ShutDown,
  // Empty. Returns true with the item in `handed` and mutex_ released when a putter handed it
  // over directly; false with mutex_ held and an item in the store otherwise.
  bool wait_for_item(Guard& g, bool block, const Timeout& timeout, std::optional<T>& handed);
  // With mutex_ held and the store empty: gives `item` straight to the first waiting getter, if
  // any, and returns how to wake it (no parker when there was none; the item is then untouched).
  template <class U>
  WaitList::Wake hand_over(U&& item);
  // Waits on `list` with mutex_ held; releases it while parked. True if notified.
  bool wait_on(WaitList& list, const Deadline& deadline) {
    trident::detail::Waiter w;
    list.enqueue(w);
    mutex_.unlock();
    const bool notified = list.wait(w, deadline);
    mutex_.lock();
    return notified;
  }
  // With mutex_ held: dequeues the first waiter of `list`, if any, and returns how to wake it.
  // The wake itself happens after mutex_ is released and touches only the waiter and its parker,
  // never the queue, so a queue destroyed right after the last get() is never touched again.
  static WaitList::Wake take_first_waiter(WaitList& list) noexcept {
    WaitList::Wake wk;
    // Exact under mutex_: every waiter enqueues itself while holding it.
    if (!list.has_waiters()) return wk;
    list.lock();
    if (trident::detail::Waiter* w = list.front_locked()) wk = list.notify_locked(*w);
    list.unlock();
    return wk;
  }

  // Layout: a put and a get both write the store and the mutex word, so those share the first
  // cache line (one transfer between producer and consumer per operation, not two);
  // unfinished_ is written by put alone, and the wait lists, which both sides only read while
  // nobody waits, start a line of their own, so reading them never misses (measured +10 % on
  // queue_throughput_ops, docs/core.md).
  alignas(64) Store store_;  // guarded by mutex_
  mutable Mutex mutex_;
  std::size_t unfinished_ = 0;  // guarded by mutex_: Python's unfinished_tasks
  bool shutdown_ = false;       // guarded by mutex_: Python's is_shutdown
  const long maxsize_;
  const char* const class_name_;    // for messages: "Queue", "LifoQueue", ...
  alignas(64) WaitList not_empty_;  // getters waiting for an item; enqueued under mutex_
  WaitList not_full_;               // putters waiting for a slot; enqueued under mutex_
  WaitList all_tasks_done_;         // join()ers; enqueued under mutex_
};

template <class T, class Store>
template <class U>
void BasicQueue<T, Store>::put_impl(U&& item, bool block, const Timeout& timeout) {
  if (block) check_timeout(class_name_, "put", timeout);
  Guard g(mutex_);
  if (shutdown_ || is_full()) wait_for_slot(block, timeout);
  // A getter already waits on an empty queue: give it the item directly, so it returns without
  // taking the mutex again. Only for items whose move cannot throw: the getter moves the item
  // out of its hand-over slot, and a throwing move there would lose it.
  if constexpr (std::is_nothrow_move_constructible_v<T>) {
    if (store_.size() == 0 && not_empty_.has_waiters()) {
      const WaitList::Wake handed = hand_over(std::forward<U>(item));
      if (handed.parker != nullptr) {
        ++unfinished_;
        g.unlock();
        WaitList::wake(handed);
        return;
      }
    }
  }
  try {
    store_.push(std::forward<U>(item));
  } catch (...) {
    // The slot we may have been woken for is still free: pass the wake-up on to another putter.
    const WaitList::Wake wk = take_first_waiter(not_full_);
    g.unlock();
    WaitList::wake(wk);
    throw;
  }
  ++unfinished_;
  const WaitList::Wake wk = take_first_waiter(not_empty_);
  g.unlock();
  WaitList::wake(wk);
}

template <class T, class Store>
void BasicQueue<T, Store>::wait_for_slot(bool block, const Timeout& timeout) {
  std::optional<Deadline> deadline;  // computed only if we wait: the clock read costs
  for (;;) {
    if (shutdown_) raise_shut_down(class_name_, "put");
    if (!is_full()) return;
    if (!block) raise_full(class_name_, maxsize_, false);
    if (!deadline) deadline = Deadline::after(timeout, class_name_);
    if (deadline->expired()) raise_full(class_name_, maxsize_, true);
    wait_on(not_full_, *deadline);
  }
}

template <class T, class Store>
T BasicQueue<T, Store>::get(bool block, Timeout timeout) {
  if (block) check_timeout(class_name_, "get", timeout);
  Guard g(mutex_);
  if (store_.size() == 0) {
    std::optional<T> handed;
    if (wait_for_item(g, block, timeout, handed)) return std::move(*handed);
  }
  try {
    T item = store_.pop();
    const WaitList::Wake wk = take_first_waiter(not_full_);
    g.unlock();
    WaitList::wake(wk);
    return item;
  } catch (...) {
    // Moving the item out threw, so it is still queued: pass on the wake-up we may have consumed.
    if (g.owns_lock()) {
      const WaitList::Wake wk = take_first_waiter(not_empty_);
      g.unlock();
      WaitList::wake(wk);
    }
    throw;
  }
}

template <class T, class Store>
bool BasicQueue<T, Store>::wait_for_item(Guard& g, bool block, const Timeout& timeout, std::optional<T>& handed) {
  std::optional<Deadline> deadline;
  for (;;) {
    // A notified waiter always looks for an item first, even when its deadline has passed: a
    // notification it consumed is never dropped while an item is there for it.
    if (store_.size() != 0) return false;
    if (shutdown_) raise_shut_down(class_name_, "get");
    if (!block) raise_empty(class_name_, false);
    if (!deadline) deadline = Deadline::after(timeout, class_name_);
    if (deadline->expired()) raise_empty(class_name_, true);
    trident::detail::Waiter w;
    w.data = reinterpret_cast<std::uintptr_t>(&handed);  // where a putter may construct the item
    not_empty_.enqueue(w);
    g.unlock();
    not_empty_.wait(w, *deadline);
    // The putter built the item before marking us notified (under the list's lock), and the wait
    // returned after seeing that mark: the item is ours, and the queue need not be locked again.
    if (handed) return true;
    g.relock(mutex_);
  }
}

template <class T, class Store>
template <class U>
trident::detail::WaitList::Wake BasicQueue<T, Store>::hand_over(U&& item) {
  WaitList::Wake wk;
  not_empty_.lock();
  if (trident::detail::Waiter* w = not_empty_.front_locked()) {
    // Built under the list's lock, so the getter cannot time out and leave meanwhile. If building
    // throws, the getter stays queued and nothing was taken from `item`.
    try {
      reinterpret_cast<std::optional<T>*>(w->data)->emplace(std::forward<U>(item));
    } catch (...) {
      not_empty_.unlock();
      throw;
    }
    wk = not_empty_.notify_locked(*w);
  }
  not_empty_.unlock();
  return wk;
}

template <class T, class Store>
void BasicQueue<T, Store>::task_done() {
  Guard g(mutex_);
  if (unfinished_ == 0) raise_task_done_too_many(class_name_);
  if (--unfinished_ == 0 && all_tasks_done_.has_waiters()) all_tasks_done_.notify_all();
}

template <class T, class Store>
bool BasicQueue<T, Store>::join(Timeout timeout) {
  check_timeout(class_name_, "join", timeout);
  Guard g(mutex_);
  if (unfinished_ == 0) return true;
  const Deadline deadline = Deadline::after(timeout, class_name_);
  while (unfinished_ != 0) {
    if (deadline.expired()) return false;
    wait_on(all_tasks_done_, deadline);
  }
  return true;
}

template <class T, class Store>
void BasicQueue<T, Store>::shutdown(bool immediate) {
  // Drained items are destroyed after the mutex is released: an item's destructor may use the queue.
  typename Store::container_type drained;
  Guard g(mutex_);
  shutdown_ = true;
  if (immediate) {
    const std::size_t n = store_.size();
    drained = store_.take_all();
    unfinished_ -= std::min(n, unfinished_);
    if (unfinished_ == 0) all_tasks_done_.notify_all();
  }
  // Every blocked getter and putter re-checks and raises ShutDown (getters: once empty).
  not_empty_.notify_all();
  not_full_.notify_all();
}

}  // namespace detail

/// Python's `queue.Queue(maxsize=0)`: a FIFO queue; `maxsize <= 0` means unbounded. See
/// detail::BasicQueue for the methods: qsize, empty, full, maxsize, put, put_nowait, get,
/// get_nowait, task_done, join, shutdown, is_shutdown, unfinished_tasks.
template <class T>
class Queue : public detail::BasicQueue<T, detail::FifoStore<T>> {
 public:
  /// `Queue(maxsize)`: holds at most `maxsize` items when positive, else any number.
  explicit Queue(long maxsize = 0) : detail::BasicQueue<T, detail::FifoStore<T>>("Queue", maxsize) {}
};

/// Python's `queue.LifoQueue(maxsize=0)`: like Queue, but get() returns the most recent item.
template <class T>
class LifoQueue : public detail::BasicQueue<T, detail::LifoStore<T>> {
 public:
  /// `LifoQueue(maxsize)`: holds at most `maxsize` items when positive, else any number.
  explicit LifoQueue(long maxsize = 0) : detail::BasicQueue<T, detail::LifoStore<T>>("LifoQueue", maxsize) {}
};

/// Python's `queue.PriorityQueue(maxsize=0)`: like Queue, but get() returns the smallest item
/// per `Compare` (lowest first, Python's heapq order with std::less). Typical items are pairs
/// `(priority, data)`, as in Python.
template <class T, class Compare = std::less<T>>
class PriorityQueue : public detail::BasicQueue<T, detail::HeapStore<T, Compare>> {
 public:
  /// `PriorityQueue(maxsize, compare)`: `compare(a, b)` is true when `a` comes out before `b`.
  explicit PriorityQueue(long maxsize = 0, Compare compare = Compare())
      : detail::BasicQueue<T, detail::HeapStore<T, Compare>>("PriorityQueue", maxsize, std::move(compare)) {}
};

/// Python's `queue.SimpleQueue`: an unbounded FIFO queue without task tracking or shutdown.
template <class T>
class SimpleQueue {
 public:
  SimpleQueue() = default;
  SimpleQueue(const SimpleQueue&) = delete;
  SimpleQueue& operator=(const SimpleQueue&) = delete;

  /// `put(item, block, timeout)` adds a copy of `item`; never blocks (`block` and `timeout` are
  /// ignored, as in Python, which accepts them for compatibility with Queue).
  void put(const T& item, bool block = true, Timeout timeout = std::nullopt) {
    static_cast<void>(block);
    static_cast<void>(timeout);
    queue_.put(item, false);
  }
  /// `put(std::move(item))` moves `item` in.
  void put(T&& item, bool block = true, Timeout timeout = std::nullopt) {
    static_cast<void>(block);
    static_cast<void>(timeout);
    queue_.put(std::move(item), false);
  }
  /// `put_nowait(item)` is `put(item)`.
  void put_nowait(const T& item) { queue_.put(item, false); }
  void put_nowait(T&& item) { queue_.put(std::move(item), false); }
  /// `get(block, timeout)` removes and returns the first item, as Queue::get (Empty when none
  /// arrives in time or, without `block`, when there is none; ValueError for a negative timeout).
  T get(bool block = true, Timeout timeout = std::nullopt) { return queue_.get(block, timeout); }
  /// `get(timeout)` is Python's `get(timeout=...)`.
  T get(Timeout timeout) { return queue_.get(true, timeout); }
  /// `get_nowait()` is `get(false)`.
  T get_nowait() { return queue_.get(false); }
  /// `empty()` is `qsize() == 0` (approximate, as in Python).
  bool empty() const { return queue_.empty(); }
  /// `qsize()` is the number of items queued (approximate, as in Python).
  std::size_t qsize() const { return queue_.qsize(); }

 private:
  detail::BasicQueue<T, detail::FifoStore<T>> queue_{"SimpleQueue", 0};
};

}  // namespace trident::queue
