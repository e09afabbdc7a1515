// multiprocessing/process_internal.hpp — what process.cpp (Process, the child's bootstrap) and
// context.cpp (start methods, spawn, the fork server, main()) share. Not API.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "trident/detail/wait.hpp"
#include "trident/multiprocessing/process.hpp"

namespace trident::multiprocessing::detail {

// The state of one Process object, shared by its handle and the registry of children (which keeps
// a detached daemon's state until exit).
class ProcessState {
 public:
  ProcessState() = default;
  ProcessState(const ProcessState&) = delete;
  ProcessState& operator=(const ProcessState&) = delete;
  ~ProcessState();

  enum class Kind { handle, main, parent };

  trident::detail::Mutex mutex;  // guards every field below but the const-after-start ones
  Kind kind = Kind::handle;
  std::string name;
  bool default_name = false;  // `name` is "Process-N": a subclass shows its own class name instead
  bool daemon = false;
  std::optional<StartMethod> method;  // a context's method; unset = the default at start()
  std::vector<int> identity;          // Python's _identity: names "Process-1:2"
  int creator_pid = 0;                // the process that built the object (only it may start/join)
  bool started = false;
  bool closed = false;
  bool current = false;  // this object is current_process() in this process
  int pid = 0;
  int pidfd = -1;           // for signals (and reaping a direct child)
  int sentinel = -1;        // pidfd (direct child) or the fork server's status socket
  bool via_server = false;  // a fork server child: the exit status arrives on `sentinel`
  std::optional<int> exitcode;
  Process* handle = nullptr;  // the handle object, updated by moves; null once detached
};

// What a forkserver or spawn child is told (pickled; the fds travel beside it).
struct Bootstrap {
  std::string name;
  bool default_name = false;  // `name` is "Process-N": a subclass shows its own class name instead
  bool daemon = false;
  std::vector<int> identity;
  int parent_pid = 0;
  std::string parent_name;
  int method = 0;         // the parent's default start method (-1: unset)
  std::uint8_t kind = 0;  // 0: nothing to run, 1: a target, 2: a registered subclass
  std::string trampoline_module;
  std::uint64_t trampoline_offset = 0;
  bool target_by_address = false;
  std::string target_module;
  std::uint64_t target_offset = 0;
  std::string subclass_key;
  std::string payload;               // the pickled arguments or subclass object
  bool parent_death_signal = false;  // a daemon started from the initial thread (spawn)
  std::vector<int> fds;              // spawn: the inherited fd numbers (forkserver: filled in by the child)

  template <class A>
  void serialize(A& ar) {
    ar(name, daemon, identity, parent_pid, parent_name, method, kind, trampoline_module, trampoline_offset,
       target_by_address, target_module, target_offset, subclass_key, payload, parent_death_signal, fds);
  }
};

struct StartedChild {
  int pid = 0;
  int pidfd = -1;
  int sentinel = -1;
  bool via_server = false;
};

// context.cpp
StartMethod effective_method(const std::optional<StartMethod>& bound);
const char* method_name(StartMethod m) noexcept;
StartedChild start_spawn(const Bootstrap& b);
StartedChild start_forkserver(const Bootstrap& b);
int default_method_code() noexcept;
void set_default_method_code(int code) noexcept;

// process.cpp
/// Makes `p` start with method `m` (Context::bind).
void bind_method(Process& p, StartMethod m);
/// Runs a forkserver or spawn child: becomes the process `b` describes, runs it, exits.
[[noreturn]] void run_child(Bootstrap b, std::vector<int> fds);
/// The end of every child: joins non-daemon threads, terminates daemon / joins other children,
/// flushes stdio, _exit(code).
[[noreturn]] void finish_child(int code);

}  // namespace trident::multiprocessing::detail
