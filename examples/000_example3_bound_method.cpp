// Note 000 (seeds/000_5f9c59cc0c2e49ae.txt), section "threading", 示例3: a bound method as the
// target (Python's target=th.process). In C++ a member function bound to its object is
// std::bind_front(&Th::process, &th); the object must outlive the thread, as it does here.
#include <cstdio>
#include <functional>
#include <string>

#include "trident/threading.hpp"

namespace threading = trident::threading;

class Th {
 public:
  void process(int n) {
    std::printf("Th is start.\n");
    std::string s = "[";
    for (int i = 0; i < n; ++i) s += (i ? ", " : "") + std::to_string(i);
    std::printf("%s]\n", s.c_str());
    std::printf("Th is end.\n");
  }
};

int main() {
  Th th;
  threading::Thread thread1({.name = "th_process"}, std::bind_front(&Th::process, &th), 10);
  thread1.start();
  thread1.join();
  std::printf("main thread is over\n");
}
