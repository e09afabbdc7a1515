// Note 001 (seeds/001_ac1dc8bb15e913a9.txt), section "6. Coroutine 协程", 2. 用法: a generator that
// receives values. `jump = yield index` both hands `index` to the caller and takes what the caller
// sends back; `next()` sends None, so the generator steps by 1, and `send(2)` makes it jump by 2.
// Prints 0 2 3 2, one per line, as the note's program does.
#include <cstdio>
#include <optional>

#include "trident/generator.hpp"

// def jumping_range(N): the Send type (int) is what `send()` passes in; `co_yield` returns it as an
// std::optional<int>, empty after next() (Python's None).
trident::Generator<int, int> jumping_range(int n) {
  int index = 0;
  while (index < n) {
    // The value sent with send() is assigned to jump (通过send()发送的信息将赋值给jump).
    std::optional<int> jump = co_yield index;
    if (!jump) jump = 1;  // if jump is None: jump = 1
    index += *jump;
  }
}

int main() {
  auto itr = jumping_range(5);
  std::printf("%d\n", next(itr));
  std::printf("%d\n", itr.send(2));
  std::printf("%d\n", next(itr));
  std::printf("%d\n", itr.send(-1));
}
