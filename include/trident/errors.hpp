// trident/errors.hpp — Python's exception hierarchy, as C++ exceptions.
//
// Every trident error derives from a std exception (so `catch (const std::exception&)` sees it)
// and from `trident::Exception` (so `catch (const trident::Exception&)` sees every trident error,
// as Python's `except Exception` does). Types keep CPython's names and nesting: `TimeoutError` is
// an `OSError`, `BrokenBarrierError` a `RuntimeError`, `BrokenThreadPool` a `BrokenExecutor`.
// `type_name()` gives the Python spelling ("queue.Empty"), for messages and cross-process errors;
// `repr(error)` and `str(error)` print any std::exception_ptr as Python prints `repr(exc)`/`str(exc)`.
#pragma once

#include <exception>
#include <optional>
#include <stdexcept>
#include <string>
#include <system_error>
#include <utility>
#include <vector>

#include "trident/timeout.hpp"

namespace trident {

/// Python's `Exception`: the base every trident error shares, beside its std base.
class Exception {
 public:
  Exception() = default;
  Exception(const Exception&) = default;
  Exception& operator=(const Exception&) = default;
  virtual ~Exception();
  /// The message, as `str(exc)` in Python.
  virtual const char* what() const noexcept = 0;
  /// The Python name of the type, e.g. "RuntimeError" or "queue.Empty".
  virtual const char* type_name() const noexcept = 0;
};

// Declares an error class `Name : Base` whose Python spelling is `py`. Base is a trident error or
// a std exception type; constructors are inherited.
#define TRIDENT_ERROR_CLASS(Name, Base, py)                        \
  class Name : public Base {                                       \
    using base_type = Base;                                        \
                                                                   \
   public:                                                         \
    using base_type::base_type;                                    \
    const char* type_name() const noexcept override { return py; } \
  }

namespace detail {
// Joins a std exception type with trident::Exception; `what()` comes from the std side.
template <class Std>
class StdError : public Std, public Exception {
 public:
  template <class... A>
  explicit StdError(A&&... args) : Std(std::forward<A>(args)...) {}
  const char* what() const noexcept override { return Std::what(); }
};
}  // namespace detail

/// Python's `RuntimeError`: misuse such as starting a thread twice or releasing an unowned RLock.
TRIDENT_ERROR_CLASS(RuntimeError, ::trident::detail::StdError<std::runtime_error>, "RuntimeError");
/// Python's `ValueError`: an argument with the right type but a bad value (a negative timeout).
TRIDENT_ERROR_CLASS(ValueError, ::trident::detail::StdError<std::invalid_argument>, "ValueError");
/// Python's `TypeError`: a value of the wrong type (e.g. a received object of another type).
TRIDENT_ERROR_CLASS(TypeError, ::trident::detail::StdError<std::invalid_argument>, "TypeError");
/// Python's `IndexError`: a sequence index out of range.
TRIDENT_ERROR_CLASS(IndexError, ::trident::detail::StdError<std::out_of_range>, "IndexError");
/// Python's `EOFError`: the other end of a connection or stream is closed.
TRIDENT_ERROR_CLASS(EOFError, ::trident::detail::StdError<std::runtime_error>, "EOFError");

/// Python's `StopIteration`: `next()` on an exhausted generator. A generator's return value rides in
/// its subclass `StopIterationOf<Return>` (trident/generator.hpp); this base is Python's bare
/// `StopIteration` (value None).
TRIDENT_ERROR_CLASS(StopIteration, ::trident::detail::StdError<std::runtime_error>, "StopIteration");
/// Python's `GeneratorExit`, thrown into a generator at its `co_yield` by `close()` (and when a
/// suspended generator is destroyed). Like Python's, it is a BaseException rather than an
/// Exception: it is not a `trident::Exception`, so `catch (const trident::Exception&)` lets it pass.
class GeneratorExit : public std::exception {
 public:
  const char* what() const noexcept override { return "GeneratorExit"; }
  const char* type_name() const noexcept { return "GeneratorExit"; }
};

/// Python's `OSError`: a failed system call. `code()` holds the errno (generic category), `what()`
/// names the call and what it acted on, and `filename()` the file when there is one.
class OSError : public detail::StdError<std::system_error> {
 public:
  /// `OSError(errno, what)`: `what` names the failing call, e.g. "Popen: execve(\"ls\")".
  OSError(int error_number, const std::string& what, std::string filename = {});
  const char* type_name() const noexcept override { return "OSError"; }
  /// Python's `OSError.errno`.
  int error_number() const noexcept { return code().value(); }
  /// Python's `OSError.filename` (empty when none).
  const std::string& filename() const noexcept { return filename_; }

 private:
  std::string filename_;
};

/// Python's `FileNotFoundError` (ENOENT).
TRIDENT_ERROR_CLASS(FileNotFoundError, OSError, "FileNotFoundError");
/// Python's `PermissionError` (EACCES, EPERM).
TRIDENT_ERROR_CLASS(PermissionError, OSError, "PermissionError");
/// Python's `NotADirectoryError` (ENOTDIR).
TRIDENT_ERROR_CLASS(NotADirectoryError, OSError, "NotADirectoryError");
/// Python's `IsADirectoryError` (EISDIR).
TRIDENT_ERROR_CLASS(IsADirectoryError, OSError, "IsADirectoryError");
/// Python's `ChildProcessError` (ECHILD).
TRIDENT_ERROR_CLASS(ChildProcessError, OSError, "ChildProcessError");
/// Python's `ProcessLookupError` (ESRCH).
TRIDENT_ERROR_CLASS(ProcessLookupError, OSError, "ProcessLookupError");
/// Python's `BrokenPipeError` (EPIPE).
TRIDENT_ERROR_CLASS(BrokenPipeError, OSError, "BrokenPipeError");
/// Python's `InterruptedError` (EINTR).
TRIDENT_ERROR_CLASS(InterruptedError, OSError, "InterruptedError");
/// Python's `FileExistsError` (EEXIST), e.g. creating a shared-memory segment whose name is taken.
TRIDENT_ERROR_CLASS(FileExistsError, OSError, "FileExistsError");

/// Python's `TimeoutError` (an `OSError` with ETIMEDOUT): a blocking call ran out of time.
/// `concurrent.futures.TimeoutError` is this same type, as in Python 3.11+.
class TimeoutError : public OSError {
 public:
  explicit TimeoutError(const std::string& what);
  const char* type_name() const noexcept override { return "TimeoutError"; }
};

/// Throws the OSError subclass Python would raise for `error_number` (FileNotFoundError for
/// ENOENT, PermissionError for EACCES/EPERM, ...); `what` names the call and its object.
[[noreturn]] void raise_os_error(int error_number, const std::string& what, std::string filename = {});

// Describing a caught or stored exception without rethrowing it yourself: what Python prints for
// `repr(exc)` and `str(exc)`, for the std::exception_ptr that Future::exception() and
// ExceptHookArgs::exc_value hold. Each accepts a null pointer (Python's None) and never throws
// anything but std::bad_alloc.

/// The exception's type name: type_name() for a trident error ("queue.Empty"), the demangled C++
/// name otherwise ("std::out_of_range", "int"), "NoneType" for a null pointer.
std::string exception_type_name(const std::exception_ptr& error);
/// Python's `str(exc)`: what() for a std::exception; for a thrown string or number, its value;
/// "" for another type; "None" for a null pointer.
std::string str(const std::exception_ptr& error);
/// Python's `repr(exc)`: `ValueError('bad value')` — the type (a trident error by its Python
/// `__name__`, without the module, as Python prints it: `Empty()`; any other type demangled:
/// `std::out_of_range('vector')`) and the message quoted as Python quotes a str; `TypeName()`
/// when the message is empty; a thrown string or number as `int(42)`; a thrown object of another
/// type as `<Type object>`; "None" for a null pointer. `std::cout << trident::repr(f.exception())`.
std::string repr(const std::exception_ptr& error);

namespace threading {
/// Python's `threading.BrokenBarrierError`: the barrier was reset or aborted while a thread waited.
TRIDENT_ERROR_CLASS(BrokenBarrierError, RuntimeError, "threading.BrokenBarrierError");
}  // namespace threading

namespace queue {
/// Python's `queue.Empty`: a non-blocking or timed `get` found no item.
TRIDENT_ERROR_CLASS(Empty, ::trident::detail::StdError<std::runtime_error>, "queue.Empty");
/// Python's `queue.Full`: a non-blocking or timed `put` found no free slot.
TRIDENT_ERROR_CLASS(Full, ::trident::detail::StdError<std::runtime_error>, "queue.Full");
/// Python's `queue.ShutDown` (3.13): `put`/`get` on a queue that was shut down.
TRIDENT_ERROR_CLASS(ShutDown, ::trident::detail::StdError<std::runtime_error>, "queue.ShutDown");
}  // namespace queue

namespace pickle {
/// Python's `pickle.PickleError`: the base of the pickle module's errors.
TRIDENT_ERROR_CLASS(PickleError, ::trident::detail::StdError<std::runtime_error>, "pickle.PickleError");
/// Python's `pickle.UnpicklingError`: `loads` got bytes that are not a whole frame of the
/// requested type (truncated, corrupt, oversized, trailing bytes, another type).
TRIDENT_ERROR_CLASS(UnpicklingError, PickleError, "pickle.UnpicklingError");
}  // namespace pickle

namespace multiprocessing {
/// Python's `multiprocessing.ProcessError`: the base of multiprocessing's own errors.
TRIDENT_ERROR_CLASS(ProcessError, ::trident::detail::StdError<std::runtime_error>, "multiprocessing.ProcessError");
/// Python's `multiprocessing.BufferTooShort`: `recv_bytes_into` got a message longer than the
/// buffer; the whole message is in `message` (Python's `e.args[0]`) and the connection stays usable.
class BufferTooShort : public ProcessError {
 public:
  BufferTooShort(const std::string& what, std::string msg) : ProcessError(what), message(std::move(msg)) {}
  const char* type_name() const noexcept override { return "multiprocessing.BufferTooShort"; }
  std::string message;
};
}  // namespace multiprocessing

namespace futures {
/// Python's `concurrent.futures.CancelledError`: the result of a cancelled future was asked for.
TRIDENT_ERROR_CLASS(CancelledError, ::trident::detail::StdError<std::runtime_error>,
                    "concurrent.futures.CancelledError");
/// Python's `concurrent.futures.InvalidStateError`: setting the result of a finished future.
TRIDENT_ERROR_CLASS(InvalidStateError, ::trident::detail::StdError<std::logic_error>,
                    "concurrent.futures.InvalidStateError");
/// Python's `concurrent.futures.BrokenExecutor`: the executor can no longer run tasks.
TRIDENT_ERROR_CLASS(BrokenExecutor, RuntimeError, "concurrent.futures.BrokenExecutor");
/// Python's `concurrent.futures.thread.BrokenThreadPool`: a worker's initializer failed.
TRIDENT_ERROR_CLASS(BrokenThreadPool, BrokenExecutor, "concurrent.futures.thread.BrokenThreadPool");
/// Python's `concurrent.futures.process.BrokenProcessPool`: a worker process died.
TRIDENT_ERROR_CLASS(BrokenProcessPool, BrokenExecutor, "concurrent.futures.process.BrokenProcessPool");
}  // namespace futures

namespace greenlet {
/// Python's `greenlet.error`: misuse of a greenlet, e.g. switching to one of another thread.
TRIDENT_ERROR_CLASS(error, ::trident::detail::StdError<std::runtime_error>, "greenlet.error");
/// Python's `greenlet.GreenletExit`, thrown into a suspended greenlet whose last handle is dropped.
/// Like Python's (a BaseException), it derives from neither std::exception nor trident::Exception,
/// so `catch (const std::exception&)` in the greenlet does not swallow it; `catch (...)` does.
class GreenletExit {
 public:
  const char* what() const noexcept { return "GreenletExit"; }
  const char* type_name() const noexcept { return "greenlet.GreenletExit"; }
};
}  // namespace greenlet

namespace subprocess {
/// Python's `subprocess.SubprocessError`: the base of this module's own errors.
TRIDENT_ERROR_CLASS(SubprocessError, ::trident::detail::StdError<std::runtime_error>, "subprocess.SubprocessError");

/// Python's `subprocess.CalledProcessError`: a checked child exited non-zero (or by a signal,
/// then `returncode` is minus the signal number and the message names it as Python does:
/// "Command '...' died with <Signals.SIGABRT: 6>."). `output`/`stderr` hold what was captured,
/// std::nullopt (Python's None) for a stream that was not captured.
class CalledProcessError : public SubprocessError {
 public:
  CalledProcessError(int returncode, std::vector<std::string> cmd, std::optional<std::string> output = std::nullopt,
                     std::optional<std::string> stderr_output = std::nullopt);
  const char* type_name() const noexcept override { return "subprocess.CalledProcessError"; }
  int returncode;
  std::vector<std::string> cmd;
  std::optional<std::string> output;  ///< Python's `output` (alias `stdout`).
  std::optional<std::string> stderr;  ///< Python's `stderr`.
};

/// Python's `subprocess.TimeoutExpired`: a child outlived its timeout. The child is not killed by
/// `Popen::wait`/`communicate`; `output`/`stderr` hold what was read so far from a captured
/// stream, std::nullopt for a stream that was not captured (and after `Popen::wait`).
class TimeoutExpired : public SubprocessError {
 public:
  TimeoutExpired(std::vector<std::string> cmd, Seconds timeout, std::optional<std::string> output = std::nullopt,
                 std::optional<std::string> stderr_output = std::nullopt);
  const char* type_name() const noexcept override { return "subprocess.TimeoutExpired"; }
  std::vector<std::string> cmd;
  Seconds timeout;
  std::optional<std::string> output;  ///< Python's `output` (alias `stdout`).
  std::optional<std::string> stderr;  ///< Python's `stderr`.
};
}  // namespace subprocess

}  // namespace trident
