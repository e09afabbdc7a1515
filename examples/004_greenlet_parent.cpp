// Note 004 (seeds/004_1070f59b120f7860.txt), section "greenlet", `greenlet(run=None, parent=None)`:
// a new greenlet does not run until switched to; its parent — by default the greenlet that created
// it — is where control goes when `run` finishes, carrying run's return value (and where an
// exception escaping run is raised). Reparenting changes where the end goes.
#include <iostream>
#include <stdexcept>
#include <string>

#include "trident/greenlet.hpp"

using trident::greenlet::getcurrent;
using trident::greenlet::greenlet;

int main() {
  greenlet main_greenlet = getcurrent();

  // The default parent: the creator. run's return value is what the creator's switch returns.
  greenlet child([](int x) { return x * 2; });
  std::cout << "child's parent is main: " << std::boolalpha << (*child.parent() == main_greenlet) << "\n";
  std::cout << "child returned to main: " << child.switch_<int>(21) << "\n";

  // An explicit parent: `collector` gets the child's result, not main.
  greenlet collector([&](int result) {
    std::cout << "collector received " << result << " from its child\n";
    return std::string("collector done");
  });
  greenlet worker([] { return 100; }, collector);
  std::string got = worker.switch_<std::string>();
  std::cout << "main got: " << got << "\n";

  // Reparenting before the end: the result goes to the new parent.
  greenlet logger([&] {
    for (;;) {
      int v = main_greenlet.switch_<int>();
      std::cout << "logger got " << v << "\n";
    }
  });
  logger.switch_();  // started: waits for ints
  greenlet job([] { return 7; });
  job.set_parent(logger);
  job.switch_();  // job finishes: logger receives 7, then switches back to main

  // A cycle is refused, as in greenlet.
  try {
    logger.set_parent(job);  // job's parent is logger
  } catch (const trident::ValueError& e) {
    std::cout << "ValueError: " << e.what() << "\n";
  }

  // An exception escaping run is raised in the parent.
  greenlet failing([] { throw std::runtime_error("failed in the child"); });
  try {
    failing.switch_();
  } catch (const std::runtime_error& e) {
    std::cout << "main caught: " << e.what() << "\n";
  }
}
