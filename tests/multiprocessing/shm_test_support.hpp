// Support for the shared-memory half of the multiprocessing tests (shm_*, sync_*, sharedctypes_*):
// children made with plain fork() that report through their exit status and leave with _exit,
// and a fixture failing any test that leaves a child process or a /dev/shm segment behind.
// Included by exactly one test file per program (it defines the TSan options hook).
#pragma once

#include <dirent.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <string>
#include <thread>
#include <vector>

#include "trident/multiprocessing/synchronize.hpp"

// Children of these tests call only trident and libc after fork; TSan's default would kill them.
extern "C" const char* __tsan_default_options() { return "die_after_fork=0"; }

namespace shm_test {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

#define CHILD_CHECK(cond)                                                           \
  do {                                                                              \
    if (!(cond)) {                                                                  \
      std::fprintf(stderr, "child check failed at line %d: %s\n", __LINE__, #cond); \
      return 1;                                                                     \
    }                                                                               \
  } while (0)

inline bool shm_exists(const std::string& name) {
  struct stat st {};
  return stat(("/dev/shm/" + name).c_str(), &st) == 0;
}

// Names in /dev/shm of trident's internal segments created by process `pid`.
inline std::vector<std::string> internal_segments_of(int pid) {
  std::vector<std::string> out;
  const std::string prefix = "trident_" + std::to_string(pid) + "_";
  if (DIR* d = opendir("/dev/shm")) {
    while (dirent* e = readdir(d)) {
      if (std::string(e->d_name).rfind(prefix, 0) == 0) out.emplace_back(e->d_name);
    }
    closedir(d);
  }
  return out;
}

// Waits (bounded) until `name` is gone from /dev/shm: the tracker removes it asynchronously.
inline bool eventually_gone(const std::string& name, std::chrono::milliseconds limit = 5000ms) {
  const auto until = Clock::now() + limit;
  while (shm_exists(name)) {
    if (Clock::now() > until) return false;
    std::this_thread::sleep_for(2ms);
  }
  return true;
}

// Every test: no child process left, and no segment of this process or of its (dead) children
// left in /dev/shm. Other programs' segments (tests run in parallel) are not looked at.
class ShmTest : public ::testing::Test {
 protected:
  // Forks a child running `f` (its exit status is f's result, 101 if it threw).
  template <class F>
  int fork_child(F f) {
    std::fflush(nullptr);
    const int pid = fork();
    if (pid == 0) {
      int code = 101;
      try {
        code = f();
      } catch (const std::exception& e) {
        std::fprintf(stderr, "child threw: %s\n", e.what());
      }
      std::fflush(nullptr);
      _exit(code);
    }
    children_.push_back(pid);
    return pid;
  }
  // Reaps `pid` (bounded: a child stuck for 60 s is killed and the test fails); its exit code, or
  // minus the signal that ended it.
  int join_child(int pid) {
    const auto until = Clock::now() + 60s;
    int status = 0;
    for (;;) {
      const int r = waitpid(pid, &status, WNOHANG);
      if (r == pid) break;
      if (r < 0) {
        ADD_FAILURE() << "waitpid(" << pid << "): errno " << errno;
        return -1000;
      }
      if (Clock::now() > until) {
        ADD_FAILURE() << "child " << pid << " did not finish; killing it";
        kill(pid, SIGKILL);
      }
      std::this_thread::sleep_for(1ms);
    }
    return WIFEXITED(status) ? WEXITSTATUS(status) : -WTERMSIG(status);
  }
  void kill_child(int pid) {
    kill(pid, SIGKILL);
    EXPECT_EQ(join_child(pid), -SIGKILL);
  }
  void TearDown() override {
    int status;
    EXPECT_EQ(waitpid(-1, &status, WNOHANG), -1) << "the test left a child process";
    EXPECT_EQ(errno, ECHILD);
    // Internal segments go with their last handle, and a dead child's through the tracker.
    children_.push_back(getpid());
    for (int pid : children_) {
      const auto until = Clock::now() + 5s;
      while (!internal_segments_of(pid).empty() && Clock::now() < until) std::this_thread::sleep_for(2ms);
      EXPECT_TRUE(internal_segments_of(pid).empty()) << "segments of " << pid << " left in /dev/shm";
    }
  }
  std::vector<int> children_;
};

// Starts the segment tracker before the first test, so its pipe is part of every test's fd baseline.
class StartTracker : public ::testing::Environment {
  void SetUp() override { trident::multiprocessing::Lock warm_up; }
};
[[maybe_unused]] inline ::testing::Environment* const kStartTracker =
    ::testing::AddGlobalTestEnvironment(new StartTracker);

// A one-byte pipe for "I am ready" between a child and the parent.
struct Signal {
  int fds[2];
  Signal() {
    if (pipe(fds) != 0) std::abort();
  }
  ~Signal() {
    close(fds[0]);
    close(fds[1]);
  }
  Signal(const Signal&) = delete;
  void notify() const {
    char c = 1;
    (void)!write(fds[1], &c, 1);
  }
  // Bounded, so a child that failed before notifying cannot hang the test.
  bool wait() const {
    pollfd p{fds[0], POLLIN, 0};
    char c;
    return poll(&p, 1, 30000) == 1 && read(fds[0], &c, 1) == 1;
  }
};

}  // namespace shm_test
