#include "trident/errors.hpp"

#include <cerrno>
#include <cstdio>
#include <cstdlib>

#include "trident/config.hpp"

namespace trident {

Exception::~Exception() = default;

OSError::OSError(int error_number, const std::string& what, std::string filename)
    : detail::StdError<std::system_error>(std::error_code(error_number, std::generic_category()), what),
      filename_(std::move(filename)) {}

TimeoutError::TimeoutError(const std::string& what) : OSError(ETIMEDOUT, what) {}

void raise_os_error(int error_number, const std::string& what, std::string filename) {
  switch (error_number) {
    case ENOENT:
      throw FileNotFoundError(error_number, what, std::move(filename));
    case EACCES:
    case EPERM:
      throw PermissionError(error_number, what, std::move(filename));
    case ENOTDIR:
      throw NotADirectoryError(error_number, what, std::move(filename));
    case EISDIR:
      throw IsADirectoryError(error_number, what, std::move(filename));
    case ECHILD:
      throw ChildProcessError(error_number, what, std::move(filename));
    case ESRCH:
      throw ProcessLookupError(error_number, what, std::move(filename));
    case EPIPE:
      throw BrokenPipeError(error_number, what, std::move(filename));
    case EINTR:
      throw InterruptedError(error_number, what, std::move(filename));
    case EEXIST:
      throw FileExistsError(error_number, what, std::move(filename));
    case ETIMEDOUT:
      throw TimeoutError(what);
    default:
      throw OSError(error_number, what, std::move(filename));
  }
}

namespace subprocess {

namespace {
std::string join_cmd(const std::vector<std::string>& cmd) {
  std::string s;
  for (const auto& a : cmd) {
    if (!s.empty()) s += ' ';
    s += a;
  }
  return s;
}
std::string called_message(int rc, const std::vector<std::string>& cmd) {
  if (rc < 0) return "Command '" + join_cmd(cmd) + "' died with signal " + std::to_string(-rc) + ".";
  return "Command '" + join_cmd(cmd) + "' returned non-zero exit status " + std::to_string(rc) + ".";
}
std::string timeout_message(const std::vector<std::string>& cmd, Seconds t) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%g", t.count());
  return "Command '" + join_cmd(cmd) + "' timed out after " + buf + " seconds";
}
}  // namespace

CalledProcessError::CalledProcessError(int rc, std::vector<std::string> c, std::string out, std::string err)
    : SubprocessError(called_message(rc, c)),
      returncode(rc),
      cmd(std::move(c)),
      output(std::move(out)),
      stderr(std::move(err)) {}

TimeoutExpired::TimeoutExpired(std::vector<std::string> c, Seconds t, std::string out, std::string err)
    : SubprocessError(timeout_message(c, t)),
      cmd(std::move(c)),
      timeout(t),
      output(std::move(out)),
      stderr(std::move(err)) {}

}  // namespace subprocess

namespace detail {
void assert_fail(const char* expr, const char* file, int line, const char* msg) noexcept {
  std::fprintf(stderr, "trident: internal assertion failed: %s (%s) at %s:%d\n", msg, expr, file, line);
  std::abort();
}
}  // namespace detail

}  // namespace trident
