// Note 002 (seeds/002_b196a1fed76dacea.txt), section "线程池": a home-made thread pool. A Queue
// holds maxsize "thread tokens" (Python puts the Thread class itself in it); get_thread() blocks
// while all are in use, and each task puts its token back when it finishes. 100 tasks, 5 at a
// time. The note sleeps 1 s per task; this translation 10 ms (the 100 tasks take ~0.2 s).
//
// C++ has no classes as values, so the token is a factory that makes a Thread, the C++ form of
// calling the class. Python drops each thread object; here the handles are kept and joined at
// the end, because the tasks use the pool (a local of main) until their very last line. The
// translation also counts the threads running at once and prints the peak at the end.
#include <atomic>
#include <chrono>
#include <cstdio>
#include <functional>
#include <memory>
#include <thread>
#include <vector>

#include "trident/queue.hpp"
#include "trident/threading.hpp"

using namespace std::chrono_literals;
using trident::threading::Thread;

class ThreadPool;
std::atomic<int> running{0}, peak{0};

// What the queue holds: "the Thread class", i.e. something that makes a thread.
using ThreadClass = std::function<std::unique_ptr<Thread>(void (*)(int, ThreadPool&), int, ThreadPool&)>;

std::unique_ptr<Thread> make_thread(void (*target)(int, ThreadPool&), int arg, ThreadPool& pool) {
  return std::make_unique<Thread>(target, arg, std::ref(pool));
}

class ThreadPool {
 public:
  explicit ThreadPool(int maxsize) : maxsize_(maxsize) {
    for (int i = 0; i < maxsize_; ++i) queue_.put(make_thread);
  }
  void put_thread() { queue_.put(make_thread); }
  ThreadClass get_thread() { return queue_.get(); }

 private:
  int maxsize_;
  trident::queue::Queue<ThreadClass> queue_;
};

void func(int arg, ThreadPool& pool) {
  int now = ++running;
  for (int seen = peak.load(); now > seen && !peak.compare_exchange_weak(seen, now);) {
  }
  std::this_thread::sleep_for(10ms);  // time.sleep(1), scaled down
  std::printf("%d\n", arg);
  --running;
  pool.put_thread();
}

int main() {
  ThreadPool pool(5);
  std::vector<std::unique_ptr<Thread>> threads;
  for (int i = 0; i < 100; ++i) {
    threads.push_back(pool.get_thread()(func, i, pool));
    threads.back()->start();
  }
  for (auto& t : threads) t->join();
  std::printf("all 100 tasks done, at most %d threads at once\n", peak.load());
}
