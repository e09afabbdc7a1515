// trident/pickle.hpp — what crosses a process boundary: Python's `pickle`, on cereal's archives.
//
// `dumps(obj)` turns a value into bytes and `loads<T>(bytes)` turns them back. Unlike Python's
// pickle, nothing is executed on load and the reader names the type it expects: bytes made from
// another type, cut short, corrupted or with trailing garbage throw `pickle::UnpicklingError`
// saying what was wrong — never a crash, an allocation of a size read from the bytes, or a silent
// wrong value. What can be pickled: arithmetic types, enums, `std::string`, every standard
// container (vector, deque, list, forward_list, array, map, multimap, unordered_map, set,
// multiset, unordered_set, queue, priority_queue, stack, valarray, bitset), pair, tuple,
// optional, variant, monostate, complex, chrono durations and time points, unique_ptr and
// shared_ptr (with sharing preserved), and user types with a cereal `serialize` (or `save`/`load`)
// member or free function — cereal's way, see its documentation. A type that cannot be pickled is
// a compile-time error (cereal's static_assert), so Python's `PicklingError` has no use here.
// (A multimap's elements with equal keys may come back in another relative order: cereal
// reinserts them with a hint. An enum loads any value of its underlying type: a type that must
// reject values it does not name validates them in its own `load`.)
//
// The frame (docs/multiprocessing.md has the details): an 11-byte header — magic 0x8A 0x54,
// format version 1, and a 64-bit fingerprint of the C++ type — then cereal's binary encoding in
// the machine's byte order (frames cross processes of one machine, not the network).
//
// The fingerprint is the 64-bit FNV-1a hash of the type's mangled name (`typeid(T).name()`, the
// Itanium C++ ABI used by GCC and Clang on Linux), so `int` and `long`, `std::vector<int>` and
// `std::deque<int>`, `Point` and `ns::Point` differ, while an alias (`using`) is the type it names.
// Limits: the name does not describe the members, so two versions of one struct (say, a program
// and an older build of it) share a fingerprint — then a changed layout is usually caught as
// truncation or trailing bytes, but not always (cereal's class versioning is the tool for that);
// and types with internal linkage (in an unnamed namespace) of different translation units may
// share a name.
#pragma once

#include <cxxabi.h>
#include <cereal/cereal.hpp>
#include <cereal/types/array.hpp>
#include <cereal/types/bitset.hpp>
#include <cereal/types/chrono.hpp>
#include <cereal/types/complex.hpp>
#include <cereal/types/deque.hpp>
#include <cereal/types/forward_list.hpp>
#include <cereal/types/list.hpp>
#include <cereal/types/map.hpp>
#include <cereal/types/memory.hpp>
#include <cereal/types/optional.hpp>
#include <cereal/types/queue.hpp>
#include <cereal/types/set.hpp>
#include <cereal/types/stack.hpp>
#include <cereal/types/string.hpp>
#include <cereal/types/tuple.hpp>
#include <cereal/types/unordered_map.hpp>
#include <cereal/types/unordered_set.hpp>
#include <cereal/types/utility.hpp>
#include <cereal/types/valarray.hpp>
#include <cereal/types/variant.hpp>
#include <cereal/types/vector.hpp>

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <string_view>
#include <type_traits>
#include <typeinfo>

#include "trident/errors.hpp"

namespace trident::pickle {

/// Python's `bytes`: a byte string that may hold any byte, NUL included. A `std::string` so that
/// small frames need no allocation (its short-string buffer) and bytes print and compare easily.
using bytes = std::string;

/// The frame's first two bytes, its format version and the header's size.
inline constexpr unsigned char kMagic0 = 0x8A;
inline constexpr unsigned char kMagic1 = 0x54;
inline constexpr unsigned char kFormatVersion = 1;
inline constexpr std::size_t kHeaderSize = 11;

/// The fingerprint written in the header of `dumps(T)` (see the header comment for how it is
/// derived and what it cannot tell apart).
template <class T>
std::uint64_t type_fingerprint() noexcept;

/// `dumps(obj)` returns the bytes of `obj` (Python's `pickle.dumps`). Throws what a user
/// `serialize` throws, or std::bad_alloc.
template <class T>
bytes dumps(const T& obj);

/// `loads<T>(data)` rebuilds the value `dumps` made of a `T` (Python's `pickle.loads`, with the
/// type named by the reader). Throws `UnpicklingError` if the bytes are not a frame of format 1,
/// were made from another type, are cut short, hold an impossible value (a bool that is neither 0
/// nor 1, a variant index out of range, a length longer than the bytes left) or have bytes left
/// over; what a user `serialize` throws passes through. `T` must be default-constructible.
template <class T>
T loads(std::string_view data);

// ---- implementation ----

namespace detail {

constexpr std::uint64_t fnv1a(const char* s) noexcept {
  std::uint64_t h = 0xcbf29ce484222325ull;
  for (; *s != '\0'; ++s) {
    h ^= static_cast<unsigned char>(*s);
    h *= 0x100000001b3ull;
  }
  return h;
}

inline std::string demangle(const char* name) {
  int status = 0;
  std::unique_ptr<char, void (*)(void*)> p(abi::__cxa_demangle(name, nullptr, nullptr, &status), &std::free);
  return status == 0 && p ? std::string(p.get()) : std::string(name);
}

[[noreturn]] inline void fail(const std::string& what) { throw UnpicklingError("pickle.loads(): " + what); }

/// Writes cereal's binary encoding by appending to a byte string.
class OutputArchive : public cereal::OutputArchive<OutputArchive, cereal::AllowEmptyClassElision> {
 public:
  explicit OutputArchive(bytes& out)
      : cereal::OutputArchive<OutputArchive, cereal::AllowEmptyClassElision>(this), out_(out) {}
  void saveBinary(const void* data, std::size_t size) { out_.append(static_cast<const char*>(data), size); }

 private:
  bytes& out_;
};

/// Reads cereal's binary encoding from a byte range, checking every read against what is left.
class InputArchive : public cereal::InputArchive<InputArchive, cereal::AllowEmptyClassElision> {
 public:
  InputArchive(const char* data, std::size_t size)
      : cereal::InputArchive<InputArchive, cereal::AllowEmptyClassElision>(this), p_(data), end_(data + size) {}
  void loadBinary(void* data, std::size_t size) {
    if (size > remaining()) {
      fail("truncated data: needed " + std::to_string(size) + " more bytes, " + std::to_string(remaining()) + " left");
    }
    if (size != 0) std::memcpy(data, p_, size);
    p_ += size;
  }
  // A count of elements or bytes precedes each container; every element takes at least one
  // byte, so a count larger than the bytes left is corrupt — refused before anything allocates it.
  void loadSize(std::uint64_t& size) {
    loadBinary(&size, sizeof size);
    if (size > remaining()) {
      fail("corrupt length: " + std::to_string(size) + " elements claimed, only " + std::to_string(remaining()) +
           " bytes left");
    }
  }
  std::size_t remaining() const noexcept { return static_cast<std::size_t>(end_ - p_); }

 private:
  const char* p_;
  const char* end_;
};

template <class T>
std::enable_if_t<std::is_arithmetic_v<T>> CEREAL_SAVE_FUNCTION_NAME(OutputArchive& ar, const T& t) {
  ar.saveBinary(std::addressof(t), sizeof t);
}
template <class T>
std::enable_if_t<std::is_arithmetic_v<T> && !std::is_same_v<T, bool>> CEREAL_LOAD_FUNCTION_NAME(InputArchive& ar,
                                                                                                T& t) {
  ar.loadBinary(std::addressof(t), sizeof t);
}
// A bool's byte must be 0 or 1: any other value read into a bool is undefined behaviour.
inline void CEREAL_LOAD_FUNCTION_NAME(InputArchive& ar, bool& t) {
  unsigned char b = 0;
  ar.loadBinary(&b, 1);
  if (b > 1) fail("corrupt data: a bool holds " + std::to_string(b));
  t = b == 1;
}
template <class Archive, class T>
CEREAL_ARCHIVE_RESTRICT(InputArchive, OutputArchive)
CEREAL_SERIALIZE_FUNCTION_NAME(Archive& ar, cereal::NameValuePair<T>& t) {
  ar(t.value);
}
template <class T>
void CEREAL_SAVE_FUNCTION_NAME(OutputArchive& ar, const cereal::SizeTag<T>& t) {
  std::uint64_t n = t.size;
  ar.saveBinary(&n, sizeof n);
}
template <class T>
void CEREAL_LOAD_FUNCTION_NAME(InputArchive& ar, cereal::SizeTag<T>& t) {
  std::uint64_t n = 0;
  ar.loadSize(n);
  t.size = static_cast<std::remove_reference_t<T>>(n);
}
template <class T>
void CEREAL_SAVE_FUNCTION_NAME(OutputArchive& ar, const cereal::BinaryData<T>& bd) {
  ar.saveBinary(bd.data, static_cast<std::size_t>(bd.size));
}
template <class T>
void CEREAL_LOAD_FUNCTION_NAME(InputArchive& ar, cereal::BinaryData<T>& bd) {
  ar.loadBinary(bd.data, static_cast<std::size_t>(bd.size));
}

}  // namespace detail

template <class T>
std::uint64_t type_fingerprint() noexcept {
  // A cache without an initialization guard (a constant-initialized atomic): a guarded static
  // being initialized by another thread at a fork would block the child forever. Two threads may
  // both compute it the first time; they store the same value.
  static constinit std::atomic<std::uint64_t> cache{0};
  std::uint64_t h = cache.load(std::memory_order_relaxed);
  if (h == 0) {
    h = detail::fnv1a(typeid(T).name());
    cache.store(h, std::memory_order_relaxed);
  }
  return h;
}

template <class T>
bytes dumps(const T& obj) {
  bytes out;
  out.reserve(kHeaderSize + (std::is_arithmetic_v<T> ? sizeof(T) : 32));
  const std::uint64_t fp = type_fingerprint<T>();
  out.push_back(static_cast<char>(kMagic0));
  out.push_back(static_cast<char>(kMagic1));
  out.push_back(static_cast<char>(kFormatVersion));
  out.append(reinterpret_cast<const char*>(&fp), sizeof fp);
  {
    detail::OutputArchive ar(out);
    ar(obj);
  }
  return out;
}

template <class T>
T loads(std::string_view data) {
  static_assert(std::is_default_constructible_v<T>, "pickle::loads<T>: T must be default-constructible");
  if (data.size() < kHeaderSize) {
    detail::fail("truncated data: " + std::to_string(data.size()) + " bytes is shorter than the " +
                 std::to_string(kHeaderSize) + "-byte header");
  }
  const auto* h = reinterpret_cast<const unsigned char*>(data.data());
  if (h[0] != kMagic0 || h[1] != kMagic1) detail::fail("not a trident pickle (bad magic)");
  if (h[2] != kFormatVersion) detail::fail("unsupported format version " + std::to_string(h[2]));
  std::uint64_t fp = 0;
  std::memcpy(&fp, h + 3, sizeof fp);
  if (fp != type_fingerprint<T>()) {
    detail::fail("the data was pickled from another type than the requested " + detail::demangle(typeid(T).name()));
  }
  T value{};
  detail::InputArchive ar(data.data() + kHeaderSize, data.size() - kHeaderSize);
  try {
    ar(value);
  } catch (const cereal::Exception& e) {
    detail::fail(std::string("corrupt data: ") + e.what());
  }
  if (ar.remaining() != 0) detail::fail(std::to_string(ar.remaining()) + " bytes left over after the value");
  return value;
}

}  // namespace trident::pickle

CEREAL_REGISTER_ARCHIVE(trident::pickle::detail::OutputArchive)
CEREAL_REGISTER_ARCHIVE(trident::pickle::detail::InputArchive)
CEREAL_SETUP_ARCHIVE_TRAITS(trident::pickle::detail::InputArchive, trident::pickle::detail::OutputArchive)
