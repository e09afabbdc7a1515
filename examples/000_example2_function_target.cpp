// Note 000 (seeds/000_5f9c59cc0c2e49ae.txt), section "threading", 示例2: a function as the
// thread's target, with a name and arguments (Python's target=func, name='thread1', args=(10,)).
#include <cstdio>
#include <string>

#include "trident/threading.hpp"

namespace threading = trident::threading;

// Python 2's `print range(num)`: "[0, 1, ..., num-1]".
std::string range_text(int num) {
  std::string s = "[";
  for (int i = 0; i < num; ++i) s += (i ? ", " : "") + std::to_string(i);
  return s + "]";
}

void func(int num) {
  std::printf("func is start.\n");
  std::printf("%s\n", range_text(num).c_str());
  std::printf("func is over.\n");
}

int main() {
  threading::Thread thread1({.name = "thread1"}, func, 10);
  thread1.start();
  thread1.join();
  std::printf("main thread is over\n");
}
