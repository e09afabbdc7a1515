// run, call, check_call, check_output, getoutput, getstatusoutput, shell: Python's convenience API.
// Modelled on CPython's test_subprocess (RunFuncTestCase, ProcessTestCase.test_call_*,
// test_check_output*, test_getoutput).
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>

#include <cerrno>
#include <chrono>
#include <cstdlib>

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

// Makes this process the reaper of its orphaned descendants for the scope: a grandchild left behind
// by a killed child becomes our child, so the test can reap it and the fixture would report it.
class SubreaperScope {
 public:
  SubreaperScope() { EXPECT_EQ(prctl(PR_SET_CHILD_SUBREAPER, 1), 0); }
  ~SubreaperScope() { prctl(PR_SET_CHILD_SUBREAPER, 0); }
  SubreaperScope(const SubreaperScope&) = delete;
  SubreaperScope& operator=(const SubreaperScope&) = delete;
};

// The shells below print `$$` first: started with start_new_session, that is also the process
// group of everything they start. Kills the group named by `output`'s first line and reaps the
// members that were reparented to us. Without that line the shell never reached its grandchild.
void kill_group_of(const std::optional<std::string>& output) {
  if (!output || output->find('\n') == std::string::npos) return;
  pid_t pgid = static_cast<pid_t>(std::atol(output->c_str()));
  ASSERT_GT(pgid, 1) << *output;
  kill(-pgid, SIGKILL);
  while (waitpid(-pgid, nullptr, 0) > 0 || errno == EINTR) {
  }
  EXPECT_EQ(kill(-pgid, 0), -1) << "a process of the test's group survived";
}

// Python (POSIX): on timeout run() kills the child, waits for it and raises TimeoutExpired at once
// with the output read so far. It does not wait for end of file on the pipes, which the shell's
// `sleep` (a grandchild, not killed) holds for 30 s; before the fix this took the grandchild's life.
TEST_F(Run, TimeoutDoesNotWaitForAGrandchildHoldingThePipes) {
  SubreaperScope reaper;
  std::optional<std::string> output;
  auto t0 = Clock::now();
  try {
    sp::run("echo $$; sleep 30; :",
            {.capture_output = true, .timeout = 200ms, .shell = true, .start_new_session = true});
    ADD_FAILURE() << "no TimeoutExpired";
  } catch (const sp::TimeoutExpired& e) {
    output = e.output;
    EXPECT_EQ(e.stderr, "");
    EXPECT_DOUBLE_EQ(e.timeout.count(), 0.2);
  }
  auto took = Clock::now() - t0;
  kill_group_of(output);
  EXPECT_GE(took, 190ms);
  EXPECT_LT(took, 200ms + trident::testing::kTimeoutSlack);  // far below the grandchild's 30 s
}

// The same with a grandchild that never exits and never stops writing: run() still returns on
// time, with what was read plus what the pipe held when the child died, and no more.
TEST_F(Run, TimeoutWithAGrandchildThatNeverExits) {
  SubreaperScope reaper;
  std::optional<std::string> output;
  auto t0 = Clock::now();
  try {
    sp::check_output("echo $$; yes & wait", {.timeout = 200ms, .shell = true, .start_new_session = true});
    ADD_FAILURE() << "no TimeoutExpired";
  } catch (const sp::TimeoutExpired& e) {
    output = e.output;
    EXPECT_EQ(e.stderr, std::nullopt);  // stderr was not captured
  }
  auto took = Clock::now() - t0;
  kill_group_of(output);
  EXPECT_LT(took, 200ms + trident::testing::kTimeoutSlack);
  ASSERT_TRUE(output.has_value());
  // The shell prints its pid before it starts `yes`; under heavy load it may not have got there.
  if (!output->empty()) {
    EXPECT_NE(output->find('\n'), std::string::npos);
  }
}

// Python: CalledProcessError names a killing signal as repr(signal.Signals(n)).
TEST_F(Run, CheckNamesTheSignalAsPython) {
  try {
    sp::run({"/bin/sh", "-c", "ulimit -c 0; kill -ABRT $$"}, {.check = true});
    FAIL() << "no CalledProcessError";
  } catch (const sp::CalledProcessError& e) {
    EXPECT_EQ(e.returncode, -SIGABRT);
    EXPECT_STREQ(e.what(), "Command '/bin/sh -c ulimit -c 0; kill -ABRT $$' died with <Signals.SIGABRT: 6>.");
  }
}

// Python's spelling for every kind of number: the enum member's name (aliases resolve to the
// alphabetically first: SIGCHLD not SIGCLD, SIGIO not SIGPOLL), SIGRTMIN/SIGRTMAX, and
// "unknown signal N" for the realtime signals between them.
TEST(CalledProcessErrorMessage, SignalsAreNamedAsPythonNamesThem) {
  auto died = [](int sig) { return std::string(sp::CalledProcessError(-sig, {"prog", "arg"}).what()); };
  EXPECT_EQ(died(SIGKILL), "Command 'prog arg' died with <Signals.SIGKILL: 9>.");
  EXPECT_EQ(died(SIGSEGV), "Command 'prog arg' died with <Signals.SIGSEGV: 11>.");
  EXPECT_EQ(died(SIGCHLD), "Command 'prog arg' died with <Signals.SIGCHLD: 17>.");
  EXPECT_EQ(died(SIGIO), "Command 'prog arg' died with <Signals.SIGIO: 29>.");
  EXPECT_EQ(died(SIGSYS), "Command 'prog arg' died with <Signals.SIGSYS: 31>.");
  EXPECT_EQ(died(SIGRTMIN), "Command 'prog arg' died with <Signals.SIGRTMIN: " + std::to_string(SIGRTMIN) + ">.");
  EXPECT_EQ(died(SIGRTMAX), "Command 'prog arg' died with <Signals.SIGRTMAX: " + std::to_string(SIGRTMAX) + ">.");
  EXPECT_EQ(died(SIGRTMIN + 1), "Command 'prog arg' died with unknown signal " + std::to_string(SIGRTMIN + 1) + ".");
  EXPECT_EQ(died(200), "Command 'prog arg' died with unknown signal 200.");
  EXPECT_STREQ(sp::CalledProcessError(3, {"prog"}).what(), "Command 'prog' returned non-zero exit status 3.");
}

// Python: stdout/stderr are None when not captured and b'' when captured and empty; the errors
// carry the same distinction (check_call's and wait()'s have no output at all).
TEST_F(Run, OutputIsNoneExactlyWhenNotCaptured) {
  auto none = sp::run({"true"});
  EXPECT_EQ(none.stdout, std::nullopt);
  EXPECT_EQ(none.stderr, std::nullopt);
  auto empty = sp::run({"true"}, {.capture_output = true});
  EXPECT_EQ(empty.stdout, std::optional<std::string>(""));
  EXPECT_EQ(empty.stderr, std::optional<std::string>(""));
  auto only_out = sp::run({"/bin/sh", "-c", "echo o; echo e >&2"}, {.stdout = sp::PIPE, .stderr = sp::DEVNULL});
  EXPECT_EQ(only_out.stdout, "o\n");
  EXPECT_EQ(only_out.stderr, std::nullopt);
  auto merged = sp::run({"/bin/sh", "-c", "echo o; echo e >&2"}, {.stdout = sp::PIPE, .stderr = sp::STDOUT});
  EXPECT_EQ(merged.stdout, "o\ne\n");
  EXPECT_EQ(merged.stderr, std::nullopt);
  // The common spellings.
  EXPECT_EQ(*sp::run({"echo", "x"}, {.capture_output = true}).stdout, "x\n");
  EXPECT_EQ(sp::run({"true"}).stdout.value_or(""), "");

  try {
    sp::check_call({"false"});
    FAIL();
  } catch (const sp::CalledProcessError& e) {
    EXPECT_EQ(e.output, std::nullopt);
    EXPECT_EQ(e.stderr, std::nullopt);
  }
  try {
    sp::run({"false"}, {.check = true});
    FAIL();
  } catch (const sp::CalledProcessError& e) {
    EXPECT_EQ(e.output, std::nullopt);
  }
  try {
    sp::check_output({"false"});
    FAIL();
  } catch (const sp::CalledProcessError& e) {
    EXPECT_EQ(e.output, std::optional<std::string>(""));
    EXPECT_EQ(e.stderr, std::nullopt);
  }
  try {
    sp::run({"sleep", "30"}, {.timeout = 100ms, .stderr = sp::PIPE});
    FAIL();
  } catch (const sp::TimeoutExpired& e) {
    EXPECT_EQ(e.output, std::nullopt);
    EXPECT_EQ(e.stderr, std::optional<std::string>(""));
  }
  sp::Popen p({"sleep", "30"}, {.stdout = sp::PIPE});
  try {
    p.wait(50ms);
    FAIL();
  } catch (const sp::TimeoutExpired& e) {
    EXPECT_EQ(e.output, std::nullopt);  // wait() reads nothing, as in Python
  }
  p.kill();
  p.wait();
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
