// Note 003 (seeds/003_0d7c02d8a7625695.txt), section "python实现多进程的模块 threading", 例子:
// music and log threads; log is a daemon (t2.setDaemon(True)) and nobody joins. The main thread
// prints "end main process" at once; the process then waits for music (not a daemon) and ends
// without waiting for log, so "end log" is never printed. The note sleeps 3 s and 5 s; this
// translation 300 ms and, as the note, 5 s for log: nobody waits for it, so it costs nothing, and
// the wide margin keeps "end log" out of the output even on a slow (sanitized) exit.
//
// The handles are destroyed at the end of main while the threads run: t2 (log, a daemon) first,
// which detaches it; then t1 (music, not a daemon), which waits for it. So the program waits for
// non-daemon threads only, exactly Python's rule at exit.
#include <chrono>
#include <cstdio>
#include <thread>

#include "trident/threading.hpp"

using namespace std::chrono_literals;
namespace threading = trident::threading;

void music() {
  std::printf("start music\n");
  std::this_thread::sleep_for(300ms);
  std::printf("end music\n");
}

void log() {
  std::printf("start log\n");
  std::this_thread::sleep_for(5s);
  std::printf("end log\n");
}

int main() {
  threading::Thread t1({.name = "music"}, music);
  threading::Thread t2({.name = "log"}, log);

  t2.set_daemon(true);  // setDaemon(True): the process will not wait for it

  t1.start();
  t2.start();

  // t1.join();

  std::printf("end main process\n");
}
