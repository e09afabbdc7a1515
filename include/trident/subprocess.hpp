// trident/subprocess.hpp — Python's `subprocess` module: run other programs and talk to them.
//
// Same names and meaning as Python's: run/CompletedProcess, call, check_call, check_output,
// getoutput, getstatusoutput, Popen with poll/wait/communicate/send_signal/terminate/kill, the
// PIPE/STDOUT/DEVNULL constants, CalledProcessError and TimeoutExpired (in trident/errors.hpp).
// Keyword arguments are the fields of PopenOptions / RunOptions. What deliberately differs:
// - Data is bytes in a std::string both ways. `text = true` does what Python's text mode does to
//   the bytes on POSIX: universal newlines on output ("\r\n" and "\r" become "\n"); input is
//   written unchanged (Python's "\n" -> os.linesep is the identity here). There is no decoding:
//   `encoding`/`errors` do not exist.
// - Python's `None` for a stream that was not captured is `std::nullopt`: CompletedProcess's
//   stdout/stderr, communicate()'s pair and the errors' output/stderr are std::optional<std::string>
//   (`*r.stdout` when you captured it, `r.stdout.value_or("")` when you do not care).
// - `Popen`'s destructor is Python's `__exit__`: it closes the pipes and waits for the child (the
//   child is not killed; a child that never exits blocks the destructor, as in Python).
// - Not carried over: preexec_fn (not async-signal-safe in a threaded C++ program), bufsize,
//   startupinfo/creationflags (Windows), user/group/extra_groups.
// Children are started with clone(CLONE_VM|CLONE_VFORK) (see docs/subprocess.md), so spawning
// costs the same from a process with many threads and gigabytes mapped. Every wait (wait,
// communicate, a pipe read/write) goes through trident's waiting core.
#pragma once

#include <cstdio>
#include <initializer_list>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "trident/errors.hpp"
#include "trident/timeout.hpp"

namespace trident::subprocess {

/// Python's `subprocess.PIPE`: connect a new pipe to the child's stream.
inline constexpr int PIPE = -1;
/// Python's `subprocess.STDOUT`: for `stderr` only, send it where `stdout` goes.
inline constexpr int STDOUT = -2;
/// Python's `subprocess.DEVNULL`: connect the stream to /dev/null.
inline constexpr int DEVNULL = -3;

class Pipe;

/// What a child's standard stream is connected to. Default-constructed is Python's `None`: inherit
/// the parent's. Otherwise PIPE, STDOUT, DEVNULL, an open fd (not taken over: the caller keeps
/// and closes it), an open `FILE*` (its fd; flush it first), or another Popen's open Pipe.
class Redirect {
 public:
  constexpr Redirect() noexcept = default;
  /// PIPE, STDOUT, DEVNULL or a file descriptor >= 0.
  constexpr Redirect(int fd_or_constant) noexcept : value_(fd_or_constant), set_(true) {}
  /// The file's descriptor (fileno(file)).
  Redirect(std::FILE* file) noexcept;
  /// Python's `stdin=p1.stdout` (a pipeline): the pipe's fd, which the child gets a copy of; the
  /// Pipe stays open here (close it after starting the child, as Python's documentation shows).
  /// Throws ValueError if the pipe is closed.
  Redirect(const Pipe& pipe);
  /// Whether this is Python's `None` (inherit).
  constexpr bool is_none() const noexcept { return !set_; }
  /// The fd or constant; meaningless when is_none().
  constexpr int value() const noexcept { return value_; }

 private:
  int value_ = 0;
  bool set_ = false;
};

/// A program and its arguments: a list (`{"ls", "-l"}`), or one string — with `shell = true` a
/// command line for /bin/sh, otherwise the name of a program run without arguments (as Python).
class Args {
 public:
  Args(std::initializer_list<std::string> list) : list_(list) {}
  Args(std::vector<std::string> list) : list_(std::move(list)) {}
  Args(std::string command) : list_{std::move(command)}, is_string_(true) {}
  Args(const char* command) : Args(std::string(command)) {}
  Args(std::string_view command) : Args(std::string(command)) {}
  /// The arguments as a list (a string is a one-element list).
  const std::vector<std::string>& list() const noexcept { return list_; }
  /// Whether a single string was given.
  bool is_string() const noexcept { return is_string_; }

 private:
  std::vector<std::string> list_;
  bool is_string_ = false;
};

/// The child's environment: Python's `env` mapping. A name must be non-empty and contain no "="
/// ("illegal environment variable name"); no name or value may contain a NUL byte.
using Env = std::map<std::string, std::string>;

/// Python's keyword arguments of `Popen(...)`.
struct PopenOptions {
  std::optional<std::string> executable{};  ///< program to run instead of args[0] (args[0] stays argv[0])
  Redirect stdin{};                         ///< PIPE, DEVNULL, an fd, a FILE*; default: inherit
  Redirect stdout{};                        ///< PIPE, DEVNULL, an fd, a FILE*; default: inherit
  Redirect stderr{};                        ///< PIPE, STDOUT, DEVNULL, an fd, a FILE*; default: inherit
  bool close_fds = true;                    ///< close every fd >= 3 in the child except pass_fds
  std::vector<int> pass_fds{};              ///< fds kept open (and made inheritable); forces close_fds
  std::optional<std::string> cwd{};         ///< directory the child starts in
  std::optional<Env> env{};                 ///< the child's whole environment; default: ours
  bool shell = false;                       ///< run args through /bin/sh -c
  bool text = false;                        ///< universal newlines on output (see the header comment)
  bool start_new_session = false;           ///< setsid() in the child
  int process_group = -1;                   ///< setpgid(0, process_group) in the child when >= 0
  int umask = -1;                           ///< umask(umask) in the child when >= 0
  bool restore_signals = true;              ///< SIGPIPE and SIGXFSZ back to SIG_DFL in the child
  int pipesize = -1;                        ///< F_SETPIPE_SZ for the pipes created when > 0
};

/// Python's keyword arguments of `run(...)`: Popen's plus input, capture_output, timeout, check.
struct RunOptions {
  std::optional<std::string> input{};  ///< written to the child's stdin (a pipe), which is then closed
  bool capture_output = false;         ///< stdout = stderr = PIPE
  Timeout timeout{};                   ///< the child is killed and TimeoutExpired thrown after it
  bool check = false;                  ///< throw CalledProcessError on a non-zero returncode
  std::optional<std::string> executable{};
  Redirect stdin{};
  Redirect stdout{};
  Redirect stderr{};
  bool close_fds = true;
  std::vector<int> pass_fds{};
  std::optional<std::string> cwd{};
  std::optional<Env> env{};
  bool shell = false;
  bool text = false;
  bool start_new_session = false;
  int process_group = -1;
  int umask = -1;
  bool restore_signals = true;
  int pipesize = -1;
};

/// Python's `CompletedProcess`: what `run` returns.
struct CompletedProcess {
  std::vector<std::string> args{};      ///< the args as given (a string is a one-element list)
  int returncode = 0;                   ///< exit status, or minus the signal that ended the child
  std::optional<std::string> stdout{};  ///< captured output; nullopt (Python's None) when not captured
  std::optional<std::string> stderr{};  ///< captured error output; nullopt when not captured
  /// Throws CalledProcessError if returncode is non-zero.
  void check_returncode() const;
};

/// The parent's end of a pipe to a child (Python's `Popen.stdin`/`.stdout`/`.stderr` file
/// objects). Reads and writes block (through the waiting core) until done. The fd is blocking, as
/// in Python, so the pipe may be handed to another child (`Popen({"cat"}, {.stdin =
/// p1.stdout()})`, a pipeline) and that child sees an ordinary pipe. A default-constructed
/// or closed Pipe is Python's `None`/closed file: using it throws ValueError. Not thread-safe:
/// one thread at a time, as with a Python file object shared without a lock.
class Pipe {
 public:
  Pipe() noexcept = default;
  Pipe(Pipe&& other) noexcept;
  Pipe& operator=(Pipe&& other) noexcept;
  ~Pipe();

  /// Whether the pipe is open.
  explicit operator bool() const noexcept { return fd_ >= 0; }
  /// Python's `closed`.
  bool closed() const noexcept { return fd_ < 0; }
  /// Python's `fileno()`. Throws ValueError if closed.
  int fileno() const;
  /// Writes all of `data`, blocking while the pipe is full; returns data.size(). Throws
  /// BrokenPipeError when the child closed its end, ValueError if closed.
  std::size_t write(std::string_view data);
  /// Python's `read(size=-1)`: with no size, everything until end of file; with a size, blocks until
  /// that many bytes or end of file. An empty result means end of file.
  std::string read(std::optional<std::size_t> size = std::nullopt);
  /// Python's `readline()`: up to and including the next "\n", or the rest at end of file.
  std::string readline();
  /// Python's `close()`: closes the fd (a reader's unread buffered data is dropped). Idempotent.
  void close() noexcept;

 private:
  friend class Popen;
  Pipe(int fd, bool text) noexcept : fd_(fd), text_(text) {}
  // Reads what is available into the buffer (blocking until something or EOF); false at EOF.
  bool fill();
  // After POLLOUT: writes as much of `data[0, n)` as fits without sleeping (see
  // detail::nowait_io). The count, -EAGAIN if nothing fitted after all, or -errno.
  long write_ready(const char* data, std::size_t n);
  // Appends what one read() returns: the count read, 0 at end of file, or -errno. The fd is
  // blocking, so it sleeps while the pipe is empty (poll first where that matters) unless
  // `nowait` (RWF_NOWAIT), which returns -EAGAIN then, or where the kernel cannot do that.
  long read_into_buffer(bool nowait = false);
  // Appends what the pipe holds now (FIONREAD), without waiting for more or for end of file.
  void read_ready();
  char* reserve(std::size_t n);
  // Reserves capacity for `n` more bytes without touching it (communicate's size hint).
  void reserve_capacity(std::size_t n);
  std::size_t buffered() const noexcept { return end_ - begin_; }
  std::string take(std::size_t n);
  void close_fd() noexcept;

  int fd_ = -1;
  bool text_ = false;
  bool eof_ = false;
  bool skip_lf_ = false;  // text mode: the last byte was "\r", so a "\n" right after it is dropped
  std::string buf_;       // bytes [begin_, end_) are data; buf_.size() is the capacity in use
  std::size_t begin_ = 0;
  std::size_t end_ = 0;
};

/// Python's `subprocess.Popen`: a running child. Movable, not copyable. `poll`, `wait` and
/// `returncode` may be used from several threads at once; the rest from one thread at a time.
class Popen {
 public:
  /// Starts the child. Throws FileNotFoundError / PermissionError (OSError family, errno and
  /// filename set to the program, or to cwd when that is what failed) when it cannot be executed,
  /// ValueError for bad options (e.g. STDOUT for stdin), and before starting anything, as Python
  /// does, ValueError "embedded null byte" for a NUL in args (the shell command), executable, cwd
  /// or env, and "illegal environment variable name" for an env name that is empty or holds "=".
  explicit Popen(Args args, PopenOptions options = {});
  /// `Popen({"prog", "arg"})`: the same (this overload keeps a braced list from also matching the
  /// move constructor).
  explicit Popen(std::initializer_list<std::string> args, PopenOptions options = {})
      : Popen(Args(args), std::move(options)) {}
  Popen(Popen&&) noexcept;
  Popen& operator=(Popen&&) noexcept;
  /// Python's `__exit__`: closes the pipes and waits for the child to exit (without killing it).
  ~Popen();

  /// The child's process id.
  int pid() const noexcept;
  /// The args as given (a string is a one-element list).
  const std::vector<std::string>& args() const noexcept;
  /// None until the child has been reaped by poll/wait/communicate; then its exit status, or
  /// minus the signal number that ended it.
  std::optional<int> returncode() const noexcept;

  /// Python's `poll()`: the returncode if the child has exited (reaping it), else nullopt. Never blocks.
  std::optional<int> poll();
  /// Python's `wait(timeout)`: waits for the child to exit and returns its returncode. Throws
  /// TimeoutExpired after `timeout` (the child keeps running), ValueError if it is negative.
  int wait(Timeout timeout = std::nullopt);
  /// Python's `communicate(input, timeout)`: writes `input` to stdin (then closes it) while reading
  /// stdout and stderr to end of file, then waits for the child; returns (stdout, stderr), each
  /// std::nullopt (Python's None) when that stream is not a PIPE. Never deadlocks however much the
  /// child writes. A child that closes its stdin early is not an error. Throws TimeoutExpired (with the output so far)
  /// after `timeout`; the child keeps running, nothing is lost, and a later call (typically after kill()) continues and
  /// returns all output. Input on a later call is a ValueError. Input is ignored when stdin is not a pipe.
  std::pair<std::optional<std::string>, std::optional<std::string>> communicate(std::string_view input = {},
                                                                                Timeout timeout = std::nullopt);
  /// Python's `send_signal(sig)`: does nothing once the child has been reaped.
  void send_signal(int sig);
  /// Python's `terminate()`: SIGTERM.
  void terminate();
  /// Python's `kill()`: SIGKILL.
  void kill();

  /// Python's `Popen.stdin`: the write end of the child's stdin when it is PIPE, else a closed Pipe.
  Pipe& stdin() noexcept;
  /// Python's `Popen.stdout`: the read end when stdout is PIPE, else a closed Pipe.
  Pipe& stdout() noexcept;
  /// Python's `Popen.stderr`: the read end when stderr is PIPE, else a closed Pipe.
  Pipe& stderr() noexcept;

 private:
  friend CompletedProcess run(Args args, RunOptions options);
  // run()'s timeout: kills the child, reaps it, and puts into `e` the output read so far plus what
  // the pipes hold at that moment (without waiting for end of file).
  void kill_after_timeout(TimeoutExpired& e);

  struct Impl;
  std::unique_ptr<Impl> impl_;
};

/// Python's `run(args, ...)`: starts the child, communicates (input, capture), waits. On timeout
/// the child is killed and reaped and TimeoutExpired thrown at once, carrying the output read so
/// far (it does not wait for end of file, which a grandchild holding the pipes could delay
/// forever; such a grandchild is not killed, as in Python). With `check`, a
/// non-zero returncode throws CalledProcessError. ValueError when `input` is used with `stdin`,
/// or `capture_output` with `stdout`/`stderr`.
CompletedProcess run(Args args, RunOptions options = {});
/// Python's `call(args, ...)`: runs the child and returns its returncode; on timeout kills it and
/// throws TimeoutExpired. `input`, `capture_output` and `check` are run() options: ValueError here.
int call(Args args, RunOptions options = {});
/// Python's `check_call(args, ...)`: as call, but a non-zero returncode throws CalledProcessError;
/// returns 0.
int check_call(Args args, RunOptions options = {});
/// Python's `check_output(args, ...)`: runs with stdout captured and check = true; returns stdout.
/// ValueError if `stdout` is given.
std::string check_output(Args args, RunOptions options = {});
/// Python's `getstatusoutput(cmd)`: runs `cmd` through the shell with stderr merged into stdout;
/// returns (returncode, output without one trailing newline).
std::pair<int, std::string> getstatusoutput(const std::string& cmd);
/// Python's `getoutput(cmd)`: getstatusoutput(cmd).second.
std::string getoutput(const std::string& cmd);

}  // namespace trident::subprocess
