// Note 004 (seeds/004_1070f59b120f7860.txt), section "#多进程的数据传递", the part on Pipe: Pipe
// returns the two connection objects of a pipe (duplex by default; with duplex=False the first
// only receives and the second only sends), and the methods it lists — poll([timeout]) with no
// timeout, a number, or None; recv/send of picklable objects; send_bytes/recv_bytes;
// EOFError when the other end is closed; close/closed/readable/writable/fileno. The note has no
// program; this one exercises each method it explains, between a parent and a child.
//
// multiprocessing.Process is not in trident yet, so the child is made with os::fork() (the fork
// start method is exactly that); the child leaves with os::_exit. (The note's last warning — a
// pipe is corrupted when a process is killed while writing — does not apply to trident: the reader
// gets a clear error instead, see docs/multiprocessing.md and the connection tests.)
#include <cstdio>
#include <string>
#include <vector>

#include "trident/multiprocessing.hpp"
#include "trident/os.hpp"

namespace mp = trident::multiprocessing;
namespace os = trident::os;
using trident::Seconds;

int main() {
  auto [parent_conn, child_conn] = mp::Pipe();  // duplex: both ends send and receive
  std::printf("duplex ends: readable=%d writable=%d\n", parent_conn.readable(), parent_conn.writable());
  std::fflush(stdout);

  const int pid = os::fork();
  if (pid == 0) {
    parent_conn.close();
    auto numbers = child_conn.recv<std::vector<int>>();  // blocks until the parent sends
    int sum = 0;
    for (int n : numbers) sum += n;
    child_conn.send(sum);
    child_conn.send_bytes("thank you");
    child_conn.close();
    os::_exit(0);
  }
  child_conn.close();

  // poll() with no timeout returns at once: nothing has been sent yet.
  std::printf("poll() before sending: %s\n", parent_conn.poll() ? "True" : "False");
  parent_conn.send(std::vector<int>{1, 2, 3, 4});
  // poll(timeout) blocks at most that long; poll(None) would block until data arrives.
  std::printf("poll(5.0) after sending: %s\n", parent_conn.poll(Seconds(5.0)) ? "True" : "False");
  std::printf("recv() -> %d\n", parent_conn.recv<int>());
  std::printf("recv_bytes() -> %s\n", parent_conn.recv_bytes().c_str());
  try {
    parent_conn.recv_bytes();
  } catch (const trident::EOFError&) {
    std::printf("recv_bytes() after the child closed its end -> EOFError\n");
  }
  os::waitpid(pid, 0);
  parent_conn.close();
  std::printf("closed: %s\n", parent_conn.closed() ? "True" : "False");

  auto [reader, writer] = mp::Pipe(false);  // one way: the first end receives, the second sends
  std::printf("duplex=False: reader writable=%d, writer readable=%d\n", reader.writable(), writer.readable());
  writer.send_bytes("one way", 4);  // send_bytes(buffer, offset)
  std::printf("fileno() is an fd: %s; recv_bytes() -> %s\n", reader.fileno() >= 0 ? "yes" : "no",
              reader.recv_bytes().c_str());
  return 0;
}
