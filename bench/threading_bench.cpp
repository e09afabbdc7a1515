// Benchmarks of trident::threading, side by side with std and with CPython's threading module
// (bench/peers/threading_bench.py does the same work). Run them with `./run bench`; each
// benchmark is named <metric>/<impl> (see bench/run_bench.py).
#include <benchmark/benchmark.h>

#include <chrono>
#include <condition_variable>
#include <ctime>
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

// idle_wait_cpu_percent: what a thread that waits costs while nothing happens. A thread waits
// 100 ms at a time on an event nobody sets (each wait times out), 20 times; the figure is that
// thread's CPU time over the wall time, in percent. Spinning before sleeping, which makes
// hand-overs fast, must not make idle waits expensive.
constexpr int kIdleWaits = 20;
constexpr auto kIdleWait = std::chrono::milliseconds(100);

double thread_cpu_seconds() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

// Runs `wait_once` kIdleWaits times on a fresh thread; its CPU time / wall time, in percent.
// `wait_once` returns whether it was woken, which nobody should do.
template <class F>
double idle_wait_percent(benchmark::State& state, F wait_once) {
  double percent = 0;
  bool woken = false;
  std::thread waiter([&] {
    const auto wall_start = std::chrono::steady_clock::now();
    const double cpu_start = thread_cpu_seconds();
    for (int i = 0; i < kIdleWaits; ++i) woken = wait_once() || woken;
    const double cpu = thread_cpu_seconds() - cpu_start;
    const double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - wall_start).count();
    percent = 100.0 * cpu / wall;
  });
  waiter.join();
  if (woken) state.SkipWithError("a wait on a flag nobody sets returned true");
  return percent;
}

void idle_wait_cpu_trident(benchmark::State& state) {
  threading::Event event;
  double percent = 0;
  for (auto _ : state) {
    percent = idle_wait_percent(state, [&] { return event.wait(std::chrono::duration<double>(kIdleWait)); });
  }
  state.counters["value"] = percent;  // run_bench.py's figure for a _percent metric
}
// One iteration takes 2 s: run once per round (run_bench.py then takes the single repetition).
BENCHMARK(idle_wait_cpu_trident)->Name("idle_wait_cpu_percent/trident")->UseRealTime()->Iterations(1)->Repetitions(1);

void idle_wait_cpu_std(benchmark::State& state) {
  std::mutex m;
  std::condition_variable cv;
  bool set = false;
  double percent = 0;
  for (auto _ : state) {
    percent = idle_wait_percent(state, [&] {
      std::unique_lock held(m);
      return cv.wait_for(held, kIdleWait, [&] { return set; });
    });
  }
  state.counters["value"] = percent;
}
BENCHMARK(idle_wait_cpu_std)->Name("idle_wait_cpu_percent/std")->UseRealTime()->Iterations(1)->Repetitions(1);

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
