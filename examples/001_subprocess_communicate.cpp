// Note 001 (进程 线程 和 协程), section "1. Process 进程 / 4. SubProcess / 1. 子进程的输入": start a
// program with Popen, feed its standard input with communicate, and read its output.
//
// The original feeds `nslookup` the lines "set q=mx", "python.org", "exit", which needs the
// internet; this translation feeds the calculator `bc` three lines instead, so it works offline
// (bc is installed by scripts/install-deps.sh). The Python it mirrors:
//
//     import subprocess
//     print('$ nslookup')
//     p = subprocess.Popen(['nslookup'], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
//                          stderr=subprocess.PIPE)
//     output, err = p.communicate(b'set q=mx\npython.org\nexit\n')
//     print(output.decode('utf-8'))
//     print('Exit code:', p.returncode)
#include <cstdio>

#include "trident/subprocess.hpp"

namespace subprocess = trident::subprocess;

int main() {
  std::printf("$ bc\n");
  subprocess::Popen p({"bc"}, {.stdin = subprocess::PIPE, .stdout = subprocess::PIPE, .stderr = subprocess::PIPE});
  auto [output, err] = p.communicate("scale=3\n22/7\n2^64\nquit\n");
  // Each is a std::optional<std::string>: nullopt is Python's None (a stream that is not a PIPE).
  // stdout is a PIPE here, so `*output` is the text.
  std::printf("%s\n", output->c_str());
  std::printf("Exit code: %d\n", *p.returncode());
  return *p.returncode();
}
