// Note 003 (seeds/003_0d7c02d8a7625695.txt), section "event对象", the first example: two workers
// wait for the "redis ready" Event; the main thread checks the server, then sets it, and both go
// on. The note sleeps 3 s (the check) and 1 s (the work); this translation 300 ms and 100 ms.
// logging.debug with format '(%(threadName)-10s) %(message)s' becomes debug() below.
#include <chrono>
#include <cstdarg>
#include <cstdio>
#include <ctime>
#include <string>
#include <thread>

#include "trident/threading.hpp"

using namespace std::chrono_literals;
namespace threading = trident::threading;

// logging.debug(msg, *args) with the note's format: the thread's name padded to 10, then the message.
void debug(const char* fmt, ...) __attribute__((format(printf, 1, 2)));
void debug(const char* fmt, ...) {
  char message[512];
  va_list args;
  va_start(args, fmt);
  std::vsnprintf(message, sizeof message, fmt, args);
  va_end(args);
  std::printf("(%-10s) %s\n", threading::current_thread().name().c_str(), message);
}

// time.ctime(): "Mon Nov 30 16:32:04 2026".
std::string ctime_now() {
  std::time_t t = std::time(nullptr);
  char buf[64];
  std::tm tm{};
  localtime_r(&t, &tm);
  std::strftime(buf, sizeof buf, "%a %b %e %H:%M:%S %Y", &tm);
  return buf;
}

void worker(threading::Event& event) {
  debug("Waiting for redis ready...");
  event.wait();
  debug("redis ready, and connect to redis server and do some work [%s]", ctime_now().c_str());
  std::this_thread::sleep_for(100ms);
}

int main() {
  threading::Event readis_ready;
  threading::Thread t1({.name = "t1"}, worker, std::ref(readis_ready));
  t1.start();

  threading::Thread t2({.name = "t2"}, worker, std::ref(readis_ready));
  t2.start();

  debug("first of all, check redis server, make sure it is OK, and then trigger the redis ready event");
  std::this_thread::sleep_for(300ms);  // simulate the check progress
  readis_ready.set();
  // In Python main() returns and the interpreter waits for t1 and t2; the event must outlive
  // them, so the C++ main joins before readis_ready goes out of scope.
  t1.join();
  t2.join();
}
