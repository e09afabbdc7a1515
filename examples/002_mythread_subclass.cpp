// Note 002 (seeds/002_b196a1fed76dacea.txt), section "python进程和线程", the MyThread example: a
// Thread subclass keeps the target and its argument and calls them from its own run() ("真正被CPU
// 调度的是它"). The note sleeps 1 s; this translation 100 ms.
//
// A subclass object runs run() on itself, so it must outlive its thread (trident's Thread rule):
// the ten objects live in a vector and are joined before main returns, where Python's interpreter
// would wait for them at exit.
#include <chrono>
#include <cstdio>
#include <functional>
#include <memory>
#include <thread>
#include <vector>

#include "trident/threading.hpp"

using namespace std::chrono_literals;
using trident::threading::Thread;

void func(int arg) {
  std::this_thread::sleep_for(100ms);  // time.sleep(1), scaled down
  std::printf("%d\n", arg);
}

class MyThread : public Thread {
 public:
  // Python saves the target in self._target and the arguments in self._args.
  MyThread(std::function<void(int)> target, int arg) : target_(std::move(target)), arg_(arg) {}
  ~MyThread() override { join(); }

  void run() override { target_(arg_); }  // what the CPU actually schedules

 private:
  std::function<void(int)> target_;
  int arg_;
};

int main() {
  std::vector<std::unique_ptr<MyThread>> threads;
  for (int i = 0; i < 10; ++i) {
    threads.push_back(std::make_unique<MyThread>(func, i));
    threads.back()->start();
  }
  std::printf("hello\n");
  std::fflush(stdout);
}
