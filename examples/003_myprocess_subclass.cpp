// Note 003 (seeds/003_0d7c02d8a7625695.txt), section "multiprocessing 模块（实现并行）", the
// "继承Process类调用" example: a Process subclass overrides run(), which prints its name. The
// Python it mirrors:
//
//     class MyProcess(Process):
//         def __init__(self):
//             super(MyProcess, self).__init__()
//
//         def run(self):
//             print ('hello', self.name,time.ctime())
//             time.sleep(1)
//
//     if __name__ == '__main__':
//         p_list=[]
//         for i in range(3):
//             p = MyProcess()
//             p.start()
//             p_list.append(p)
//         for p in p_list:
//             p.join()
//         print('end')
//
// Racy as in the note: the children print in the order they are scheduled. Python pickles the
// object to send it to a forkserver (the default) child; in C++ the class is registered with
// TRIDENT_REGISTER_PROCESS and says what crosses with a cereal serialize member (here: nothing
// but the base's name, which crosses on its own). Names are "MyProcess-N" as in Python. Sleeps
// 100 ms instead of 1 s.
#include <chrono>
#include <cstdio>
#include <ctime>
#include <string>
#include <thread>
#include <vector>

#include "trident/multiprocessing.hpp"

namespace mp = trident::multiprocessing;

class MyProcess : public mp::Process {
 public:
  void run() override {
    const std::time_t t = std::time(nullptr);
    std::string now = std::ctime(&t);
    now.pop_back();
    std::printf("hello %s %s\n", name().c_str(), now.c_str());
    std::fflush(stdout);
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  template <class Archive>
  void serialize(Archive&) {}
};
TRIDENT_REGISTER_PROCESS(MyProcess);

int main(int argc, char** argv) {
  mp::main(argc, argv);
  std::vector<MyProcess> p_list(3);
  for (auto& p : p_list) p.start();
  for (auto& p : p_list) p.join();
  std::printf("end\n");
}
