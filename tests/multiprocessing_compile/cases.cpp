// Compile-time cases for tests/multiprocessing_compile/CMakeLists.txt: one per macro. Python only
// finds an unpicklable target when the child is started; a typed context finds it at compile time.
#include <functional>

#include "trident/multiprocessing.hpp"

namespace mp = trident::multiprocessing;

struct Opaque {
  int x = 0;  // no serialize: cannot be pickled
};

void plain(int) {}
void takes_opaque(Opaque) {}

int main() {
  int captured = 1;
#if defined(CASE_CAPTURING_LAMBDA)
  auto p = mp::spawn_context.Process([captured] { (void)captured; });
#elif defined(CASE_STD_FUNCTION)
  std::function<void()> fn = [captured] { (void)captured; };
  auto p = mp::forkserver_context.Process(fn);
#elif defined(CASE_UNPICKLABLE)
  auto p = mp::spawn_context.Process(takes_opaque, Opaque{});
#elif defined(CASE_FORK)
  // Under fork anything crosses; plain functions and picklable arguments cross everywhere.
  std::function<void()> fn = [captured] { (void)captured; };
  auto a = mp::fork_context.Process([captured] { (void)captured; });
  auto b = mp::fork_context.Process(fn);
  auto c = mp::fork_context.Process(takes_opaque, Opaque{});
  auto d = mp::spawn_context.Process(plain, 1);
  auto e = mp::forkserver_context.Process([](int) {}, 2);
#endif
}
