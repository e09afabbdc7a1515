// Process exit with executors still alive: CPython's test_interpreter_shutdown,
// test_submit_after_interpreter_shutdown, test_hang_gh83386 and test_cancel_futures_wait_false.
// Each scenario runs in a fresh copy of this test binary (re-executed with
// TRIDENT_FUTURES_EXIT_CHILD naming the scenario), which must print what Python prints and exit 0
// instead of hanging.
#include <fcntl.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "support/helpers.hpp"
#include "trident/futures.hpp"
#include "trident/threading.hpp"

extern char** environ;

using namespace std::chrono_literals;
namespace futures = trident::futures;

namespace {

constexpr const char* kScenarioVariable = "TRIDENT_FUTURES_EXIT_CHILD";

// The child reports on fd 3 (its stdout carries GoogleTest's banner).
constexpr int kReportFd = 3;

void say(const std::string& text) {
  const ssize_t n = write(kReportFd, text.data(), text.size());
  (void)n;
}

// Python's sleep_and_print(t, msg): a call still running when the program exits.
void wait_and_print(std::chrono::milliseconds t, const char* msg) {
  trident::threading::Event never;
  never.wait(t);
  say(msg);
}

futures::ThreadPoolExecutor* g_pool = nullptr;  // deliberately never destroyed

void run_last() {
  try {
    g_pool->submit([] {});
  } catch (const trident::RuntimeError& e) {
    say(std::string("runtime-error: ") + e.what());
  }
}

// The child side: runs inside RUN_ALL_TESTS before any test (after static initialization) when
// the variable is set, then leaves through std::exit, which runs the exit handlers.
void run_scenario(const std::string& s) {
  if (s == "interpreter_shutdown") {
    // A pool alive at exit: its running call completes before the process ends.
    g_pool = new futures::ThreadPoolExecutor(5);
    g_pool->submit(wait_and_print, 100ms, "apple");
  } else if (s == "submit_after_interpreter_shutdown") {
    // Registered first, so it runs after the executors were shut down at exit.
    std::atexit(&run_last);
    g_pool = new futures::ThreadPoolExecutor(5);
    g_pool->submit([] {}).result();
  } else if (s == "shutdown_no_wait") {
    g_pool = new futures::ThreadPoolExecutor(3);
    g_pool->submit(wait_and_print, 100ms, "apple");
    g_pool->shutdown(false);
  } else if (s == "cancel_futures_no_wait") {
    g_pool = new futures::ThreadPoolExecutor();
    g_pool->submit(wait_and_print, 100ms, "apple");
    g_pool->shutdown(false, true);
  } else if (s == "static_executor") {
    // Its destructor runs after threading's exit join (registered at the first thread start),
    // which must not wait for the idle workers forever.
    static futures::ThreadPoolExecutor pool(2);
    pool.submit(wait_and_print, 100ms, "apple");
  } else {
    say("unknown scenario");
    std::_Exit(3);
  }
  std::exit(0);
}

class ExitScenario : public ::testing::Environment {
 public:
  void SetUp() override {
    if (const char* s = std::getenv(kScenarioVariable)) run_scenario(s);
  }
};
[[maybe_unused]] ::testing::Environment* const kScenarioEnvironment =
    ::testing::AddGlobalTestEnvironment(new ExitScenario);

struct ChildResult {
  int exit_code = -1;  // -1: killed after the deadline
  std::string output;
};

// Re-executes this binary with the scenario set; returns its exit code and standard output.
ChildResult run_child(const std::string& scenario) {
  int out[2];
  if (pipe2(out, O_CLOEXEC) != 0) throw std::runtime_error("pipe2");
  std::vector<std::string> env_strings;
  for (char** e = environ; *e != nullptr; ++e) {
    if (std::strncmp(*e, "ASAN_OPTIONS=", 13) != 0) env_strings.emplace_back(*e);
  }
  env_strings.push_back(std::string(kScenarioVariable) + "=" + scenario);
  // The scenarios leak their executor on purpose (that is the point); do not report it.
  const char* asan = std::getenv("ASAN_OPTIONS");
  env_strings.push_back(std::string("ASAN_OPTIONS=") + (asan != nullptr ? asan : "") + ":detect_leaks=0");
  std::vector<char*> envp;
  for (auto& e : env_strings) envp.push_back(e.data());
  envp.push_back(nullptr);
  std::string self = "/proc/self/exe";
  std::vector<char*> argv{self.data(), nullptr};

  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, out[1], kReportFd);
  posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, "/dev/null", O_WRONLY, 0);
  pid_t pid = -1;
  const int rc = posix_spawn(&pid, "/proc/self/exe", &actions, nullptr, argv.data(), envp.data());
  posix_spawn_file_actions_destroy(&actions);
  close(out[1]);
  ChildResult result;
  if (rc != 0) {
    close(out[0]);
    throw std::runtime_error("posix_spawn failed");
  }
  // Read until the child closes its end (it exited) or the deadline passes.
  const auto deadline = std::chrono::steady_clock::now() + 30s;
  bool finished = false;
  for (;;) {
    const auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) break;
    pollfd p{out[0], POLLIN, 0};
    if (poll(&p, 1, static_cast<int>(left.count())) <= 0) continue;
    char buf[256];
    const ssize_t n = read(out[0], buf, sizeof buf);
    if (n <= 0) {
      finished = true;
      break;
    }
    result.output.append(buf, static_cast<std::size_t>(n));
  }
  close(out[0]);
  if (!finished) kill(pid, SIGKILL);
  int status = 0;
  waitpid(pid, &status, 0);
  if (finished && WIFEXITED(status)) result.exit_code = WEXITSTATUS(status);
  return result;
}

}  // namespace

// test_interpreter_shutdown: a pool still alive at exit finishes its running call, prints, and
// the process exits normally.
TEST(Exit, PoolAliveAtExitFinishesItsWork) {
  const auto r = run_child("interpreter_shutdown");
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_EQ(r.output, "apple");
}

// test_submit_after_interpreter_shutdown: a submit after the exit handlers shut the pools down
// raises RuntimeError "cannot schedule new futures after interpreter shutdown".
TEST(Exit, SubmitAfterInterpreterShutdownIsRuntimeError) {
  const auto r = run_child("submit_after_interpreter_shutdown");
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_EQ(r.output,
            "runtime-error: ThreadPoolExecutor::submit(): cannot schedule new futures after interpreter shutdown");
}

// test_hang_gh83386: shutdown(wait=False) does not hang the exit; the running call completes.
TEST(Exit, ShutdownWithoutWaitDoesNotHangExit) {
  const auto r = run_child("shutdown_no_wait");
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_EQ(r.output, "apple");
}

// test_cancel_futures_wait_false: the started call completes or never started; exit is clean.
TEST(Exit, CancelFuturesWithoutWaitExitsCleanly) {
  const auto r = run_child("cancel_futures_no_wait");
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_TRUE(r.output == "apple" || r.output.empty()) << r.output;
}

// A static executor (destroyed after threading's exit join) does not hang the exit.
TEST(Exit, StaticExecutorDoesNotHangExit) {
  const auto r = run_child("static_executor");
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_EQ(r.output, "apple");
}
