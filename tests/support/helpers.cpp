#include "support/helpers.hpp"

#include <dirent.h>
#include <gtest/gtest.h>

#include <fstream>
#include <thread>

namespace trident::testing {

int os_thread_count() {
  std::ifstream f("/proc/self/status");
  std::string line;
  while (std::getline(f, line)) {
    if (line.rfind("Threads:", 0) == 0) return std::stoi(line.substr(8));
  }
  return -1;
}

int open_fd_count() {
  int n = 0;
  if (DIR* d = opendir("/proc/self/fd")) {
    while (readdir(d) != nullptr) ++n;
    closedir(d);
  }
  return n - 3;  // ".", ".." and the directory's own fd
}

namespace {

class LeakChecker : public ::testing::EmptyTestEventListener {
  void OnTestStart(const ::testing::TestInfo&) override {
    threads_ = os_thread_count();
    fds_ = open_fd_count();
  }
  void OnTestEnd(const ::testing::TestInfo& info) override {
    if (info.result() != nullptr && info.result()->Failed()) return;
    // A joined thread may still be unwinding in the kernel for a moment after join returns.
    const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(5);
    while (os_thread_count() > threads_ && std::chrono::steady_clock::now() < until) {
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    EXPECT_LE(os_thread_count(), threads_) << "the test left OS threads running";
    EXPECT_LE(open_fd_count(), fds_) << "the test leaked file descriptors";
  }
  int threads_ = 0;
  int fds_ = 0;
};

}  // namespace

void install_leak_checks() {
  // Sanitizer runtimes start a background thread at the first pthread_create; start it now so it
  // is part of every test's baseline rather than counted as a leak of the first test.
  std::thread([] {}).join();
#if defined(__SANITIZE_THREAD__)
  // ThreadSanitizer's background thread may appear a moment after that first thread.
  const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(2);
  while (os_thread_count() < 2 && std::chrono::steady_clock::now() < until) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
#endif
  ::testing::UnitTest::GetInstance()->listeners().Append(new LeakChecker);
}

}  // namespace trident::testing
