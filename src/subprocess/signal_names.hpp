// subprocess/signal_names.hpp — the names Python's `signal.Signals` gives signal numbers.
#pragma once

#include <signal.h>

namespace trident::subprocess::detail {

/// The name of `signal.Signals(sig)` in CPython on this platform ("SIGABRT" for 6), or nullptr
/// when Python has no member for it (it then says "unknown signal N"). Where two names share a
/// number (SIGIOT/SIGABRT, SIGCLD/SIGCHLD, SIGPOLL/SIGIO) Python's enum keeps the alphabetically
/// first, which is the one listed here. Of the realtime signals only SIGRTMIN and SIGRTMAX have
/// members.
inline const char* signal_name(int sig) noexcept {
  switch (sig) {
    case SIGHUP:
      return "SIGHUP";
    case SIGINT:
      return "SIGINT";
    case SIGQUIT:
      return "SIGQUIT";
    case SIGILL:
      return "SIGILL";
    case SIGTRAP:
      return "SIGTRAP";
    case SIGABRT:
      return "SIGABRT";
    case SIGBUS:
      return "SIGBUS";
    case SIGFPE:
      return "SIGFPE";
    case SIGKILL:
      return "SIGKILL";
    case SIGUSR1:
      return "SIGUSR1";
    case SIGSEGV:
      return "SIGSEGV";
    case SIGUSR2:
      return "SIGUSR2";
    case SIGPIPE:
      return "SIGPIPE";
    case SIGALRM:
      return "SIGALRM";
    case SIGTERM:
      return "SIGTERM";
#ifdef SIGSTKFLT
    case SIGSTKFLT:
      return "SIGSTKFLT";
#endif
    case SIGCHLD:
      return "SIGCHLD";
    case SIGCONT:
      return "SIGCONT";
    case SIGSTOP:
      return "SIGSTOP";
    case SIGTSTP:
      return "SIGTSTP";
    case SIGTTIN:
      return "SIGTTIN";
    case SIGTTOU:
      return "SIGTTOU";
    case SIGURG:
      return "SIGURG";
    case SIGXCPU:
      return "SIGXCPU";
    case SIGXFSZ:
      return "SIGXFSZ";
    case SIGVTALRM:
      return "SIGVTALRM";
    case SIGPROF:
      return "SIGPROF";
    case SIGWINCH:
      return "SIGWINCH";
    case SIGIO:
      return "SIGIO";
#ifdef SIGPWR
    case SIGPWR:
      return "SIGPWR";
#endif
    case SIGSYS:
      return "SIGSYS";
    default:
      break;
  }
  // Not constants in glibc (it reserves the first few realtime signals for itself).
  if (sig == SIGRTMIN) return "SIGRTMIN";
  if (sig == SIGRTMAX) return "SIGRTMAX";
  return nullptr;
}

}  // namespace trident::subprocess::detail
