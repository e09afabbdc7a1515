// Note 004 (seeds/004_1070f59b120f7860.txt), section "多进程": "a multiprocessing program must use
// the main statement as its entry" — on Windows (the `spawn` start method) the child imports the
// file that started it, so without `if __name__ == '__main__':` it would create children
// recursively. The C++ form of that guard is multiprocessing::main(argc, argv), first thing in
// main(): a `spawn` child is this program executed again, and main() then runs the requested
// target and exits instead of returning into the rest of main(). The Python it mirrors:
//
//     import multiprocessing, os
//
//     def hello(word):
//         print('hello', word, 'from pid', os.getpid(), '- parent', os.getppid())
//
//     if __name__ == '__main__':
//         print('main body runs in', os.getpid())
//         multiprocessing.set_start_method('spawn')
//         p = multiprocessing.Process(target=hello, args=('world',))
//         p.start(); p.join()
//         print('exit code', p.exitcode)
//
// Without the mp::main line the program fails at p.start() with a RuntimeError naming the fix,
// rather than recursing. Not racy: the parent prints before start() and after join().
#include <cstdio>
#include <string>

#include "trident/multiprocessing.hpp"
#include "trident/os.hpp"

namespace mp = trident::multiprocessing;
namespace os = trident::os;

void hello(std::string word) {
  std::printf("hello %s from pid %d - parent %d\n", word.c_str(), os::getpid(), os::getppid());
}

int main(int argc, char** argv) {
  mp::main(argc, argv);  // in the spawned child: runs hello("world") and exits here
  // Only the original process gets here: a child would have a parent_process().
  std::printf("main body runs in %d%s\n", os::getpid(), mp::parent_process() ? " (a child: recursion!)" : "");
  mp::set_start_method("spawn");
  mp::Process p(hello, std::string("world"));
  p.start();
  p.join();
  std::printf("exit code %d\n", p.exitcode().value_or(-1000));
}
