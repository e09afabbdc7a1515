// multiprocessing::Process under every start method (fork, forkserver, spawn): the process themes
// of CPython's Lib/test/_test_multiprocessing.py (_TestProcess, _TestSubclassingProcess,
// TestStartMethod) — exit codes, terminate/kill, join with a timeout, is_alive, names and pids,
// parent_process, active_children, the sentinel with connection::wait, a Pipe shared with the
// child, daemon children terminated when their parent exits, an exception in the child — plus
// trident's own rules: handle lifetime, moves, what may cross to forkserver/spawn children.
#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <string>
#include <thread>
#include <tuple>
#include <vector>

#include "multiprocessing/process_test_support.hpp"
#include "trident/multiprocessing.hpp"
#include "trident/os.hpp"

using namespace std::chrono_literals;
namespace mp = trident::multiprocessing;
using mp::Connection;
using mp::Process;
using trident::testing::kTimeoutSlack;

namespace {

// ---- targets (plain functions: they cross to forkserver and spawn children) ----

void noop() {}

void exit_with(int code) { trident::os::_exit(code); }

void raise_value_error(std::string message) { throw trident::ValueError(message); }

// Tells the parent it runs, then waits for a word (or the end of the pipe).
void wait_for_release(Connection c) {
  c.send(std::string("ready"));
  c.recv<int>();
}

void sleep_ms(int ms) { std::this_thread::sleep_for(std::chrono::milliseconds(ms)); }

using Identity = std::tuple<std::string, int, bool, int, std::string, int>;

// current_process() and parent_process() as the child sees them.
void report_identity(Connection c) {
  mp::Process& me = mp::current_process();
  mp::Process* parent = mp::parent_process();
  c.send(Identity(me.name(), me.pid().value_or(-1), me.daemon(), parent ? parent->pid().value_or(-1) : -1,
                  parent ? parent->name() : std::string("None"), trident::os::getppid()));
}

void sleep_forever_after_ready(Connection c) {
  c.send(1);
  for (;;) pause();
}

// Starts a daemon grandchild with `method`, reports its pid, and returns: the child's exit must
// terminate the grandchild (Python's _exit_function).
void start_daemon_grandchild(Connection c, std::string method) {
  auto [r, w] = mp::Pipe();
  Process gc = mp::get_context(method).Process(mp::ProcessOptions{.daemon = true}, sleep_forever_after_ready, w);
  gc.start();
  r.recv<int>();
  c.send(gc.pid().value_or(-1));
}

// Starts a daemon grandchild, reports its pid, and waits to be killed.
void start_daemon_and_wait(Connection c, std::string method) {
  auto [r, w] = mp::Pipe();
  Process gc = mp::get_context(method).Process(mp::ProcessOptions{.daemon = true}, sleep_forever_after_ready, w);
  gc.start();
  r.recv<int>();
  c.send(gc.pid().value_or(-1));
  for (;;) pause();
}

void daemon_starts_child(Connection c, std::string method) {
  try {
    Process p = mp::get_context(method).Process(noop);
    p.start();
    p.join();
    c.send(std::string("started"));
  } catch (const trident::RuntimeError& e) {
    c.send(std::string(e.what()));
  }
}

// The grandchild: waits for its parent (the child, which exits at once) to die, then reports.
void watch_parent(Connection c) {
  mp::Process* parent = mp::parent_process();
  if (parent == nullptr) {
    c.send(std::string("no parent"));
    return;
  }
  const int ppid = parent->pid().value_or(-1);
  parent->join(30s);
  c.send(std::string(parent->is_alive() ? "alive" : "dead") + ":" + std::to_string(ppid));
}

void start_watcher_and_exit(Connection c, std::string method) {
  Process gc = mp::get_context(method).Process(watch_parent, c);
  gc.start();
  c.send(trident::os::getpid());
  trident::os::_exit(0);  // no join: the grandchild must see its parent die
}

// Captures what children write on stderr (fd 2 is inherited by fork and spawn children and sent
// to fork server children with each request).
class StderrCapture {
 public:
  StderrCapture() {
    std::fflush(stderr);
    char path[] = "/tmp/trident_stderr_XXXXXX";
    file_ = mkstemp(path);
    unlink(path);
    saved_ = dup(2);
    dup2(file_, 2);
  }
  ~StderrCapture() {
    restore();
    if (file_ >= 0) close(file_);
  }
  StderrCapture(const StderrCapture&) = delete;
  StderrCapture& operator=(const StderrCapture&) = delete;
  /// Puts stderr back and returns what was written meanwhile.
  std::string text() {
    restore();
    std::string out;
    char buf[4096];
    lseek(file_, 0, SEEK_SET);
    for (ssize_t n; (n = read(file_, buf, sizeof buf)) > 0;) out.append(buf, static_cast<std::size_t>(n));
    return out;
  }

 private:
  void restore() {
    if (saved_ < 0) return;
    std::fflush(stderr);
    dup2(saved_, 2);
    close(saved_);
    saved_ = -1;
  }
  int file_ = -1;
  int saved_ = -1;
};

bool pid_exists(int pid) { return ::kill(pid, 0) == 0 || errno != ESRCH; }

// Alive and not a zombie (an orphan's zombie waits for whoever reaps orphans here).
bool pid_running(int pid) {
  std::ifstream f("/proc/" + std::to_string(pid) + "/stat");
  std::string line;
  if (!std::getline(f, line)) return false;
  const auto close_paren = line.rfind(')');
  return close_paren != std::string::npos && close_paren + 2 < line.size() && line[close_paren + 2] != 'Z';
}

class ProcessTest : public ::testing::TestWithParam<std::string> {
 protected:
  mp::Context ctx() const { return mp::get_context(GetParam()); }
  bool forks() const { return GetParam() == "fork"; }
};

// ---- tests ----

// Python: a process that returns normally has exitcode 0; before start() exitcode is None,
// is_alive() False and pid None; after join() is_alive() is False.
TEST_P(ProcessTest, NormalExitIsZero) {
  Process p = ctx().Process(noop);
  EXPECT_FALSE(p.exitcode().has_value());
  EXPECT_FALSE(p.is_alive());
  EXPECT_FALSE(p.pid().has_value());
  p.start();
  EXPECT_TRUE(p.pid().has_value());
  EXPECT_EQ(p.ident(), p.pid());
  p.join();
  EXPECT_FALSE(p.is_alive());
  EXPECT_EQ(p.exitcode(), 0);
}

// Python's test_exitcode / test_sys_exit: the status the child exits with is the exitcode.
TEST_P(ProcessTest, ExitStatusIsTheExitcode) {
  for (int code : {0, 1, 5, 255}) {
    Process p = ctx().Process(exit_with, code);
    p.start();
    p.join();
    EXPECT_EQ(p.exitcode(), code);
  }
}

// Python: an exception escaping run() prints "Process NAME:" and the traceback on the child's
// stderr, and the exitcode is 1.
TEST_P(ProcessTest, ExceptionInChildIsReportedAndExitsOne) {
  StderrCapture cap;
  Process p = ctx().Process(mp::ProcessOptions{.name = "Bad"}, raise_value_error, std::string("boom"));
  p.start();
  p.join();
  const std::string err = cap.text();
  EXPECT_EQ(p.exitcode(), 1);
  EXPECT_NE(err.find("Process Bad:"), std::string::npos) << err;
  EXPECT_NE(err.find("ValueError: boom"), std::string::npos) << err;
}

// Python's test_terminate / test_kill: exitcode is -SIGTERM / -SIGKILL.
TEST_P(ProcessTest, TerminateAndKillGiveMinusTheSignal) {
  for (int sig : {SIGTERM, SIGKILL}) {
    auto [r, w] = mp::Pipe();
    Process p = ctx().Process(sleep_forever_after_ready, w);
    p.start();
    EXPECT_EQ(r.recv<int>(), 1);
    EXPECT_TRUE(p.is_alive());
    if (sig == SIGTERM) {
      p.terminate();
    } else {
      p.kill();
    }
    p.join(10s);
    EXPECT_FALSE(p.is_alive());
    EXPECT_EQ(p.exitcode(), -sig);
    p.terminate();  // on a finished process: nothing
  }
}

// Python: join(timeout) returns after the timeout with the child still alive.
TEST_P(ProcessTest, JoinTimeoutReturnsWithChildAlive) {
  auto [r, w] = mp::Pipe();
  Process p = ctx().Process(wait_for_release, w);
  p.start();
  EXPECT_EQ(r.recv<std::string>(), "ready");
  const auto t0 = std::chrono::steady_clock::now();
  p.join(0.3s);
  const auto took = std::chrono::steady_clock::now() - t0;
  EXPECT_GE(took, 290ms);
  EXPECT_LE(took, 300ms + kTimeoutSlack);
  EXPECT_TRUE(p.is_alive());
  EXPECT_FALSE(p.exitcode().has_value());
  r.send(1);
  p.join(10s);
  EXPECT_EQ(p.exitcode(), 0);
  EXPECT_THROW(p.join(-1.0s), trident::ValueError);
}

// Python's test_current / test_parent_process_attributes: the child's current_process() has
// the name, pid and daemon flag given; its parent_process() is this process.
TEST_P(ProcessTest, ChildSeesItsNameAndParent) {
  EXPECT_EQ(mp::parent_process(), nullptr);
  EXPECT_EQ(mp::current_process().name(), "MainProcess");
  EXPECT_EQ(mp::current_process().pid(), getpid());
  auto [r, w] = mp::Pipe();
  Process p = ctx().Process(mp::ProcessOptions{.name = "worker", .daemon = true}, report_identity, w);
  EXPECT_EQ(p.name(), "worker");
  EXPECT_TRUE(p.daemon());
  p.start();
  const Identity id = r.recv<Identity>();
  p.join(10s);
  EXPECT_EQ(std::get<0>(id), "worker");
  EXPECT_EQ(std::get<1>(id), *p.pid());
  EXPECT_TRUE(std::get<2>(id));
  EXPECT_EQ(std::get<3>(id), getpid());
  EXPECT_EQ(std::get<4>(id), "MainProcess");
  // Under forkserver the OS parent is the fork server; under fork and spawn it is this process.
  if (GetParam() == "forkserver") {
    EXPECT_NE(std::get<5>(id), getpid());
  } else {
    EXPECT_EQ(std::get<5>(id), getpid());
  }
  EXPECT_EQ(p.exitcode(), 0);
}

// Python: default names are "Process-N" with N counting Process objects of this process.
TEST_P(ProcessTest, DefaultNamesCount) {
  Process a = ctx().Process(noop);
  Process b = ctx().Process(noop);
  ASSERT_EQ(a.name().rfind("Process-", 0), 0u);
  const int na = std::stoi(a.name().substr(8));
  EXPECT_EQ(b.name(), "Process-" + std::to_string(na + 1));
  b.set_name("renamed");
  EXPECT_EQ(b.name(), "renamed");
}

// Python's test_parent_process: a grandchild's parent_process() sentinel fires when its parent dies.
TEST_P(ProcessTest, ParentSentinelFiresWhenParentDies) {
  auto [r, w] = mp::Pipe();
  Process p = ctx().Process(start_watcher_and_exit, w, GetParam());
  p.start();
  const int child_pid = r.recv<int>();
  p.join(10s);
  EXPECT_EQ(p.exitcode(), 0);
  ASSERT_TRUE(r.poll(30s));
  EXPECT_EQ(r.recv<std::string>(), "dead:" + std::to_string(child_pid));
}

// Python's test_active_children.
TEST_P(ProcessTest, ActiveChildrenListsRunningChildren) {
  auto [r, w] = mp::Pipe();
  Process p = ctx().Process(wait_for_release, w);
  EXPECT_TRUE(mp::active_children().empty());
  p.start();
  r.recv<std::string>();
  auto kids = mp::active_children();
  ASSERT_EQ(kids.size(), 1u);
  EXPECT_EQ(kids[0], &p);
  r.send(1);
  p.join(10s);
  EXPECT_TRUE(mp::active_children().empty());
}

// Python's test_sentinel: wait([sentinel]) is empty while the child runs, ready once it exited.
TEST_P(ProcessTest, SentinelWorksWithConnectionWait) {
  auto [r, w] = mp::Pipe();
  Process p = ctx().Process(wait_for_release, w);
  EXPECT_THROW(p.sentinel(), trident::ValueError);
  p.start();
  const int s = p.sentinel();
  r.recv<std::string>();
  EXPECT_TRUE(mp::connection::wait({s}, 0.05s).empty());
  r.send(1);
  EXPECT_EQ(mp::connection::wait({s}, 10s).size(), 1u);
  p.join(10s);
  EXPECT_EQ(p.exitcode(), 0);
}

// Python: a Pipe end passed as an argument is the same pipe in the child (both directions).
TEST_P(ProcessTest, PipeSharedWithChild) {
  auto [r, w] = mp::Pipe();
  Process p = ctx().Process(wait_for_release, w);
  p.start();
  EXPECT_EQ(r.recv<std::string>(), "ready");
  r.send(42);
  p.join(10s);
  EXPECT_EQ(p.exitcode(), 0);
}

// Python's _exit_function: a daemonic child is terminated when its parent exits.
TEST_P(ProcessTest, DaemonChildTerminatedWhenParentExits) {
  auto [r, w] = mp::Pipe();
  Process p = ctx().Process(start_daemon_grandchild, w, GetParam());
  p.start();
  const int gc = r.recv<int>();
  ASSERT_GT(gc, 0);
  p.join(10s);
  EXPECT_EQ(p.exitcode(), 0);
  EXPECT_FALSE(pid_exists(gc)) << "the daemon grandchild outlived its parent";
}

// A daemon child of a parent killed without any chance to clean up is not left running
// (PR_SET_PDEATHSIG; under forkserver through the fork server's own death).
TEST_P(ProcessTest, DaemonChildDiesWithKilledParent) {
  auto [r, w] = mp::Pipe();
  Process p = ctx().Process(start_daemon_and_wait, w, GetParam());
  p.start();
  const int gc = r.recv<int>();
  ASSERT_GT(gc, 0);
  p.kill();
  p.join(10s);
  EXPECT_EQ(p.exitcode(), -SIGKILL);
  const auto until = std::chrono::steady_clock::now() + 10s;
  while (pid_running(gc) && std::chrono::steady_clock::now() < until) std::this_thread::sleep_for(1ms);
  EXPECT_FALSE(pid_running(gc)) << "the daemon grandchild outlived its killed parent";
}

// Python: "daemonic processes are not allowed to have children".
TEST_P(ProcessTest, DaemonCannotStartChildren) {
  auto [r, w] = mp::Pipe();
  Process p = ctx().Process(mp::ProcessOptions{.daemon = true}, daemon_starts_child, w, GetParam());
  p.start();
  const std::string what = r.recv<std::string>();
  p.join(10s);
  EXPECT_NE(what.find("daemonic processes are not allowed to have children"), std::string::npos) << what;
}

// Python: start() twice is an error; set_daemon after start() too.
TEST_P(ProcessTest, StartTwiceAndLateDaemonAreErrors) {
  Process p = ctx().Process(noop);
  p.start();
  EXPECT_THROW(p.start(), trident::RuntimeError);
  EXPECT_THROW(p.set_daemon(true), trident::RuntimeError);
  p.join();
}

// Python's test_close: close() refuses a running process; afterwards the object is closed.
TEST_P(ProcessTest, CloseRefusesRunningProcess) {
  auto [r, w] = mp::Pipe();
  Process p = ctx().Process(wait_for_release, w);
  p.start();
  r.recv<std::string>();
  EXPECT_THROW(p.close(), trident::ValueError);
  r.send(1);
  p.join(10s);
  p.close();
  p.close();
  EXPECT_THROW(p.pid(), trident::ValueError);
  EXPECT_THROW(p.is_alive(), trident::ValueError);
  EXPECT_THROW(p.join(), trident::ValueError);
}

// trident's handle rule: destroying the handle of a running non-daemon child waits for it.
TEST_P(ProcessTest, DestroyingHandleWaitsForNonDaemonChild) {
  int pid = 0;
  const auto t0 = std::chrono::steady_clock::now();
  {
    Process p = ctx().Process(sleep_ms, 300);
    p.start();
    pid = *p.pid();
  }
  EXPECT_GE(std::chrono::steady_clock::now() - t0, 250ms);
  EXPECT_FALSE(pid_exists(pid));
}

// trident's handle rule: a daemon child's handle lets it run on.
TEST_P(ProcessTest, DestroyingDaemonHandleLetsItRun) {
  auto [r, w] = mp::Pipe();
  int pid = 0;
  {
    Process p = ctx().Process(mp::ProcessOptions{.daemon = true}, wait_for_release, w);
    p.start();
    r.recv<std::string>();
    pid = *p.pid();
  }
  EXPECT_TRUE(pid_exists(pid));
  EXPECT_TRUE(mp::active_children().empty());  // its handle is gone
  r.send(1);
  const auto until = std::chrono::steady_clock::now() + 10s;
  while (pid_exists(pid) && std::chrono::steady_clock::now() < until) {
    mp::active_children();  // reaps finished children, as Python's does
    std::this_thread::sleep_for(1ms);
  }
  EXPECT_FALSE(pid_exists(pid));
}

// Handles are movable: note 003's three processes in a list.
TEST_P(ProcessTest, HandlesMoveIntoVector) {
  std::vector<Process> procs;
  for (int i = 0; i < 3; ++i) procs.push_back(ctx().Process(exit_with, i));
  for (auto& p : procs) p.start();
  Process moved = std::move(procs[2]);
  EXPECT_TRUE(procs[2].empty());
  EXPECT_THROW(procs[2].join(), trident::ValueError);
  procs[0].join();
  procs[1].join();
  moved.join();
  EXPECT_EQ(procs[0].exitcode(), 0);
  EXPECT_EQ(procs[1].exitcode(), 1);
  EXPECT_EQ(moved.exitcode(), 2);
}

// Only plain functions and captureless lambdas cross to forkserver/spawn children; a capturing
// lambda works under fork and is a TypeError from start() otherwise (never UB in the child).
TEST_P(ProcessTest, CapturingLambdaCrossesOnlyUnderFork) {
  int code = 7;
  Process p = ctx().Process([code] { trident::os::_exit(code); });
  if (forks()) {
    p.start();
    p.join();
    EXPECT_EQ(p.exitcode(), 7);
  } else {
    try {
      p.start();
      FAIL() << "start() accepted a capturing lambda";
    } catch (const trident::TypeError& e) {
      EXPECT_NE(std::string(e.what()).find("captureless lambda"), std::string::npos) << e.what();
    }
    EXPECT_FALSE(p.pid().has_value());
  }
}

// A captureless lambda crosses under every method (rebuilt by type in the child).
TEST_P(ProcessTest, CapturelessLambdaCrosses) {
  Process p = ctx().Process([](int a, std::string b) { trident::os::_exit(a + static_cast<int>(b.size())); }, 3,
                            std::string("four"));
  p.start();
  p.join();
  EXPECT_EQ(p.exitcode(), 7);
}

struct Opaque {
  int x = 0;  // no serialize: cannot be pickled
};
void use_opaque(Opaque o) { trident::os::_exit(o.x); }

TEST_P(ProcessTest, UnpicklableArgumentCrossesOnlyUnderFork) {
  Process p = ctx().Process(use_opaque, Opaque{9});
  if (forks()) {
    p.start();
    p.join();
    EXPECT_EQ(p.exitcode(), 9);
  } else {
    EXPECT_THROW(p.start(), trident::TypeError);
  }
}

INSTANTIATE_TEST_SUITE_P(StartMethods, ProcessTest, ::testing::ValuesIn(trident::testing::all_methods()),
                         trident::testing::method_test_name);

// ---- start methods (not parameterised) ----

void report_ppid(Connection c) { c.send(trident::os::getppid()); }

// Python 3.14: forkserver is the default on Linux; set_start_method refuses a second setting
// without force; get_context names its method.
TEST(StartMethod, DefaultIsForkserverAndSettingIsChecked) {
  EXPECT_EQ(mp::get_all_start_methods(), (std::vector<std::string>{"forkserver", "spawn", "fork"}));
  EXPECT_EQ(mp::get_start_method(), "forkserver");
  EXPECT_THROW(mp::set_start_method("fork"), trident::RuntimeError);
  EXPECT_THROW(mp::set_start_method("threads", true), trident::ValueError);
  EXPECT_THROW(mp::get_context("threads"), trident::ValueError);
  EXPECT_EQ(mp::get_context("spawn").get_start_method(), "spawn");
  EXPECT_EQ(mp::get_context().get_start_method(), "forkserver");

  // The default Process starts through the fork server: its OS parent is not this process.
  auto [r, w] = mp::Pipe();
  {
    Process p(report_ppid, w);
    p.start();
    EXPECT_NE(r.recv<int>(), getpid());
    p.join();
  }
  mp::set_start_method("fork", true);
  EXPECT_EQ(mp::get_start_method(), "fork");
  {
    Process p(report_ppid, w);
    p.start();
    EXPECT_EQ(r.recv<int>(), getpid());
    p.join();
  }
  mp::set_start_method("forkserver", true);
}

TEST(StartMethod, CpuCount) { EXPECT_GE(mp::cpu_count(), 1); }

}  // namespace

TRIDENT_PROCESS_TEST_MAIN()
