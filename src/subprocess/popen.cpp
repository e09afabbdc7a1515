// subprocess::Popen — starting the child, reaping it once, and the communicate loop.
#include <poll.h>
#include <signal.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <mutex>

#include "platform/linux/pipe_io.hpp"
#include "platform/linux/spawn.hpp"
#include "subprocess/fd_wait.hpp"
#include "subprocess/nowait.hpp"
#include "trident/detail/wait.hpp"
#include "trident/subprocess.hpp"

namespace trident::subprocess {

using trident::detail::Deadline;

namespace {

// Closes the fds it holds when it goes out of scope: the child's ends after spawning, and
// everything when Popen's constructor throws.
class FdList {
 public:
  FdList() = default;
  FdList(const FdList&) = delete;
  FdList& operator=(const FdList&) = delete;
  ~FdList() { close_all(); }
  int add(int fd) {
    fds_.push_back(fd);
    return fd;
  }
  void close_all() noexcept {
    for (int fd : fds_) platform::close_fd(fd);
    fds_.clear();
  }
  void release() noexcept { fds_.clear(); }

 private:
  std::vector<int> fds_;
};

const char* step_name(platform::SpawnStep s) {
  switch (s) {
    case platform::SpawnStep::kDup:
      return "dup2() of a standard stream";
    case platform::SpawnStep::kSetsid:
      return "setsid() for start_new_session";
    case platform::SpawnStep::kSetpgid:
      return "setpgid() for process_group";
    case platform::SpawnStep::kPassFds:
      return "fcntl() on pass_fds";
    case platform::SpawnStep::kCloseFds:
      return "close_range() for close_fds";
    default:
      return "child setup";
  }
}

// Python's os.get_exec_path(env) + os.path.join(dir, program) for each entry.
std::vector<std::string> exec_candidates(const std::string& program, const std::optional<Env>& env) {
  if (program.find('/') != std::string::npos) return {program};
  std::string path = "/bin:/usr/bin";
  if (env) {
    if (auto it = env->find("PATH"); it != env->end()) path = it->second;
  } else if (const char* p = std::getenv("PATH")) {
    path = p;
  }
  std::vector<std::string> out;
  std::size_t start = 0;
  for (;;) {
    std::size_t colon = path.find(':', start);
    std::string dir = path.substr(start, colon == std::string::npos ? std::string::npos : colon - start);
    out.push_back(dir.empty() ? program : (dir.back() == '/' ? dir : dir + "/") + program);
    if (colon == std::string::npos) break;
    start = colon + 1;
  }
  return out;
}

// A NUL byte would cut the C string the kernel sees short, silently running another program, in
// another directory or with another environment: CPython refuses it ("embedded null byte"), and
// an environment name that is empty or holds "=" ("illegal environment variable name").
void check_no_nul(const std::string& s, const std::string& where) {
  if (s.find('\0') != std::string::npos) throw ValueError("Popen(): embedded null byte in " + where);
}

void check_strings(const std::vector<std::string>& args, const PopenOptions& o) {
  for (std::size_t i = 0; i < args.size(); ++i) {
    check_no_nul(args[i], o.shell && i == 0 ? "the shell command" : "args[" + std::to_string(i) + "]");
  }
  if (o.executable) check_no_nul(*o.executable, "executable");
  if (o.cwd) check_no_nul(*o.cwd, "cwd");
  if (o.env) {
    for (const auto& [name, value] : *o.env) {
      check_no_nul(name, "an env name");
      check_no_nul(value, "the env value of " + name);
      if (name.empty() || name.find('=') != std::string::npos) {
        throw ValueError("Popen(): illegal environment variable name '" + name + "' in env");
      }
    }
  }
}

void check_redirect(const Redirect& r, const char* name, bool stdout_allowed) {
  if (r.is_none()) return;
  int v = r.value();
  if (v == STDOUT && !stdout_allowed) {
    throw ValueError(std::string("Popen(): STDOUT is only valid for stderr, not for ") + name);
  }
  if (v < DEVNULL) throw ValueError(std::string("Popen(): bad file descriptor for ") + name);
}

}  // namespace

struct Popen::Impl {
  std::vector<std::string> args;
  int pid = -1;
  int pidfd = -1;
  Pipe in, out, err;
  bool out_piped = false;  // stdout was PIPE: communicate() returns a string for it, not nullopt
  bool err_piped = false;
  mutable trident::detail::Mutex mu;
  std::optional<int> returncode;  // guarded by mu; set exactly once, by whoever reaps
  bool communication_started = false;
  std::string pending_input;  // input not yet written when communicate timed out

  // Copies of what has been read from stdout and stderr so far (nullopt for a stream not piped).
  std::pair<std::optional<std::string>, std::optional<std::string>> output_so_far() const;

  // Reaps the child if it exited; true once returncode is known. Takes mu.
  bool try_reap() {
    std::lock_guard lk(mu);
    if (returncode) return true;
    int rc = 0;
    int r = platform::reap(pidfd, false, rc);
    if (r == 1) {
      returncode = rc;
    } else if (r == -ECHILD) {
      // Reaped behind our back (SIGCHLD set to SIG_IGN): the status is lost; Python reports 0.
      returncode = 0;
    } else if (r < 0) {
      raise_os_error(-r, "Popen: waitid()");
    }
    return returncode.has_value();
  }

  // Waits (through the core) for the child to exit; false when `deadline` passed first.
  bool wait_until(const Deadline& deadline) {
    for (;;) {
      if (try_reap()) return true;
      pollfd p{pidfd, POLLIN, 0};
      if (!detail::wait_fds(&p, 1, deadline)) return try_reap();
    }
  }

  ~Impl() {
    // Python's Popen.__exit__: close the pipes, then wait for the child without killing it.
    in.close();
    out.close();
    err.close();
    if (pidfd >= 0) {
      try {
        wait_until(Deadline::forever());
      } catch (...) {
        // A failing waitid leaves nothing to wait for.
      }
      platform::close_fd(pidfd);
    }
  }
};

Popen::Popen(Args args, PopenOptions o) : impl_(std::make_unique<Impl>()) {
  Impl& m = *impl_;
  m.args = args.list();
  if (m.args.empty()) throw ValueError("Popen(): args must not be empty");
  check_strings(m.args, o);
  check_redirect(o.stdin, "stdin", false);
  check_redirect(o.stdout, "stdout", false);
  check_redirect(o.stderr, "stderr", true);

  std::vector<std::string> argv = m.args;
  if (o.shell) {
    argv.insert(argv.begin(), {"/bin/sh", "-c"});
    if (o.executable) argv[0] = *o.executable;
  }
  const std::string program = o.executable ? *o.executable : argv[0];
  std::vector<std::string> candidates = exec_candidates(program, o.env);

  std::vector<char*> argv_ptrs;
  for (auto& a : argv) argv_ptrs.push_back(a.data());
  argv_ptrs.push_back(nullptr);
  std::vector<const char*> cand_ptrs;
  for (auto& c : candidates) cand_ptrs.push_back(c.c_str());
  std::vector<std::string> env_strings;
  std::vector<char*> env_ptrs;
  if (o.env) {
    for (const auto& [k, v] : *o.env) env_strings.push_back(k + "=" + v);
    for (auto& e : env_strings) env_ptrs.push_back(e.data());
    env_ptrs.push_back(nullptr);
  }
  std::vector<int> pass_fds;
  for (int fd : o.pass_fds) {
    if (fd < 0) throw ValueError("Popen(): bad value in pass_fds");
    if (fd >= 3) pass_fds.push_back(fd);
  }
  std::sort(pass_fds.begin(), pass_fds.end());
  pass_fds.erase(std::unique(pass_fds.begin(), pass_fds.end()), pass_fds.end());

  FdList child_ends;   // closed in the parent once the child has them
  FdList parent_ends;  // closed only if the constructor fails
  int devnull = -1;
  auto get_devnull = [&] {
    if (devnull < 0) {
      int fd = platform::open_devnull();
      if (fd < 0) raise_os_error(-fd, "Popen(): open(\"/dev/null\")", "/dev/null");
      devnull = child_ends.add(fd);
    }
    return devnull;
  };
  // Returns the child's fd for a stream; for PIPE also the parent's end in `parent_fd`.
  auto plumb = [&](const Redirect& r, bool child_reads, int& parent_fd) -> int {
    if (r.is_none()) return -1;
    if (r.value() == DEVNULL) return get_devnull();
    if (r.value() != PIPE) return r.value();
    int fds[2];
    int rc = platform::make_pipe(fds);
    if (rc < 0) raise_os_error(-rc, "Popen(): pipe()");
    int child_fd = child_ends.add(fds[child_reads ? 0 : 1]);
    parent_fd = parent_ends.add(fds[child_reads ? 1 : 0]);
    if (o.pipesize > 0) {
      rc = platform::set_pipe_size(parent_fd, o.pipesize);
      if (rc < 0) raise_os_error(-rc, "Popen(): fcntl(F_SETPIPE_SZ) for pipesize");
    }
    return child_fd;
  };
  int in_parent = -1, out_parent = -1, err_parent = -1;
  platform::SpawnRequest rq;
  rq.stdin_fd = plumb(o.stdin, true, in_parent);
  rq.stdout_fd = plumb(o.stdout, false, out_parent);
  if (!o.stderr.is_none() && o.stderr.value() == STDOUT) {
    rq.stderr_fd = rq.stdout_fd >= 0 ? rq.stdout_fd : 1;
  } else {
    rq.stderr_fd = plumb(o.stderr, false, err_parent);
  }

  rq.candidates = cand_ptrs.data();
  rq.candidate_count = cand_ptrs.size();
  rq.argv = argv_ptrs.data();
  rq.envp = o.env ? env_ptrs.data() : nullptr;
  rq.cwd = o.cwd ? o.cwd->c_str() : nullptr;
  rq.umask = o.umask;
  rq.close_fds = o.close_fds || !pass_fds.empty();
  rq.pass_fds = pass_fds.data();
  rq.pass_fd_count = pass_fds.size();
  rq.close_fds_limit = platform::fd_limit();
  rq.start_new_session = o.start_new_session;
  rq.process_group = o.process_group;
  rq.restore_signals = o.restore_signals;

  platform::SpawnResult res;
  int rc = platform::spawn(rq, res);
  child_ends.close_all();
  if (rc < 0) {
    parent_ends.close_all();
    switch (res.step) {
      case platform::SpawnStep::kExec:
        raise_os_error(res.error, "Popen(): cannot execute '" + program + "'", program);
      case platform::SpawnStep::kChdir:
        raise_os_error(res.error, "Popen(): cannot change directory to '" + *o.cwd + "'", *o.cwd);
      case platform::SpawnStep::kClone:
        raise_os_error(res.error, "Popen(): clone()");
      default:
        raise_os_error(res.error, std::string("Popen(): in the child, ") + step_name(res.step));
    }
  }
  parent_ends.release();
  m.pid = res.pid;
  m.pidfd = res.pidfd;
  if (in_parent >= 0) m.in = Pipe(in_parent, false);
  if (out_parent >= 0) m.out = Pipe(out_parent, o.text);
  if (err_parent >= 0) m.err = Pipe(err_parent, o.text);
  m.out_piped = out_parent >= 0;
  m.err_piped = err_parent >= 0;
}

Popen::Popen(Popen&&) noexcept = default;
Popen& Popen::operator=(Popen&&) noexcept = default;
Popen::~Popen() = default;

int Popen::pid() const noexcept { return impl_ ? impl_->pid : -1; }
const std::vector<std::string>& Popen::args() const noexcept { return impl_->args; }

std::optional<int> Popen::returncode() const noexcept {
  std::lock_guard lk(impl_->mu);
  return impl_->returncode;
}

std::optional<int> Popen::poll() {
  if (impl_->try_reap()) return returncode();
  return std::nullopt;
}

int Popen::wait(Timeout timeout) {
  Deadline deadline = Deadline::after(timeout, "Popen::wait()");
  if (!impl_->wait_until(deadline)) throw TimeoutExpired(impl_->args, *timeout);
  return *returncode();
}

void Popen::send_signal(int sig) {
  Impl& m = *impl_;
  // Under mu nobody reaps meanwhile; the pidfd names this child even if its pid was reused.
  std::lock_guard lk(m.mu);
  if (m.returncode) return;
  int r = platform::pidfd_signal(m.pidfd, sig);
  if (r < 0 && r != -ESRCH) raise_os_error(-r, "Popen::send_signal()");
}

void Popen::terminate() { send_signal(SIGTERM); }
void Popen::kill() { send_signal(SIGKILL); }

Pipe& Popen::stdin() noexcept { return impl_->in; }
Pipe& Popen::stdout() noexcept { return impl_->out; }
Pipe& Popen::stderr() noexcept { return impl_->err; }

namespace {
// Reads per readiness report before polling again, so one busy stream cannot starve the others.
constexpr int kReadsPerWake = 4;
// communicate() input above this size gets pipes of kBigPipe bytes.
constexpr std::size_t kBigTransfer = 1 << 20;
constexpr int kBigPipe = 1 << 20;
}  // namespace

std::pair<std::optional<std::string>, std::optional<std::string>> Popen::Impl::output_so_far() const {
  auto so_far = [](const Pipe& p, bool piped) {
    return piped ? std::optional<std::string>(std::in_place, p.buf_.data() + p.begin_, p.buffered()) : std::nullopt;
  };
  return {so_far(out, out_piped), so_far(err, err_piped)};
}

std::pair<std::optional<std::string>, std::optional<std::string>> Popen::communicate(std::string_view input,
                                                                                     Timeout timeout) {
  Deadline deadline = Deadline::after(timeout, "Popen::communicate()");
  Impl& m = *impl_;
  if (m.communication_started && !input.empty()) {
    throw ValueError("Popen::communicate(): cannot send input after starting communication");
  }
  std::string_view pending;
  if (!m.communication_started) {
    m.communication_started = true;
    if (m.in) {
      if (input.empty()) {
        m.in.close();
      } else {
        pending = input;
      }
    }
  } else if (m.in) {
    pending = m.pending_input;
  }
  std::size_t written = 0;
  // Only writes can raise SIGPIPE: no guard (three system calls) without input to write.
  std::optional<platform::SigpipeGuard> sigpipe;
  if (m.in) sigpipe.emplace();
  if (pending.size() > kBigTransfer) {
    // A big transfer moves in fewer, larger steps through bigger pipes: fewer wake-ups of the
    // child and of us. Best effort (the kernel may refuse past the user's pipe quota).
    for (Pipe* p : {&m.in, &m.out, &m.err}) {
      if (*p && platform::get_pipe_size(p->fd_) < kBigPipe) platform::set_pipe_size(p->fd_, kBigPipe);
    }
    // A filter usually writes about as much as it reads: reserve that much address space for
    // stdout up front, so a big output is not copied at every doubling (untouched capacity costs
    // no memory).
    if (m.out) m.out.reserve_capacity(pending.size() - written);
  }

  auto time_out = [&] {
    if (m.in) {
      std::string rest(pending.substr(written));
      m.pending_input = std::move(rest);
    }
    auto [out, err] = m.output_so_far();
    throw TimeoutExpired(m.args, *timeout, std::move(out), std::move(err));
  };
  // The pipes are blocking (a child may share them): with RWF_NOWAIT, read until the pipe is empty
  // (a few times at most); without it, one read() after POLLIN, which takes what is there.
  auto drain = [](Pipe& p) {
    for (int i = 0; i < kReadsPerWake; ++i) {
      const bool nowait = detail::nowait_io().load(std::memory_order_relaxed);
      if (i > 0 && !nowait) return;
      long n = p.read_into_buffer(nowait);
      if (n == 0) {
        p.close_fd();  // end of file: the data stays buffered for the result
        return;
      }
      if (n == -EAGAIN) return;
      if (n < 0) raise_os_error(static_cast<int>(-n), "Popen::communicate(): read()");
    }
  };

  for (;;) {
    pollfd fds[3];
    std::size_t n = 0;
    int in_i = -1, out_i = -1, err_i = -1;
    if (m.in) {
      in_i = static_cast<int>(n);
      fds[n++] = {m.in.fd_, POLLOUT, 0};
    }
    if (m.out) {
      out_i = static_cast<int>(n);
      fds[n++] = {m.out.fd_, POLLIN, 0};
    }
    if (m.err) {
      err_i = static_cast<int>(n);
      fds[n++] = {m.err.fd_, POLLIN, 0};
    }
    if (n == 0) break;
    if (!detail::wait_fds(fds, n, deadline)) time_out();

    if (in_i >= 0 && fds[in_i].revents != 0) {
      // The fd is blocking: write only what fits now, so we never sleep in write() while the
      // child waits for us to drain its output.
      long w = m.in.write_ready(pending.data() + written, pending.size() - written);
      if (w >= 0) {
        written += static_cast<std::size_t>(w);
      } else if (w == -EAGAIN) {
        // Nothing fitted after all (the room POLLOUT saw went to another writer): poll again.
      } else if (w == -EPIPE) {
        sigpipe->got_epipe();
        written = pending.size();  // the child stopped reading: not an error, as in Python
      } else {
        raise_os_error(static_cast<int>(-w), "Popen::communicate(): write()");
      }
      if (written == pending.size()) {
        m.in.close();
        m.pending_input.clear();
      }
    }
    if (out_i >= 0 && fds[out_i].revents != 0) drain(m.out);
    if (err_i >= 0 && fds[err_i].revents != 0) drain(m.err);
  }

  if (!m.wait_until(deadline)) time_out();
  auto take_all = [](Pipe& p, bool piped) {
    std::optional<std::string> s;
    if (piped) s = p.take(p.buffered());
    p.close();
    return s;
  };
  auto out = take_all(m.out, m.out_piped);
  auto err = take_all(m.err, m.err_piped);
  return {std::move(out), std::move(err)};
}

void Popen::kill_after_timeout(TimeoutExpired& e) {
  Impl& m = *impl_;
  kill();
  m.wait_until(Deadline::forever());
  // The dead child's last writes may still sit in the pipes: take them, but only what is there now.
  for (Pipe* p : {&m.out, &m.err}) {
    if (*p) p->read_ready();
  }
  auto [out, err] = m.output_so_far();
  e.output = std::move(out);
  e.stderr = std::move(err);
}

// ---- run() and the convenience functions -------------------------------------------------------

namespace {
PopenOptions popen_options(RunOptions& o) {
  PopenOptions p;
  p.executable = std::move(o.executable);
  p.stdin = o.stdin;
  p.stdout = o.stdout;
  p.stderr = o.stderr;
  p.close_fds = o.close_fds;
  p.pass_fds = std::move(o.pass_fds);
  p.cwd = std::move(o.cwd);
  p.env = std::move(o.env);
  p.shell = o.shell;
  p.text = o.text;
  p.start_new_session = o.start_new_session;
  p.process_group = o.process_group;
  p.umask = o.umask;
  p.restore_signals = o.restore_signals;
  p.pipesize = o.pipesize;
  return p;
}
}  // namespace

void CompletedProcess::check_returncode() const {
  if (returncode != 0) throw CalledProcessError(returncode, args, stdout, stderr);
}

CompletedProcess run(Args args, RunOptions o) {
  if (o.input) {
    if (!o.stdin.is_none()) throw ValueError("run(): stdin and input arguments may not both be used");
    o.stdin = PIPE;
  }
  if (o.capture_output) {
    if (!o.stdout.is_none() || !o.stderr.is_none()) {
      throw ValueError("run(): stdout and stderr arguments may not be used with capture_output");
    }
    o.stdout = PIPE;
    o.stderr = PIPE;
  }
  std::vector<std::string> list = args.list();
  Popen p(std::move(args), popen_options(o));
  std::pair<std::optional<std::string>, std::optional<std::string>> result;
  try {
    result = p.communicate(o.input ? std::string_view(*o.input) : std::string_view(), o.timeout);
  } catch (TimeoutExpired& e) {
    // CPython on POSIX: kill the child, wait for it, re-raise with the output read so far. Not
    // communicate() again: that waits for end of file on the pipes, which a grandchild holding
    // them (`sleep 5; :` through the shell) delays for as long as it lives.
    p.kill_after_timeout(e);
    throw;
  } catch (...) {
    p.kill();
    throw;
  }
  int rc = *p.returncode();
  if (o.check && rc != 0) throw CalledProcessError(rc, list, std::move(result.first), std::move(result.second));
  return CompletedProcess{std::move(list), rc, std::move(result.first), std::move(result.second)};
}

int call(Args args, RunOptions o) {
  if (o.input || o.capture_output || o.check) {
    throw ValueError("call(): input, capture_output and check are run() options");
  }
  Popen p(std::move(args), popen_options(o));
  try {
    return p.wait(o.timeout);
  } catch (...) {
    p.kill();
    throw;
  }
}

int check_call(Args args, RunOptions o) {
  std::vector<std::string> list = args.list();
  int rc = call(std::move(args), std::move(o));
  if (rc != 0) throw CalledProcessError(rc, std::move(list));
  return 0;
}

std::string check_output(Args args, RunOptions o) {
  if (!o.stdout.is_none()) throw ValueError("check_output(): stdout argument not allowed, it will be overridden");
  o.stdout = PIPE;
  o.check = true;
  return *run(std::move(args), std::move(o)).stdout;  // stdout is a pipe: always captured
}

std::pair<int, std::string> getstatusoutput(const std::string& cmd) {
  std::string data;
  int rc = 0;
  try {
    data = check_output(cmd, {.stderr = STDOUT, .shell = true, .text = true});
  } catch (const CalledProcessError& e) {
    data = e.output.value_or("");
    rc = e.returncode;
  }
  if (!data.empty() && data.back() == '\n') data.pop_back();
  return {rc, std::move(data)};
}

std::string getoutput(const std::string& cmd) { return getstatusoutput(cmd).second; }

}  // namespace trident::subprocess
