// subprocess's errors: CalledProcessError and TimeoutExpired (declared in trident/errors.hpp with
// the rest of the hierarchy; defined here because their messages are this module's business).
#include <signal.h>

#include <cstdio>
#include <string>

#include "subprocess/signal_names.hpp"
#include "trident/errors.hpp"

namespace trident::subprocess {

namespace {

std::string join_cmd(const std::vector<std::string>& cmd) {
  std::string s;
  for (const auto& a : cmd) {
    if (!s.empty()) s += ' ';
    s += a;
  }
  return s;
}

// CPython's CalledProcessError.__str__: a signal is shown as repr(signal.Signals(n)), or as
// "unknown signal n" when the number has no member (Linux's realtime signals between SIGRTMIN
// and SIGRTMAX).
std::string called_message(int rc, const std::vector<std::string>& cmd) {
  const std::string head = "Command '" + join_cmd(cmd) + "' ";
  if (rc >= 0) return head + "returned non-zero exit status " + std::to_string(rc) + ".";
  const int sig = -rc;
  if (const char* name = detail::signal_name(sig)) {
    return head + "died with <Signals." + name + ": " + std::to_string(sig) + ">.";
  }
  return head + "died with unknown signal " + std::to_string(sig) + ".";
}

std::string timeout_message(const std::vector<std::string>& cmd, Seconds t) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%g", t.count());
  return "Command '" + join_cmd(cmd) + "' timed out after " + buf + " seconds";
}

}  // namespace

CalledProcessError::CalledProcessError(int rc, std::vector<std::string> c, std::optional<std::string> out,
                                       std::optional<std::string> err)
    : SubprocessError(called_message(rc, c)),
      returncode(rc),
      cmd(std::move(c)),
      output(std::move(out)),
      stderr(std::move(err)) {}

TimeoutExpired::TimeoutExpired(std::vector<std::string> c, Seconds t, std::optional<std::string> out,
                               std::optional<std::string> err)
    : SubprocessError(timeout_message(c, t)),
      cmd(std::move(c)),
      timeout(t),
      output(std::move(out)),
      stderr(std::move(err)) {}

}  // namespace trident::subprocess
