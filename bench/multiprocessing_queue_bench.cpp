// Benchmarks of trident's process queues (multiprocessing.queues), side by side with CPython's
// multiprocessing.Queue (bench/peers/multiprocessing_queue_bench.py does the same work). Each
// benchmark is named <metric>/<impl> (see bench/run_bench.py).
#include <benchmark/benchmark.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdint>

#include "trident/multiprocessing/queues.hpp"

namespace {

namespace mp = trident::multiprocessing;

using Item = std::int64_t;
constexpr Item kBatch = 100000;
constexpr Item kSync = -1;  // the consumer answers how many items it got since the last kSync
constexpr Item kStop = -2;

// mp_queue_throughput_ops: one producer process (this one) puts small ints into a Queue, one
// consumer process (forked before the clock starts) gets them; items per second from the first
// put of a batch until the consumer has got its last item (it then answers on a second queue).
void mp_queue_throughput_trident(benchmark::State& state) {
  mp::Queue<Item> q;
  mp::Queue<Item> ack;
  const pid_t pid = fork();
  if (pid == 0) {
    Item count = 0;
    for (;;) {
      const Item item = q.get();
      if (item == kStop) _exit(0);
      if (item == kSync) {
        ack.put(count);
        count = 0;
      } else {
        ++count;
      }
    }
  }
  for (auto _ : state) {
    for (Item i = 0; i < kBatch; ++i) q.put(i);
    q.put(kSync);
    if (ack.get() != kBatch) state.SkipWithError("the consumer lost items");
  }
  q.put(kStop);
  int status = 0;
  waitpid(pid, &status, 0);
  state.counters["rate"] =
      benchmark::Counter(static_cast<double>(state.iterations()) * kBatch, benchmark::Counter::kIsRate);
}
BENCHMARK(mp_queue_throughput_trident)->Name("mp_queue_throughput_ops/trident")->UseRealTime();

}  // namespace

BENCHMARK_MAIN();
