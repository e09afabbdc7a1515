// Note 002 (seeds/002_b196a1fed76dacea.txt), section "Event只有符合条件时才通过": ten threads wait
// on an Event; the main thread reads a line like `input(">>")` and sets the event when it is "1".
//
// The line comes from standard input (the smoke test feeds "1"). When stdin is not a terminal the
// prompt is printed with the line read, so the output reads as a session would. On any other input
// the Python program would wait forever; this translation says so and releases the threads anyway,
// so it always ends. v is atomic: ten threads decrement it at once (a data race on a plain int).
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include "trident/threading.hpp"

namespace threading = trident::threading;

std::atomic<int> v{10};
threading::Event lock;

void func(int) {
  std::printf("ddd\n");
  lock.wait();  // blocks until the event is set
  std::printf("%d\n", --v);
}

int main() {
  std::vector<std::unique_ptr<threading::Thread>> threads;
  for (int i = 0; i < 10; ++i) {
    threads.push_back(std::make_unique<threading::Thread>(func, i));
    threads.back()->start();
  }
  // input(">>"): on a terminal the prompt comes first; fed input is echoed after the prompt in
  // one line, so the threads' output cannot land between the two.
  const bool tty = ::isatty(0);
  if (tty) {
    std::printf(">>");
    std::fflush(stdout);
  }
  std::string ev;
  std::getline(std::cin, ev);
  if (!tty) std::printf(">>%s\n", ev.c_str());
  if (ev == "1") {
    lock.set();  // unlock
  } else {
    std::printf("not \"1\": the Python program would wait forever here; releasing the threads anyway\n");
    lock.set();
  }
  for (auto& t : threads) t->join();
}
