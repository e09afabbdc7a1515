// tests/support/child.hpp — running part of a test in a child forked with os::fork().
#pragma once

#include <cstdio>
#include <exception>

#include "trident/os.hpp"

/// In a child's function: reports the failed condition on stderr and returns 1 (the child's exit
/// status), since gtest's assertions cannot reach the parent from a child.
#define CHILD_CHECK(cond)                                                           \
  do {                                                                              \
    if (!(cond)) {                                                                  \
      std::fprintf(stderr, "child check failed at line %d: %s\n", __LINE__, #cond); \
      return 1;                                                                     \
    }                                                                               \
  } while (0)

namespace trident::testing {

/// Forks with os::fork() (so at-fork handlers run); the child runs `f` and exits with what it
/// returns (101 if it threw), never returning into gtest. Returns the child's pid.
template <class F>
int start_child(F f) {
  const int pid = os::fork();
  if (pid == 0) {
    int code = 101;
    try {
      code = f();
    } catch (const std::exception& e) {
      std::fprintf(stderr, "child threw: %s\n", e.what());
    }
    std::fflush(stderr);
    os::_exit(code);
  }
  return pid;
}

}  // namespace trident::testing
