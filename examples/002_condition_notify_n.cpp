// Note 002 (seeds/002_b196a1fed76dacea.txt), section "condition指定数目通过": ten threads wait on a
// Condition; the main thread reads numbers like `input(">>")` and lets that many through with
// notify(n).
//
// Differences, each for a reason:
// - The numbers come from standard input (the smoke test feeds them). When stdin is not a
//   terminal the prompt is printed with each number read.
// - A person types only after the threads are waiting; fed input arrives at once, so the main
//   thread first waits until all ten are inside wait() (each signals it while holding the lock),
//   otherwise early notify() calls would find nobody to wake.
// - After each notify(n) the main thread waits until those n threads have printed, so the output
//   reads in order.
// - The Python loop never ends; this one stops at end of input, says so, and releases the threads
//   still waiting with notify_all() so the program can end.
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include "trident/threading.hpp"

using namespace std::chrono_literals;
namespace threading = trident::threading;

int v = 10;  // guarded by lock
threading::Condition lock;
threading::Semaphore waiting(0), printed(0);

void func(int) {
  std::printf("ddd\n");
  lock.acquire();
  waiting.release();  // "I am about to wait" — still holding the lock
  lock.wait();        // wait
  v -= 1;
  std::printf("%d\n", v);
  lock.release();
  printed.release();
}

int main() {
  std::vector<std::unique_ptr<threading::Thread>> threads;
  for (int i = 0; i < 10; ++i) {
    threads.push_back(std::make_unique<threading::Thread>(func, i));
    threads.back()->start();
  }
  for (int i = 0; i < 10; ++i) waiting.acquire();
  int still_waiting = 10;
  const bool tty = ::isatty(0);
  std::string n;
  for (;;) {
    lock.acquire();
    if (tty) {
      std::printf(">>");
      std::fflush(stdout);
    }
    if (!std::getline(std::cin, n)) {
      lock.release();
      break;
    }
    if (!tty) std::printf(">>%s\n", n.c_str());
    int count = 0;
    try {
      count = std::stoi(n);
    } catch (const std::exception&) {
      std::printf("not a number: %s\n", n.c_str());  // Python would raise ValueError here
    }
    lock.notify(count);  // let that many through
    lock.release();
    // Wait for the woken threads to print (at most as many as still wait).
    int woken = std::min(std::max(count, 0), still_waiting);
    for (int i = 0; i < woken; ++i) printed.acquire();
    still_waiting -= woken;
  }
  std::printf("%send of input: the Python loop would wait for more forever; releasing the %d thread%s left\n",
              tty ? "\n" : "", still_waiting, still_waiting == 1 ? "" : "s");
  lock.acquire();
  lock.notify_all();
  lock.release();
  for (auto& t : threads) t->join();
}
