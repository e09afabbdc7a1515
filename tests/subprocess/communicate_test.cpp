// Popen::communicate: large outputs on both pipes, input feeding, timeouts that lose nothing,
// text mode. Modelled on CPython's test_subprocess (test_communicate*, test_universal_newlines*).
#include <fcntl.h>
#include <signal.h>

#include <chrono>

#include "subprocess/nowait.hpp"
#include "subprocess/subprocess_fixture.hpp"
#include "support/helpers.hpp"

namespace sp = trident::subprocess;
using namespace std::chrono_literals;
using trident::testing::helper_env;
using trident::testing::self_exe;
using trident::testing::SubprocessTest;
using Clock = std::chrono::steady_clock;

namespace {

class Communicate : public SubprocessTest {};

// Python: test_communicate — input in, stdout and stderr out.
TEST_F(Communicate, FeedsInputAndReadsBothStreams) {
  sp::Popen p({"/bin/sh", "-c", "cat; echo done >&2"}, {.stdin = sp::PIPE, .stdout = sp::PIPE, .stderr = sp::PIPE});
  auto [out, err] = p.communicate("banana");
  EXPECT_EQ(out, "banana");
  EXPECT_EQ(err, "done\n");
  EXPECT_EQ(p.returncode(), 0);
  EXPECT_TRUE(p.stdout().closed());
  EXPECT_TRUE(p.stdin().closed());
}

// Python: test_communicate_pipe_buf / test_communicate_pipe_fd_leak — 10 MB on each of stdout and
// stderr at once, written alternately: never deadlocks.
TEST_F(Communicate, LargeOutputOnBothPipesDoesNotDeadlock) {
  constexpr long kBytes = 10 * 1000 * 1000;
  sp::Popen p(
      {self_exe()},
      {.stdout = sp::PIPE, .stderr = sp::PIPE, .env = helper_env("both", {{"HELPER_BYTES", std::to_string(kBytes)}})});
  auto [out, err] = p.communicate({}, 60s);
  EXPECT_EQ(p.returncode(), 0);
  ASSERT_TRUE(out && err);
  ASSERT_EQ(out->size(), static_cast<size_t>(kBytes));
  ASSERT_EQ(err->size(), static_cast<size_t>(kBytes));
  EXPECT_EQ(out->find_first_not_of('o'), std::string::npos);
  EXPECT_EQ(err->find_first_not_of('e'), std::string::npos);
}

// Python: test_writes_before_communicate / large input fed while the output is read (cat echoes
// everything): feeding and reading interleave, so a 16 MiB round trip cannot deadlock.
TEST_F(Communicate, LargeInputRoundTripThroughCat) {
  std::string input(16 << 20, '\0');
  for (size_t i = 0; i < input.size(); ++i) input[i] = static_cast<char>('a' + i % 26);
  sp::Popen p({"cat"}, {.stdin = sp::PIPE, .stdout = sp::PIPE});
  auto [out, err] = p.communicate(input, 60s);
  EXPECT_TRUE(out == input) << "output differs; size " << out.value_or("").size();
  EXPECT_EQ(err, std::nullopt);  // stderr is not a pipe: Python's None
  EXPECT_EQ(p.returncode(), 0);
}

// Where the kernel has no RWF_NOWAIT for pipes, communicate() writes at most what POLLOUT
// promises (PIPE_BUF, or the whole capacity of an empty pipe) on its blocking fd: the same round
// trips still complete, both ways at once, and nothing is lost.
TEST_F(Communicate, PortableWritePathWithoutRwfNowait) {
  auto& nowait = sp::detail::nowait_io();
  const bool saved = nowait.exchange(false);
  std::string input(16 << 20, '\0');
  for (size_t i = 0; i < input.size(); ++i) input[i] = static_cast<char>('a' + i % 26);
  for (std::size_t size : {std::size_t{1}, std::size_t{5000}, input.size()}) {
    std::string in = input.substr(0, size);
    sp::Popen p({"cat"}, {.stdin = sp::PIPE, .stdout = sp::PIPE});
    auto [out, err] = p.communicate(in, 60s);
    EXPECT_TRUE(out == in) << "size " << size << ": got " << out.value_or("").size();
    EXPECT_EQ(p.returncode(), 0);
  }
  EXPECT_FALSE(nowait.load());  // the portable path does not turn it back on
  nowait.store(saved);
}

// Python: test_communicate_epipe — a child that exits without reading its input is not an error.
TEST_F(Communicate, ChildNotReadingInputIsNotAnError) {
  sp::Popen p({"/bin/sh", "-c", "exit 0"}, {.stdin = sp::PIPE, .stdout = sp::PIPE, .stderr = sp::PIPE});
  std::string big(4 << 20, 'x');
  auto [out, err] = p.communicate(big);
  EXPECT_EQ(out, "");
  EXPECT_EQ(p.returncode(), 0);
  sigset_t pending;
  sigpending(&pending);
  EXPECT_FALSE(sigismember(&pending, SIGPIPE));
}

// Python: test_communicate_timeout — TimeoutExpired carries the output so far; after kill(), a
// second communicate() returns all of it (the documented pattern), nothing lost.
TEST_F(Communicate, TimeoutKeepsOutputAndSecondCallReturnsAll) {
  sp::Popen p({"/bin/sh", "-c", "echo first; echo e1 >&2; exec sleep 30"}, {.stdout = sp::PIPE, .stderr = sp::PIPE});
  // Each timed-out call reports everything read so far (not just since the last call); repeat
  // until the child's first writes have arrived, however slowly the shell starts.
  std::string out_seen, err_seen;
  for (int i = 0; i < 50 && (out_seen != "first\n" || err_seen != "e1\n"); ++i) {
    auto t0 = Clock::now();
    try {
      p.communicate({}, 200ms);
      FAIL() << "no TimeoutExpired";
    } catch (const sp::TimeoutExpired& e) {
      // Both streams are pipes: each is a string (maybe still empty), never nullopt.
      ASSERT_TRUE(e.output && e.stderr);
      EXPECT_EQ(std::string("first\n").rfind(*e.output, 0), 0u) << *e.output;
      EXPECT_GE(e.output->size(), out_seen.size());
      out_seen = *e.output;
      err_seen = *e.stderr;
      EXPECT_DOUBLE_EQ(e.timeout.count(), 0.2);
    }
    auto took = Clock::now() - t0;
    EXPECT_GE(took, 190ms);
    EXPECT_LT(took, 200ms + trident::testing::kTimeoutSlack);
  }
  EXPECT_EQ(out_seen, "first\n");
  EXPECT_EQ(err_seen, "e1\n");
  EXPECT_EQ(p.poll(), std::nullopt);  // not killed by communicate
  p.kill();
  auto [out, err] = p.communicate();
  EXPECT_EQ(out, "first\n");
  EXPECT_EQ(err, "e1\n");
  EXPECT_EQ(p.returncode(), -SIGKILL);
}

// Python: test_communicate_timeout_large_output — a timed-out communicate that was feeding input
// resumes feeding on the next call (input given once), and all output arrives.
TEST_F(Communicate, TimeoutWhileFeedingResumesInput) {
  // The child reads 1 MiB, pauses (so the first call times out mid-input), then echoes the rest.
  std::string input(3 << 20, 'q');
  sp::Popen p({"/bin/sh", "-c", "head -c 1048576; sleep 0.6; cat"}, {.stdin = sp::PIPE, .stdout = sp::PIPE});
  EXPECT_THROW(p.communicate(input, 200ms), sp::TimeoutExpired);
  EXPECT_THROW(p.communicate("more", 1s), trident::ValueError);
  auto [out, err] = p.communicate({}, 30s);
  ASSERT_TRUE(out);
  EXPECT_EQ(out->size(), input.size());
  EXPECT_EQ(out->find_first_not_of('q'), std::string::npos);
  EXPECT_EQ(p.returncode(), 0);
}

// Python: communicate() with no pipes just waits for the child, and returns (None, None).
TEST_F(Communicate, WithoutPipesJustWaits) {
  sp::Popen p({"/bin/sh", "-c", "exit 9"});
  auto [out, err] = p.communicate();
  EXPECT_EQ(out, std::nullopt);
  EXPECT_EQ(err, std::nullopt);
  EXPECT_EQ(p.returncode(), 9);
}

// Python: communicate(input) when stdin is not a pipe ignores the input.
TEST_F(Communicate, InputIgnoredWithoutStdinPipe) {
  sp::Popen p({"echo", "hi"}, {.stdout = sp::PIPE});
  auto [out, err] = p.communicate("ignored");
  EXPECT_EQ(out, "hi\n");
  EXPECT_EQ(err, std::nullopt);
}

// Python: the timeout covers the wait after the pipes close: a child that closes its output and
// keeps running times out, and a later communicate() still returns what it wrote.
TEST_F(Communicate, TimeoutAfterPipesClosedWhileChildRuns) {
  sp::Popen p({"/bin/sh", "-c", "echo out; exec >&- 2>&- sleep 30"}, {.stdout = sp::PIPE, .stderr = sp::PIPE});
  EXPECT_THROW(p.communicate({}, 300ms), sp::TimeoutExpired);
  p.kill();
  auto [out, err] = p.communicate();
  EXPECT_EQ(out, "out\n");
  EXPECT_EQ(p.returncode(), -SIGKILL);
}

// Python: test_communicate_errors / a negative timeout is a ValueError.
TEST_F(Communicate, NegativeTimeoutIsValueError) {
  sp::Popen p({"true"}, {.stdout = sp::PIPE});
  EXPECT_THROW(p.communicate({}, -1s), trident::ValueError);
  p.communicate();
}

// Python: test_universal_newlines_communicate — text mode turns "\r\n" and "\r" into "\n" on both
// output streams; input is passed unchanged.
TEST_F(Communicate, TextModeTranslatesNewlines) {
  sp::Popen p({"/bin/sh", "-c", "printf 'a\\r\\nb\\rc\\n'; printf 'x\\r\\n' >&2; cat"},
              {.stdin = sp::PIPE, .stdout = sp::PIPE, .stderr = sp::PIPE, .text = true});
  auto [out, err] = p.communicate("in\r\n");
  EXPECT_EQ(out, "a\nb\nc\nin\n");
  EXPECT_EQ(err, "x\n");
}

// Without text mode the bytes are untouched (Python's bytes mode).
TEST_F(Communicate, BinaryModeKeepsBytes) {
  std::string data("a\r\nb\0c\r", 7);
  sp::Popen p({"cat"}, {.stdin = sp::PIPE, .stdout = sp::PIPE});
  auto [out, err] = p.communicate(data);
  EXPECT_EQ(out, data);
}

// Text mode: a "\r\n" split across two reads still becomes one "\n" (Python's incremental decoder).
TEST_F(Communicate, TextModeHandlesCrLfSplitAcrossReads) {
  sp::Popen p({"/bin/sh", "-c", "printf 'a\\r'; sleep 0.2; printf '\\nb\\r'"}, {.stdout = sp::PIPE, .text = true});
  auto [out, err] = p.communicate();
  EXPECT_EQ(out, "a\nb\n");
}

// Text mode applies to direct pipe reads too (readline sees translated lines).
TEST_F(Communicate, TextModeOnDirectReads) {
  sp::Popen p({"printf", "l1\\r\\nl2\\rl3"}, {.stdout = sp::PIPE, .text = true});
  EXPECT_EQ(p.stdout().readline(), "l1\n");
  EXPECT_EQ(p.stdout().readline(), "l2\n");
  EXPECT_EQ(p.stdout().readline(), "l3");
  p.wait();
}

// Python: output already read from the pipe object is not returned again; communicate returns the rest.
TEST_F(Communicate, AfterPartialDirectReadReturnsTheRest) {
  sp::Popen p({"printf", "head\\nbody\\ntail\\n"}, {.stdout = sp::PIPE});
  EXPECT_EQ(p.stdout().readline(), "head\n");
  auto [out, err] = p.communicate();
  EXPECT_EQ(out, "body\ntail\n");
}

// Python 3.10 pipesize: the pipes get that capacity.
TEST_F(Communicate, PipesizeSetsPipeCapacity) {
  sp::Popen p({"cat"}, {.stdin = sp::PIPE, .stdout = sp::PIPE, .pipesize = 1 << 20});
  EXPECT_EQ(fcntl(p.stdout().fileno(), F_GETPIPE_SZ), 1 << 20);
  EXPECT_EQ(fcntl(p.stdin().fileno(), F_GETPIPE_SZ), 1 << 20);
  auto [out, err] = p.communicate("x");
  EXPECT_EQ(out, "x");
}

}  // namespace
