// Pipelines: a parent's pipe end handed to another child, as in Python's documentation ("Replacing
// shell pipeline": `p2 = Popen(["cat"], stdin=p1.stdout)`). The parent's ends must stay blocking, as
// CPython's are: O_NONBLOCK lives in the open file description, which the other child shares, and a
// program that does not expect it fails with EAGAIN ("Resource temporarily unavailable") or drops
// data. Each test runs its pipeline several times, so a flaky pass would show up as a failure.
#include <fcntl.h>

#include <chrono>
#include <string>

#include "subprocess/subprocess_fixture.hpp"
#include "support/helpers.hpp"

namespace sp = trident::subprocess;
using namespace std::chrono_literals;
using trident::testing::helper_env;
using trident::testing::pattern_byte;
using trident::testing::self_exe;
using trident::testing::SubprocessTest;

namespace {

constexpr int kRounds = 10;

class Pipeline : public SubprocessTest {};

std::string pattern(long n) {
  std::string s(static_cast<std::size_t>(n), '\0');
  for (long i = 0; i < n; ++i) s[static_cast<std::size_t>(i)] = pattern_byte(i);
  return s;
}

bool is_blocking(int fd) { return (fcntl(fd, F_GETFL) & O_NONBLOCK) == 0; }

// Python: the parent's ends of PIPE streams are ordinary blocking fds.
TEST_F(Pipeline, ParentPipeEndsAreBlocking) {
  sp::Popen p({"cat"}, {.stdin = sp::PIPE, .stdout = sp::PIPE, .stderr = sp::PIPE});
  EXPECT_TRUE(is_blocking(p.stdin().fileno()));
  EXPECT_TRUE(is_blocking(p.stdout().fileno()));
  EXPECT_TRUE(is_blocking(p.stderr().fileno()));
  p.communicate();
}

// Python's documented pipeline: p1 = Popen(writer, stdout=PIPE); p2 = Popen(["cat"],
// stdin=p1.stdout, stdout=PIPE); p1.stdout.close(); p2.communicate(). The writer is slow, so cat
// finds the pipe empty again and again: with a non-blocking pipe it would fail at once.
TEST_F(Pipeline, PopenStdoutFeedsAnotherChild) {
  for (int round = 0; round < kRounds; ++round) {
    sp::Popen p1({"/bin/sh", "-c", "for i in 1 2 3 4 5; do echo line$i; sleep 0.02; done"}, {.stdout = sp::PIPE});
    sp::Popen p2({"cat"}, {.stdin = p1.stdout(), .stdout = sp::PIPE, .stderr = sp::PIPE});
    p1.stdout().close();  // as Python's documentation: p1 gets SIGPIPE if p2 exits first
    auto [out, err] = p2.communicate({}, 60s);
    EXPECT_EQ(out, "line1\nline2\nline3\nline4\nline5\n") << "round " << round;
    EXPECT_EQ(err, "") << "round " << round;  // cat said nothing, e.g. no "Resource temporarily unavailable"
    EXPECT_EQ(p2.returncode(), 0) << "round " << round;
    EXPECT_EQ(p1.wait(60s), 0) << "round " << round;
  }
}

// Python: Popen.stdin handed to a writer child (`writer = Popen(..., stdout=reader.stdin)`): a
// 1 000 000-byte stream arrives whole and in order, and the writer sees no failed write.
TEST_F(Pipeline, PopenStdinTakesAWriterChildsOutput) {
  constexpr long kBytes = 1000000;
  const std::string expected = pattern(kBytes);
  for (int round = 0; round < kRounds; ++round) {
    sp::Popen reader({"cat"}, {.stdin = sp::PIPE, .stdout = sp::PIPE});
    sp::Popen writer({self_exe()}, {.stdout = reader.stdin(),
                                    .stderr = sp::PIPE,
                                    .env = helper_env("pattern", {{"HELPER_BYTES", std::to_string(kBytes)}})});
    reader.stdin().close();  // the writer's copy is now the only write end: cat sees EOF when it exits
    auto [out, err] = reader.communicate({}, 60s);
    auto [w_out, w_err] = writer.communicate({}, 60s);
    EXPECT_EQ(writer.returncode(), 0) << "round " << round << ": " << w_err.value_or("");
    ASSERT_TRUE(out.has_value());
    EXPECT_EQ(out->size(), expected.size()) << "round " << round;
    EXPECT_TRUE(*out == expected) << "round " << round << ": the stream was altered";
    EXPECT_EQ(reader.returncode(), 0);
  }
}

// A three-stage pipeline (writer | cat | reader's communicate) also moves every byte: each middle
// fd is shared by the parent and two children at some point.
TEST_F(Pipeline, ThreeStagesMoveEveryByte) {
  constexpr long kBytes = 1000000;
  const std::string expected = pattern(kBytes);
  for (int round = 0; round < kRounds; ++round) {
    sp::Popen p1({self_exe()},
                 {.stdout = sp::PIPE, .env = helper_env("pattern", {{"HELPER_BYTES", std::to_string(kBytes)}})});
    sp::Popen p2({"cat"}, {.stdin = p1.stdout(), .stdout = sp::PIPE});
    p1.stdout().close();
    sp::Popen p3({"cat"}, {.stdin = p2.stdout(), .stdout = sp::PIPE});
    p2.stdout().close();
    auto [out, err] = p3.communicate({}, 60s);
    EXPECT_EQ(p1.wait(60s), 0) << "round " << round;
    EXPECT_EQ(p2.wait(60s), 0) << "round " << round;
    ASSERT_TRUE(out.has_value());
    EXPECT_TRUE(*out == expected) << "round " << round << ": size " << out->size();
  }
}

// A closed Pipe is no redirect: Python's fileno() on a closed file raises ValueError.
TEST_F(Pipeline, ClosedPipeAsRedirectIsValueError) {
  sp::Popen p1({"true"}, {.stdout = sp::PIPE});
  p1.stdout().close();
  EXPECT_THROW(sp::Popen({"cat"}, {.stdin = p1.stdout()}), trident::ValueError);
  p1.wait();
}

}  // namespace
