// Note 003 (seeds/003_0d7c02d8a7625695.txt), section "multiprocessing 模块（实现并行）", the
// "Process类调用" example: three processes run f('alvin:i'), kept in a list and joined, then
// 'end'. The Python it mirrors:
//
//     def f(name):
//         print('hello', name, time.ctime())
//         time.sleep(1)
//
//     if __name__ == '__main__':
//         p_list=[]
//         for i in range(3):
//             p = Process(target=f, args=('alvin:%s'%i,))
//             p_list.append(p)
//             p.start()
//         for i in p_list:
//             p.join()
//         print('end')
//
// The note's example is racy, and this translation keeps it so: the three children print in
// whatever order they are scheduled (the .expect accepts any). The note joins `p` — the last
// process — three times (`for i in p_list: p.join()`), a slip that still works because the
// processes sleep alike; this translation joins each one. It sleeps 100 ms instead of 1 s.
// Process handles are movable, so they live in a std::vector as in the Python list.
#include <chrono>
#include <cstdio>
#include <ctime>
#include <string>
#include <thread>
#include <vector>

#include "trident/multiprocessing.hpp"

namespace mp = trident::multiprocessing;

std::string ctime_now() {
  const std::time_t t = std::time(nullptr);
  std::string s = std::ctime(&t);
  s.pop_back();  // ctime's newline
  return s;
}

void f(std::string name) {
  std::printf("hello %s %s\n", name.c_str(), ctime_now().c_str());
  std::fflush(stdout);
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
}

int main(int argc, char** argv) {
  mp::main(argc, argv);
  std::vector<mp::Process> p_list;
  for (int i = 0; i < 3; ++i) {
    p_list.emplace_back(f, "alvin:" + std::to_string(i));
    p_list.back().start();
  }
  for (auto& p : p_list) p.join();
  std::printf("end\n");
}
