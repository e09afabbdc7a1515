// Note 002 (seeds/002_b196a1fed76dacea.txt), section "python进程和线程", the first example: ten
// threads each sleep and print their argument; the main thread prints "hello" at once, and the
// program ends when the last thread has finished. The note sleeps 1 s; this translation 100 ms.
//
// In Python, `t` is rebound at each loop turn and the thread object lives on until the thread
// ends. A trident handle of a non-daemon thread joins its thread when destroyed, so a handle
// created and dropped inside the loop body would run the threads one at a time (and "hello" would
// come last). The handles go into a vector instead: all ten run at once, "hello" is printed at
// once, and the vector's destruction at the end of main waits for them, as Python's exit does.
#include <chrono>
#include <cstdio>
#include <thread>
#include <vector>

#include "trident/threading.hpp"

using namespace std::chrono_literals;
using trident::threading::Thread;

void func(int arg) {
  std::this_thread::sleep_for(100ms);  // time.sleep(1), scaled down
  std::printf("%d\n", arg);
}

int main() {
  std::vector<Thread> threads;
  for (int i = 0; i < 10; ++i) {
    Thread t(func, i);  // the main thread creates the thread here
    t.start();
    threads.push_back(std::move(t));  // keeps it running past this loop turn
  }
  std::printf("hello\n");
}
