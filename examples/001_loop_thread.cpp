// Note 001 (seeds/001_ac1dc8bb15e913a9.txt), section "2. Thread 线程", 1. 启动一个线程: a thread
// named LoopThread counts to 5, naming itself through current_thread(). The note sleeps 1 s per
// step; this translation sleeps 50 ms.
#include <chrono>
#include <cstdio>
#include <thread>

#include "trident/threading.hpp"

using namespace std::chrono_literals;
namespace threading = trident::threading;

// The code the new thread runs.
void loop() {
  std::printf("thread %s is running...\n", threading::current_thread().name().c_str());
  int n = 0;
  while (n < 5) {
    n = n + 1;
    std::printf("thread %s >>> %d\n", threading::current_thread().name().c_str(), n);
    std::this_thread::sleep_for(50ms);  // time.sleep(1), scaled down
  }
  std::printf("thread %s ended.\n", threading::current_thread().name().c_str());
}

int main() {
  std::printf("thread %s is running...\n", threading::current_thread().name().c_str());
  threading::Thread t({.name = "LoopThread"}, loop);
  t.start();
  t.join();
  std::printf("thread %s ended.\n", threading::current_thread().name().c_str());
}
