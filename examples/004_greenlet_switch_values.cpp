// Note 004 (seeds/004_1070f59b120f7860.txt), section "greenlet", `switch(*args, **kwargs)`: the
// first switch into a greenlet runs its `run` with the switch's arguments; a switch into a
// suspended greenlet resumes it, and its own pending switch returns those arguments — nothing
// (Python's None / `()`), one value, or several (a tuple). Switching to a finished greenlet, or to
// the current one, simply returns the arguments.
//
// C++ names the type a switch expects: `switch_<int>()`, `switch_<std::tuple<...>>()`, or
// `switch_()` for a run-time checked `Values`; a wrong type is a TypeError, shown at the end.
#include <iostream>
#include <string>
#include <tuple>

#include "trident/greenlet.hpp"

using trident::greenlet::getcurrent;
using trident::greenlet::greenlet;
using trident::greenlet::Values;

int main() {
  greenlet main_greenlet = getcurrent();
  greenlet worker([&](std::string greeting) {
    std::cout << "run() called with: " << greeting << "\n";
    Values nothing = main_greenlet.switch_();  // suspend; come back with nothing
    std::cout << "resumed with " << nothing.size() << " values (None)\n";
    int one = main_greenlet.switch_<int>(1);
    std::cout << "resumed with one value: " << one << "\n";
    auto [a, b] = main_greenlet.switch_<std::tuple<int, std::string>>(2);
    std::cout << "resumed with a tuple: (" << a << ", '" << b << "')\n";
    return std::string("run() returned");
  });

  worker.switch_(std::string("hello"));  // starts run("hello"); returns when it switches back
  int two = worker.switch_<int>();       // resumes it with nothing; it switches back 1
  std::cout << "main got: " << two << "\n";
  int got = worker.switch_<int>(42);  // one value; it switches back 2
  std::cout << "main got: " << got << "\n";
  std::string last = worker.switch_<std::string>(7, std::string("seven"));  // a tuple; run returns
  std::cout << "main got: " << last << "\n";
  std::cout << "worker.dead = " << std::boolalpha << worker.dead() << "\n";

  // A finished greenlet, or the current one: the switch returns its own arguments.
  std::cout << "switch to dead worker returned: " << worker.switch_<int>(99) << "\n";
  std::cout << "switch to current returned: " << main_greenlet.switch_<std::string>(std::string("self")) << "\n";

  // Asking for the wrong type is an error, not a wrong value.
  greenlet liar([&] { main_greenlet.switch_(3.5); });
  try {
    liar.switch_<int>();
  } catch (const trident::TypeError& e) {
    std::cout << "TypeError: " << e.what() << "\n";
  }
}
