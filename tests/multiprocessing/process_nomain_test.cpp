// A program that never calls multiprocessing::main (this test uses the shared test main): Python's
// "An attempt has been made to start a new process before the current process has finished its
// bootstrapping phase" RuntimeError becomes a RuntimeError from start() naming the fix, for the
// forkserver and spawn methods; fork needs no bootstrap.
#include <gtest/gtest.h>

#include <string>

#include "trident/multiprocessing.hpp"

namespace mp = trident::multiprocessing;

namespace {

void noop() {}

TEST(NoMain, ForkserverAndSpawnNameTheFix) {
  for (const char* method : {"forkserver", "spawn"}) {
    mp::Process p = mp::get_context(method).Process(noop);
    try {
      p.start();
      FAIL() << method << ": start() without multiprocessing::main()";
    } catch (const trident::RuntimeError& e) {
      EXPECT_NE(std::string(e.what()).find("trident::multiprocessing::main(argc, argv)"), std::string::npos)
          << e.what();
    }
    EXPECT_FALSE(p.pid().has_value());
  }
}

TEST(NoMain, ForkWorksWithoutMain) {
  mp::Process p = mp::fork_context.Process(noop);
  p.start();
  p.join();
  EXPECT_EQ(p.exitcode(), 0);
}

}  // namespace
