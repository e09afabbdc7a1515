// Note 000 (seeds/000_5f9c59cc0c2e49ae.txt), section "threading", 示例1: a Thread subclass whose
// run() prints, sleeps and prints again; main joins it. The note sleeps 1 s; this translation
// sleeps 100 ms so the smoke test stays fast.
#include <chrono>
#include <cstdio>
#include <string>
#include <thread>

#include "trident/threading.hpp"

using namespace std::chrono_literals;
namespace threading = trident::threading;

class Th : public threading::Thread {
 public:
  explicit Th(std::string thread_name) : thread_name_(std::move(thread_name)) {}
  void run() override {
    std::printf("This threadName is %s\n", thread_name_.c_str());
    std::this_thread::sleep_for(100ms);  // time.sleep(1), scaled down
    std::printf("child thread %s is over\n", thread_name_.c_str());
  }

 private:
  std::string thread_name_;
};

int main() {
  Th thread1("thread1");
  thread1.start();
  thread1.join();  // run() executes in the new thread
  std::printf("main thread is over\n");
}
