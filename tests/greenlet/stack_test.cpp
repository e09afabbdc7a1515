// greenlet stacks: a greenlet that recurses past its stack must die with a clear message (the
// guard page and the SIGSEGV handler), never corrupt memory; stack_size is honoured. Python's
// greenlet copies stacks and has no such limit; this pins trident's documented failure mode.
#include <sys/wait.h>

#include <csignal>
#include <cstring>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "trident/greenlet.hpp"

namespace {

using trident::greenlet::getcurrent;
using trident::greenlet::greenlet;
using trident::greenlet::Options;

// Each frame uses about 1 KiB of stack and cannot be turned into a loop.
__attribute__((noinline)) int recurse(int depth) {
  volatile char pad[1024];
  std::memset(const_cast<char*>(pad), depth & 0x7f, sizeof pad);
  if (depth == 0) return pad[3];
  return recurse(depth - 1) + pad[7];
}

// Deep recursion in a greenlet with a small stack: death by SIGSEGV with a message naming the
// greenlet stack overflow (the test runs it in a child process).
TEST(GreenletStackDeathTest, OverflowIsAClearFatalError) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_DEATH(
      {
        greenlet g(Options{.stack_size = 64 * 1024}, [] { return recurse(100000); });
        g.switch_<int>();
      },
      "greenlet stack overflow");
}

// Recursion that fits: a larger stack_size gives room the small one lacks.
TEST(GreenletStack, StackSizeIsHonoured) {
  greenlet g(Options{.stack_size = 4 * 1024 * 1024}, [] { return recurse(2000); });
  EXPECT_NO_THROW(g.switch_<int>());
  EXPECT_TRUE(g.dead());
}

// A SIGSEGV that is not a greenlet overflow keeps its usual meaning (no greenlet message).
TEST(GreenletStackDeathTest, OtherFaultsAreNotReportedAsOverflow) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  greenlet warm([] {});  // installs the handler in this process
  warm.switch_();
  EXPECT_EXIT(
      {
        greenlet g([] {
          volatile int* p = nullptr;
          *p = 1;
        });
        g.switch_();
      },
      // Killed by the fault (or ended by a sanitizer's report of it), with no overflow message.
      [](int status) { return !(WIFEXITED(status) && WEXITSTATUS(status) == 0); },
      testing::Not(testing::HasSubstr("greenlet stack overflow")));
}

}  // namespace
