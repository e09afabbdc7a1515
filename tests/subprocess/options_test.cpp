// The spawn options: exec failures, cwd, env, executable, close_fds/pass_fds, start_new_session,
// process_group, umask, restore_signals. Modelled on CPython's test_subprocess (test_cwd*,
// test_env*, test_executable*, test_close_fds*, test_pass_fds*, test_start_new_session,
// test_process_group_0, test_umask, test_restore_signals, test_exception_*).
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>
#include <set>
#include <sstream>
#include <thread>

#include "subprocess/subprocess_fixture.hpp"
#include "support/helpers.hpp"

namespace sp = trident::subprocess;
using namespace std::chrono_literals;
using trident::testing::helper_env;
using trident::testing::self_exe;
using trident::testing::SubprocessTest;

namespace {

class Options : public SubprocessTest {};

std::set<int> parse_fds(const std::string& s) {
  std::set<int> out;
  std::istringstream in(s);
  int fd;
  while (in >> fd) out.insert(fd);
  return out;
}

// Python: test_invalid_args / FileNotFoundError for a missing program, with errno and filename
// (the child reports the exec failure to the parent).
TEST_F(Options, MissingProgramIsFileNotFoundError) {
  try {
    sp::Popen p({"trident-no-such-program", "arg"});
    FAIL() << "no exception";
  } catch (const trident::FileNotFoundError& e) {
    EXPECT_EQ(e.error_number(), ENOENT);
    EXPECT_EQ(e.filename(), "trident-no-such-program");
    EXPECT_STREQ(e.what(), "Popen(): cannot execute 'trident-no-such-program': No such file or directory");
  }
  EXPECT_THROW(sp::run({"/nonexistent/dir/prog"}), trident::FileNotFoundError);
  EXPECT_THROW(sp::call({"trident-no-such-program"}), trident::OSError);
}

// Python: test_failed_child_execute_fd_leak — a failed exec closes every pipe it created (the
// leak checker counts fds) and reaps the child (the fixture checks for zombies).
TEST_F(Options, ExecFailureLeaksNoPipesAndNoChild) {
  for (int i = 0; i < 5; ++i) {
    EXPECT_THROW(sp::Popen({"trident-no-such-program"}, {.stdin = sp::PIPE, .stdout = sp::PIPE, .stderr = sp::PIPE}),
                 trident::FileNotFoundError);
  }
  EXPECT_THROW(sp::run({"trident-no-such-program"}, {.input = "x", .capture_output = true}),
               trident::FileNotFoundError);
}

// Python: test_exception_bad_executable / a file without execute permission is PermissionError.
TEST_F(Options, NonExecutableFileIsPermissionError) {
  char path[] = "/tmp/trident_noexec_XXXXXX";
  int fd = mkstemp(path);
  ASSERT_GE(fd, 0);
  ASSERT_EQ(write(fd, "#!/bin/sh\n", 10), 10);
  close(fd);
  chmod(path, 0644);
  try {
    sp::Popen p({path});
    FAIL() << "no exception";
  } catch (const trident::PermissionError& e) {
    EXPECT_EQ(e.error_number(), EACCES);
    EXPECT_EQ(e.filename(), path);
  }
  unlink(path);
}

// Python: a directory is not executable either (PermissionError, EACCES), and a PATH search
// reports EACCES from a non-executable match rather than ENOENT from the others.
TEST_F(Options, PathSearchReportsPermissionOverNotFound) {
  char dir[] = "/tmp/trident_path_XXXXXX";
  ASSERT_NE(mkdtemp(dir), nullptr);
  std::string prog = std::string(dir) + "/tool";
  { std::ofstream(prog) << "#!/bin/sh\necho hi\n"; }
  chmod(prog.c_str(), 0644);
  sp::Env env{{"PATH", std::string("/nonexistent:") + dir}};
  EXPECT_THROW(sp::Popen({"tool"}, {.env = env}), trident::PermissionError);
  chmod(prog.c_str(), 0755);
  // The env's PATH is the one searched (Python's os.get_exec_path(env)).
  EXPECT_EQ(sp::check_output({"tool"}, {.env = env}), "hi\n");
  unlink(prog.c_str());
  rmdir(dir);
}

// Python: test_cwd — the child starts in cwd; a bad cwd raises FileNotFoundError naming it.
TEST_F(Options, CwdChangesTheChildsDirectory) {
  EXPECT_EQ(sp::check_output({"pwd"}, {.cwd = "/tmp"}), "/tmp\n");
  try {
    sp::Popen p({"pwd"}, {.cwd = "/nonexistent-trident-dir"});
    FAIL();
  } catch (const trident::FileNotFoundError& e) {
    EXPECT_EQ(e.filename(), "/nonexistent-trident-dir");
    EXPECT_EQ(e.error_number(), ENOENT);
  }
  char buf[4096];
  ASSERT_NE(getcwd(buf, sizeof buf), nullptr);
  EXPECT_NE(std::string(buf), "/nonexistent-trident-dir");  // the parent's cwd is untouched
}

// Python: test_cwd_with_relative_executable — a relative program path resolves against cwd.
TEST_F(Options, RelativeProgramResolvesAgainstCwd) { EXPECT_EQ(sp::check_output({"./true"}, {.cwd = "/bin"}), ""); }

// Python: test_invalid_cmd / test_invalid_env — a NUL in any string handed to exec (args, the shell
// command, executable, cwd, an env name or value) is ValueError("embedded null byte"), raised
// before anything is started; before the fix the string was cut at the NUL and something else ran.
TEST_F(Options, EmbeddedNulIsValueErrorBeforeSpawning) {
  using namespace std::string_literals;
  auto expect_error = [](auto&& f, const std::string& message) {
    try {
      f();
      ADD_FAILURE() << "no ValueError; wanted: " << message;
    } catch (const trident::ValueError& e) {
      EXPECT_EQ(e.what(), message);
    }
    EXPECT_FALSE(trident::testing::has_children()) << message;
  };
  expect_error([] { sp::run({"/bin/true\0garbage"s}); }, "Popen(): embedded null byte in args[0]");
  expect_error([] { sp::run("/bin/true\0garbage"s); }, "Popen(): embedded null byte in args[0]");
  expect_error([] { sp::run({"echo", "a\0b"s}); }, "Popen(): embedded null byte in args[1]");
  expect_error([] { sp::run({"true"}, {.executable = "/bin/true\0x"s}); }, "Popen(): embedded null byte in executable");
  expect_error([] { sp::run({"pwd"}, {.cwd = "/tmp\0/nope"s}); }, "Popen(): embedded null byte in cwd");
  expect_error([] { sp::Popen p({"pwd"}, {.stdout = sp::PIPE, .cwd = "/tmp\0/nope"s}); },
               "Popen(): embedded null byte in cwd");
  expect_error(
      [] {
        sp::run({"env"}, {.env = sp::Env{{"N\0X"s, "v"}}});
      },
      "Popen(): embedded null byte in an env name");
  expect_error(
      [] {
        sp::run({"env"}, {.env = sp::Env{{"V", "a\0b"s}}});
      },
      "Popen(): embedded null byte in the env value of V");

  // A shell command cut at the NUL would run its first half: nothing may run at all.
  char dir[] = "/tmp/trident_nul_XXXXXX";
  ASSERT_NE(mkdtemp(dir), nullptr);
  expect_error([&] { sp::run("touch marker\0; echo injected"s, {.cwd = dir, .shell = true}); },
               "Popen(): embedded null byte in the shell command");
  std::string marker = std::string(dir) + "/marker";
  EXPECT_NE(access(marker.c_str(), F_OK), 0) << "the truncated command ran";
  unlink(marker.c_str());
  rmdir(dir);
}

// Python: test_invalid_env — an env name holding "=" is ValueError("illegal environment variable
// name"); an empty name too (as os.environ refuses it). A value may hold "=".
TEST_F(Options, IllegalEnvironmentNameIsValueError) {
  for (const char* name : {"A=B", "=C", ""}) {
    try {
      sp::run({"env"}, {.env = sp::Env{{name, "x"}}});
      ADD_FAILURE() << "no ValueError for '" << name << "'";
    } catch (const trident::ValueError& e) {
      EXPECT_EQ(e.what(), "Popen(): illegal environment variable name '" + std::string(name) + "' in env");
    }
  }
  EXPECT_EQ(sp::check_output({"/usr/bin/env"}, {.env = sp::Env{{"V", "=a=b="}}}), "V==a=b=\n");
}

// Python: test_env — env replaces the whole environment.
TEST_F(Options, EnvReplacesTheEnvironment) {
  auto out = sp::check_output({"/usr/bin/env"}, {.env = sp::Env{{"FRUIT", "orange"}, {"V", "a=b"}}});
  EXPECT_EQ(out, "FRUIT=orange\nV=a=b\n");
  setenv("TRIDENT_INHERITED", "yes", 1);
  EXPECT_NE(sp::check_output({"/usr/bin/env"}).find("TRIDENT_INHERITED=yes\n"), std::string::npos);
  unsetenv("TRIDENT_INHERITED");
}

// Python: test_executable — executable replaces the program; args[0] stays argv[0].
TEST_F(Options, ExecutableReplacesProgramKeepsArgv0) {
  auto out = sp::check_output({"nonsense-name", "-c", "echo \"$0\""}, {.executable = "/bin/sh"});
  EXPECT_EQ(out, "nonsense-name\n");
  // With shell, executable replaces /bin/sh.
  EXPECT_EQ(sp::check_output("echo shell-ok", {.executable = "/bin/sh", .shell = true}), "shell-ok\n");
}

// Python: test_close_fds — by default the child sees none of our fds >= 3, even inheritable ones.
TEST_F(Options, CloseFdsByDefault) {
  int fds[2];
  ASSERT_EQ(pipe(fds), 0);  // inheritable (no O_CLOEXEC)
  auto out = sp::check_output({self_exe()}, {.env = helper_env("fds")});
  EXPECT_EQ(parse_fds(out), std::set<int>{}) << out;
  close(fds[0]);
  close(fds[1]);
}

// Python: test_close_fds_false — inheritable fds survive; close-on-exec ones do not.
TEST_F(Options, CloseFdsFalseKeepsInheritableFds) {
  int inh[2], cloexec[2];
  ASSERT_EQ(pipe(inh), 0);
  ASSERT_EQ(pipe2(cloexec, O_CLOEXEC), 0);
  auto fds = parse_fds(sp::check_output({self_exe()}, {.close_fds = false, .env = helper_env("fds")}));
  EXPECT_TRUE(fds.count(inh[0]) && fds.count(inh[1]));
  EXPECT_FALSE(fds.count(cloexec[0]) || fds.count(cloexec[1]));
  for (int fd : {inh[0], inh[1], cloexec[0], cloexec[1]}) close(fd);
}

// Python: test_pass_fds / test_pass_fds_inheritable — exactly the passed fds stay open (made
// inheritable even if they were close-on-exec), everything else is closed.
TEST_F(Options, PassFdsKeepsExactlyThoseFds) {
  int a[2], b[2];
  ASSERT_EQ(pipe2(a, O_CLOEXEC), 0);
  ASSERT_EQ(pipe(b), 0);
  auto fds = parse_fds(sp::check_output({self_exe()}, {.pass_fds = {a[1], b[0]}, .env = helper_env("fds")}));
  EXPECT_EQ(fds, (std::set<int>{a[1], b[0]}));
  // The parent's copy keeps its close-on-exec flag (only the child's was cleared).
  EXPECT_EQ(fcntl(a[1], F_GETFD) & FD_CLOEXEC, FD_CLOEXEC);
  // pass_fds forces close_fds (CPython warns and closes anyway).
  auto fds2 =
      parse_fds(sp::check_output({self_exe()}, {.close_fds = false, .pass_fds = {a[0]}, .env = helper_env("fds")}));
  EXPECT_EQ(fds2, std::set<int>{a[0]});
  for (int fd : {a[0], a[1], b[0], b[1]}) close(fd);
}

// Python: a passed fd really works in the child: it can write to our pipe through it.
TEST_F(Options, PassedFdIsUsableInTheChild) {
  int fds[2];
  ASSERT_EQ(pipe2(fds, O_CLOEXEC), 0);
  sp::check_call({"/bin/sh", "-c", "echo via-fd >&" + std::to_string(fds[1])}, {.pass_fds = {fds[1]}});
  close(fds[1]);
  char buf[64] = {};
  ASSERT_GT(read(fds[0], buf, sizeof buf - 1), 0);
  EXPECT_STREQ(buf, "via-fd\n");
  close(fds[0]);
}

// Python: test_start_new_session — the child leads a new session and process group.
TEST_F(Options, StartNewSession) {
  std::istringstream in(sp::check_output({self_exe()}, {.env = helper_env("session"), .start_new_session = true}));
  int sid, pgid, pid;
  in >> sid >> pgid >> pid;
  EXPECT_EQ(sid, pid);
  EXPECT_EQ(pgid, pid);
  EXPECT_NE(sid, getsid(0));
}

// Python: test_process_group_0 — process_group=0 puts the child in a new group of its own, same session.
TEST_F(Options, ProcessGroupZero) {
  std::istringstream in(sp::check_output({self_exe()}, {.env = helper_env("session"), .process_group = 0}));
  int sid, pgid, pid;
  in >> sid >> pgid >> pid;
  EXPECT_EQ(pgid, pid);
  EXPECT_EQ(sid, getsid(0));
  EXPECT_NE(pgid, getpgrp());
}

// Python: test_umask — umask is applied in the child only.
TEST_F(Options, UmaskInTheChild) {
  EXPECT_EQ(sp::check_output({self_exe()}, {.env = helper_env("umask"), .umask = 077}), "077\n");
  EXPECT_EQ(sp::check_output({self_exe()}, {.env = helper_env("umask"), .umask = 0}), "000\n");
  mode_t mine = umask(022);
  umask(mine);
  EXPECT_EQ(mine, static_cast<mode_t>(022)) << "the parent's umask must not change";
}

// Python: test_restore_signals — SIGPIPE ignored in the parent is back to default in the child,
// unless restore_signals=False.
TEST_F(Options, RestoreSignals) {
  struct sigaction ign {
  }, old{};
  ign.sa_handler = SIG_IGN;
  sigaction(SIGPIPE, &ign, &old);
  auto restored = sp::check_output({self_exe()}, {.env = helper_env("sigpipe")});
  auto kept = sp::check_output({self_exe()}, {.env = helper_env("sigpipe"), .restore_signals = false});
  sigaction(SIGPIPE, &old, nullptr);
  EXPECT_EQ(restored, "default\n");
  EXPECT_EQ(kept, "ignored\n");
}

// A parent's signal handler never runs in the child (it would run on the shared address space
// between clone and exec): a child spawned while SIGUSR1 has a handler gets SIG_DFL and dies of it.
TEST_F(Options, ParentHandlersAreNotInherited) {
  struct sigaction handler {
  }, old{};
  handler.sa_handler = [](int) {};
  sigaction(SIGUSR1, &handler, &old);
  sp::Popen p({"/bin/sh", "-c", "kill -USR1 $$; exit 0"});
  int rc = p.wait(10s);
  sigaction(SIGUSR1, &old, nullptr);
  EXPECT_EQ(rc, -SIGUSR1);
}

// Python: test_swap_fds / test_small_errpipe_write_fd — a source fd that is itself one of the
// child's targets (here our fd 0 becomes the child's stdout while DEVNULL becomes its stdin) is
// moved out of the way before the standard fds are installed.
TEST_F(Options, SourceFdThatIsATargetIsNotClobbered) {
  int saved0 = dup(0);
  int fds[2];
  ASSERT_EQ(pipe(fds), 0);
  ASSERT_EQ(dup2(fds[1], 0), 0);
  close(fds[1]);
  sp::check_call({"/bin/sh", "-c", "echo o; echo e >&2"}, {.stdin = sp::DEVNULL, .stdout = 0, .stderr = sp::STDOUT});
  dup2(saved0, 0);
  close(saved0);
  char buf[64] = {};
  ASSERT_GT(read(fds[0], buf, sizeof buf - 1), 0);
  EXPECT_STREQ(buf, "o\ne\n");
  close(fds[0]);
}

// Spawning from many threads at once works and each child gets its own pipes (CPython's
// test_threadsafe_wait / concurrent Popen).
TEST_F(Options, ConcurrentSpawnsFromManyThreads) {
  std::vector<std::thread> ts;
  std::vector<std::string> outs(8);
  for (int i = 0; i < 8; ++i) {
    ts.emplace_back([&, i] {
      for (int k = 0; k < 5; ++k) outs[static_cast<size_t>(i)] += sp::check_output({"echo", std::to_string(i)});
    });
  }
  for (auto& t : ts) t.join();
  for (int i = 0; i < 8; ++i) {
    std::string want;
    for (int k = 0; k < 5; ++k) want += std::to_string(i) + "\n";
    EXPECT_EQ(outs[static_cast<size_t>(i)], want);
  }
}

}  // namespace
