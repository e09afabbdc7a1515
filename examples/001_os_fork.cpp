// Note 001 (seeds/001_ac1dc8bb15e913a9.txt), section "1. Process 进程", point 1: the os module
// wraps the common system calls — "fork() is called once and returns twice" (the parent may fork
// several children); the parent gets the child's pid, the child gets 0, and the child's getppid()
// is the parent's pid. The note explains this in words; this is that explanation as a program
// (the classic Python it describes):
//
//     import os
//     print('Process (%s) start...' % os.getpid())
//     pid = os.fork()
//     if pid == 0:
//         print('I am child process (%s) and my parent is %s.' % (os.getpid(), os.getppid()))
//     else:
//         print('I (%s) just created a child process (%s).' % (os.getpid(), pid))
//
// Two differences: stdout is flushed before the fork (otherwise the child would inherit, and print
// again, what the parent buffered), and the parent waits for the child before it prints, so the
// output's order is fixed; it then checks what the note says about the two return values.
#include <cstdio>

#include "trident/os.hpp"

namespace os = trident::os;

int main() {
  const int parent = os::getpid();
  std::printf("Process (%d) start...\n", parent);
  std::fflush(stdout);
  const int pid = os::fork();
  if (pid == 0) {
    std::printf("I am child process (%d) and my parent is %d.\n", os::getpid(), os::getppid());
    std::fflush(stdout);
    // The child leaves with _exit: returning from main would run the parent's atexit handlers and
    // static destructors a second time.
    os::_exit(os::getppid() == parent ? 0 : 1);
  }
  auto [reaped, status] = os::waitpid(pid, 0);
  std::printf("I (%d) just created a child process (%d).\n", os::getpid(), pid);
  std::printf("fork returned the child's pid in the parent: %s\n", reaped == pid ? "yes" : "no");
  std::printf("the child saw its parent's pid in getppid(): %s\n",
              os::waitstatus_to_exitcode(status) == 0 ? "yes" : "no");
  return 0;
}
