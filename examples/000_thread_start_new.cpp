// Note 000 (seeds/000_5f9c59cc0c2e49ae.txt), section "thread": the deprecated `thread` module's
// `thread.start_new(func, ('thread1',))`, followed by `while True: pass`.
//
// `thread.start_new` starts a bare thread that nobody joins and that does not keep the process
// alive (the note keeps main spinning forever so the thread gets to print). The closest trident
// form is a daemon Thread whose handle is dropped at once: it runs on, detached, and the process
// would not wait for it at exit. Instead of spinning forever, this translation spins (politely,
// with short waits) only until the thread has printed, then ends.
#include <chrono>
#include <cstdio>
#include <string>

#include "trident/threading.hpp"

using namespace std::chrono_literals;
namespace threading = trident::threading;

threading::Event printed;

void func(const std::string& thread_name) {
  std::printf("This threadName is %s\n", thread_name.c_str());
  std::fflush(stdout);
  printed.set();
}

int main() {
  {
    // thread.start_new(func, ('thread1',)): start and forget.
    threading::Thread t({.daemon = true}, func, std::string("thread1"));
    t.start();
  }  // the handle is gone; the thread runs on, detached
  while (!printed.wait(10ms)) {
    // `while True: pass`, but ending once the thread did its work
  }
  std::printf("main: thread1 printed; the Python original would spin here forever\n");
}
