// run, call, check_call, check_output, getoutput, getstatusoutput, shell: Python's convenience API.
// Modelled on CPython's test_subprocess (RunFuncTestCase, ProcessTestCase.test_call_*,
// test_check_output*, test_getoutput).
#include <signal.h>

#include <chrono>

#include "subprocess/subprocess_fixture.hpp"
#include "support/helpers.hpp"

namespace sp = trident::subprocess;
using namespace std::chrono_literals;
using trident::testing::SubprocessTest;
using Clock = std::chrono::steady_clock;

namespace {

class Run : public SubprocessTest {};

// Python: test_returncode — run() returns a CompletedProcess with args and returncode.
TEST_F(Run, ReturnsCompletedProcess) {
  sp::CompletedProcess cp = sp::run({"/bin/sh", "-c", "exit 4"});
  EXPECT_EQ(cp.args, (std::vector<std::string>{"/bin/sh", "-c", "exit 4"}));
  EXPECT_EQ(cp.returncode, 4);
  EXPECT_EQ(cp.stdout, std::nullopt);  // not captured: Python's None
  EXPECT_EQ(cp.stderr, std::nullopt);
}

// Python: test_capture_output — both streams captured.
TEST_F(Run, CaptureOutput) {
  auto cp = sp::run({"/bin/sh", "-c", "echo BDFL; echo FLUFL >&2"}, {.capture_output = true});
  EXPECT_EQ(cp.stdout, "BDFL\n");
  EXPECT_EQ(cp.stderr, "FLUFL\n");
}

// Python: test_check / test_check_zero — check=True raises CalledProcessError with the output.
TEST_F(Run, CheckRaisesCalledProcessError) {
  try {
    sp::run({"/bin/sh", "-c", "echo partial; echo oops >&2; exit 47"}, {.capture_output = true, .check = true});
    FAIL() << "no CalledProcessError";
  } catch (const sp::CalledProcessError& e) {
    EXPECT_EQ(e.returncode, 47);
    EXPECT_EQ(e.output, "partial\n");
    EXPECT_EQ(e.stderr, "oops\n");
    EXPECT_EQ(e.cmd[0], "/bin/sh");
    EXPECT_STREQ(e.what(),
                 "Command '/bin/sh -c echo partial; echo oops >&2; exit 47' returned non-zero exit status 47.");
  }
  EXPECT_EQ(sp::run({"true"}, {.check = true}).returncode, 0);
}

// Python: check_returncode() raises for non-zero, and the message names a killing signal.
TEST_F(Run, CheckReturncodeAndSignalMessage) {
  auto cp = sp::run({"/bin/sh", "-c", "kill -TERM $$"});
  EXPECT_EQ(cp.returncode, -SIGTERM);
  try {
    cp.check_returncode();
    FAIL();
  } catch (const sp::CalledProcessError& e) {
    EXPECT_EQ(e.returncode, -SIGTERM);
    EXPECT_STREQ(e.what(), "Command '/bin/sh -c kill -TERM $$' died with <Signals.SIGTERM: 15>.");
  }
  EXPECT_NO_THROW(sp::run({"true"}).check_returncode());
}

// Python: test_input — input= is fed to stdin.
TEST_F(Run, InputIsFedToStdin) {
  auto cp = sp::run({"sort"}, {.input = "pear\napple\nfig\n", .capture_output = true});
  EXPECT_EQ(cp.stdout, "apple\nfig\npear\n");
}

// Python: input=b'' still gives a stdin pipe, closed at once.
TEST_F(Run, EmptyInputGivesClosedStdin) {
  auto cp = sp::run({"cat"}, {.input = "", .capture_output = true, .timeout = 30s});
  EXPECT_EQ(cp.stdout, "");
  EXPECT_EQ(cp.returncode, 0);
}

// Python: test_stdin_with_input_arg / test_stdout_with_capture_output_arg — ValueError.
TEST_F(Run, ConflictingOptionsAreValueErrors) {
  EXPECT_THROW(sp::run({"true"}, {.input = "x", .stdin = sp::DEVNULL}), trident::ValueError);
  EXPECT_THROW(sp::run({"true"}, {.capture_output = true, .stdout = sp::DEVNULL}), trident::ValueError);
  EXPECT_THROW(sp::run({"true"}, {.capture_output = true, .stderr = sp::DEVNULL}), trident::ValueError);
  EXPECT_THROW(sp::check_output({"true"}, {.stdout = sp::DEVNULL}), trident::ValueError);
  EXPECT_THROW(sp::call({"true"}, {.check = true}), trident::ValueError);
}

// Python: test_timeout / run() with a timeout kills the child, collects its output, and raises
// TimeoutExpired carrying that output.
TEST_F(Run, TimeoutKillsChildAndKeepsOutput) {
  auto t0 = Clock::now();
  try {
    sp::run({"/bin/sh", "-c", "echo before; exec sleep 30"}, {.capture_output = true, .timeout = 500ms});
    FAIL() << "no TimeoutExpired";
  } catch (const sp::TimeoutExpired& e) {
    EXPECT_EQ(e.output, "before\n");
    EXPECT_DOUBLE_EQ(e.timeout.count(), 0.5);
  }
  auto took = Clock::now() - t0;
  EXPECT_GE(took, 490ms);
  EXPECT_LT(took, 500ms + trident::testing::kTimeoutSlack);
  // The fixture checks that the killed child was reaped.
}

// Python: test_call_seq / test_call_timeout.
TEST_F(Run, CallReturnsReturncodeAndTimesOut) {
  EXPECT_EQ(sp::call({"/bin/sh", "-c", "exit 47"}), 47);
  auto t0 = Clock::now();
  EXPECT_THROW(sp::call({"sleep", "30"}, {.timeout = 200ms}), sp::TimeoutExpired);
  EXPECT_LT(Clock::now() - t0, 200ms + trident::testing::kTimeoutSlack);
}

// Python: test_check_call_zero / test_check_call_nonzero.
TEST_F(Run, CheckCall) {
  EXPECT_EQ(sp::check_call({"true"}), 0);
  try {
    sp::check_call({"/bin/sh", "-c", "exit 47"});
    FAIL();
  } catch (const sp::CalledProcessError& e) {
    EXPECT_EQ(e.returncode, 47);
  }
}

// Python: test_check_output / test_check_output_nonzero / test_check_output_stderr /
// test_check_output_input_arg.
TEST_F(Run, CheckOutput) {
  EXPECT_EQ(sp::check_output({"echo", "BDFL"}), "BDFL\n");
  EXPECT_EQ(sp::check_output({"/bin/sh", "-c", "echo BDFL >&2"}, {.stderr = sp::STDOUT}), "BDFL\n");
  EXPECT_EQ(sp::check_output({"tr", "a-z", "A-Z"}, {.input = "pear"}), "PEAR");
  try {
    sp::check_output({"/bin/sh", "-c", "echo got; exit 5"});
    FAIL();
  } catch (const sp::CalledProcessError& e) {
    EXPECT_EQ(e.returncode, 5);
    EXPECT_EQ(e.output, "got\n");
  }
}

// Python: test_shell_string / test_shell_sequence — shell=True runs the string through /bin/sh;
// with a list, the rest are the shell's positional parameters.
TEST_F(Run, ShellStringAndSequence) {
  auto cp = sp::run("echo $((6*7)) | tr 4 X", {.capture_output = true, .shell = true});
  EXPECT_EQ(cp.stdout, "X2\n");
  EXPECT_EQ(cp.args, (std::vector<std::string>{"echo $((6*7)) | tr 4 X"}));
  auto seq = sp::run({"echo \"$0 $1\"", "zero", "one"}, {.capture_output = true, .shell = true});
  EXPECT_EQ(seq.stdout, "zero one\n");
}

// Python: a string without shell=True names a program run without arguments.
TEST_F(Run, StringWithoutShellIsTheProgram) {
  EXPECT_EQ(sp::run("true").returncode, 0);
  EXPECT_THROW(sp::run("true --not-a-program-name-with-spaces"), trident::FileNotFoundError);
}

// Python: test_getoutput — getstatusoutput runs through the shell, merges stderr, strips one "\n".
TEST_F(Run, GetoutputAndGetstatusoutput) {
  EXPECT_EQ(sp::getoutput("echo xyzzy"), "xyzzy");
  auto [rc, out] = sp::getstatusoutput("echo xyzzy; echo err >&2; exit 3");
  EXPECT_EQ(rc, 3);
  EXPECT_EQ(out, "xyzzy\nerr");
  auto [rc2, out2] = sp::getstatusoutput("cat /nonexistent-trident-file");
  EXPECT_NE(rc2, 0);
  EXPECT_NE(out2.find("No such file"), std::string::npos);
}

// Python: text=True on run() returns translated text.
TEST_F(Run, TextMode) {
  auto cp = sp::run({"printf", "a\\r\\nb"}, {.capture_output = true, .text = true});
  EXPECT_EQ(cp.stdout, "a\nb");
}

}  // namespace
