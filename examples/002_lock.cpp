// Note 002 (seeds/002_b196a1fed76dacea.txt), section "线程锁": ten threads print "ddd", then take
// turns under a Lock to decrement v and print it. The note sleeps 1 s inside the lock; this
// translation 50 ms (the ten turns take half a second).
//
// The note creates each Thread inside the loop and lets it go. A trident handle of a non-daemon
// thread joins it when destroyed, so a handle dropped at the end of the loop body would run the
// threads one after another; the handles are kept in a vector instead, and the vector's
// destruction at the end of main waits for all ten (as Python's exit does).
#include <chrono>
#include <cstdio>
#include <thread>
#include <vector>

#include "trident/threading.hpp"

using namespace std::chrono_literals;
namespace threading = trident::threading;

int v = 10;  // guarded by lock
threading::Lock lock;

void func(int) {
  std::printf("ddd\n");
  lock.acquire();  // from here on, one thread at a time
  std::this_thread::sleep_for(50ms);
  v -= 1;
  std::printf("%d\n", v);
  lock.release();
}

int main() {
  std::vector<threading::Thread> threads;
  for (int i = 0; i < 10; ++i) {
    threads.emplace_back(func, i);
    threads.back().start();
  }
}
