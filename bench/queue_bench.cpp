// Benchmarks of trident::queue, side by side with a textbook std queue (std::mutex + std::deque +
// std::condition_variable) and with CPython's queue module (bench/peers/queue_bench.py does the
// same work). Run them with `./run bench`; each benchmark is named <metric>/<impl>.
#include <benchmark/benchmark.h>

#include <condition_variable>
#include <cstdint>
#include <ctime>
#include <deque>
#include <mutex>
#include <thread>

#include "trident/queue.hpp"

namespace {

// The queue a C++ programmer writes without trident: put notifies one getter, get waits while
// empty. It is the `std` peer.
template <class T>
class StdQueue {
 public:
  void put(T item) {
    {
      std::lock_guard held(mutex_);
      items_.push_back(std::move(item));
    }
    not_empty_.notify_one();
  }
  T get() {
    std::unique_lock held(mutex_);
    not_empty_.wait(held, [this] { return !items_.empty(); });
    T item = std::move(items_.front());
    items_.pop_front();
    return item;
  }

 private:
  std::mutex mutex_;
  std::condition_variable not_empty_;
  std::deque<T> items_;  // guarded by mutex_
};

using Item = std::int64_t;
using TridentQueue = trident::queue::Queue<Item>;

constexpr Item kStop = -1;

// CPU time used so far by every thread of the process.
double process_cpu_seconds() {
  timespec ts{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}
constexpr Item kSync = -2;

// queue_pingpong_us: the main thread puts an item on q1; a partner thread gets it and puts it on
// q2; the main thread gets it. One iteration is one round trip; the partner lives across
// iterations, so its creation is not measured.
template <class Q>
void queue_pingpong(benchmark::State& state) {
  Q q1;
  Q q2;
  std::thread partner([&] {
    for (;;) {
      Item item = q1.get();
      if (item == kStop) return;
      q2.put(item);
    }
  });
  Item i = 0;
  for (auto _ : state) {
    q1.put(i++);
    benchmark::DoNotOptimize(q2.get());
  }
  q1.put(kStop);
  partner.join();
}
BENCHMARK(queue_pingpong<TridentQueue>)
    ->Name("queue_pingpong_us/trident")
    ->UseRealTime()
    ->Unit(benchmark::kMicrosecond);
BENCHMARK(queue_pingpong<StdQueue<Item>>)->Name("queue_pingpong_us/std")->UseRealTime()->Unit(benchmark::kMicrosecond);

// pingpong_cpu_us: the same round trips as queue_pingpong_us, but the figure is the CPU time the
// whole process spends per round trip (both threads), not the wall time. A waiter that spins
// before it sleeps buys latency with CPU: the two rows side by side show the price.
template <class Q>
void pingpong_cpu(benchmark::State& state) {
  Q q1;
  Q q2;
  std::thread partner([&] {
    for (;;) {
      Item item = q1.get();
      if (item == kStop) return;
      q2.put(item);
    }
  });
  Item i = 0;
  const double cpu_start = process_cpu_seconds();
  for (auto _ : state) {
    q1.put(i++);
    benchmark::DoNotOptimize(q2.get());
  }
  const double cpu = process_cpu_seconds() - cpu_start;
  q1.put(kStop);
  partner.join();
  // run_bench.py takes a "value" counter as the metric's figure, in its unit (us).
  state.counters["value"] = cpu * 1e6 / static_cast<double>(state.iterations());
}
BENCHMARK(pingpong_cpu<TridentQueue>)->Name("pingpong_cpu_us/trident")->UseRealTime()->Unit(benchmark::kMicrosecond);
BENCHMARK(pingpong_cpu<StdQueue<Item>>)->Name("pingpong_cpu_us/std")->UseRealTime()->Unit(benchmark::kMicrosecond);

// queue_throughput_ops: the main thread puts items into an unbounded queue as fast as it can, one
// consumer thread gets them. One iteration is kBatch items plus a marker after which the consumer
// confirms on an ack queue, so the clock stops only when every item was consumed.
constexpr Item kBatch = 10000;

template <class Q>
void queue_throughput(benchmark::State& state) {
  Q q;
  Q ack;
  std::thread consumer([&] {
    Item count = 0;
    for (;;) {
      Item item = q.get();
      if (item == kStop) return;
      if (item == kSync) {
        ack.put(count);
        count = 0;
      } else {
        ++count;
      }
    }
  });
  for (auto _ : state) {
    for (Item i = 0; i < kBatch; ++i) q.put(i);
    q.put(kSync);
    if (ack.get() != kBatch) state.SkipWithError("the consumer lost items");
  }
  q.put(kStop);
  consumer.join();
  state.counters["rate"] =
      benchmark::Counter(static_cast<double>(state.iterations()) * kBatch, benchmark::Counter::kIsRate);
}
BENCHMARK(queue_throughput<TridentQueue>)->Name("queue_throughput_ops/trident")->UseRealTime();
BENCHMARK(queue_throughput<StdQueue<Item>>)->Name("queue_throughput_ops/std")->UseRealTime();

}  // namespace

BENCHMARK_MAIN();
