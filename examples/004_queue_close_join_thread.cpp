// Note 004 (seeds/004_1070f59b120f7860.txt), section "#多进程的数据传递" (passing data between
// processes), the part on the process Queue: its methods are the thread queue's (put, get, qsize,
// empty, full, put_nowait, get_nowait), plus three about CPython's background "feeder" thread:
// close() (this process will put no more; the feeder flushes and exits), join_thread() (wait for
// the feeder to flush everything into the pipe; only after close()), and cancel_join_thread() (let
// the process exit without waiting for that flush — "allow_exit_without_flush", which may lose
// items). The note has no program; this one uses each method, between the parent and two children.
//
// What the three mean in trident: there is no feeder thread. put() serializes the item in the
// caller and copies it into the queue's shared memory before returning, so every item put is
// already visible to every process (docs/multiprocessing.md, "Queues"). Hence close() only marks
// this process's handle closed (put/get then raise ValueError, as CPython's do); join_thread()
// returns at once (it still requires close() first, as CPython asserts); cancel_join_thread() can
// lose nothing — the second child exits with os::_exit right after putting, which in CPython could
// drop items still in the feeder's buffer, and here every item arrives.
//
// Not racy: the parent prints everything, after each child has been joined.
#include <cstdio>
#include <string>

#include "trident/multiprocessing.hpp"
#include "trident/os.hpp"

namespace mp = trident::multiprocessing;
namespace os = trident::os;

// Puts `n` numbers, then closes its handle and joins the (nonexistent) feeder, as a careful Python
// producer does before it exits.
void producer(mp::Queue<int> q, int n) {
  for (int i = 0; i < n; ++i) q.put(i);
  q.close();
  q.join_thread();
}

// Puts `n` numbers and leaves at once without flushing anything: CPython's cancel_join_thread() case.
void hasty_producer(mp::Queue<int> q, int n) {
  q.cancel_join_thread();
  for (int i = 0; i < n; ++i) q.put(1000 + i);
  os::_exit(0);
}

int main(int argc, char** argv) {
  mp::main(argc, argv);
  mp::Queue<int> q(100);  // maxsize=100

  // The thread queue's methods, in one process.
  q.put_nowait(-1);
  std::printf("qsize() = %ld, empty() = %s, full() = %s\n", q.qsize(), q.empty() ? "True" : "False",
              q.full() ? "True" : "False");
  std::printf("get_nowait() -> %d\n", q.get_nowait());
  try {
    q.get_nowait();
  } catch (const trident::queue::Empty&) {
    std::printf("get_nowait() on an empty queue -> queue.Empty\n");
  }
  try {
    q.join_thread();
  } catch (const trident::ValueError&) {
    std::printf("join_thread() before close() -> ValueError\n");
  }

  mp::Process p(producer, q, 50);
  p.start();
  p.join();
  long sum = 0;
  for (int i = 0; i < 50; ++i) sum += q.get();
  std::printf("producer closed and joined its queue; got 50 items, sum %ld\n", sum);

  mp::Process hasty(hasty_producer, q, 50);
  hasty.start();
  hasty.join();
  int got = 0;
  while (!q.empty()) {
    q.get();
    ++got;
  }
  std::printf("hasty producer (cancel_join_thread, os._exit): got %d of 50 items\n", got);

  q.close();
  try {
    q.put(1);
  } catch (const trident::ValueError&) {
    std::printf("put() after close() -> ValueError\n");
  }
  q.join_thread();
  std::printf("join_thread() after close() returned at once\n");
}
