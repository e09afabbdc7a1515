// Shared by the subprocess tests: a fixture that fails a test which leaves a child process behind
// (running or zombie), and a helper mode of the test binary itself for children the tests need
// to control precisely (the test binary re-executes itself; no external scripts).
#pragma once

#include <dirent.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "trident/subprocess.hpp"

namespace trident::testing {

inline constexpr const char* kHelperEnv = "TRIDENT_SUBPROCESS_HELPER";

/// The byte at offset `i` of the "pattern" helper's output.
inline char pattern_byte(long i) { return static_cast<char>('a' + i % 26); }

/// Runs the helper named by $TRIDENT_SUBPROCESS_HELPER (if set) and exits; called before main().
inline int run_helper_if_requested() {
  const char* mode = std::getenv(kHelperEnv);
  if (mode == nullptr) return 0;
  std::string m = mode;
  if (m == "fds") {
    // Prints the open fds other than 0-2 and the directory's own.
    DIR* d = opendir("/proc/self/fd");
    std::string out;
    while (dirent* e = readdir(d)) {
      if (e->d_name[0] == '.') continue;
      int fd = std::atoi(e->d_name);
      if (fd > 2 && fd != dirfd(d)) out += std::to_string(fd) + " ";
    }
    closedir(d);
    std::printf("%s\n", out.c_str());
  } else if (m == "umask") {
    mode_t old = umask(0);
    std::printf("%03o\n", static_cast<unsigned>(old));
  } else if (m == "session") {
    std::printf("%d %d %d\n", static_cast<int>(getsid(0)), static_cast<int>(getpgrp()), static_cast<int>(getpid()));
  } else if (m == "sigpipe") {
    struct sigaction sa {};
    sigaction(SIGPIPE, nullptr, &sa);
    std::printf("%s\n", sa.sa_handler == SIG_DFL ? "default" : (sa.sa_handler == SIG_IGN ? "ignored" : "handled"));
  } else if (m == "both") {
    // Writes N bytes to stdout and N to stderr in alternating chunks: a parent that reads only one
    // pipe at a time deadlocks on this.
    long n = std::atol(std::getenv("HELPER_BYTES"));
    std::vector<char> o(65536, 'o'), e(65536, 'e');
    for (long done = 0; done < n;) {
      long k = std::min<long>(65536, n - done);
      if (write(1, o.data(), static_cast<size_t>(k)) != k) _exit(3);
      if (write(2, e.data(), static_cast<size_t>(k)) != k) _exit(4);
      done += k;
    }
  } else if (m == "pattern") {
    // Writes pattern_byte(0 .. N-1) to stdout in odd-sized chunks with plain blocking write()s, as
    // an ordinary program does; exits 3 if a write fails (EAGAIN on a pipe someone made
    // non-blocking) or comes up short.
    long n = std::atol(std::getenv("HELPER_BYTES"));
    std::vector<char> chunk(10007);
    for (long done = 0; done < n;) {
      long k = std::min<long>(static_cast<long>(chunk.size()), n - done);
      for (long i = 0; i < k; ++i) chunk[static_cast<size_t>(i)] = pattern_byte(done + i);
      for (long off = 0; off < k;) {
        ssize_t w = write(1, chunk.data() + off, static_cast<size_t>(k - off));
        if (w <= 0) {
          std::fprintf(stderr, "pattern helper: write: %s\n", std::strerror(errno));
          _exit(3);
        }
        off += w;
      }
      done += k;
    }
  } else {
    std::fprintf(stderr, "unknown helper mode %s\n", mode);
    _exit(2);
  }
  std::fflush(stdout);
  _exit(0);
}

inline const int kHelperRan = run_helper_if_requested();

/// The env that makes the test binary run helper `mode`.
inline subprocess::Env helper_env(const std::string& mode, subprocess::Env extra = {}) {
  extra[kHelperEnv] = mode;
  return extra;
}
inline std::string self_exe() { return "/proc/self/exe"; }

/// Whether this process has any child, running or zombie.
inline bool has_children() {
  siginfo_t info{};
  return !(waitid(P_ALL, 0, &info, WEXITED | WNOHANG | WNOWAIT) < 0 && errno == ECHILD);
}

class SubprocessTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_FALSE(has_children()) << "a child was left from before this test"; }
  void TearDown() override { EXPECT_FALSE(has_children()) << "the test left a child process (zombie or running)"; }
};

}  // namespace trident::testing
