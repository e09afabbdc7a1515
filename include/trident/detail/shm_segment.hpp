// trident/detail/shm_segment.hpp — one named /dev/shm segment mapped into this process.
//
// Not API: the handles of trident/multiprocessing/{shared_memory,synchronize,sharedctypes}.hpp
// hold one through a shared_ptr, so copies of a handle (and a forked child's inherited copies)
// share one mapping. See docs/multiprocessing.md for naming and tracking.
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>

namespace trident::detail {

class ShmSegment {
 public:
  /// Who removes the name, when the program does not call unlink():
  enum class Lifetime {
    kTracked,    // the segment tracker, once the creating process has exited (SharedMemory's default)
    kOwned,      // the creating process, when its last handle goes; the tracker if it is killed
    kUntracked,  // nobody (SharedMemory's `track = false`)
  };

  /// Creates and maps a segment of `size` bytes named `name` (no leading slash); an empty name
  /// picks an unused random one starting with `prefix`. Throws FileExistsError if the name is
  /// taken, another OSError if the system refuses; `api` names the caller in messages.
  static std::shared_ptr<ShmSegment> create(std::string name, std::size_t size, Lifetime lifetime,
                                            std::string_view prefix, std::string_view api);
  /// Maps the existing segment `name`, all of it. Throws FileNotFoundError if there is none.
  static std::shared_ptr<ShmSegment> attach(const std::string& name, std::string_view api);
  /// A kOwned segment of `size` bytes for one of trident's shared objects (locks, values).
  static std::shared_ptr<ShmSegment> make_internal(std::size_t size);

  ShmSegment(const ShmSegment&) = delete;
  ShmSegment& operator=(const ShmSegment&) = delete;
  /// Unmaps; a kOwned segment is also unlinked when this is its creating process.
  ~ShmSegment();

  std::byte* data() const noexcept { return data_; }
  std::size_t size() const noexcept { return size_; }
  const std::string& name() const noexcept { return name_; }
  bool closed() const noexcept { return data_ == nullptr; }
  /// Unmaps (idempotent). Pointers into the mapping become invalid.
  void close() noexcept;
  /// Removes the name and tells the tracker. Throws FileNotFoundError if it is already gone.
  void unlink(std::string_view api);
  /// Registers the name with the segment tracker under process `pid`: it is removed once that
  /// process has exited, unless unlinked first (a queue's big item, owned by the queue's creator).
  void track_as(int pid, std::string_view api);

 private:
  ShmSegment(std::string name, std::byte* data, std::size_t size, Lifetime lifetime, int creator);
  std::string name_;
  std::byte* data_;
  std::size_t size_;
  Lifetime lifetime_;
  int creator_pid_;  // the pid that created it; 0 when attached
  bool unlinked_ = false;
};

}  // namespace trident::detail
