// multiprocessing start methods: set/get_start_method, contexts, the spawn method (this program
// re-executed with a marker argument), the fork server and multiprocessing::main().
//
// The fork server (docs/multiprocessing.md, "Processes"): main() forks it while the program has
// one thread. It keeps one end of a socket pair (the control socket); each start sends it a
// request — a header {payload length, fd count} with the fds attached (SCM_RIGHTS: a status
// socket for this child, then the Connection fds of the arguments), then the pickled Bootstrap.
// The server forks; the child closes the server's fds and runs the target; the server answers on
// the status socket with the pid and a pidfd (so the parent can signal the child without a
// pid-reuse race), and when the child exits, with its exit code (SIGCHLD through a signalfd).
// The parent's sentinel is the status socket. The server exits when the control socket reports
// end of stream: every process holding the parent's end has exited.
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <mutex>

#include "multiprocessing/process_internal.hpp"
#include "platform/linux/conn_io.hpp"
#include "platform/linux/mp_process.hpp"
#include "platform/linux/pipe_io.hpp"
#include "platform/linux/process.hpp"
#include "platform/linux/spawn.hpp"

namespace trident::multiprocessing {

namespace {

constexpr const char* kSpawnFlag = "--trident-multiprocessing-spawn=";
constexpr std::size_t kMaxRequestFds = 60;

std::atomic<int> g_method{-1};            // the default StartMethod, -1: not set yet
std::atomic<bool> g_bootstrapped{false};  // multiprocessing::main() ran

struct Server {
  trident::detail::Mutex mutex;  // guards ctl and owner; held while a request is written
  int ctl = -1;                  // our end of the control socket
  int owner = 0;                 // the pid that started it (a forked child must start its own)
  int pid = 0;
};

Server& server() {
  static Server* const s = new Server;
  return *s;
}

// A forked child shares the parent's control socket: it must not write requests into it.
[[maybe_unused]] const bool g_server_fork = (pthread_atfork(nullptr, nullptr,
                                                            [] {
                                                              Server& s = server();
                                                              new (&s.mutex) trident::detail::Mutex;
                                                              if (s.ctl >= 0) ::close(s.ctl);
                                                              s.ctl = -1;
                                                            }),
                                             true);

[[noreturn]] void bootstrap_error(StartMethod m) {
  throw RuntimeError(std::string("Process::start(): the '") + detail::method_name(m) +
                     "' start method needs trident::multiprocessing::main(argc, argv) called first thing in main() "
                     "(the C++ form of Python's `if __name__ == \"__main__\":`); without it the new process would be "
                     "in its bootstrapping phase and run this program's main() again");
}

struct RequestHeader {
  std::uint64_t payload_size;
  std::uint32_t nfds;
  std::uint32_t magic;
  std::uint32_t std_mask;  // which of the parent's fds 0, 1, 2 follow the status socket
  std::uint32_t pad;
};
constexpr std::uint32_t kRequestMagic = 0x54465331;  // "TFS1"

struct Reply {
  std::int32_t pid;  // or -errno when the fork failed
  std::int32_t pad;
};

bool read_exact(int fd, void* data, std::size_t size) {
  std::size_t nfds = 0;
  return platform::recv_with_fds(fd, data, size, nullptr, 0, nfds) == static_cast<long>(size);
}

// ---- the server process ----

[[noreturn]] void serve(int ctl, int main_pid) {
  platform::set_parent_death_signal(SIGKILL);
  if (platform::get_ppid() != main_pid) platform::exit_now(0);
  platform::ignore_sigint();
  const int sigfd = platform::block_sigchld_signalfd();
  if (sigfd < 0) platform::exit_now(70);
  std::map<int, int> status_fds;  // child pid -> its status socket
  for (;;) {
    pollfd p[2] = {{ctl, POLLIN, 0}, {sigfd, POLLIN, 0}};
    if (platform::poll_until(p, 2, std::chrono::steady_clock::time_point::max()) < 0) continue;
    if (p[1].revents != 0) {
      platform::drain_signalfd(sigfd);
      for (;;) {
        int status = 0;
        const int pid = platform::wait_pid(-1, &status, WNOHANG);
        if (pid <= 0) break;
        const std::int32_t code = WIFEXITED(status) ? WEXITSTATUS(status) : -WTERMSIG(status);
        auto it = status_fds.find(pid);
        if (it == status_fds.end()) continue;
        platform::send_with_fds(it->second, &code, sizeof code, nullptr, 0);
        platform::close_fd(it->second);
        status_fds.erase(it);
      }
    }
    if (p[0].revents == 0) continue;
    RequestHeader h{};
    int fds[kMaxRequestFds];
    std::size_t nfds = 0;
    const long n = platform::recv_with_fds(ctl, &h, sizeof h, fds, kMaxRequestFds, nfds);
    if (n <= 0 || h.magic != kRequestMagic || nfds != h.nfds || nfds == 0) platform::exit_now(0);
    std::string payload(h.payload_size, '\0');
    if (!read_exact(ctl, payload.data(), payload.size())) platform::exit_now(0);
    const int status_fd = fds[0];
    std::size_t first_conn = 1;
    for (int i = 0; i < 3; ++i) {
      if ((h.std_mask & (1u << i)) != 0 && first_conn < nfds) ++first_conn;
    }
    const int server_pid = platform::get_pid();
    const int pid = platform::fork_process();
    if (pid == 0) {
      platform::close_fd(ctl);
      platform::close_fd(sigfd);
      for (auto& [_, fd] : status_fds) platform::close_fd(fd);
      platform::close_fd(status_fd);
      platform::unblock_sigchld();
      // The child writes where its parent writes now (as under fork and spawn), not where the
      // server's standard streams pointed when it started.
      for (int i = 0, k = 1; i < 3; ++i) {
        if ((h.std_mask & (1u << i)) == 0) continue;
        ::dup2(fds[k], i);
        platform::close_fd(fds[k]);
        ++k;
      }
      detail::Bootstrap b;
      try {
        b = pickle::loads<detail::Bootstrap>(payload);
      } catch (...) {
        platform::exit_now(70);
      }
      if (b.daemon) {
        platform::set_parent_death_signal(SIGKILL);
        if (platform::get_ppid() != server_pid) platform::exit_now(1);
      }
      detail::run_child(std::move(b), std::vector<int>(fds + first_conn, fds + nfds));
    }
    for (std::size_t i = 1; i < nfds; ++i) platform::close_fd(fds[i]);
    Reply r{pid, 0};
    if (pid < 0) {
      platform::send_with_fds(status_fd, &r, sizeof r, nullptr, 0);
      platform::close_fd(status_fd);
      continue;
    }
    const int pidfd = platform::pidfd_open_pid(pid);
    platform::send_with_fds(status_fd, &r, sizeof r, &pidfd, pidfd >= 0 ? 1 : 0);
    if (pidfd >= 0) platform::close_fd(pidfd);
    status_fds[pid] = status_fd;
  }
}

// Starts the server; server().mutex held.
void start_server_locked() {
  Server& s = server();
  int sp[2];
  int r = platform::make_socketpair(sp);
  if (r < 0) raise_os_error(-r, "multiprocessing: fork server: socketpair()");
  const int me = platform::get_pid();
  std::fflush(stdout);  // the server's children must not print what this process buffered
  std::fflush(stderr);
  const int pid = platform::fork_process();
  if (pid < 0) {
    platform::close_fd(sp[0]);
    platform::close_fd(sp[1]);
    raise_os_error(-pid, "multiprocessing: fork server: fork()");
  }
  if (pid == 0) {
    platform::close_fd(sp[0]);
    serve(sp[1], me);
  }
  platform::close_fd(sp[1]);
  s.ctl = sp[0];
  s.owner = me;
  s.pid = pid;
}

}  // namespace

namespace detail {

const char* method_name(StartMethod m) noexcept {
  switch (m) {
    case StartMethod::fork:
      return "fork";
    case StartMethod::forkserver:
      return "forkserver";
    case StartMethod::spawn:
      return "spawn";
  }
  return "?";
}

int default_method_code() noexcept { return g_method.load(std::memory_order_acquire); }
void set_default_method_code(int code) noexcept { g_method.store(code, std::memory_order_release); }

StartMethod effective_method(const std::optional<StartMethod>& bound) {
  if (bound) return *bound;
  int m = g_method.load(std::memory_order_acquire);
  if (m < 0) {
    int expected = -1;
    g_method.compare_exchange_strong(expected, static_cast<int>(StartMethod::forkserver));
    m = g_method.load(std::memory_order_acquire);
  }
  return static_cast<StartMethod>(m);
}

StartedChild start_spawn(const Bootstrap& b0) {
  if (!g_bootstrapped.load(std::memory_order_acquire)) bootstrap_error(StartMethod::spawn);
  int sp[2];
  int r = platform::make_socketpair(sp);
  if (r < 0) raise_os_error(-r, "Process::start(): socketpair()");
  struct Closer {
    int fd;
    ~Closer() {
      if (fd >= 0) platform::close_fd(fd);
    }
  } parent_end{sp[0]}, child_end{sp[1]};
  std::vector<int> pass = b0.fds;
  pass.push_back(sp[1]);
  std::sort(pass.begin(), pass.end());
  pass.erase(std::unique(pass.begin(), pass.end()), pass.end());
  const std::string flag = std::string(kSpawnFlag) + std::to_string(sp[1]);
  static const char* const exe = "/proc/self/exe";
  std::string argv0 = "trident-spawn";
  char* argv[] = {argv0.data(), const_cast<char*>(flag.c_str()), nullptr};
  platform::SpawnRequest req;
  req.candidates = &exe;
  req.candidate_count = 1;
  req.argv = argv;
  req.pass_fds = pass.data();
  req.pass_fd_count = pass.size();
  req.close_fds = true;
  req.close_fds_limit = platform::fd_limit();
  platform::SpawnResult out;
  r = platform::spawn(req, out);
  if (r < 0) raise_os_error(out.error != 0 ? out.error : -r, "Process::start(): spawn of /proc/self/exe");
  platform::close_fd(child_end.fd);
  child_end.fd = -1;
  const pickle::bytes data = pickle::dumps(b0);
  const std::uint64_t size = data.size();
  // A child that died before reading gives EPIPE: its exit code tells the rest.
  if (platform::send_with_fds(parent_end.fd, &size, sizeof size, nullptr, 0) == 0) {
    platform::send_with_fds(parent_end.fd, data.data(), data.size(), nullptr, 0);
  }
  return {out.pid, out.pidfd, out.pidfd, false};
}

StartedChild start_forkserver(const Bootstrap& b) {
  if (!g_bootstrapped.load(std::memory_order_acquire)) bootstrap_error(StartMethod::forkserver);
  if (b.fds.size() + 4 > kMaxRequestFds) {
    throw ValueError("Process::start(): too many Connection arguments for the fork server (at most " +
                     std::to_string(kMaxRequestFds - 4) + ")");
  }
  int sp[2];
  int r = platform::make_socketpair(sp);
  if (r < 0) raise_os_error(-r, "Process::start(): socketpair()");
  std::vector<int> fds;
  fds.push_back(sp[1]);
  std::uint32_t std_mask = 0;
  for (int i = 0; i < 3; ++i) {
    if (platform::fd_is_open(i)) {
      std_mask |= 1u << i;
      fds.push_back(i);
    }
  }
  fds.insert(fds.end(), b.fds.begin(), b.fds.end());
  const pickle::bytes data = pickle::dumps(b);
  const RequestHeader h{data.size(), static_cast<std::uint32_t>(fds.size()), kRequestMagic, std_mask, 0};
  {
    Server& s = server();
    std::lock_guard lk(s.mutex);
    for (int attempt = 0;; ++attempt) {
      if (s.ctl < 0 || s.owner != platform::get_pid()) {
        try {
          start_server_locked();
        } catch (...) {
          platform::close_fd(sp[0]);
          platform::close_fd(sp[1]);
          throw;
        }
      }
      r = platform::send_with_fds(s.ctl, &h, sizeof h, fds.data(), fds.size());
      if (r == 0) r = platform::send_with_fds(s.ctl, data.data(), data.size(), nullptr, 0);
      if (r == 0) break;
      // The server is gone (killed): start another once.
      platform::close_fd(s.ctl);
      s.ctl = -1;
      if (attempt == 1) {
        platform::close_fd(sp[0]);
        platform::close_fd(sp[1]);
        raise_os_error(-r, "Process::start(): the fork server");
      }
    }
  }
  platform::close_fd(sp[1]);
  Reply reply{};
  int pidfd = -1;
  std::size_t nfds = 0;
  const long n = platform::recv_with_fds(sp[0], &reply, sizeof reply, &pidfd, 1, nfds);
  if (n != static_cast<long>(sizeof reply) || reply.pid <= 0) {
    if (nfds == 1) platform::close_fd(pidfd);
    platform::close_fd(sp[0]);
    raise_os_error(n < 0           ? static_cast<int>(-n)
                   : reply.pid < 0 ? -reply.pid
                                   : EPIPE,
                   "Process::start(): the fork server could not fork");
  }
  return {reply.pid, nfds == 1 ? pidfd : -1, sp[0], true};
}

}  // namespace detail

std::vector<std::string> get_all_start_methods() { return {"forkserver", "spawn", "fork"}; }

namespace {
std::optional<StartMethod> parse_method(std::string_view method) {
  if (method == "fork") return StartMethod::fork;
  if (method == "forkserver") return StartMethod::forkserver;
  if (method == "spawn") return StartMethod::spawn;
  return std::nullopt;
}
}  // namespace

void set_start_method(std::string_view method, bool force) {
  auto m = parse_method(method);
  if (!m) throw ValueError("set_start_method(): cannot find context for '" + std::string(method) + "'");
  if (!force && g_method.load(std::memory_order_acquire) >= 0) {
    throw RuntimeError("set_start_method(): context has already been set");
  }
  g_method.store(static_cast<int>(*m), std::memory_order_release);
}

std::string get_start_method(bool allow_none) {
  if (allow_none && g_method.load(std::memory_order_acquire) < 0) return {};
  return detail::method_name(detail::effective_method(std::nullopt));
}

std::string Context::get_start_method() const { return detail::method_name(method_); }

void Context::bind(multiprocessing::Process& p) const {
  if (p.empty()) throw ValueError("Context::bind(): the handle was moved from");
  detail::bind_method(p, method_);
}

Context get_context(std::string_view method) {
  if (method.empty()) return Context(detail::effective_method(std::nullopt));
  auto m = parse_method(method);
  if (!m) throw ValueError("get_context(): cannot find context for '" + std::string(method) + "'");
  return Context(*m);
}

void main(int argc, char** argv) {
  g_bootstrapped.store(true, std::memory_order_release);
  if (argc >= 2 && argv[1] != nullptr && std::strncmp(argv[1], kSpawnFlag, std::strlen(kSpawnFlag)) == 0) {
    const int fd = std::atoi(argv[1] + std::strlen(kSpawnFlag));
    std::uint64_t size = 0;
    std::string data;
    if (!read_exact(fd, &size, sizeof size)) platform::exit_now(70);
    data.resize(size);
    if (!read_exact(fd, data.data(), data.size())) platform::exit_now(70);
    platform::close_fd(fd);
    detail::Bootstrap b;
    try {
      b = pickle::loads<detail::Bootstrap>(data);
    } catch (const std::exception& e) {
      std::fprintf(stderr, "multiprocessing: spawned child: bad bootstrap data: %s\n", e.what());
      platform::exit_now(70);
    }
    if (b.parent_death_signal && platform::set_parent_death_signal(SIGKILL) == 0 &&
        platform::get_ppid() != b.parent_pid) {
      platform::exit_now(1);
    }
    std::vector<int> fds = b.fds;
    detail::run_child(std::move(b), std::move(fds));
  }
  Server& s = server();
  std::lock_guard lk(s.mutex);
  if (s.ctl < 0) start_server_locked();
}

}  // namespace trident::multiprocessing
