// multiprocessing.Pipe and Connection, after the themes of CPython's _test_multiprocessing
// TestConnection (send/recv, send_bytes with offset and size, recv_bytes_into and BufferTooShort,
// poll, EOFError when the peer is gone, "handle is closed", duplex=False directions, large
// messages, connection.wait), across processes with os::fork, plus what Python lacks: a frame cut
// short by a writer killed mid-message or over maxlength is a clear error, after which the
// connection is closed rather than misaligned. A forked child reports through its exit status (a
// failed check prints itself) and leaves with os::_exit, never returning into GoogleTest.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include "subprocess/fd_wait.hpp"
#include "support/child.hpp"
#include "support/helpers.hpp"
#include "trident/detail/wait.hpp"
#include "trident/multiprocessing.hpp"
#include "trident/os.hpp"
#include "trident/threading.hpp"

extern "C" const char* __tsan_default_options() { return "die_after_fork=0"; }

namespace mp = trident::multiprocessing;
namespace os = trident::os;
using mp::Connection;
using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

namespace {

using trident::testing::start_child;

int join_child(int pid) {
  auto [reaped, status] = os::waitpid(pid, 0);
  EXPECT_EQ(reaped, pid);
  return os::waitstatus_to_exitcode(status);
}

template <class T>
std::string error_of(T&& f) {
  try {
    f();
  } catch (const std::exception& e) {
    return e.what();
  }
  return "no error";
}

bool contains(const std::string& s, const char* part) { return s.find(part) != std::string::npos; }

}  // namespace

// TestConnection.test_connection: objects and bytes both ways on a duplex pipe.
TEST(Connection, SendRecvObjectsAndBytesBothWays) {
  auto [a, b] = mp::Pipe();
  EXPECT_TRUE(a.readable() && a.writable() && b.readable() && b.writable());
  a.send(std::vector<int>{1, 2, 3});
  EXPECT_EQ(b.recv<std::vector<int>>(), (std::vector<int>{1, 2, 3}));
  b.send(std::map<std::string, double>{{"pi", 3.14}});
  EXPECT_EQ((a.recv<std::map<std::string, double>>()), (std::map<std::string, double>{{"pi", 3.14}}));
  a.send_bytes("hello");
  EXPECT_EQ(b.recv_bytes(), "hello");
  a.send_bytes("");  // an empty message is a message
  EXPECT_TRUE(b.poll());
  EXPECT_EQ(b.recv_bytes(), "");
  EXPECT_FALSE(b.poll());
}

// send_bytes(buf, offset, size) and its ValueErrors (Python: "buffer length < offset", ...).
TEST(Connection, SendBytesOffsetAndSize) {
  auto [a, b] = mp::Pipe();
  const std::string msg = "0123456789";
  a.send_bytes(msg, 3);
  EXPECT_EQ(b.recv_bytes(), "3456789");
  a.send_bytes(msg, 2, 4);
  EXPECT_EQ(b.recv_bytes(), "2345");
  a.send_bytes(msg, 10, 0);
  EXPECT_EQ(b.recv_bytes(), "");
  EXPECT_EQ(error_of([&] { a.send_bytes(msg, 11); }), "Connection::send_bytes(): buffer length < offset");
  EXPECT_EQ(error_of([&] { a.send_bytes(msg, 5, 6); }), "Connection::send_bytes(): buffer length < offset + size");
  EXPECT_THROW(a.send_bytes(msg, 11), trident::ValueError);
  EXPECT_FALSE(b.poll());
}

// recv_bytes_into(buffer, offset) returns the length; a message too long raises BufferTooShort
// holding the whole message, and the connection goes on (TestConnection's BufferTooShort check).
TEST(Connection, RecvBytesIntoAndBufferTooShort) {
  auto [a, b] = mp::Pipe();
  std::vector<char> buf(8, '.');
  a.send_bytes("abc");
  EXPECT_EQ(b.recv_bytes_into(std::span<char>(buf), 2), 3u);
  EXPECT_EQ(std::string(buf.begin(), buf.end()), "..abc...");
  a.send_bytes("too long for it");
  try {
    b.recv_bytes_into(std::span<char>(buf), 2);
    ADD_FAILURE() << "no BufferTooShort";
  } catch (const mp::BufferTooShort& e) {
    EXPECT_EQ(e.message, "too long for it");
  }
  a.send_bytes("ok");
  EXPECT_EQ(b.recv_bytes(), "ok");
  EXPECT_THROW(b.recv_bytes_into(std::span<char>(buf), 9), trident::ValueError);
}

// poll(timeout): false after the timeout with nothing to read, true as soon as a message arrives
// from another thread; a negative timeout is a ValueError.
TEST(Connection, PollTimeoutAndWakeup) {
  auto [a, b] = mp::Pipe();
  EXPECT_FALSE(b.poll());
  auto t0 = Clock::now();
  EXPECT_FALSE(b.poll(trident::Seconds(0.1)));
  auto waited = Clock::now() - t0;
  EXPECT_GE(waited, 95ms);
  EXPECT_LE(waited, 100ms + trident::testing::kTimeoutSlack);
  std::thread sender([a] {
    std::this_thread::sleep_for(50ms);
    Connection c = a;
    c.send(7);
  });
  EXPECT_TRUE(b.poll(std::nullopt));
  EXPECT_EQ(b.recv<int>(), 7);
  sender.join();
  EXPECT_THROW(b.poll(trident::Seconds(-1)), trident::ValueError);
}

// TestConnection: after the other end is closed, poll() is true and recv raises EOFError.
TEST(Connection, EOFErrorWhenPeerClosed) {
  auto [a, b] = mp::Pipe();
  a.send(1);
  a.close();
  EXPECT_EQ(b.recv<int>(), 1);  // what was sent before the close still arrives
  EXPECT_TRUE(b.poll());
  EXPECT_THROW(b.recv<int>(), trident::EOFError);
  EXPECT_THROW(b.recv_bytes(), trident::EOFError);
  EXPECT_FALSE(b.closed());
}

// Every call on a closed connection raises OSError "handle is closed"; close() is idempotent.
TEST(Connection, ClosedHandleIsOSError) {
  auto [a, b] = mp::Pipe();
  Connection copy = a;
  a.close();
  a.close();
  EXPECT_TRUE(a.closed());
  EXPECT_TRUE(copy.closed());  // copies are the same connection
  EXPECT_TRUE(contains(error_of([&] { a.send(1); }), "Connection::send_bytes(): handle is closed"));
  EXPECT_TRUE(contains(error_of([&] { (void)copy.recv<int>(); }), "Connection::recv_bytes(): handle is closed"));
  EXPECT_TRUE(contains(error_of([&] { (void)a.poll(); }), "handle is closed"));
  EXPECT_TRUE(contains(error_of([&] { (void)a.fileno(); }), "Connection::fileno(): handle is closed"));
  EXPECT_THROW(a.send(1), trident::OSError);
}

// Pipe(duplex=False): the first end only reads, the second only writes (OSError otherwise).
TEST(Connection, SimplexPipeDirections) {
  auto [r, w] = mp::Pipe(false);
  EXPECT_TRUE(r.readable());
  EXPECT_FALSE(r.writable());
  EXPECT_FALSE(w.readable());
  EXPECT_TRUE(w.writable());
  w.send(std::string("one way"));
  EXPECT_EQ(r.recv<std::string>(), "one way");
  EXPECT_TRUE(contains(error_of([&] { r.send(1); }), "connection is read-only"));
  EXPECT_TRUE(contains(error_of([&] { (void)w.recv_bytes(); }), "connection is write-only"));
}

// Sending when the reader is gone raises BrokenPipeError (and SIGPIPE does not kill us), on a
// socket pair and on a plain pipe.
TEST(Connection, SendToClosedPeerIsBrokenPipeError) {
  for (bool duplex : {true, false}) {
    auto [r, w] = mp::Pipe(duplex);
    r.close();
    EXPECT_THROW(w.send_bytes("x"), trident::BrokenPipeError) << "duplex=" << duplex;
  }
}

// A message over recv_bytes(maxlength) is an OSError ("bad message length", as CPython) and the
// connection is closed, not left in the middle of the message.
TEST(Connection, OverMaxlengthClosesTheConnection) {
  auto [a, b] = mp::Pipe();
  a.send_bytes(std::string(100, 'x'));
  a.send_bytes("next");
  const std::string e = error_of([&] { (void)b.recv_bytes(10); });
  EXPECT_TRUE(contains(e, "Connection::recv_bytes(): bad message length: 100 bytes, maxlength 10")) << e;
  EXPECT_TRUE(b.closed());
  const std::string later = error_of([&] { (void)b.recv_bytes(); });
  EXPECT_TRUE(contains(later, "handle is closed (bad message length)")) << later;
}

// recv<T>() of bytes pickled from another type: UnpicklingError, and the next message is intact.
TEST(Connection, RecvOfAnotherTypeIsUnpicklingErrorAndStreamStaysAligned) {
  auto [a, b] = mp::Pipe();
  a.send(42);
  a.send(std::string("after"));
  EXPECT_THROW((void)b.recv<std::string>(), trident::pickle::UnpicklingError);
  EXPECT_FALSE(b.closed());
  EXPECT_EQ(b.recv<std::string>(), "after");
  a.send_bytes("raw, not a pickle");
  EXPECT_THROW((void)b.recv<int>(), trident::pickle::UnpicklingError);
}

// A Connection is a copyable handle: copies given to threads (no std::ref) share it, and frames
// sent concurrently by several threads arrive whole.
TEST(Connection, CopiesSharedWithThreadsSendWholeFrames) {
  auto [a, b] = mp::Pipe();
  constexpr int kThreads = 4;
  constexpr int kEach = 200;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([a, t] {
      Connection c = a;
      for (int i = 0; i < kEach; ++i) c.send(std::vector<int>(1000 + t, t));
    });
  }
  std::vector<int> counts(kThreads, 0);
  for (int i = 0; i < kThreads * kEach; ++i) {
    auto v = b.recv<std::vector<int>>();
    ASSERT_FALSE(v.empty());
    const int t = v[0];
    ASSERT_EQ(v, std::vector<int>(1000 + t, t));
    ++counts[t];
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(counts, std::vector<int>(kThreads, kEach));
}

// close() from another thread while a thread is blocked in recv on a duplex connection wakes it
// (the fd is closed only once the blocked call has left it, so it never reads a reused fd).
TEST(Connection, CloseWakesABlockedReceiver) {
  auto [a, b] = mp::Pipe();
  std::atomic<bool> woke{false};
  std::thread reader([b, &woke] {
    Connection c = b;
    try {
      (void)c.recv_bytes();
    } catch (const trident::Exception&) {
      woke = true;
    }
  });
  std::this_thread::sleep_for(50ms);  // let it block (if it has not yet, it sees a closed handle)
  b.close();
  reader.join();
  EXPECT_TRUE(woke);
  EXPECT_TRUE(b.closed());
}

// TestConnection across processes: the child echoes objects and large byte messages back.
TEST(Connection, AcrossProcessesWithFork) {
  auto [parent_end, child_end] = mp::Pipe();
  const int pid = start_child([&] {
    parent_end.close();
    for (;;) {
      std::string m;
      try {
        m = child_end.recv_bytes();
      } catch (const trident::EOFError&) {
        return 0;
      }
      child_end.send_bytes(m);
    }
  });
  child_end.close();
  parent_end.send(std::string("ping"));
  EXPECT_EQ(parent_end.recv<std::string>(), "ping");
  const std::string big(10 << 20, 'b');  // larger than the socket buffers: both sides block and resume
  std::thread sender([parent_end, &big] {
    Connection c = parent_end;
    c.send_bytes(big);
  });
  EXPECT_EQ(parent_end.recv_bytes(), big);
  sender.join();
  parent_end.close();
  EXPECT_EQ(join_child(pid), 0);
}

// Crash injection: a writer SIGKILLed in the middle of a frame. The reader gets a clear OSError
// ("got end of file during message") and the connection is closed — no hang, no misaligned read.
TEST(Connection, WriterKilledMidFrameIsAClearErrorOnTheReader) {
  auto [reader, writer] = mp::Pipe();
  const int pid = start_child([&] {
    reader.close();
    writer.send_bytes(std::string(8 << 20, 'k'));  // blocks: nobody reads all of it
    return 0;
  });
  writer.close();
  ASSERT_TRUE(reader.poll(trident::Seconds(30)));  // the child is inside its frame
  ASSERT_EQ(kill(pid, SIGKILL), 0);
  EXPECT_EQ(join_child(pid), -SIGKILL);
  const std::string e = error_of([&] { (void)reader.recv_bytes(); });
  EXPECT_TRUE(contains(e, "got end of file during message")) << e;
  EXPECT_TRUE(reader.closed());
  EXPECT_TRUE(contains(error_of([&] { (void)reader.recv_bytes(); }), "handle is closed (got end of file"));
}

// A writer killed between frames: the frames it finished arrive, then EOFError.
TEST(Connection, WriterKilledBetweenFramesGivesEOFErrorAfterItsMessages) {
  auto [reader, writer] = mp::Pipe();
  const int pid = start_child([&] {
    reader.close();
    writer.send(1);
    writer.send(2);
    raise(SIGKILL);
    return 0;
  });
  writer.close();
  EXPECT_EQ(reader.recv<int>(), 1);
  EXPECT_EQ(reader.recv<int>(), 2);
  EXPECT_THROW(reader.recv<int>(), trident::EOFError);
  EXPECT_EQ(join_child(pid), -SIGKILL);
}

// After a fork, a Connection is usable in the child even if another thread of the parent was
// inside a call on it at that moment (holding its send lock, counted as a user of its fd): those
// threads do not exist in the child, so the child's copy starts with fresh locks and no users.
// Here the parent's thread is blocked sending a frame larger than the socket buffer; the child
// drains that frame, then sends and receives on the same connection, and closes it for real.
TEST(Connection, UsableInChildWhileAParentThreadWasInsideACall) {
  auto [a, b] = mp::Pipe();
  const std::string big(8 << 20, 's');
  std::thread sender([a, &big] {
    Connection c = a;
    c.send_bytes(big);  // blocks inside the frame until the child drains it
  });
  ASSERT_TRUE(b.poll(trident::Seconds(30)));  // the sender is inside send_bytes
  const int pid = start_child([&] {
    alarm(20);  // a lock left held by the parent's thread would hang here: fail instead
    CHILD_CHECK(b.recv_bytes() == big);
    a.send_bytes("from the child");
    CHILD_CHECK(b.recv_bytes() == "from the child");
    const int fd = a.fileno();
    a.close();
    CHILD_CHECK(fcntl(fd, F_GETFD) == -1);  // really closed: no user is left in this process
    return 0;
  });
  EXPECT_EQ(join_child(pid), 0);
  sender.join();
  EXPECT_FALSE(b.poll());
}

// Python's `with conn:` / __del__: the fd is closed when the last copy of a Connection goes.
TEST(Connection, LastCopyClosesTheFd) {
  int fd = -1;
  {
    auto [a, b] = mp::Pipe();
    fd = a.fileno();
    Connection copy = a;
    EXPECT_NE(fcntl(fd, F_GETFD), -1);
  }
  EXPECT_EQ(fcntl(fd, F_GETFD), -1);
}

// Closing a connection in a forked child closes the child's copy only (TestConnection's
// test_spawn_close theme): the parent's ends still carry messages.
TEST(Connection, CloseInChildLeavesTheParentsCopyOpen) {
  auto [a, b] = mp::Pipe();
  const int pid = start_child([&] {
    a.close();
    b.close();
    CHILD_CHECK(a.closed() && b.closed());
    return 0;
  });
  EXPECT_EQ(join_child(pid), 0);
  EXPECT_FALSE(a.closed());
  a.send(std::string("still open"));
  EXPECT_EQ(b.recv<std::string>(), "still open");
}

// A corrupt frame header (bytes written to the fd by something else) is an OSError that closes
// the connection instead of reading a garbage length.
TEST(Connection, CorruptFrameHeaderClosesTheConnection) {
  auto [a, b] = mp::Pipe();
  const char junk[] = "not a trident frame";
  ASSERT_EQ(write(a.fileno(), junk, sizeof junk), static_cast<ssize_t>(sizeof junk));
  const std::string e = error_of([&] { (void)b.recv_bytes(); });
  EXPECT_TRUE(contains(e, "corrupt frame header")) << e;
  EXPECT_TRUE(b.closed());
}

// connection.wait(object_list, timeout): the ready objects, in list order; empty on timeout;
// Connections and plain fds mixed (TestWait).
TEST(ConnectionWait, ReturnsReadyObjectsOrEmptyOnTimeout) {
  auto [a1, b1] = mp::Pipe();
  auto [a2, b2] = mp::Pipe();
  int fds[2];
  ASSERT_EQ(pipe(fds), 0);
  std::vector<mp::connection::Waitable> objects{b1, b2, fds[0]};
  auto t0 = Clock::now();
  EXPECT_TRUE(mp::connection::wait(objects, trident::Seconds(0.1)).empty());
  EXPECT_GE(Clock::now() - t0, 95ms);
  a2.send(2);
  auto ready = mp::connection::wait(objects);
  ASSERT_EQ(ready.size(), 1u);
  ASSERT_NE(ready[0].connection(), nullptr);
  EXPECT_TRUE(*ready[0].connection() == b2);
  ASSERT_EQ(write(fds[1], "x", 1), 1);
  a1.send(1);
  ready = mp::connection::wait(objects, trident::Seconds(5));
  ASSERT_EQ(ready.size(), 3u);
  EXPECT_TRUE(ready[0] == mp::connection::Waitable(b1));
  EXPECT_EQ(ready[2].fileno(), fds[0]);
  // A hung-up fd is ready too (a Process sentinel will be one).
  close(fds[1]);
  char c;
  ASSERT_EQ(read(fds[0], &c, 1), 1);
  ready = mp::connection::wait({fds[0]}, trident::Seconds(5));
  EXPECT_EQ(ready.size(), 1u);
  close(fds[0]);
  b1.close();
  EXPECT_THROW(mp::connection::wait({b1}), trident::OSError);
  EXPECT_THROW(mp::connection::wait({b2}, trident::Seconds(-1)), trident::ValueError);
}

// connection.wait from another thread is woken by a message from a forked child.
TEST(ConnectionWait, WokenByAnotherProcess) {
  auto [a, b] = mp::Pipe();
  const int pid = start_child([&] {
    b.close();
    std::this_thread::sleep_for(50ms);
    a.send(std::string("from child"));
    return 0;
  });
  a.close();
  auto ready = mp::connection::wait({b}, trident::Seconds(30));
  ASSERT_EQ(ready.size(), 1u);
  EXPECT_EQ(b.recv<std::string>(), "from child");
  EXPECT_EQ(join_child(pid), 0);
}

namespace {

namespace core = trident::detail;

// Stands in for a greenlet hub's parker: forwards to the thread parker and counts the parks.
class CountingParker : public core::Parker {
 public:
  bool park(core::Waiter& w, const core::Deadline& deadline) noexcept override {
    parks.fetch_add(1, std::memory_order_relaxed);
    return core::thread_parker().park(w, deadline);
  }
  void unpark(void* context, std::atomic<std::uint32_t>* word, std::uint32_t previous) noexcept override {
    core::thread_parker().unpark(context, word, previous);
  }
  std::atomic<int> parks{0};
};

CountingParker& counting_parker() {
  static CountingParker* p = new CountingParker;  // outlives every wait that used it
  return *p;
}

}  // namespace

// The waiting core's rule: a context whose parker is not the thread parker (a greenlet, later)
// does not sleep in the kernel on the fd; it parks through its own parker while the fd watcher
// watches the fd — for recv, poll and wait alike.
TEST(ConnectionWaitingCore, NonThreadParkerParksThroughTheCore) {
  auto [a, b] = mp::Pipe();
  CountingParker& parker = counting_parker();
  parker.parks = 0;
  {
    core::Parker* old = core::set_current_parker(&parker);
    std::thread sender([a] {
      std::this_thread::sleep_for(50ms);
      Connection c = a;
      c.send(std::string("through the core"));
      c.send(2);
    });
    EXPECT_EQ(b.recv<std::string>(), "through the core");
    const int after_recv = parker.parks.load();
    EXPECT_GT(after_recv, 0);
    EXPECT_TRUE(b.poll(trident::Seconds(30)));
    EXPECT_EQ(b.recv<int>(), 2);
    EXPECT_FALSE(b.poll(trident::Seconds(0.05)));
    EXPECT_TRUE(mp::connection::wait({b}, trident::Seconds(0.05)).empty());
    EXPECT_GT(parker.parks.load(), after_recv);
    sender.join();
    core::set_current_parker(old);
  }
  // The watcher thread exits once idle, so the leak checker sees no extra thread.
  auto until = Clock::now() + 10s;
  while (trident::subprocess::detail::fd_watcher_running() && Clock::now() < until) std::this_thread::sleep_for(5ms);
  EXPECT_FALSE(trident::subprocess::detail::fd_watcher_running());
}
