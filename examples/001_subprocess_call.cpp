// Note 001 (进程 线程 和 协程), section "1. Process 进程 / 4. SubProcess": run a command line in a
// child process with subprocess.call and print its exit code.
//
// The original runs `nslookup www.python.org`, which needs the internet; this translation runs a
// local program instead (`sort`, on a short list given as arguments through the shell), so it
// works offline. The Python it mirrors:
//
//     import subprocess
//     print('$ nslookup www.python.org')
//     r = subprocess.call(['nslookup', 'www.python.org'])
//     print('Exit code:', r)
#include <cstdio>

#include "trident/subprocess.hpp"

namespace subprocess = trident::subprocess;

int main() {
  std::printf("$ printf 'pear\\napple\\nfig\\n' | sort\n");
  std::fflush(stdout);  // the child writes to the same stdout: flush ours first
  int r = subprocess::call("printf 'pear\\napple\\nfig\\n' | sort", {.shell = true});
  std::printf("Exit code: %d\n", r);
  return r;
}
