// Note 001 (seeds/001_ac1dc8bb15e913a9.txt), section "1. Process 进程", point 3 "multiprocessing":
// the Process class represents a process object; start one that runs run_proc('test') and wait
// for it. The Python it mirrors:
//
//     from multiprocessing import Process
//     import os
//
//     def run_proc(name):
//         print('Run child process %s (%s)...' % (name, os.getpid()))
//
//     if __name__=='__main__':
//         print('Parent process %s.' % os.getpid())
//         p = Process(target=run_proc, args=('test',))
//         print('Child process will start.')
//         p.start()
//         p.join()
//         print('Child process end.')
//
// `multiprocessing::main(argc, argv)` is the `if __name__=='__main__':` line: the default start
// method (forkserver, as in Python 3.14) needs it. run_proc is a plain function and its argument a
// string, so they cross to the child as they are. Not racy: the parent prints its last line after
// join().
#include <cstdio>
#include <string>

#include "trident/multiprocessing.hpp"
#include "trident/os.hpp"

namespace mp = trident::multiprocessing;
namespace os = trident::os;

void run_proc(std::string name) { std::printf("Run child process %s (%d)...\n", name.c_str(), os::getpid()); }

int main(int argc, char** argv) {
  mp::main(argc, argv);
  std::printf("Parent process %d.\n", os::getpid());
  mp::Process p(run_proc, std::string("test"));
  std::printf("Child process will start.\n");
  p.start();
  p.join();
  std::printf("Child process end.\n");
}
