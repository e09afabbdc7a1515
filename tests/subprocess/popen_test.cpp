// Popen: return codes, signals, poll/wait, pipes in every combination, the destructor.
// Modelled on CPython's Lib/test/test_subprocess.py (ProcessTestCase, POSIXProcessTestCase).
#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <thread>

#include "subprocess/subprocess_fixture.hpp"
#include "support/helpers.hpp"

namespace sp = trident::subprocess;
using namespace std::chrono_literals;
using trident::testing::SubprocessTest;
using Clock = std::chrono::steady_clock;

namespace {

class Popen : public SubprocessTest {};

// Python: Popen(...).wait() returns the exit status (test_exitcode / test_call_kwargs).
TEST_F(Popen, WaitReturnsExitStatus) {
  sp::Popen p({"/bin/sh", "-c", "exit 47"});
  EXPECT_GT(p.pid(), 0);
  EXPECT_EQ(p.wait(), 47);
  EXPECT_EQ(p.returncode(), 47);
}

// Python: returncode is None until the child is reaped by poll() or wait().
TEST_F(Popen, ReturncodeIsNoneUntilReaped) {
  sp::Popen p({"/bin/sh", "-c", "read x; exit 3"}, {.stdin = sp::PIPE});
  EXPECT_FALSE(p.returncode().has_value());
  EXPECT_FALSE(p.poll().has_value());  // blocked reading stdin: still running
  p.stdin().close();
  EXPECT_EQ(p.wait(), 3);
  EXPECT_EQ(p.poll(), 3);  // later polls keep answering
}

// Python: test_poll — poll() returns None while running, the status once exited, without blocking.
TEST_F(Popen, PollDoesNotBlockAndReapsOnce) {
  sp::Popen p({"cat"}, {.stdin = sp::PIPE});
  auto t0 = Clock::now();
  EXPECT_EQ(p.poll(), std::nullopt);
  EXPECT_LT(Clock::now() - t0, 500ms);
  p.stdin().close();
  std::optional<int> rc;
  auto until = Clock::now() + 10s;
  while (!(rc = p.poll()) && Clock::now() < until) std::this_thread::sleep_for(1ms);
  EXPECT_EQ(rc, 0);
  EXPECT_EQ(p.wait(), 0);
}

// Python: a negative returncode is the signal that ended the child (test_send_signal, test_kill).
TEST_F(Popen, KillGivesMinusSigkill) {
  sp::Popen p({"sleep", "30"});
  p.kill();
  EXPECT_EQ(p.wait(10s), -SIGKILL);
}

// Python: test_terminate — terminate() sends SIGTERM.
TEST_F(Popen, TerminateGivesMinusSigterm) {
  sp::Popen p({"sleep", "30"});
  p.terminate();
  EXPECT_EQ(p.wait(10s), -SIGTERM);
}

// Python: test_send_signal — send_signal(sig) delivers that signal.
TEST_F(Popen, SendSignalDeliversTheSignal) {
  sp::Popen p({"sleep", "30"});
  p.send_signal(SIGINT);
  EXPECT_EQ(p.wait(10s), -SIGINT);
}

// Python: test_send_signal_race / test_kill_dead — signalling a reaped child does nothing.
TEST_F(Popen, SignalAfterExitIsIgnored) {
  sp::Popen p({"true"});
  EXPECT_EQ(p.wait(), 0);
  EXPECT_NO_THROW(p.send_signal(SIGTERM));
  EXPECT_NO_THROW(p.kill());
  EXPECT_NO_THROW(p.terminate());
  EXPECT_EQ(p.returncode(), 0);
}

// Python: a child killed by a signal it sends itself reports minus that signal.
TEST_F(Popen, SelfKilledChildReportsItsSignal) {
  sp::Popen p({"/bin/sh", "-c", "kill -USR1 $$"});
  EXPECT_EQ(p.wait(10s), -SIGUSR1);
}

// Python: test_wait_timeout — wait(timeout) raises TimeoutExpired and the child keeps running.
TEST_F(Popen, WaitTimeoutRaisesAndChildKeepsRunning) {
  sp::Popen p({"sleep", "30"});
  auto t0 = Clock::now();
  try {
    p.wait(200ms);
    FAIL() << "no TimeoutExpired";
  } catch (const sp::TimeoutExpired& e) {
    EXPECT_DOUBLE_EQ(e.timeout.count(), 0.2);
    EXPECT_EQ(e.cmd, (std::vector<std::string>{"sleep", "30"}));
    EXPECT_STREQ(e.what(), "Command 'sleep 30' timed out after 0.2 seconds");
  }
  auto waited = Clock::now() - t0;
  EXPECT_GE(waited, 190ms);
  EXPECT_LT(waited, 200ms + trident::testing::kTimeoutSlack);
  EXPECT_EQ(p.poll(), std::nullopt);
  p.kill();
  EXPECT_EQ(p.wait(), -SIGKILL);
}

// Python: wait(timeout=0) polls; a negative timeout is a ValueError.
TEST_F(Popen, WaitZeroTimeoutPollsAndNegativeIsValueError) {
  sp::Popen p({"sleep", "30"});
  EXPECT_THROW(p.wait(0s), sp::TimeoutExpired);
  EXPECT_THROW(p.wait(-1s), trident::ValueError);
  p.kill();
  p.wait();
}

// Python: several threads may wait() on one Popen; all see the same returncode, reaped once.
TEST_F(Popen, ConcurrentWaitersAllSeeTheReturncode) {
  sp::Popen p({"/bin/sh", "-c", "sleep 0.1; exit 5"});
  std::vector<int> got(4, -1);
  std::vector<std::thread> ts;
  for (int i = 0; i < 4; ++i) ts.emplace_back([&, i] { got[static_cast<size_t>(i)] = p.wait(20s); });
  for (auto& t : ts) t.join();
  for (int rc : got) EXPECT_EQ(rc, 5);
}

// Python: test_stdin_pipe / test_stdout_pipe / test_stderr_pipe — pipe objects used directly.
TEST_F(Popen, PipesUsableDirectly) {
  sp::Popen p({"/bin/sh", "-c", "read line; echo \"out:$line\"; echo \"err:$line\" >&2"},
              {.stdin = sp::PIPE, .stdout = sp::PIPE, .stderr = sp::PIPE});
  ASSERT_TRUE(p.stdin());
  EXPECT_EQ(p.stdin().write("pear\n"), 5u);
  p.stdin().close();
  EXPECT_TRUE(p.stdin().closed());
  EXPECT_EQ(p.stdout().read(), "out:pear\n");
  EXPECT_EQ(p.stderr().read(), "err:pear\n");
  EXPECT_EQ(p.wait(), 0);
}

// Python: streams that are not PIPE are None (here a closed Pipe); using them is a ValueError.
TEST_F(Popen, UnpipedStreamsAreClosed) {
  sp::Popen p({"true"});
  EXPECT_FALSE(p.stdin());
  EXPECT_FALSE(p.stdout());
  EXPECT_FALSE(p.stderr());
  EXPECT_THROW(p.stdout().read(), trident::ValueError);
  try {
    p.stdin().write("x");
    FAIL();
  } catch (const trident::ValueError& e) {
    EXPECT_STREQ(e.what(), "Pipe::write(): I/O operation on closed pipe");
  }
  p.wait();
}

// Python: readline() and read(n) on a pipe, as on a buffered file object.
TEST_F(Popen, ReadlineAndSizedReads) {
  sp::Popen p({"printf", "one\\ntwo\\nthree"}, {.stdout = sp::PIPE});
  EXPECT_EQ(p.stdout().readline(), "one\n");
  EXPECT_EQ(p.stdout().read(2), "tw");
  EXPECT_EQ(p.stdout().readline(), "o\n");
  EXPECT_EQ(p.stdout().readline(), "three");
  EXPECT_EQ(p.stdout().readline(), "");
  EXPECT_EQ(p.stdout().read(10), "");
  p.wait();
}

// Python: writing to a child that exited raises BrokenPipeError (and does not kill us with SIGPIPE).
TEST_F(Popen, WriteToExitedChildRaisesBrokenPipe) {
  sp::Popen p({"true"}, {.stdin = sp::PIPE});
  p.wait();
  std::string big(1 << 20, 'x');
  EXPECT_THROW(p.stdin().write(big), trident::BrokenPipeError);
  sigset_t pending;
  sigpending(&pending);
  EXPECT_FALSE(sigismember(&pending, SIGPIPE)) << "a SIGPIPE was left pending";
}

// Python: test_stdout_stderr_pipe — stderr=STDOUT merges into the stdout pipe.
TEST_F(Popen, StderrToStdoutMerges) {
  sp::Popen p({"/bin/sh", "-c", "echo a; echo b >&2; echo c"}, {.stdout = sp::PIPE, .stderr = sp::STDOUT});
  EXPECT_FALSE(p.stderr());
  EXPECT_EQ(p.stdout().read(), "a\nb\nc\n");
  p.wait();
}

// Python: test_stdout_none / stderr=None — streams inherit the parent's fds; and stderr=STDOUT
// with stdout not redirected goes to the parent's stdout.
TEST_F(Popen, InheritedAndFileDescriptorRedirects) {
  char path[] = "/tmp/trident_sp_XXXXXX";
  int fd = mkstemp(path);
  ASSERT_GE(fd, 0);
  sp::Popen p({"/bin/sh", "-c", "echo to-out; echo to-err >&2"}, {.stdout = fd, .stderr = sp::STDOUT});
  EXPECT_EQ(p.wait(), 0);
  close(fd);
  std::ifstream f(path);
  std::string all((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  EXPECT_EQ(all, "to-out\nto-err\n");
  unlink(path);
}

// Python: test_stdin_filedes / a file object for stdin — the child reads from that file.
TEST_F(Popen, FileObjectAsStdin) {
  std::FILE* f = std::tmpfile();
  ASSERT_NE(f, nullptr);
  std::fputs("from a file\n", f);
  std::fflush(f);
  std::rewind(f);
  sp::Popen p({"cat"}, {.stdin = f, .stdout = sp::PIPE});
  EXPECT_EQ(p.stdout().read(), "from a file\n");
  p.wait();
  std::fclose(f);
}

// Python: DEVNULL for every stream (test_devnull_*).
TEST_F(Popen, DevnullForEveryStream) {
  sp::Popen p({"/bin/sh", "-c", "read x; echo \"[$x]\"; echo e >&2; exit 0"},
              {.stdin = sp::DEVNULL, .stdout = sp::PIPE, .stderr = sp::DEVNULL});
  EXPECT_EQ(p.stdout().read(), "[]\n");  // read hit EOF at once
  EXPECT_EQ(p.wait(), 0);
}

// Python: stdin=STDOUT (or stdout=STDOUT) is not a valid redirect.
TEST_F(Popen, StdoutConstantOnlyForStderr) {
  EXPECT_THROW(sp::Popen({"true"}, {.stdin = sp::STDOUT}), trident::ValueError);
  EXPECT_THROW(sp::Popen({"true"}, {.stdout = sp::STDOUT}), trident::ValueError);
}

// Pipes in every combination (CPython tests each of stdin/stdout/stderr as PIPE, alone and
// together): communicate returns what the child wrote on exactly the piped streams.
TEST_F(Popen, PipesInEveryCombination) {
  for (int mask = 0; mask < 8; ++mask) {
    bool in = mask & 1, out = mask & 2, err = mask & 4;
    sp::PopenOptions o;
    o.stdin = in ? sp::Redirect(sp::PIPE) : sp::Redirect(sp::DEVNULL);
    o.stdout = out ? sp::Redirect(sp::PIPE) : sp::Redirect(sp::DEVNULL);
    o.stderr = err ? sp::Redirect(sp::PIPE) : sp::Redirect(sp::DEVNULL);
    sp::Popen p({"/bin/sh", "-c", "x=$(cat); echo \"o$x\"; echo \"e$x\" >&2"}, o);
    EXPECT_EQ(static_cast<bool>(p.stdin()), in);
    auto [o_data, e_data] = in ? p.communicate("Z") : p.communicate();
    // A stream that is not a pipe is Python's None: nullopt, not "".
    using Out = std::optional<std::string>;
    EXPECT_EQ(o_data, out ? Out(in ? "oZ\n" : "o\n") : std::nullopt) << "mask " << mask;
    EXPECT_EQ(e_data, err ? Out(in ? "eZ\n" : "e\n") : std::nullopt) << "mask " << mask;
    EXPECT_EQ(p.returncode(), 0);
  }
}

// Python's __exit__: the destructor closes the pipes and waits for the child, so a child that
// reads its stdin to the end (cat) exits and is reaped, leaving no zombie and no fd.
TEST_F(Popen, DestructorClosesPipesAndWaits) {
  int pid;
  {
    sp::Popen p({"cat"}, {.stdin = sp::PIPE, .stdout = sp::PIPE});
    pid = p.pid();
    p.stdin().write("data");
  }
  EXPECT_NE(kill(pid, 0), 0);  // gone, reaped
}

// Python's __exit__ does not kill the child: the destructor waits for it to finish.
TEST_F(Popen, DestructorWaitsForARunningChild) {
  auto t0 = Clock::now();
  { sp::Popen p({"sleep", "0.3"}); }
  EXPECT_GE(Clock::now() - t0, 250ms);
}

// A moved Popen keeps the child; the moved-from object owns nothing.
TEST_F(Popen, MoveTransfersTheChild) {
  std::vector<sp::Popen> ps;
  for (int i = 0; i < 3; ++i) ps.emplace_back(sp::Args{"/bin/sh", "-c", "exit " + std::to_string(i)});
  sp::Popen moved = std::move(ps[2]);
  EXPECT_EQ(moved.wait(), 2);
  EXPECT_EQ(ps[0].wait(), 0);
  EXPECT_EQ(ps[1].wait(), 1);
}

// Python: SIGCHLD set to SIG_IGN makes the kernel reap children itself; wait() then reports 0
// (CPython's ChildProcessError branch) instead of failing or hanging.
TEST_F(Popen, SigchldIgnoredStillWaits) {
  struct sigaction ign {
  }, old{};
  ign.sa_handler = SIG_IGN;
  sigaction(SIGCHLD, &ign, &old);
  int rc = -1;
  {
    sp::Popen p({"/bin/sh", "-c", "exit 7"});
    rc = p.wait(10s);
  }
  sigaction(SIGCHLD, &old, nullptr);
  EXPECT_EQ(rc, 0);
}

}  // namespace
