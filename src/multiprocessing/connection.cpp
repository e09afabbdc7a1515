// multiprocessing::connection: Pipe, Connection and wait.
//
// A Connection is a shared_ptr to its State; the fd is closed when close() was called and no call
// is still using it (so a thread blocked in recv never reads a recycled fd number), or when the
// last copy goes. The fds are blocking: an OS thread's kernel sleep in read/write is its parking
// (docs/subprocess.md makes the same argument for ppoll). A context with another parker first has
// the fd watched by the fd watcher (subprocess/fd_wait) through its own parker, so the read or
// write that follows finds data or room and does not block the thread.
#include <poll.h>
#include <pthread.h>

#include <cstdint>
#include <cstring>
#include <mutex>
#include <new>

#include "platform/linux/conn_io.hpp"
#include "platform/linux/pipe_io.hpp"
#include "platform/linux/spawn.hpp"
#include "subprocess/fd_wait.hpp"
#include "trident/detail/wait.hpp"
#include "trident/multiprocessing.hpp"

namespace trident::multiprocessing {

namespace connection {

using trident::detail::Deadline;
using trident::detail::Mutex;

namespace {

constexpr char kFrameMagic[4] = {'T', 'R', 'C', '1'};
constexpr std::size_t kFrameHeader = 12;
// Payloads are read in pieces of at most this much, growing the buffer as data arrives: a bogus
// length never allocates more than the bytes that actually came, plus one piece.
constexpr std::size_t kReadPiece = std::size_t{1} << 20;

bool thread_parks() noexcept { return &trident::detail::current_parker() == &trident::detail::thread_parker(); }

// For a non-thread parker: park until `fd` has `events` (POLLIN or POLLOUT) through the fd watcher.
void wait_through_parker(int fd, short events, const Deadline& deadline) {
  pollfd p{fd, events, 0};
  subprocess::detail::wait_fds(&p, 1, deadline);
}

}  // namespace

struct Connection::State {
  State(int f, bool r, bool w);
  ~State();

  const int fd;
  const bool readable;
  const bool writable;
  const bool is_socket;

  Mutex mutex;             // guards open, reason, users, fd_closed
  bool open = true;        // close() not called and no fatal frame error
  std::string reason;      // why it was closed by an error (empty after close())
  int users = 0;           // calls using fd right now
  bool fd_closed = false;  // fd was closed (never reused by us after that)
  Mutex send_mutex;        // one sender at a time: frames are whole
  Mutex recv_mutex;        // one receiver at a time
  State* prev = nullptr;   // links in the registry of live states, guarded by its mutex
  State* next = nullptr;

  // Closes the fd now if no call uses it, else leaves that to the last one (waking blocked socket
  // calls). Called with `mutex` held.
  void close_locked() noexcept {
    open = false;
    if (fd_closed) return;
    if (users == 0) {
      platform::close_fd(fd);
      fd_closed = true;
    } else if (is_socket) {
      platform::shutdown_socket(fd);
    }
  }

  // An error that leaves the stream misaligned: nothing more may be read or written.
  void fail(const std::string& why) noexcept {
    std::lock_guard g(mutex);
    if (!open) return;
    try {
      reason = why;
    } catch (...) {
    }
    close_locked();
  }
};

namespace {

// Every live State, so that a forked child can reset them: the parent's other threads may have
// been inside a call (holding a direction's lock, counted in `users`) at the fork, and they do not
// exist in the child. Never destroyed (States may outlive static destruction).
struct Registry {
  Mutex mutex;
  Connection::State* head = nullptr;  // guarded by mutex
};
Registry& registry() {
  static Registry* const r = new Registry;
  return *r;
}

// In a forked child, which has only the forking thread: fresh locks, no calls in flight, and the
// fds of connections closed meanwhile really closed.
void after_fork_in_child() noexcept {
  Registry& r = registry();
  new (&r.mutex) Mutex;
  for (Connection::State* s = r.head; s != nullptr; s = s->next) {
    new (&s->mutex) Mutex;
    new (&s->send_mutex) Mutex;
    new (&s->recv_mutex) Mutex;
    s->users = 0;
    if (!s->open && !s->fd_closed) {
      platform::close_fd(s->fd);
      s->fd_closed = true;
    }
  }
}

// registry() is built here, at load time, so no thread is ever inside its initialization at a fork.
[[maybe_unused]] const bool g_fork_handler =
    ((void)registry(), pthread_atfork(nullptr, nullptr, &after_fork_in_child), true);

}  // namespace

Connection::State::State(int f, bool r, bool w) : fd(f), readable(r), writable(w), is_socket(platform::is_socket(f)) {
  Registry& reg = registry();
  std::lock_guard g(reg.mutex);
  next = reg.head;
  if (next != nullptr) next->prev = this;
  reg.head = this;
}

Connection::State::~State() {
  {
    Registry& reg = registry();
    std::lock_guard g(reg.mutex);
    (prev != nullptr ? prev->next : reg.head) = next;
    if (next != nullptr) next->prev = prev;
  }
  if (!fd_closed) platform::close_fd(fd);
}

namespace {

// A call's use of the fd: checks the connection is open and allowed in that direction, and keeps
// the fd from being closed under the call.
class Use {
 public:
  enum Direction { kRead, kWrite, kAny };
  Use(Connection::State& s, const char* api, Direction d) : s_(s) {
    std::lock_guard g(s.mutex);
    if (!s.open) {
      std::string what = std::string(api) + ": handle is closed";
      if (!s.reason.empty()) what += " (" + s.reason + ")";
      throw OSError(EBADF, what);
    }
    if (d == kRead && !s.readable) throw OSError(EBADF, std::string(api) + ": connection is write-only");
    if (d == kWrite && !s.writable) throw OSError(EBADF, std::string(api) + ": connection is read-only");
    ++s.users;
  }
  ~Use() {
    std::lock_guard g(s_.mutex);
    if (--s_.users == 0 && !s_.open && !s_.fd_closed) {
      platform::close_fd(s_.fd);
      s_.fd_closed = true;
    }
  }
  Use(const Use&) = delete;
  Use& operator=(const Use&) = delete;

 private:
  Connection::State& s_;
};

// Reads exactly `n` bytes into `buf`. Returns the count read before end of stream (n on success).
std::size_t read_full(Connection::State& s, char* buf, std::size_t n, const char* api) {
  std::size_t got = 0;
  while (got < n) {
    if (!thread_parks()) wait_through_parker(s.fd, POLLIN, Deadline::forever());
    const long r = platform::read_some(s.fd, buf + got, n - got);
    if (r == 0) return got;
    if (r < 0) {
      if (got > 0) s.fail(std::string("read failed mid-message: ") + std::strerror(static_cast<int>(-r)));
      raise_os_error(static_cast<int>(-r), std::string(api) + ": read()");
    }
    got += static_cast<std::size_t>(r);
  }
  return got;
}

// Reads one whole frame's payload. Throws as recv_bytes documents.
pickle::bytes read_frame(Connection::State& s, std::optional<std::size_t> maxlength, const char* api) {
  Use use(s, api, Use::kRead);
  std::lock_guard g(s.recv_mutex);
  char header[kFrameHeader];
  const std::size_t h = read_full(s, header, kFrameHeader, api);
  if (h == 0) throw EOFError(std::string(api) + ": the other end closed the connection");
  if (h < kFrameHeader) {
    s.fail("got end of file during message");
    throw OSError(EPROTO, std::string(api) + ": got end of file during message (the writer died or closed mid-frame)");
  }
  if (std::memcmp(header, kFrameMagic, sizeof kFrameMagic) != 0) {
    s.fail("corrupt frame header");
    throw OSError(EPROTO, std::string(api) + ": corrupt frame header (bad magic): the stream is misaligned");
  }
  std::uint64_t length = 0;
  std::memcpy(&length, header + 4, sizeof length);
  if (maxlength && length > *maxlength) {
    s.fail("bad message length");
    throw OSError(EMSGSIZE, std::string(api) + ": bad message length: " + std::to_string(length) +
                                " bytes, maxlength " + std::to_string(*maxlength));
  }
  pickle::bytes out;
  std::size_t got = 0;
  while (got < length) {
    const std::size_t want = static_cast<std::size_t>(std::min<std::uint64_t>(length - got, kReadPiece));
    out.resize(got + want);
    const std::size_t r = read_full(s, out.data() + got, want, api);
    got += r;
    if (r < want) {
      s.fail("got end of file during message");
      throw OSError(EPROTO, std::string(api) + ": got end of file during message (" + std::to_string(got) + " of " +
                                std::to_string(length) + " bytes; the writer died or closed mid-frame)");
    }
  }
  return out;
}

void write_frame(Connection::State& s, const char* data, std::size_t size, const char* api) {
  Use use(s, api, Use::kWrite);
  std::lock_guard g(s.send_mutex);
  char header[kFrameHeader];
  std::memcpy(header, kFrameMagic, sizeof kFrameMagic);
  const std::uint64_t length = size;
  std::memcpy(header + 4, &length, sizeof length);
  iovec iov[2] = {{header, kFrameHeader}, {const_cast<char*>(data), size}};
  int first = 0;
  const int count = size == 0 ? 1 : 2;
  std::size_t written = 0;
  std::optional<platform::SigpipeGuard> guard;
  if (!s.is_socket) guard.emplace();
  while (first < count) {
    if (!thread_parks()) wait_through_parker(s.fd, POLLOUT, Deadline::forever());
    const long r = platform::write_iov(s.fd, iov + first, count - first, s.is_socket);
    if (r < 0) {
      if (r == -EPIPE && guard) guard->got_epipe();
      // Part of a frame went out: the reader would be misaligned by another frame after it.
      if (written > 0) s.fail(std::string("write failed mid-message: ") + std::strerror(static_cast<int>(-r)));
      raise_os_error(static_cast<int>(-r), std::string(api) + ": write()");
    }
    written += static_cast<std::size_t>(r);
    std::size_t n = static_cast<std::size_t>(r);
    while (first < count && n >= iov[first].iov_len) {
      n -= iov[first].iov_len;
      ++first;
    }
    if (first < count) {
      iov[first].iov_base = static_cast<char*>(iov[first].iov_base) + n;
      iov[first].iov_len -= n;
    }
  }
}

void check_range(std::size_t length, std::size_t offset, std::optional<std::size_t> size) {
  if (offset > length) throw ValueError("Connection::send_bytes(): buffer length < offset");
  if (size && *size > length - offset) throw ValueError("Connection::send_bytes(): buffer length < offset + size");
}

// poll() on `fds` until ready or `deadline`, through the calling context's parker.
bool poll_fds(pollfd* fds, std::size_t count, const Deadline& deadline, const char* api) {
  if (!thread_parks()) return subprocess::detail::wait_fds(fds, count, deadline);
  const int n = platform::poll_until(fds, count, deadline.when());
  if (n < 0) raise_os_error(-n, std::string(api) + ": poll()");
  return n > 0;
}

}  // namespace

Connection::Connection(int fd, bool readable, bool writable) {
  try {
    state_ = std::make_shared<State>(fd, readable, writable);
  } catch (...) {
    platform::close_fd(fd);
    throw;
  }
}

Connection::~Connection() = default;

void Connection::send_bytes(std::string_view buf, std::size_t offset, std::optional<std::size_t> size) {
  check_range(buf.size(), offset, size);
  write_frame(*state_, buf.data() + offset, size.value_or(buf.size() - offset), "Connection::send_bytes()");
}

void Connection::send_bytes(std::span<const std::byte> buf, std::size_t offset, std::optional<std::size_t> size) {
  send_bytes(std::string_view(reinterpret_cast<const char*>(buf.data()), buf.size()), offset, size);
}

pickle::bytes Connection::recv_bytes(std::optional<std::size_t> maxlength) {
  return read_frame(*state_, maxlength, "Connection::recv_bytes()");
}

std::size_t Connection::recv_bytes_into(std::span<char> buffer, std::size_t offset) {
  if (offset > buffer.size()) throw ValueError("Connection::recv_bytes_into(): offset out of bounds");
  pickle::bytes msg = read_frame(*state_, std::nullopt, "Connection::recv_bytes_into()");
  if (msg.size() > buffer.size() - offset) {
    const std::string what = "Connection::recv_bytes_into(): a message of " + std::to_string(msg.size()) +
                             " bytes does not fit in the buffer's " + std::to_string(buffer.size() - offset) + " bytes";
    throw BufferTooShort(what, std::move(msg));
  }
  if (!msg.empty()) std::memcpy(buffer.data() + offset, msg.data(), msg.size());
  return msg.size();
}

std::size_t Connection::recv_bytes_into(std::span<std::byte> buffer, std::size_t offset) {
  return recv_bytes_into(std::span<char>(reinterpret_cast<char*>(buffer.data()), buffer.size()), offset);
}

bool Connection::poll(Timeout timeout) {
  const Deadline deadline = Deadline::after(timeout, "Connection::poll()");
  Use use(*state_, "Connection::poll()", Use::kRead);
  pollfd p{state_->fd, POLLIN, 0};
  return poll_fds(&p, 1, deadline, "Connection::poll()");
}

void Connection::close() noexcept {
  std::lock_guard g(state_->mutex);
  state_->reason.clear();
  state_->close_locked();
}

bool Connection::closed() const noexcept {
  std::lock_guard g(state_->mutex);
  return !state_->open;
}

bool Connection::readable() const noexcept { return state_->readable; }
bool Connection::writable() const noexcept { return state_->writable; }

int Connection::fileno() const {
  std::lock_guard g(state_->mutex);
  if (!state_->open) throw OSError(EBADF, "Connection::fileno(): handle is closed");
  return state_->fd;
}

std::vector<Waitable> wait(const std::vector<Waitable>& objects, Timeout timeout) {
  const Deadline deadline = Deadline::after(timeout, "connection::wait()");
  std::vector<pollfd> fds;
  fds.reserve(objects.size());
  for (const Waitable& o : objects) fds.push_back({o.fileno(), POLLIN, 0});
  std::vector<Waitable> ready;
  if (!poll_fds(fds.data(), fds.size(), deadline, "connection::wait()")) return ready;
  for (std::size_t i = 0; i < objects.size(); ++i) {
    if (fds[i].revents != 0) ready.push_back(objects[i]);
  }
  return ready;
}

}  // namespace connection

std::pair<Connection, Connection> Pipe(bool duplex) {
  int fds[2];
  const int r = duplex ? platform::make_socketpair(fds) : platform::make_pipe(fds);
  if (r < 0) raise_os_error(-r, duplex ? "Pipe(): socketpair()" : "Pipe(): pipe()");
  if (duplex) return {Connection(fds[0], true, true), Connection(fds[1], true, true)};
  return {Connection(fds[0], true, false), Connection(fds[1], false, true)};
}

}  // namespace trident::multiprocessing
