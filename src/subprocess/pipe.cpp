// subprocess::Pipe — the parent's end of a pipe: a blocking fd (a child may be handed it), waited
// on through the core.
#include <limits.h>
#include <poll.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "platform/linux/pipe_io.hpp"
#include "subprocess/fd_wait.hpp"
#include "subprocess/newlines.hpp"
#include "subprocess/nowait.hpp"
#include "trident/subprocess.hpp"

namespace trident::subprocess {

using trident::detail::Deadline;

namespace {
constexpr std::size_t kMinRead = 64 * 1024;
constexpr std::size_t kGrowStep = 1 << 20;
constexpr std::size_t kMinRoom = 4096;
}  // namespace

std::atomic<bool>& detail::nowait_io() noexcept {
  static std::atomic<bool> enabled{true};
  return enabled;
}

Redirect::Redirect(std::FILE* file) noexcept : value_(file != nullptr ? ::fileno(file) : -4), set_(true) {}

Redirect::Redirect(const Pipe& pipe) : value_(pipe.fileno()), set_(true) {}

Pipe::Pipe(Pipe&& other) noexcept
    : fd_(std::exchange(other.fd_, -1)),
      text_(other.text_),
      eof_(other.eof_),
      skip_lf_(other.skip_lf_),
      buf_(std::move(other.buf_)),
      begin_(std::exchange(other.begin_, 0)),
      end_(std::exchange(other.end_, 0)) {}

Pipe& Pipe::operator=(Pipe&& other) noexcept {
  if (this != &other) {
    close();
    fd_ = std::exchange(other.fd_, -1);
    text_ = other.text_;
    eof_ = other.eof_;
    skip_lf_ = other.skip_lf_;
    buf_ = std::move(other.buf_);
    begin_ = std::exchange(other.begin_, 0);
    end_ = std::exchange(other.end_, 0);
  }
  return *this;
}

Pipe::~Pipe() { close_fd(); }

int Pipe::fileno() const {
  if (fd_ < 0) throw ValueError("Pipe::fileno(): I/O operation on closed pipe");
  return fd_;
}

void Pipe::close_fd() noexcept {
  platform::close_fd(fd_);
  fd_ = -1;
}

void Pipe::close() noexcept {
  close_fd();
  std::string().swap(buf_);
  begin_ = end_ = 0;
}

std::size_t Pipe::write(std::string_view data) {
  if (fd_ < 0) throw ValueError("Pipe::write(): I/O operation on closed pipe");
  std::size_t done = 0;
  platform::SigpipeGuard sigpipe;
  const bool may_block = detail::kernel_may_block();
  while (done < data.size()) {
    long n;
    if (may_block) {
      n = platform::write_some(fd_, data.data() + done, data.size() - done);
    } else {
      // A hub must not sleep in write(): wait for room, then write only what fits.
      pollfd p{fd_, POLLOUT, 0};
      detail::wait_fds(&p, 1, Deadline::forever());
      n = write_ready(data.data() + done, data.size() - done);
      if (n == -EAGAIN) continue;
    }
    if (n < 0) {
      if (n == -EPIPE) sigpipe.got_epipe();
      raise_os_error(static_cast<int>(-n), "Pipe::write()");
    }
    done += static_cast<std::size_t>(n);
  }
  return done;
}

long Pipe::write_ready(const char* data, std::size_t n) {
  if (detail::nowait_io().load(std::memory_order_relaxed)) {
    // As many writes as the pipe takes without sleeping (the reader may drain it meanwhile).
    std::size_t done = 0;
    while (done < n) {
      long w = platform::write_nowait(fd_, data + done, n - done);
      if (w == -EOPNOTSUPP) {
        detail::nowait_io().store(false, std::memory_order_relaxed);
        break;
      }
      if (w < 0) return done > 0 ? static_cast<long>(done) : w;
      done += static_cast<std::size_t>(w);
    }
    if (done > 0 || n == 0) return static_cast<long>(done);
  }
  // Without RWF_NOWAIT, one write of what POLLOUT promises: one free page of the pipe, so PIPE_BUF
  // bytes (CPython's rule). An empty pipe has its whole capacity free, which keeps big writes big.
  std::size_t chunk = PIPE_BUF;
  if (n > PIPE_BUF && platform::bytes_readable(fd_) == 0) {
    int capacity = platform::get_pipe_size(fd_);
    if (capacity > PIPE_BUF) chunk = static_cast<std::size_t>(capacity);
  }
  return platform::write_some(fd_, data, std::min(chunk, n));
}

char* Pipe::reserve(std::size_t n) {
  if (begin_ == end_) begin_ = end_ = 0;
  if (buf_.size() - end_ >= n) return buf_.data() + end_;
  if (begin_ > 0 && buf_.size() - buffered() >= n) {
    std::memmove(buf_.data(), buf_.data() + begin_, buffered());
    end_ -= begin_;
    begin_ = 0;
    return buf_.data() + end_;
  }
  const std::size_t want = end_ + n;
  // Capacity grows geometrically (each byte is copied O(1) times); the zero-filled size (what a
  // read may fill) grows in steps, so reserved but unused capacity costs no memory.
  // Growing copies everything read so far, so while reserved capacity is left (communicate's
  // size hint) use it up first, even if it is less than was asked for.
  if (want > buf_.capacity() && buf_.capacity() - end_ < kMinRoom) {
    buf_.reserve(std::max(want, buf_.capacity() * 2));
  }
  const std::size_t size = std::min(buf_.capacity(), std::max(want, buf_.size() + kGrowStep));
  // Fault the new pages in with one call rather than one trap per page (the costliest part of
  // filling a big buffer from a pipe, especially in a virtual machine).
  platform::prefault(buf_.data() + buf_.size(), size - buf_.size());
  buf_.resize(size);
  return buf_.data() + end_;
}

void Pipe::reserve_capacity(std::size_t n) {
  // The slack leaves room for the read that finds end of file, so it does not grow the buffer.
  if (buf_.capacity() < end_ + n + kMinRead) buf_.reserve(end_ + n + kMinRead);
}

long Pipe::read_into_buffer(bool nowait) {
  if (nowait && !detail::nowait_io().load(std::memory_order_relaxed)) return -EAGAIN;
  char* dst = reserve(kMinRead);
  std::size_t room = buf_.size() - end_;
  long n = nowait ? platform::read_nowait(fd_, dst, room) : platform::read_some(fd_, dst, room);
  if (n == -EOPNOTSUPP) {
    detail::nowait_io().store(false, std::memory_order_relaxed);
    return -EAGAIN;
  }
  if (n < 0) return n;
  if (n == 0) {
    eof_ = true;
    return 0;
  }
  std::size_t len = static_cast<std::size_t>(n);
  if (text_) len = detail::translate_newlines(dst, len, skip_lf_);
  end_ += len;
  return n;
}

void Pipe::read_ready() {
  // Only what FIONREAD reports: a writer that goes on writing (a grandchild) cannot keep us here.
  long left = platform::bytes_readable(fd_);
  while (left > 0) {
    long n = read_into_buffer();
    if (n <= 0) return;
    left -= n;
  }
}

bool Pipe::fill() {
  if (eof_) return false;
  const bool may_block = detail::kernel_may_block();
  for (;;) {
    long n;
    if (may_block) {
      n = read_into_buffer();
    } else {
      // A hub must not sleep in read(): wait for data, then take it with a read that cannot sleep
      // even if another reader of a shared fd took it first (RWF_NOWAIT where there is one).
      pollfd p{fd_, POLLIN, 0};
      detail::wait_fds(&p, 1, Deadline::forever());
      n = read_into_buffer(detail::nowait_io().load(std::memory_order_relaxed));
      if (n == -EAGAIN) continue;
    }
    if (n < 0) raise_os_error(static_cast<int>(-n), "Pipe::read()");
    return n > 0;
  }
}

std::string Pipe::take(std::size_t n) {
  std::string s;
  if (begin_ == 0 && n == buffered() && n * 2 >= buf_.capacity()) {
    // Hand over the buffer itself when it is mostly data: no copy for read()-to-EOF. (A buffer
    // mostly made of reserved capacity is copied out instead, so the result does not pin it.)
    buf_.resize(end_);
    s = std::move(buf_);
    buf_.clear();
    begin_ = end_ = 0;
    return s;
  }
  s.assign(buf_.data() + begin_, n);
  begin_ += n;
  return s;
}

std::string Pipe::read(std::optional<std::size_t> size) {
  if (fd_ < 0) throw ValueError("Pipe::read(): I/O operation on closed pipe");
  if (!size) {
    while (fill()) {
    }
    return take(buffered());
  }
  while (buffered() < *size && fill()) {
  }
  return take(std::min(*size, buffered()));
}

std::string Pipe::readline() {
  if (fd_ < 0) throw ValueError("Pipe::readline(): I/O operation on closed pipe");
  std::size_t scanned = 0;
  for (;;) {
    const char* start = buf_.data() + begin_;
    if (const void* nl = std::memchr(start + scanned, '\n', buffered() - scanned)) {
      return take(static_cast<std::size_t>(static_cast<const char*>(nl) - start) + 1);
    }
    scanned = buffered();
    if (!fill()) return take(buffered());
  }
}

}  // namespace trident::subprocess
