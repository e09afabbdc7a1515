// trident/multiprocessing/sharedctypes.hpp — Python's `multiprocessing.sharedctypes`: `Value`,
// `Array`, `RawValue`, `RawArray`.
//
// The data lives in a shared-memory segment, so a fork()ed child sees and changes the same value;
// the C++ object is a cheap copyable handle (copies share the data and the lock). `T` is any
// trivially copyable type (Python's ctypes typecodes become C++ types: `Value<int>` is
// `Value('i')`, `Array<double>` is `Array('d')`).
//
// What deliberately differs from Python:
// - `Value`'s and `Array`'s lock is always an RLock of their own (`{.lock = true}`, the default) or
//   none (`{.lock = false}`: get_lock() then throws RuntimeError); Python also accepts a lock object.
// - `value()`/`set_value()` and `Array::get`/`set` take the lock, as Python's synchronized
//   wrappers do; `operator[]`, `get_obj()` and iteration give the raw shared memory (a C++
//   reference cannot hold a lock), so hold `get_lock()` around them when others write.
// - `Array<T>(5)` has five zeroed elements and `Array<T>({5})` one element 5 (braces take the
//   initializer list, as with std::vector).
#pragma once

#include <cstddef>
#include <cstring>
#include <initializer_list>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <type_traits>

#include "trident/detail/mp_crossing.hpp"
#include "trident/detail/shm_segment.hpp"
#include "trident/errors.hpp"
#include "trident/multiprocessing/synchronize.hpp"

namespace trident::multiprocessing {

/// Python's `lock=` keyword of `Value` and `Array`.
struct ValueOptions {
  /// Give the object an RLock of its own (get_lock()); false makes it unsynchronized.
  bool lock = true;
};

namespace detail {

// Layout of a sharedctypes segment: the RLock's state at offset 0, then `n` T's.
template <class T>
inline constexpr std::size_t kDataOffset = (sizeof(LockState) + alignof(T) - 1) / alignof(T) * alignof(T);

template <class T>
class SharedData {
  static_assert(std::is_trivially_copyable_v<T>,
                "trident::multiprocessing::Value/Array/RawValue/RawArray<T>: T must be trivially copyable (its bytes "
                "are shared by processes, never constructed or destroyed there)");

 public:
  SharedData(std::size_t n, const T* init, bool with_lock)
      : segment_(trident::detail::ShmSegment::make_internal(kDataOffset<T> + (n == 0 ? 1 : n) * sizeof(T))),
        data_(reinterpret_cast<T*>(segment_->data() + kDataOffset<T>)),
        size_(n) {
    if (init != nullptr && n != 0) std::memcpy(static_cast<void*>(data_), init, n * sizeof(T));
    if (with_lock) lock_.emplace(segment_, 0);
  }
  // Over an existing segment of `n` T's (a forkserver/spawn child's handle).
  SharedData(std::shared_ptr<trident::detail::ShmSegment> segment, std::size_t n, bool with_lock)
      : segment_(std::move(segment)), data_(reinterpret_cast<T*>(segment_->data() + kDataOffset<T>)), size_(n) {
    if (segment_->size() < kDataOffset<T> + n * sizeof(T)) {
      throw ValueError("Process: a Value/Array argument's segment is smaller than its elements");
    }
    if (with_lock) lock_.emplace(segment_, 0);
  }
  SegmentRef save() const { return {.parts = {{segment_->name(), 0}}, .count = size_, .flags = lock_ ? 1u : 0u}; }
  static SharedData load(const SegmentRef& r, const char* type) {
    return SharedData(attach_part(r, 0, type), static_cast<std::size_t>(r.count), r.flags == 1);
  }
  // The lock is reached through const accessors (value() is const), as Python's get_lock() is.
  RLock& lock(const char* api) const {
    if (!lock_) throw RuntimeError(std::string(api) + ": created with lock = false, so there is no lock");
    return *lock_;
  }
  bool has_lock() const noexcept { return lock_.has_value(); }
  T* data() const noexcept { return data_; }
  std::size_t size() const noexcept { return size_; }
  // A caller already holding the lock (`with v.get_lock(): v.value += 1`) skips the recursive
  // acquire and release Python makes: same semantics, a third of the cost.
  T load(std::size_t i) const {
    if (!lock_ || lock_->is_owned()) return data_[i];
    std::lock_guard g(*lock_);
    return data_[i];
  }
  void store(std::size_t i, const T& v) {
    if (!lock_ || lock_->is_owned()) {
      data_[i] = v;
      return;
    }
    std::lock_guard g(*lock_);
    data_[i] = v;
  }
  std::size_t check_index(long i, const char* api) const {
    const long n = static_cast<long>(size_);
    const long j = i < 0 ? i + n : i;
    if (j < 0 || j >= n) throw IndexError(std::string(api) + ": index out of range");
    return static_cast<std::size_t>(j);
  }

 private:
  std::shared_ptr<trident::detail::ShmSegment> segment_;
  T* data_;
  std::size_t size_;
  mutable std::optional<RLock> lock_;
};

}  // namespace detail

/// Python's `multiprocessing.Value(typecode, value, lock=True)`: one T in shared memory with an
/// RLock. `with v.get_lock(): v.value += 1` is `std::lock_guard g(v.get_lock()); v.set_value(v.value() + 1);`.
template <class T>
class Value {
 public:
  explicit Value(const T& value = T{}, ValueOptions options = {}) : d_(1, &value, options.lock) {}
  /// Python's `v.value`: a copy, read under the lock (recursive, so fine while holding get_lock()).
  T value() const { return d_.load(0); }
  /// Python's `v.value = x`, under the lock.
  void set_value(const T& value) { d_.store(0, value); }
  /// Python's `get_lock()`: the RLock guarding the value. RuntimeError with `lock = false`.
  RLock& get_lock() const { return d_.lock("Value::get_lock()"); }
  /// Python's `get_obj()`: the shared T itself, unlocked.
  T& get_obj() const noexcept { return *d_.data(); }

 private:
  template <class>
  friend struct detail::Crossing;
  explicit Value(detail::SharedData<T> d) : d_(std::move(d)) {}
  detail::SharedData<T> d_;
};

/// Python's `multiprocessing.Array(typecode, size_or_initializer, lock=True)`.
template <class T>
class Array {
 public:
  /// `n` zeroed elements.
  explicit Array(std::size_t n, ValueOptions options = {}) : d_(n, nullptr, options.lock) {}
  /// The given elements.
  Array(std::initializer_list<T> init, ValueOptions options = {}) : d_(init.size(), std::data(init), options.lock) {}
  explicit Array(std::span<const T> init, ValueOptions options = {}) : d_(init.size(), init.data(), options.lock) {}

  /// Python's `len(a)`.
  std::size_t size() const noexcept { return d_.size(); }
  /// Python's `a[i]` under the lock (negative counts from the end); IndexError when out of range.
  T get(long i) const { return d_.load(d_.check_index(i, "Array::get()")); }
  /// Python's `a[i] = v` under the lock; IndexError when out of range.
  void set(long i, const T& v) { d_.store(d_.check_index(i, "Array::set()"), v); }
  /// The shared element, unchecked and unlocked.
  T& operator[](std::size_t i) const noexcept { return d_.data()[i]; }
  /// The shared element, bounds-checked (IndexError), unlocked.
  T& at(long i) const { return d_.data()[d_.check_index(i, "Array::at()")]; }
  /// Python's `get_lock()`; RuntimeError with `lock = false`.
  RLock& get_lock() const { return d_.lock("Array::get_lock()"); }
  /// Python's `get_obj()`: the shared elements, unlocked.
  std::span<T> get_obj() const noexcept { return {d_.data(), d_.size()}; }
  T* begin() const noexcept { return d_.data(); }
  T* end() const noexcept { return d_.data() + d_.size(); }

 private:
  template <class>
  friend struct detail::Crossing;
  explicit Array(detail::SharedData<T> d) : d_(std::move(d)) {}
  detail::SharedData<T> d_;
};

/// Python's `multiprocessing.RawValue(typecode, value)`: a shared T without a lock.
template <class T>
class RawValue {
 public:
  explicit RawValue(const T& value = T{}) : d_(1, &value, false) {}
  T value() const { return d_.load(0); }
  void set_value(const T& value) { d_.store(0, value); }
  T& get_obj() const noexcept { return *d_.data(); }

 private:
  template <class>
  friend struct detail::Crossing;
  explicit RawValue(detail::SharedData<T> d) : d_(std::move(d)) {}
  detail::SharedData<T> d_;
};

/// Python's `multiprocessing.RawArray(typecode, size_or_initializer)`: shared elements, no lock.
template <class T>
class RawArray {
 public:
  explicit RawArray(std::size_t n) : d_(n, nullptr, false) {}
  RawArray(std::initializer_list<T> init) : d_(init.size(), std::data(init), false) {}
  explicit RawArray(std::span<const T> init) : d_(init.size(), init.data(), false) {}
  std::size_t size() const noexcept { return d_.size(); }
  T& operator[](std::size_t i) const noexcept { return d_.data()[i]; }
  T& at(long i) const { return d_.data()[d_.check_index(i, "RawArray::at()")]; }
  std::span<T> get_obj() const noexcept { return {d_.data(), d_.size()}; }
  T* begin() const noexcept { return d_.data(); }
  T* end() const noexcept { return d_.data() + d_.size(); }

 private:
  template <class>
  friend struct detail::Crossing;
  explicit RawArray(detail::SharedData<T> d) : d_(std::move(d)) {}
  detail::SharedData<T> d_;
};

// How these handles cross to a forkserver or spawn child (trident/detail/mp_crossing.hpp): the
// segment's name, the element count and whether there is a lock.
namespace detail {
template <class T>
struct Crossing<Value<T>> {
  static SegmentRef save(const Value<T>& v) { return v.d_.save(); }
  static Value<T> load(const SegmentRef& r) { return Value<T>(SharedData<T>::load(r, "Value")); }
};
template <class T>
struct Crossing<Array<T>> {
  static SegmentRef save(const Array<T>& a) { return a.d_.save(); }
  static Array<T> load(const SegmentRef& r) { return Array<T>(SharedData<T>::load(r, "Array")); }
};
template <class T>
struct Crossing<RawValue<T>> {
  static SegmentRef save(const RawValue<T>& v) { return v.d_.save(); }
  static RawValue<T> load(const SegmentRef& r) { return RawValue<T>(SharedData<T>::load(r, "RawValue")); }
};
template <class T>
struct Crossing<RawArray<T>> {
  static SegmentRef save(const RawArray<T>& a) { return a.d_.save(); }
  static RawArray<T> load(const SegmentRef& r) { return RawArray<T>(SharedData<T>::load(r, "RawArray")); }
};
}  // namespace detail

}  // namespace trident::multiprocessing
