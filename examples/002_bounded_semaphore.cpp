// Note 002 (seeds/002_b196a1fed76dacea.txt), section "BoundedSemaphore 几个线程同时通过": the
// Lock example with a BoundedSemaphore(3): three threads at a time get through. The note sleeps
// 1 s; this translation 50 ms.
//
// Three threads decrement v at once here, so v is an atomic (in C++ an unguarded int would be a
// data race; Python's GIL hides it). The translation also counts how many threads are inside at
// once and prints the peak at the end, to show the bound.
#include <atomic>
#include <chrono>
#include <cstdio>
#include <memory>
#include <thread>
#include <vector>

#include "trident/threading.hpp"

using namespace std::chrono_literals;
namespace threading = trident::threading;

std::atomic<int> v{10};
threading::BoundedSemaphore lock(3);
std::atomic<int> inside{0}, peak{0};

void func(int) {
  std::printf("ddd\n");
  lock.acquire();  // at most three threads past this line
  int now = ++inside;
  for (int seen = peak.load(); now > seen && !peak.compare_exchange_weak(seen, now);) {
  }
  std::this_thread::sleep_for(50ms);
  --inside;
  std::printf("%d\n", --v);
  lock.release();
}

int main() {
  std::vector<std::unique_ptr<threading::Thread>> threads;
  for (int i = 0; i < 10; ++i) {
    threads.push_back(std::make_unique<threading::Thread>(func, i));
    threads.back()->start();
  }
  for (auto& t : threads) t->join();
  std::printf("at most %d threads were inside at once\n", peak.load());
}
