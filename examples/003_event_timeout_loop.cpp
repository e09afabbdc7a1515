// Note 003 (seeds/003_0d7c02d8a7625695.txt), section "event对象", the second example: the worker
// waits with a timeout in a loop, logging "Waiting for redis ready..." each time the wait times
// out, until the event is set. The note waits 2 s per turn against a 3 s check, sleeps 1 s after;
// this translation waits 100 ms per turn against a 300 ms check, and sleeps 100 ms after. The
// note shows only the new worker(); main() is the first example's.
#include <chrono>
#include <cstdarg>
#include <cstdio>
#include <ctime>
#include <string>
#include <thread>

#include "trident/threading.hpp"

using namespace std::chrono_literals;
namespace threading = trident::threading;

// logging.debug with the note's format '(%(threadName)-10s) %(message)s'.
void debug(const char* fmt, ...) __attribute__((format(printf, 1, 2)));
void debug(const char* fmt, ...) {
  char message[512];
  va_list args;
  va_start(args, fmt);
  std::vsnprintf(message, sizeof message, fmt, args);
  va_end(args);
  std::printf("(%-10s) %s\n", threading::current_thread().name().c_str(), message);
}

std::string ctime_now() {
  std::time_t t = std::time(nullptr);
  char buf[64];
  std::tm tm{};
  localtime_r(&t, &tm);
  std::strftime(buf, sizeof buf, "%a %b %e %H:%M:%S %Y", &tm);
  return buf;
}

void worker(threading::Event& event) {
  while (!event.is_set()) {
    debug("Waiting for redis ready...");
    event.wait(100ms);  // event.wait(2), scaled down: returns after the timeout if still unset
  }
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
  t1.join();
  t2.join();
}
