// Named shared-memory segments and their tracking (docs/multiprocessing.md).
#include "trident/detail/shm_segment.hpp"

#include <pthread.h>

#include <cerrno>
#include <cstdio>
#include <mutex>
#include <new>

#include "platform/linux/pipe_io.hpp"
#include "platform/linux/shm.hpp"
#include "trident/detail/mp_crossing.hpp"
#include "trident/errors.hpp"

namespace trident::detail {

namespace {

std::mutex g_tracker_mutex;
int g_tracker_fd = -1;  // guarded by g_tracker_mutex; inherited by forked children on purpose

// A thread of the parent may have held the mutex at fork(); the child has only the forking thread,
// so it starts with a fresh one.
void on_fork_child() noexcept { new (&g_tracker_mutex) std::mutex; }
[[maybe_unused]] const bool g_atfork_registered = (pthread_atfork(nullptr, nullptr, &on_fork_child), true);

// Sends one line to the tracker, starting it on first use.
void tracker_send(const std::string& line, std::string_view api) {
  std::lock_guard g(g_tracker_mutex);
  if (g_tracker_fd < 0) {
    int fd = platform::start_segment_tracker();
    if (fd < 0) raise_os_error(-fd, std::string(api) + ": starting the shared-memory segment tracker");
    g_tracker_fd = fd;
  }
  platform::shm_tracker_send(g_tracker_fd, line.data(), line.size());
}

// Tells a running tracker that `name` is gone; without a tracker nobody tracks it anyway.
void tracker_forget(const std::string& name) noexcept {
  std::lock_guard g(g_tracker_mutex);
  if (g_tracker_fd < 0) return;
  const std::string line = "U " + name + "\n";
  platform::shm_tracker_send(g_tracker_fd, line.data(), line.size());
}

void check_name(const std::string& name, std::string_view api) {
  if (name.empty() || name.size() > 200 || name.find('/') != std::string::npos ||
      name.find('\n') != std::string::npos || name.find('\0') != std::string::npos) {
    throw ValueError(std::string(api) + ": invalid segment name '" + name +
                     "' (1 to 200 characters, no '/', no newline)");
  }
}

std::string random_name(std::string_view prefix, std::string_view api) {
  unsigned char bytes[4];
  if (int r = platform::random_fill(bytes, sizeof bytes); r < 0) raise_os_error(-r, std::string(api) + ": getrandom");
  char hex[9];
  std::snprintf(hex, sizeof hex, "%02x%02x%02x%02x", bytes[0], bytes[1], bytes[2], bytes[3]);
  return std::string(prefix) + hex;
}

}  // namespace

ShmSegment::ShmSegment(std::string name, std::byte* data, std::size_t size, Lifetime lifetime, int creator)
    : name_(std::move(name)), data_(data), size_(size), lifetime_(lifetime), creator_pid_(creator) {}

std::shared_ptr<ShmSegment> ShmSegment::create(std::string name, std::size_t size, Lifetime lifetime,
                                               std::string_view prefix, std::string_view api) {
  const bool generated = name.empty();
  if (!generated) check_name(name, api);
  int fd = -EEXIST;
  // A generated name that happens to exist is drawn again, as CPython's SharedMemory does.
  for (int attempt = 0; fd == -EEXIST && attempt < (generated ? 100 : 1); ++attempt) {
    if (generated) name = random_name(prefix, api);
    fd = platform::shm_create(name.c_str(), size);
  }
  if (fd < 0) raise_os_error(-fd, std::string(api) + ": cannot create segment '" + name + "'", name);
  void* p = nullptr;
  int r = platform::map_shared(fd, size, &p);
  platform::close_fd(fd);
  if (r < 0) {
    platform::shm_remove(name.c_str());
    raise_os_error(-r, std::string(api) + ": mmap of segment '" + name + "'", name);
  }
  const int pid = platform::shm_getpid();
  std::shared_ptr<ShmSegment> seg(new ShmSegment(name, static_cast<std::byte*>(p), size, lifetime, pid));
  if (lifetime != Lifetime::kUntracked) {
    try {
      tracker_send("R " + std::to_string(pid) + " " + name + "\n", api);
    } catch (...) {
      seg->lifetime_ = Lifetime::kUntracked;
      platform::shm_remove(name.c_str());
      throw;
    }
  }
  return seg;
}

std::shared_ptr<ShmSegment> ShmSegment::attach(const std::string& name, std::string_view api) {
  check_name(name, api);
  int fd = platform::shm_attach(name.c_str());
  if (fd < 0) raise_os_error(-fd, std::string(api) + ": no segment named '" + name + "'", name);
  long long size = platform::fd_size(fd);
  void* p = nullptr;
  int r = size < 0 ? static_cast<int>(size) : size == 0 ? -EINVAL : platform::map_shared(fd, size, &p);
  platform::close_fd(fd);
  if (r < 0) raise_os_error(-r, std::string(api) + ": mmap of segment '" + name + "'", name);
  return std::shared_ptr<ShmSegment>(
      new ShmSegment(name, static_cast<std::byte*>(p), static_cast<std::size_t>(size), Lifetime::kUntracked, 0));
}

std::shared_ptr<ShmSegment> ShmSegment::make_internal(std::size_t size) {
  return create({}, size, Lifetime::kOwned, "trident_" + std::to_string(platform::shm_getpid()) + "_",
                "multiprocessing");
}

ShmSegment::~ShmSegment() {
  close();
  if (lifetime_ == Lifetime::kOwned && !unlinked_ && creator_pid_ == platform::shm_getpid()) {
    platform::shm_remove(name_.c_str());
    tracker_forget(name_);
  }
}

void ShmSegment::close() noexcept {
  if (data_ != nullptr) {
    platform::unmap(data_, size_);
    data_ = nullptr;
  }
}

void ShmSegment::unlink(std::string_view api) {
  if (int r = platform::shm_remove(name_.c_str()); r < 0) {
    raise_os_error(-r, std::string(api) + ": cannot unlink segment '" + name_ + "'", name_);
  }
  unlinked_ = true;
  // As in Python, whoever unlinks unregisters the name; the tracker ignores names it does not know.
  tracker_forget(name_);
}

void ShmSegment::track_as(int pid, std::string_view api) {
  tracker_send("R " + std::to_string(pid) + " " + name_ + "\n", api);
}

}  // namespace trident::detail

namespace trident::multiprocessing::detail {

void check_parts(const SegmentRef& r, std::size_t n, const char* type) {
  if (r.parts.size() != n) {
    throw pickle::UnpicklingError(std::string("Process: an argument that should be a ") + type +
                                  " has the wrong number of segments");
  }
}

std::shared_ptr<trident::detail::ShmSegment> attach_part(const SegmentRef& r, std::size_t i, const char* type) {
  if (i >= r.parts.size()) check_parts(r, i + 1, type);
  // FileNotFoundError here means the parent destroyed its last handle before the child started.
  return trident::detail::ShmSegment::attach(r.parts[i].name,
                                             std::string("Process: a ") + type + " argument in the child");
}

}  // namespace trident::multiprocessing::detail
