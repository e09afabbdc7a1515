// Note 003 (seeds/003_0d7c02d8a7625695.txt), section "RLock()的使用": ten MyThread subclasses take
// a global RLock twice in a row (fun1, fun2) without deadlocking, printing their name, the
// resource and the time. The note sleeps 0.2 s in fun2; this translation 20 ms.
//
// A Thread subclass runs run() on itself, so each object must outlive its thread (trident's
// Thread rule): they are kept in a vector, which joins them as it is destroyed at the end of main
// — where Python's interpreter would wait for them at exit.
#include <chrono>
#include <cstdio>
#include <memory>
#include <thread>
#include <vector>

#include "trident/threading.hpp"

using namespace std::chrono_literals;
namespace threading = trident::threading;

threading::RLock Rlock;

// time.time(): seconds since the epoch, as a float.
double now() { return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count(); }

class MyThread : public threading::Thread {
 public:
  ~MyThread() override { join(); }

  void run() override {
    fun1();
    fun2();
  }

  void fun1() {
    Rlock.acquire();  // blocks here while another thread holds it
    std::printf("I am %s , get res: %s---%f\n", name().c_str(), "ResA", now());
    Rlock.acquire();  // count=2
    std::printf("I am %s , get res: %s---%f\n", name().c_str(), "ResB", now());
    Rlock.release();  // count-1
    Rlock.release();  // count-1 = 0
  }

  void fun2() {
    Rlock.acquire();  // count=1
    std::printf("I am %s , get res: %s---%f\n", name().c_str(), "ResB", now());
    std::this_thread::sleep_for(20ms);
    Rlock.acquire();  // count=2
    std::printf("I am %s , get res: %s---%f\n", name().c_str(), "ResA", now());
    Rlock.release();
    Rlock.release();  // count=0
  }
};

int main() {
  std::printf("start---------------------------%f\n", now());
  std::vector<std::unique_ptr<MyThread>> threads;
  for (int i = 0; i < 10; ++i) {
    threads.push_back(std::make_unique<MyThread>());
    threads.back()->start();
  }
}
