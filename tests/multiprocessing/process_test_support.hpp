// Support for the process tests: their own main() (multiprocessing::main first, so a spawn child
// re-executes this test program and runs its target instead of the tests, and the fork server is
// forked before any thread exists), the start-method parameter, and a check that no test leaves
// a descendant process behind.
#pragma once

#include <dirent.h>
#include <gtest/gtest.h>

#include <chrono>
#include <fstream>
#include <set>
#include <string>
#include <thread>

#include "support/helpers.hpp"
#include "trident/multiprocessing.hpp"

namespace trident::testing {

/// Every live descendant of this process (children of children...), from /proc's children lists.
inline std::set<int> descendants() {
  std::set<int> out;
  std::vector<int> todo{static_cast<int>(::getpid())};
  while (!todo.empty()) {
    const int pid = todo.back();
    todo.pop_back();
    const std::string dir = "/proc/" + std::to_string(pid) + "/task";
    DIR* d = opendir(dir.c_str());
    if (d == nullptr) continue;
    while (dirent* e = readdir(d)) {
      if (e->d_name[0] == '.') continue;
      std::ifstream f(dir + "/" + e->d_name + "/children");
      int child = 0;
      while (f >> child) {
        if (out.insert(child).second) todo.push_back(child);
      }
    }
    closedir(d);
  }
  return out;
}

/// Fails a test that leaves a descendant process (a child, a grandchild, a fork server's child)
/// that was not there when it began (the fork server itself predates every test).
class ChildLeakChecker : public ::testing::EmptyTestEventListener {
  void OnTestStart(const ::testing::TestInfo&) override { before_ = descendants(); }
  void OnTestEnd(const ::testing::TestInfo& info) override {
    if (info.result() != nullptr && info.result()->Failed()) return;
    // A grandchild reaped by its own parent may still be listed for a moment.
    const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(5);
    std::set<int> extra;
    for (;;) {
      extra.clear();
      for (int pid : descendants()) {
        if (before_.count(pid) == 0) extra.insert(pid);
      }
      if (extra.empty() || std::chrono::steady_clock::now() >= until) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
    EXPECT_TRUE(extra.empty()) << "the test left " << extra.size() << " descendant process(es) behind, e.g. pid "
                               << (extra.empty() ? 0 : *extra.begin());
    EXPECT_TRUE(multiprocessing::active_children().empty()) << "the test left children in active_children()";
  }
  std::set<int> before_;
};

/// The start methods each conformance test runs under.
inline std::vector<std::string> all_methods() { return {"fork", "forkserver", "spawn"}; }

inline std::string method_test_name(const ::testing::TestParamInfo<std::string>& info) { return info.param; }

}  // namespace trident::testing

/// Defines main() for a process test program.
#define TRIDENT_PROCESS_TEST_MAIN()                                                                 \
  int main(int argc, char** argv) {                                                                 \
    trident::multiprocessing::main(argc, argv);                                                     \
    ::testing::InitGoogleTest(&argc, argv);                                                         \
    trident::testing::install_leak_checks();                                                        \
    ::testing::UnitTest::GetInstance()->listeners().Append(new trident::testing::ChildLeakChecker); \
    return RUN_ALL_TESTS();                                                                         \
  }
