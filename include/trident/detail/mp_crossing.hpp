// trident/detail/mp_crossing.hpp — how a handle to shared state (a process lock, a Value, an Array,
// a SharedMemory) crosses to a forkserver or spawn child as a Process argument. Not API.
//
// Such a child does not inherit the parent's mappings, so a handle crosses as what it is made of:
// the names of its segments and where its state lies in each. The child maps the same segments by
// name (ShmSegment::attach) and rebuilds a handle over the same state (docs/multiprocessing.md,
// "What crosses"). Each handle type that can cross specialises `Crossing` next to its definition.
#pragma once

#include <concepts>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "trident/detail/shm_segment.hpp"

namespace trident::multiprocessing::detail {

/// One segment a handle uses: its name and the offset of the handle's state in it.
struct SegmentPart {
  std::string name;
  std::uint64_t offset = 0;
  template <class A>
  void serialize(A& ar) {
    ar(name, offset);
  }
};

/// A handle on the wire. `parts` in the order the type's Crossing defines; `count` and `flags`
/// are the type's own (an Array's length, whether a Value has a lock, which lock a Condition has).
struct SegmentRef {
  std::vector<SegmentPart> parts;
  std::uint64_t count = 0;
  std::uint32_t flags = 0;
  double seconds = -1;  // a Barrier's default timeout; negative: none
  template <class A>
  void serialize(A& ar) {
    ar(parts, count, flags, seconds);
  }
};

/// Specialised by each handle type that crosses with
///   static SegmentRef save(const T&);          // in the parent, at start(); may throw TypeError
///   static T load(const SegmentRef&);          // in the child, before the target runs
template <class T>
struct Crossing {};

template <class T>
concept CrossingHandle = requires(const T& t, const SegmentRef& r) {
  { Crossing<T>::save(t) } -> std::same_as<SegmentRef>;
  { Crossing<T>::load(r) } -> std::same_as<T>;
};

/// In the child: throws pickle::UnpicklingError unless `r` has `n` parts (it is not a `type`).
void check_parts(const SegmentRef& r, std::size_t n, const char* type);
/// In the child: maps the segment of `r.parts[i]`. Throws pickle::UnpicklingError when `r` has no
/// such part, FileNotFoundError when the segment is gone (every handle of the parent was destroyed
/// before the child started).
std::shared_ptr<trident::detail::ShmSegment> attach_part(const SegmentRef& r, std::size_t i, const char* type);

}  // namespace trident::multiprocessing::detail
