// Benchmarks of trident::threading, side by side with std and with CPython's threading module
// (bench/peers/threading_bench.py does the same work). Run them with `./run bench`; each
// benchmark is named <metric>/<impl> (see bench/run_bench.py).
#include <benchmark/benchmark.h>

#include <condition_variable>
#include <mutex>
#include <thread>

#include "trident/threading.hpp"

namespace {

namespace threading = trident::threading;

// thread_start_join_us: create, start and join a thread that does nothing — the whole life of a
// short-lived thread, as `Thread(target=f).start(); .join()` in Python.

void thread_start_join_trident(benchmark::State& state) {
  for (auto _ : state) {
    threading::Thread t([] {});
    t.start();
    t.join();
  }
}
BENCHMARK(thread_start_join_trident)
    ->Name("thread_start_join_us/trident")
    ->UseRealTime()
    ->Unit(benchmark::kMicrosecond);

void thread_start_join_std(benchmark::State& state) {
  for (auto _ : state) {
    std::thread t([] {});
    t.join();
  }
}
BENCHMARK(thread_start_join_std)->Name("thread_start_join_us/std")->UseRealTime()->Unit(benchmark::kMicrosecond);

// lock_uncontended_ns: acquire + release of a lock no other thread touches.

void lock_uncontended_trident(benchmark::State& state) {
  threading::Lock lock;
  for (auto _ : state) {
    benchmark::DoNotOptimize(lock.acquire());
    lock.release();
  }
}
BENCHMARK(lock_uncontended_trident)->Name("lock_uncontended_ns/trident")->UseRealTime();

void lock_uncontended_std(benchmark::State& state) {
  std::mutex m;
  for (auto _ : state) {
    m.lock();
    m.unlock();
    benchmark::ClobberMemory();
  }
}
BENCHMARK(lock_uncontended_std)->Name("lock_uncontended_ns/std")->UseRealTime();

// condition_pingpong_us: two threads take turns on one condition variable; one iteration is a
// round trip (the main thread hands the turn over and waits until it comes back). The partner
// thread lives across iterations, so its creation is not measured.

template <class Cond, class Lock>
void condition_pingpong(benchmark::State& state, Cond& cond, Lock& lock) {
  int turn = 0;  // 1: the partner's move, 0: the main thread's; guarded by `lock`
  bool stop = false;
  std::thread partner([&] {
    std::unique_lock held(lock);
    for (;;) {
      while (turn != 1) cond.wait(held);
      if (stop) return;
      turn = 0;
      cond.notify_one();
    }
  });
  {
    std::unique_lock held(lock);
    for (auto _ : state) {
      turn = 1;
      cond.notify_one();
      while (turn != 0) cond.wait(held);
    }
    stop = true;
    turn = 1;
    cond.notify_one();
  }
  partner.join();
}

// Gives threading::Condition the two calls condition_pingpong() makes (wait, notify_one), so both
// sides run the very same loop. The Condition is its own lock, as in Python.
struct TridentCondition {
  threading::Condition cond;
  void wait(std::unique_lock<threading::Condition>&) { cond.wait(); }
  void notify_one() { cond.notify(); }
};

void condition_pingpong_trident(benchmark::State& state) {
  TridentCondition c;
  condition_pingpong(state, c, c.cond);
}
BENCHMARK(condition_pingpong_trident)
    ->Name("condition_pingpong_us/trident")
    ->UseRealTime()
    ->Unit(benchmark::kMicrosecond);

struct StdCondition {
  std::condition_variable cv;
  void wait(std::unique_lock<std::mutex>& held) { cv.wait(held); }
  void notify_one() { cv.notify_one(); }
};

void condition_pingpong_std(benchmark::State& state) {
  StdCondition c;
  std::mutex m;
  condition_pingpong(state, c, m);
}
BENCHMARK(condition_pingpong_std)->Name("condition_pingpong_us/std")->UseRealTime()->Unit(benchmark::kMicrosecond);

}  // namespace

int main(int argc, char** argv) {
  // glibc's std::mutex skips its atomic instructions while the process has never started a
  // second thread. A program that needs a lock has more than one thread, so every benchmark runs
  // in that state, whichever are selected.
  std::thread([] {}).join();
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
