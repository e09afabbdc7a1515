// Note 001 (seeds/001_ac1dc8bb15e913a9.txt), section "3. ThreadLocal": a global threading.local
// holding each thread's student, read by a function that takes no argument.
#include <cstdio>
#include <string>

#include "trident/threading.hpp"

namespace threading = trident::threading;

// The global ThreadLocal object: each thread sees its own student.
struct School {
  std::string student;
};
threading::local<School> local_school;

void process_student() {
  // The student bound to the current thread.
  const std::string& std_ = local_school->student;
  std::printf("Hello, %s (in %s)\n", std_.c_str(), threading::current_thread().name().c_str());
}

void process_thread(const std::string& name) {
  // Bind this thread's student.
  local_school->student = name;
  process_student();
}

int main() {
  threading::Thread t1({.name = "Thread-A"}, process_thread, std::string("Alice"));
  threading::Thread t2({.name = "Thread-B"}, process_thread, std::string("Bob"));
  t1.start();
  t2.start();
  t1.join();
  t2.join();
}
