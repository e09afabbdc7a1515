// trident/multiprocessing.hpp — Python's `multiprocessing` module: the one header to include.
//
// What is here (docs/multiprocessing.md explains the design, one section per part):
// - processes (trident/multiprocessing/process.hpp): `Process`, `current_process`,
//   `parent_process`, `active_children`, `cpu_count`, the start methods `fork`, `forkserver` (the
//   default, as Python 3.14) and `spawn` with `set_start_method`/`get_start_method`/
//   `get_all_start_methods`/`get_context`, and `multiprocessing::main(argc, argv)`, the C++ form of
//   `if __name__ == "__main__":`;
// - pipes (this file): `Pipe(duplex)`, `connection::Connection`, `connection::wait`;
// - process-shared synchronization (trident/multiprocessing/synchronize.hpp), at top level as in
//   Python: `Lock`, `RLock`, `Semaphore`, `BoundedSemaphore`, `Condition`, `Event`, `Barrier`
//   (robust: a lock whose holder died is taken over, `owner_died()` says so);
// - shared values (trident/multiprocessing/sharedctypes.hpp), at top level: `Value<T>`,
//   `Array<T>`, `RawValue<T>`, `RawArray<T>`;
// - `multiprocessing::shared_memory::{SharedMemory, ShareableList}`
//   (trident/multiprocessing/shared_memory.hpp);
// - the errors `ProcessError`, `BufferTooShort` (trident/errors.hpp). Pickling is trident/pickle.hpp,
//   `os.fork` and friends trident/os.hpp.
// A context (`get_context("spawn")`, `fork_context`, ...) offers the same factories as Python's:
// `ctx.Process`, `ctx.Pipe`, `ctx.Lock()`, ..., `ctx.Value<T>(v)`, `ctx.Array<T>(n)`. Every IPC
// handle (a Connection, a lock, a Value, a SharedMemory) passed as a Process argument reaches the
// child as the same object under every start method.
//
// What deliberately differs from Python in pipes (the other headers list their own differences):
// - A Connection is a cheap copyable handle to shared state: copies (in another thread, or in a
//   forked child, which inherits the fd) are the same connection; `close()` on one closes it for
//   every copy in this process. The fd is closed when the last copy goes (Python's __del__).
// - `recv<T>()` names the type it expects; bytes of another type, a truncated frame or corrupt
//   data throw `pickle::UnpicklingError` (the frame was read whole, so the connection stays usable).
// - A frame over `maxlength`, a frame cut short (the writer died mid-message) or a corrupt frame
//   header throws OSError and closes the connection, so it is never read misaligned (Python's
//   pipe is silently corrupted then, as note 004 warns). Later calls throw OSError "handle is
//   closed", naming the reason.
// - Sends from several threads of one process are whole frames (a lock per direction); several
//   processes writing one end may interleave frames larger than the kernel's atomic write size,
//   as in Python.
#pragma once

#include <cstddef>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include "trident/errors.hpp"
#include "trident/pickle.hpp"
#include "trident/timeout.hpp"

namespace trident::multiprocessing {

namespace connection {

/// Python's `multiprocessing.connection.Connection`: one end of a pipe carrying whole messages.
///
/// Frames on the wire: a 12-byte header — magic "TRC1" (4 bytes), payload length (64-bit,
/// machine byte order) — then the payload. `send(obj)` sends `pickle::dumps(obj)` as the payload.
///
/// Blocking calls (recv*, poll with a timeout, send when the pipe is full) wait through trident's
/// waiting core: an OS thread sleeps in the kernel on the fd itself (read/write/ppoll), which is
/// how a thread parks; any other parker (a greenlet on a hub) has the fd watched by the fd watcher
/// and parks through its own parker — a greenlet hub will watch `fileno()` for readability
/// instead (docs/multiprocessing.md).
class Connection {
 public:
  /// Takes ownership of `fd` (a socket or pipe end; closed when the last copy goes).
  Connection(int fd, bool readable, bool writable);
  // Copying shares the connection; there is no move (a moved-from handle would be a null one).
  Connection(const Connection&) = default;
  Connection& operator=(const Connection&) = default;
  ~Connection();

  /// `send(obj)` sends `pickle::dumps(obj)` as one message. Blocks while the pipe is full. Throws
  /// OSError "handle is closed" / "connection is read-only", BrokenPipeError when the reader is
  /// gone.
  template <class T>
  void send(const T& obj) {
    send_bytes(pickle::dumps(obj));
  }

  /// `recv<T>()` receives one message and loads it as a `T`. Blocks until a message arrives.
  /// Throws EOFError if the other end was closed (no more messages), pickle::UnpicklingError if
  /// the message is not a `T` (the connection stays usable), OSError as recv_bytes does.
  template <class T>
  T recv() {
    return pickle::loads<T>(recv_bytes());
  }

  /// Python's `send_bytes(buf, offset=0, size=None)`: sends `buf[offset, offset + size)` as one
  /// message. Throws ValueError if the range is outside `buf`, else as send().
  void send_bytes(std::string_view buf, std::size_t offset = 0, std::optional<std::size_t> size = std::nullopt);
  /// The same for raw bytes.
  void send_bytes(std::span<const std::byte> buf, std::size_t offset = 0,
                  std::optional<std::size_t> size = std::nullopt);

  /// Python's `recv_bytes(maxlength=None)`: receives one message. Blocks until one arrives.
  /// Throws EOFError if the other end closed between messages; OSError (and closes this
  /// connection) if the message is longer than `maxlength` ("bad message length"), was cut short
  /// ("got end of file during message") or its header is corrupt; OSError "handle is closed" /
  /// "connection is write-only".
  pickle::bytes recv_bytes(std::optional<std::size_t> maxlength = std::nullopt);

  /// Python's `recv_bytes_into(buffer, offset=0)`: receives one message into `buffer` from
  /// `offset` on and returns its length. Throws ValueError if `offset` is past the end, and
  /// BufferTooShort (holding the whole message; the connection stays usable) if it does not fit;
  /// else as recv_bytes().
  std::size_t recv_bytes_into(std::span<std::byte> buffer, std::size_t offset = 0);
  std::size_t recv_bytes_into(std::span<char> buffer, std::size_t offset = 0);

  /// Python's `poll(timeout=0)`: whether a message (or the end of the stream) can be read now,
  /// waiting up to `timeout` (nullopt: forever; 0: just look). Throws ValueError for a negative
  /// timeout, OSError as recv_bytes().
  bool poll(Timeout timeout = Seconds(0));

  /// Python's `close()`: closes the connection for every copy in this process (a forked child's
  /// copy is its own). Idempotent. The fd is closed once no call is inside it: a call blocked in
  /// another thread on a duplex connection is woken (it sees the end of the stream); on a
  /// one-way pipe it waits until the other end writes or closes.
  void close() noexcept;
  /// Python's `closed` property.
  bool closed() const noexcept;
  /// Python's `readable` / `writable` properties.
  bool readable() const noexcept;
  bool writable() const noexcept;
  /// Python's `fileno()`: the fd (for `wait`, or a hub to watch). Throws OSError "handle is closed".
  int fileno() const;

  /// Copies are the same connection.
  bool operator==(const Connection& other) const noexcept { return state_ == other.state_; }

  struct State;

 private:
  std::shared_ptr<State> state_;
};

/// What `wait` accepts: a Connection or a file descriptor (a Process's `sentinel`).
class Waitable {
 public:
  Waitable(Connection c) : v_(std::move(c)) {}  // NOLINT: implicit, as wait([c1, c2, fd])
  Waitable(int fd) : v_(fd) {}                  // NOLINT
  /// The connection, or null for an fd.
  const Connection* connection() const noexcept { return std::get_if<Connection>(&v_); }
  /// The fd (a connection's fileno()).
  int fileno() const { return connection() != nullptr ? connection()->fileno() : std::get<int>(v_); }
  bool operator==(const Waitable& other) const noexcept { return v_ == other.v_; }

 private:
  std::variant<Connection, int> v_;
};

/// Python's `multiprocessing.connection.wait(object_list, timeout=None)`: waits until at least
/// one object is ready — a Connection with a message (or end of stream) to read, an fd readable
/// or hung up — or `timeout` passes, and returns the ready ones in the list's order (empty on
/// timeout). Throws ValueError for a negative timeout, OSError "handle is closed" for a closed
/// connection.
std::vector<Waitable> wait(const std::vector<Waitable>& objects, Timeout timeout = std::nullopt);

}  // namespace connection

using connection::Connection;

/// Python's `multiprocessing.Pipe(duplex=True)`: a connected pair. Duplex: both ends send and
/// receive (a UNIX socketpair). Not duplex: the first end only receives and the second only sends
/// (a pipe). Both fds are close-on-exec. Throws OSError if the system is out of fds.
std::pair<Connection, Connection> Pipe(bool duplex = true);

}  // namespace trident::multiprocessing

#include "trident/multiprocessing/process.hpp"  // Process and the start methods
#include "trident/multiprocessing/queues.hpp"
#include "trident/multiprocessing/shared_memory.hpp"
#include "trident/multiprocessing/sharedctypes.hpp"
#include "trident/multiprocessing/synchronize.hpp"
