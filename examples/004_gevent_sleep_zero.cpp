// Note 004 (seeds/004_1070f59b120f7860.txt), section "gevent", `sleep(seconds=0)`: "a value of 0
// (the default) means to yield execution to any other runnable greenlets, but this greenlet may be
// scheduled again before the event loop cycles [...]; a value greater than 0, on the other hand,
// will delay running this greenlet until the next iteration of the loop."
//
// Three greenlets: two yield with sleep(0) and take turns at once; the third sleeps a nanosecond,
// yet runs only after the loop has turned — after the sleep(0) greenlets have gone round again.
#include <iostream>
#include <string>

#include "trident/gevent.hpp"

namespace gevent = trident::gevent;

int main() {
  auto yielder = [](std::string name) {
    for (int i = 0; i < 3; ++i) {
      std::cout << name << " step " << i << "\n";
      gevent::sleep(0);  // yield to the other ready greenlets only
    }
  };
  auto a = gevent::spawn(yielder, std::string("a"));
  auto b = gevent::spawn(yielder, std::string("b"));
  auto c = gevent::spawn([] {
    gevent::sleep(1e-9);  // > 0: not before the next loop iteration
    std::cout << "c woke from sleep(1e-9)\n";
  });
  gevent::joinall({a, b, c});
  std::cout << "all done\n";
}
