// Note 002 (seeds/002_b196a1fed76dacea.txt), section "多线程数据共享", part "一，使用c语言进行进程通信"
// (sharing data through C memory): five threads each set their slot of a shared `Array("i", 5)`
// and print the whole array. The Python it mirrors:
//
//     from multiprocessing import Process, Array
//     from threading import Thread
//     import time
//
//     def f1(arg, li):
//         time.sleep(1)
//         li[arg] = 1
//         print(list(li))
//
//     if __name__ == '__main__':
//         v = Array("i", 5)
//         for i in range(5):
//             p1 = Thread(target=f1, args=(i, v))
//             p1.start()
//
// The note imports Process and calls this inter-process communication, so the program then does
// the same with five processes (the Array handle crosses to each child, under the default
// forkserver method as under fork), joins them and prints the final array — those lines are added.
// The note's example is racy, and so is this translation: each thread or process prints the array
// as it finds it, so which slots already hold 1 varies from run to run (the .expect accepts any
// mix); only the final line is fixed. It sleeps 100 ms instead of 1 s, and joins its threads
// before going on to the processes (Python would only wait for them at exit).
#include <chrono>
#include <cstdio>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "trident/multiprocessing.hpp"
#include "trident/threading.hpp"

namespace mp = trident::multiprocessing;

// Python's print(list(li)), as one write so lines from threads and processes stay whole.
void print_list(const mp::Array<int>& li) {
  std::string line = "[";
  for (std::size_t i = 0; i < li.size(); ++i) line += (i ? ", " : "") + std::to_string(li.get(static_cast<long>(i)));
  line += "]\n";
  std::fputs(line.c_str(), stdout);
  std::fflush(stdout);
}

void f1(int arg, mp::Array<int> li) {
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  li.set(arg, 1);
  print_list(li);
}

int main(int argc, char** argv) {
  mp::main(argc, argv);
  mp::Array<int> v(5);
  {
    std::vector<std::unique_ptr<trident::threading::Thread>> threads;
    for (int i = 0; i < 5; ++i) {
      threads.push_back(std::make_unique<trident::threading::Thread>(f1, i, v));
      threads.back()->start();
    }
    for (auto& t : threads) t->join();
  }
  std::printf("with processes:\n");
  mp::Array<int> w(5);
  std::vector<mp::Process> procs;
  for (int i = 0; i < 5; ++i) {
    procs.emplace_back(f1, i, w);
    procs.back().start();
  }
  for (auto& p : procs) p.join();
  std::printf("final: ");
  print_list(w);
}
