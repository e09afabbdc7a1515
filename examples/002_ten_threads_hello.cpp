// Note 002 (seeds/002_b196a1fed76dacea.txt), section "python进程和线程", the first example: ten
// threads each sleep and print their argument; the main thread prints "hello" at once, and the
// program ends when the last thread has finished. The note sleeps 1 s; this translation 100 ms.
//
// As in Python, the handle `t` goes away at the end of each loop turn while its thread runs on,
// and the process still waits for these non-daemon threads at exit (trident's Thread rule).
#include <chrono>
#include <cstdio>
#include <thread>

#include "trident/threading.hpp"

using namespace std::chrono_literals;
using trident::threading::Thread;

void func(int arg) {
  std::this_thread::sleep_for(100ms);  // time.sleep(1), scaled down
  std::printf("%d\n", arg);
}

int main() {
  for (int i = 0; i < 10; ++i) {
    Thread t(func, i);  // the main thread creates the thread here
    t.start();
  }
  std::printf("hello\n");
}
