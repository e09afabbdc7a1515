// multiprocessing::Process: the handle, the registry of children, the exit rule, and what a child
// does from its first instruction to _exit (the fork method here; forkserver and spawn children
// arrive through run_child from context.cpp).
//
// A child never returns into the parent's code: after run() it joins its non-daemon threads,
// terminates its daemon children and joins the others (Python's _exit_function), flushes stdio and
// calls _exit — no atexit handlers or static destructors of the parent's program run in it, as in
// CPython, whose children end with os._exit.
#include <poll.h>
#include <signal.h>
#include <unistd.h>

#include <cstdio>
#include <iostream>
#include <map>
#include <mutex>

#include "multiprocessing/process_internal.hpp"
#include "platform/linux/mp_process.hpp"
#include "platform/linux/pipe_io.hpp"
#include "platform/linux/process.hpp"
#include "platform/linux/spawn.hpp"
#include "trident/os.hpp"
#include "trident/threading.hpp"

namespace trident::multiprocessing {

using detail::ProcessState;
using trident::detail::Mutex;

namespace detail {

ProcessState::~ProcessState() {
  if (sentinel >= 0 && sentinel != pidfd) platform::close_fd(sentinel);
  if (pidfd >= 0) platform::close_fd(pidfd);
}

}  // namespace detail

struct ProcessAccess {
  static std::shared_ptr<ProcessState>& state(Process& p) { return p.st_; }
  static detail::ProcessTargetBase* target(Process& p) { return p.target_.get(); }
};

namespace {

// This process's place in the tree and its children. Never destroyed: the exit handler and a
// child's exit path use them after static destruction may have begun.
struct Globals {
  Mutex mutex;                                          // guards everything below
  std::vector<int> identity;                            // this process's _identity (empty: main)
  int counter = 0;                                      // the last N given to Process-...:N
  std::vector<std::shared_ptr<ProcessState>> children;  // started here, not yet joined/closed
  Process* current = nullptr;                           // current_process(); null: the main object
  Process* parent = nullptr;                            // parent_process()
  bool exit_handler = false;
  // A child's parent, described lazily by parent_process() (most children never ask).
  int parent_pid = 0;
  std::string parent_name;
  bool parent_direct = false;
  std::string child_name;  // a forkserver/spawn child's identity, for become_current
  bool child_daemon = false;
};

Globals& g() {
  static Globals* const globals = new Globals;
  return *globals;
}

// A fork made by another thread while one held the lock leaves it held in the child.
[[maybe_unused]] const bool g_reinit = (pthread_atfork(nullptr, nullptr, [] { new (&g().mutex) Mutex; }), true);

std::string identity_name(const std::vector<int>& identity) {
  std::string s = "Process-";
  for (std::size_t i = 0; i < identity.size(); ++i) {
    if (i != 0) s += ':';
    s += std::to_string(identity[i]);
  }
  return s;
}

[[noreturn]] void closed_error(const char* api) {
  throw ValueError(std::string("Process::") + api + "(): process object is closed");
}

ProcessState& checked(const std::shared_ptr<ProcessState>& st, const char* api) {
  if (st == nullptr) throw ValueError(std::string("Process::") + api + "(): the handle was moved from");
  return *st;
}

// Whether the child has exited (recording its exit code); st.mutex held.
bool poll_locked(ProcessState& st) {
  if (st.exitcode) return true;
  if (!st.started || st.kind != ProcessState::Kind::handle || st.current || st.sentinel < 0) return false;
  if (st.via_server) {
    pollfd p{st.sentinel, POLLIN, 0};
    if (platform::poll_until(&p, 1, std::chrono::steady_clock::now()) <= 0) return false;
    int code = 0;
    const long n = platform::read_some(st.sentinel, reinterpret_cast<char*>(&code), sizeof code);
    // The fork server died before telling: Python reports 255 then too.
    st.exitcode = n == static_cast<long>(sizeof code) ? code : 255;
    return true;
  }
  int code = 0;
  const int r = platform::reap(st.pidfd, false, code);
  if (r == 0) return false;
  // -ECHILD: reaped elsewhere (SIGCHLD ignored, or a waitpid(-1) of the program); the status is lost.
  st.exitcode = r > 0 ? code : 255;
  return true;
}

void discard_child(const ProcessState* st) {
  std::lock_guard lk(g().mutex);
  auto& c = g().children;
  for (auto it = c.begin(); it != c.end(); ++it) {
    if (it->get() == st) {
      c.erase(it);
      return;
    }
  }
}

// Python's _cleanup: forget children that have exited.
void cleanup_children() {
  std::vector<std::shared_ptr<ProcessState>> done;
  std::lock_guard lk(g().mutex);
  auto& c = g().children;
  for (auto it = c.begin(); it != c.end();) {
    bool exited;
    {
      std::lock_guard l((*it)->mutex);
      exited = poll_locked(**it);
    }
    if (exited) {
      done.push_back(std::move(*it));
      it = c.erase(it);
    } else {
      ++it;
    }
  }
}

// Waits for the child's sentinel; true when it exited.
bool wait_exit(ProcessState& st, Timeout timeout) {
  int fd;
  {
    std::lock_guard l(st.mutex);
    if (poll_locked(st)) return true;
    fd = st.sentinel;
  }
  if (&trident::detail::current_parker() == &trident::detail::thread_parker()) {
    // An OS thread parks in the kernel on the fd itself (as Connection does): no allocation
    // between start() and join(), which matters to start+join latency right after a fork.
    const trident::detail::Deadline deadline = trident::detail::Deadline::after(timeout, "Process::join()");
    pollfd p{fd, POLLIN, 0};
    const int r = platform::poll_until(&p, 1, deadline.when());
    if (r < 0) raise_os_error(-r, "Process::join(): ppoll()");
    if (r == 0) return false;
  } else if (connection::wait({connection::Waitable(fd)}, timeout).empty()) {
    return false;
  }
  std::lock_guard l(st.mutex);
  return poll_locked(st);
}

void send_signal(ProcessState& st, int sig, const char* api) {
  std::lock_guard l(st.mutex);
  if (!st.started || st.exitcode || st.pidfd < 0 || st.current) return;
  if (poll_locked(st)) return;
  const int r = platform::pidfd_signal(st.pidfd, sig);
  if (r < 0 && r != -ESRCH) raise_os_error(-r, std::string("Process::") + api + "(): pidfd_send_signal()");
}

// Python's util._exit_function: terminate daemonic children, then join every child.
void exit_function() {
  std::vector<std::shared_ptr<ProcessState>> snapshot;
  {
    std::lock_guard lk(g().mutex);
    snapshot = g().children;
  }
  const int me = platform::get_pid();
  for (auto& st : snapshot) {
    if (st->creator_pid == me && st->daemon) send_signal(*st, SIGTERM, "terminate");
  }
  for (auto& st : snapshot) {
    if (st->creator_pid != me) continue;
    try {
      wait_exit(*st, std::nullopt);
    } catch (...) {
    }
  }
  std::lock_guard lk(g().mutex);
  g().children.clear();
}

void ensure_exit_handler() {
  std::lock_guard lk(g().mutex);
  if (g().exit_handler) return;
  g().exit_handler = true;
  std::atexit([] {
    // Only the process that registered it: a forked child ends with _exit and never gets here,
    // but a child that calls std::exit itself does, and its children are its own.
    exit_function();
  });
}

Process& main_process() {
  static Process* const p = [] {
    auto* proc = new Process(ProcessOptions{.name = "MainProcess", .daemon = false});
    auto& st = *ProcessAccess::state(*proc);
    st.kind = ProcessState::Kind::main;
    st.current = true;
    st.started = true;
    st.identity.clear();
    return proc;
  }();
  return *p;
}

// The parent's stand-in in a child: its pid, name, and a pidfd that turns readable when it exits.
Process* make_parent(int pid, const std::string& name, bool direct) {
  auto* proc = new Process(ProcessOptions{.name = name, .daemon = false});
  auto& st = *ProcessAccess::state(*proc);
  st.kind = ProcessState::Kind::parent;
  st.started = true;
  st.pid = pid;
  const int fd = platform::pidfd_open_pid(pid);
  // A direct child checks the pidfd names its parent and not a recycled pid.
  if (fd >= 0 && (!direct || platform::get_ppid() == pid)) {
    st.pidfd = fd;
    st.sentinel = fd;
  } else if (fd >= 0) {
    platform::close_fd(fd);
  }
  st.creator_pid = 0;  // nobody may join it as a child
  return proc;
}

// What every child does first (under the globals' lock-free single thread of a new child).
void become_child(Process* self, const std::vector<int>& identity, int parent_pid, const std::string& parent_name,
                  bool direct_parent) {
  Globals& gl = g();
  gl.children.clear();
  gl.identity = identity;
  gl.counter = 0;
  gl.exit_handler = false;
  gl.current = self;
  gl.parent = nullptr;
  gl.parent_pid = parent_pid;
  gl.parent_name = parent_name;
  gl.parent_direct = direct_parent;
}

void report_exception(const std::string& name) {
  const std::exception_ptr e = std::current_exception();
  std::string msg = str(e);
  std::string line = "Process " + name +
                     ":\nTraceback (most recent call last):\n  (a C++ exception has no traceback)\n" +
                     exception_type_name(e) + (msg.empty() ? "" : ": " + msg) + "\n";
  std::cout.flush();
  std::fflush(stdout);
  std::fputs(line.c_str(), stderr);
  std::fflush(stderr);
}

// The parent-death signal binds to the creating thread: only a start from the initial thread,
// whose end is the process's end, can use it without killing the child when some worker thread
// that started it finishes.
void arm_parent_death(bool daemonic, bool from_initial_thread, int parent_pid) {
  if (!daemonic || !from_initial_thread) return;
  platform::set_parent_death_signal(SIGKILL);
  if (platform::get_ppid() != parent_pid) platform::exit_now(1);  // the parent died before prctl
}

}  // namespace

namespace detail {

[[noreturn]] void finish_child(int code) {
  // Python's threading._shutdown, then util._exit_function.
  try {
    while (threading::active_count() > 1) {
      threading::Thread* wait_for = nullptr;
      for (threading::Thread* t : threading::enumerate()) {
        if (t != &threading::current_thread() && !t->daemon() && t->is_alive()) {
          wait_for = t;
          break;
        }
      }
      if (wait_for == nullptr) break;
      wait_for->join();
    }
    exit_function();
  } catch (...) {
    report_exception(current_process().name());
    if (code == 0) code = 1;
  }
  std::cout.flush();
  std::cerr.flush();
  std::fflush(nullptr);
  platform::exit_now(code);
}

namespace {
std::map<std::string, RegisteredProcess>& registered() {
  static auto* const m = new std::map<std::string, RegisteredProcess>;
  return *m;
}
}  // namespace

bool register_process(const RegisteredProcess& r) noexcept {
  try {
    registered().emplace(r.key, r);
    return true;
  } catch (...) {
    return false;
  }
}

void become_current(Process& p) {
  auto& st = *ProcessAccess::state(p);
  {
    std::lock_guard l(st.mutex);
    st.name = g().child_name;
    st.default_name = false;
    st.daemon = g().child_daemon;
    st.identity = g().identity;
    st.current = true;
    st.started = true;
  }
  g().current = &p;
}

void bind_method(Process& p, StartMethod m) {
  auto& st = *ProcessAccess::state(p);
  std::lock_guard l(st.mutex);
  if (st.started) throw RuntimeError("Context::bind(): process has already started");
  st.method = m;
}

[[noreturn]] void bad_connection_ref() {
  throw pickle::UnpicklingError("Process: a Connection argument refers to an fd the child did not receive");
}

[[noreturn]] void run_child(Bootstrap b, std::vector<int> fds) {
  set_default_method_code(b.method);
  g().child_name = b.name;
  g().child_daemon = b.daemon;
  // The object current_process() returns until a registered subclass replaces it.
  static Process* const self = new Process(ProcessOptions{.name = b.name, .daemon = b.daemon});
  become_child(self, b.identity, b.parent_pid, b.parent_name, b.parent_pid == platform::get_ppid());
  become_current(*self);
  int code = 0;
  try {
    if (b.kind == 1) {
      std::uintptr_t tramp = 0;
      std::uintptr_t target = 0;
      int r = platform::code_address(b.trampoline_module, b.trampoline_offset, tramp);
      if (r == 0 && b.target_by_address) r = platform::code_address(b.target_module, b.target_offset, target);
      if (r < 0) {
        throw RuntimeError("Process: the child cannot find the target's code (module '" + b.target_module +
                           "'): the parent and the child must run the same program");
      }
      reinterpret_cast<CrossedTarget::Trampoline>(tramp)(target, b.payload, fds);
    } else if (b.kind == 2) {
      auto it = registered().find(b.subclass_key);
      if (it == registered().end()) {
        throw RuntimeError("Process: the child does not know the registered Process subclass " +
                           pickle::detail::demangle(b.subclass_key.c_str()));
      }
      it->second.run(b.payload);
    }
  } catch (...) {
    report_exception(current_process().name());
    code = 1;
  }
  finish_child(code);
}

}  // namespace detail

// ---- Process ----

Process::Process() : Process(ProcessOptions{}, std::nullopt) {}

Process::Process(ProcessOptions options) : Process(std::move(options), std::nullopt) {}

Process::Process(ProcessOptions options, std::nullopt_t) : st_(std::make_shared<ProcessState>()) {
  ProcessState& st = *st_;
  st.creator_pid = platform::get_pid();
  st.handle = this;
  {
    std::lock_guard lk(g().mutex);
    st.identity = g().identity;
    st.identity.push_back(++g().counter);
  }
  st.default_name = options.name.empty();
  st.name = st.default_name ? identity_name(st.identity) : std::move(options.name);
  if (options.daemon) {
    st.daemon = *options.daemon;
  } else {
    // Python: daemon=None inherits the creating process's flag (the main process: false).
    Process* cur = g().current;
    st.daemon = cur != nullptr && cur->st_ != nullptr && cur->st_.get() != st_.get() && cur->st_->daemon;
  }
}

Process::Process(Process&& other) noexcept : st_(std::move(other.st_)), target_(std::move(other.target_)) {
  if (st_) {
    std::lock_guard l(st_->mutex);
    st_->handle = this;
  }
  if (g().current == &other) g().current = this;
}

namespace {
// What destroying (or overwriting) a handle does: wait for a running non-daemon child, let a
// daemon child run on; free the sentinel when the child is done.
void release(std::shared_ptr<ProcessState>& stp) noexcept {
  if (!stp) return;
  ProcessState& st = *stp;
  bool is_child_handle;
  bool daemonic;
  {
    std::lock_guard l(st.mutex);
    st.handle = nullptr;
    is_child_handle = st.kind == ProcessState::Kind::handle && st.started && !st.closed && !st.current &&
                      st.creator_pid == platform::get_pid();
    daemonic = st.daemon;
  }
  if (!is_child_handle) return;
  if (daemonic) {
    std::lock_guard l(st.mutex);
    if (!poll_locked(st)) return;  // runs on; the registry keeps its state until exit
  } else {
    try {
      wait_exit(st, std::nullopt);
    } catch (...) {
      std::fputs("Process: waiting for a child in the handle's destructor failed\n", stderr);
    }
  }
  discard_child(&st);
}
}  // namespace

Process& Process::operator=(Process&& other) {
  if (this == &other) return *this;
  release(st_);
  st_ = std::move(other.st_);
  target_ = std::move(other.target_);
  if (st_) {
    std::lock_guard l(st_->mutex);
    st_->handle = this;
  }
  if (g().current == &other) g().current = this;
  return *this;
}

Process::~Process() {
  if (g().current == this) g().current = nullptr;
  release(st_);
}

void Process::run() {
  if (target_) target_->invoke();
}

void Process::start() {
  ProcessState& st = checked(st_, "start");
  const int me = platform::get_pid();
  {
    std::lock_guard l(st.mutex);
    if (st.closed) closed_error("start");
    if (st.started) throw RuntimeError("Process::start(): cannot start a process twice");
    if (st.creator_pid != me) {
      throw RuntimeError("Process::start(): can only start a process object created by current process");
    }
  }
  if (Process* cur = g().current; cur != nullptr && cur->st_ && cur->st_->daemon) {
    throw RuntimeError("Process::start(): daemonic processes are not allowed to have children");
  }
  cleanup_children();
  const StartMethod method = detail::effective_method(st.method);
  ensure_exit_handler();
  // Python's util._flush_std_streams, for every method: output the parent buffered comes before
  // the child's (and a forked child must not print it again).
  std::fflush(stdout);
  std::fflush(stderr);
  detail::StartedChild child;
  if (method == StartMethod::fork) {
    const bool initial = platform::is_initial_thread();
    const std::string parent_name = current_process().name();
    std::vector<int> identity;
    bool daemonic;
    {
      std::lock_guard l(st.mutex);
      identity = st.identity;
      daemonic = st.daemon;
    }
    const int pid = os::fork();
    if (pid == 0) {
      arm_parent_death(daemonic, initial, me);
      become_child(this, identity, me, parent_name, true);
      st.current = true;
      st.started = true;
      st.pid = platform::get_pid();
      int code = 0;
      try {
        run();
      } catch (...) {
        report_exception(name());
        code = 1;
      }
      detail::finish_child(code);
    }
    const int pidfd = platform::pidfd_open_pid(pid);
    if (pidfd < 0) {
      // Without a pidfd the child could not be waited for safely: end it and report.
      ::kill(pid, SIGKILL);
      int status = 0;
      platform::wait_pid(pid, &status, 0);
      raise_os_error(-pidfd, "Process::start(): pidfd_open()");
    }
    child = {pid, pidfd, pidfd, false};
  } else {
    detail::Bootstrap b;
    b.name = name();
    {
      std::lock_guard l(st.mutex);
      b.daemon = st.daemon;
      b.identity = st.identity;
    }
    b.parent_pid = me;
    b.parent_name = current_process().name();
    b.method = detail::default_method_code();
    b.parent_death_signal = b.daemon && platform::is_initial_thread();
    const std::string where =
        std::string("Process::start(): with the '") + detail::method_name(method) + "' start method, ";
    if (typeid(*this) != typeid(Process)) {
      auto it = detail::registered().find(typeid(*this).name());
      if (it == detail::registered().end()) {
        throw TypeError(where + "a Process subclass (" + pickle::detail::demangle(typeid(*this).name()) +
                        ") crosses to the child only when registered with TRIDENT_REGISTER_PROCESS and given a "
                        "cereal serialize member (or use the 'fork' start method)");
      }
      b.kind = 2;
      b.subclass_key = it->first;
      b.payload = it->second.save(*this);
    } else if (target_) {
      detail::CrossedTarget ct;
      if (auto why = target_->cross(ct)) throw TypeError(where + *why);
      std::uintptr_t off = 0;
      if (platform::code_location(reinterpret_cast<std::uintptr_t>(ct.trampoline), b.trampoline_module, off) < 0) {
        throw RuntimeError(where + "the target's code is in no loaded module");
      }
      b.trampoline_offset = off;
      if (ct.target != 0) {
        if (platform::code_location(ct.target, b.target_module, off) < 0) {
          throw TypeError(where + "the target function is in no loaded module (a JIT-compiled function cannot cross)");
        }
        b.target_by_address = true;
        b.target_offset = off;
      }
      b.kind = 1;
      b.payload = std::move(ct.args);
      b.fds = std::move(ct.fds);
    }
    child = method == StartMethod::spawn ? detail::start_spawn(b) : detail::start_forkserver(b);
  }
  {
    std::lock_guard l(st.mutex);
    st.started = true;
    st.pid = child.pid;
    st.pidfd = child.pidfd;
    st.sentinel = child.sentinel;
    st.via_server = child.via_server;
  }
  std::lock_guard lk(g().mutex);
  g().children.push_back(st_);
}

void Process::join(Timeout timeout) {
  ProcessState& st = checked(st_, "join");
  trident::detail::check_timeout(timeout, "Process::join()");
  {
    std::lock_guard l(st.mutex);
    if (st.closed) closed_error("join");
    if (st.current) throw RuntimeError("Process::join(): cannot join current process");
    if (st.kind == ProcessState::Kind::handle && st.creator_pid != platform::get_pid()) {
      throw RuntimeError("Process::join(): can only join a child process");
    }
    if (!st.started) throw RuntimeError("Process::join(): can only join a started process");
  }
  if (st.kind == ProcessState::Kind::parent) {
    if (st.sentinel >= 0) connection::wait({connection::Waitable(st.sentinel)}, timeout);
    return;
  }
  if (wait_exit(st, timeout)) discard_child(&st);
}

bool Process::is_alive() const {
  ProcessState& st = checked(st_, "is_alive");
  std::lock_guard l(st.mutex);
  if (st.closed) closed_error("is_alive");
  if (st.current || st.kind == ProcessState::Kind::main) return true;
  if (!st.started) return false;
  if (st.kind == ProcessState::Kind::parent) {
    if (st.sentinel < 0) return false;
    pollfd p{st.sentinel, POLLIN, 0};
    return platform::poll_until(&p, 1, std::chrono::steady_clock::now()) == 0;
  }
  if (st.creator_pid != platform::get_pid()) return false;
  return !poll_locked(st);
}

void Process::terminate() {
  ProcessState& st = checked(st_, "terminate");
  if (st.closed) closed_error("terminate");
  send_signal(st, SIGTERM, "terminate");
}

void Process::kill() {
  ProcessState& st = checked(st_, "kill");
  if (st.closed) closed_error("kill");
  send_signal(st, SIGKILL, "kill");
}

void Process::close() {
  ProcessState& st = checked(st_, "close");
  {
    std::lock_guard l(st.mutex);
    if (st.closed) return;
    if (st.started && st.kind == ProcessState::Kind::handle && !st.current && !poll_locked(st)) {
      throw ValueError(
          "Process::close(): Cannot close a process while it is still running. You should first call join() or "
          "terminate().");
    }
    st.closed = true;
    if (st.sentinel >= 0 && st.sentinel != st.pidfd) platform::close_fd(st.sentinel);
    if (st.pidfd >= 0) platform::close_fd(st.pidfd);
    st.sentinel = -1;
    st.pidfd = -1;
  }
  discard_child(&st);
}

std::string Process::name() const {
  ProcessState& st = checked(st_, "name");
  std::lock_guard l(st.mutex);
  if (st.default_name && typeid(*this) != typeid(Process)) {
    // Python names a subclass object after its class: "MyProcess-1" (unqualified, as __name__).
    std::string type = pickle::detail::demangle(typeid(*this).name());
    if (auto colon = type.rfind("::"); colon != std::string::npos) type.erase(0, colon + 2);
    return type + st.name.substr(std::string("Process").size());
  }
  return st.name;
}

void Process::set_name(std::string name) {
  ProcessState& st = checked(st_, "set_name");
  std::lock_guard l(st.mutex);
  st.name = std::move(name);
  st.default_name = false;
}

bool Process::daemon() const {
  ProcessState& st = checked(st_, "daemon");
  std::lock_guard l(st.mutex);
  return st.daemon;
}

void Process::set_daemon(bool daemonic) {
  ProcessState& st = checked(st_, "set_daemon");
  std::lock_guard l(st.mutex);
  if (st.started) throw RuntimeError("Process::set_daemon(): process has already started");
  st.daemon = daemonic;
}

std::optional<int> Process::pid() const {
  ProcessState& st = checked(st_, "pid");
  std::lock_guard l(st.mutex);
  if (st.closed) closed_error("pid");
  if (st.current || st.kind == ProcessState::Kind::main) return platform::get_pid();
  if (!st.started) return std::nullopt;
  return st.pid;
}

std::optional<int> Process::exitcode() const {
  ProcessState& st = checked(st_, "exitcode");
  std::lock_guard l(st.mutex);
  if (st.closed) closed_error("exitcode");
  if (st.kind != ProcessState::Kind::handle || st.current || !st.started) return std::nullopt;
  if (st.creator_pid != platform::get_pid()) return st.exitcode;
  poll_locked(st);
  return st.exitcode;
}

int Process::sentinel() const {
  ProcessState& st = checked(st_, "sentinel");
  std::lock_guard l(st.mutex);
  if (st.closed) closed_error("sentinel");
  if (!st.started || st.sentinel < 0) throw ValueError("Process::sentinel(): process not started");
  return st.sentinel;
}

// ---- module functions ----

Process& current_process() {
  Process* cur = g().current;
  return cur != nullptr ? *cur : main_process();
}

Process* parent_process() {
  Globals& gl = g();
  int pid;
  std::string name;
  bool direct;
  {
    std::lock_guard lk(gl.mutex);
    if (gl.parent != nullptr || gl.parent_pid == 0) return gl.parent;
    pid = gl.parent_pid;
    name = gl.parent_name;
    direct = gl.parent_direct;
  }
  // Built outside the lock (a Process constructor takes it). A direct child whose parent already
  // died finds getppid() changed and gets an object that is not alive.
  Process* made = make_parent(pid, name, direct);
  std::lock_guard lk(gl.mutex);
  if (gl.parent == nullptr) {
    gl.parent = made;
    return made;
  }
  delete made;
  return gl.parent;
}

std::vector<Process*> active_children() {
  cleanup_children();
  std::vector<Process*> out;
  std::lock_guard lk(g().mutex);
  for (auto& st : g().children) {
    std::lock_guard l(st->mutex);
    if (st->handle != nullptr) out.push_back(st->handle);
  }
  return out;
}

int cpu_count() {
  auto n = os::cpu_count();
  if (!n) throw RuntimeError("multiprocessing::cpu_count(): cannot determine number of cpus");
  return *n;
}

}  // namespace trident::multiprocessing
