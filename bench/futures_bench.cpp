// Benchmarks of trident::futures, side by side with asio::thread_pool and with CPython's
// concurrent.futures (bench/peers/futures_bench.py does the same work). Run them with
// `./run bench`; each benchmark is named <metric>/<impl>.
#include <benchmark/benchmark.h>

#include <asio.hpp>
#include <vector>

#include "trident/futures.hpp"

namespace {

namespace futures = trident::futures;

// tpe_tasks_per_s: a pool of 2 threads runs kTasks no-op tasks. One iteration is the whole life
// of the pool: create it, submit every task, wait for all (trident: result() of each future;
// asio: no futures, join the pool), shut it down. CPython does the same in a `with` block.
constexpr int kTasks = 20000;

void tpe_trident(benchmark::State& state) {
  std::vector<futures::Future<void>> fs;
  fs.reserve(kTasks);
  for (auto _ : state) {
    futures::ThreadPoolExecutor ex(2);
    for (int i = 0; i < kTasks; ++i) fs.push_back(ex.submit([] {}));
    for (auto& f : fs) f.result();
    fs.clear();
  }
  state.counters["rate"] =
      benchmark::Counter(static_cast<double>(state.iterations()) * kTasks, benchmark::Counter::kIsRate);
}
BENCHMARK(tpe_trident)->Name("tpe_tasks_per_s/trident")->UseRealTime()->Unit(benchmark::kMillisecond);

void tpe_asio(benchmark::State& state) {
  for (auto _ : state) {
    asio::thread_pool pool(2);
    for (int i = 0; i < kTasks; ++i) asio::post(pool, [] {});
    pool.join();
  }
  state.counters["rate"] =
      benchmark::Counter(static_cast<double>(state.iterations()) * kTasks, benchmark::Counter::kIsRate);
}
BENCHMARK(tpe_asio)->Name("tpe_tasks_per_s/asio")->UseRealTime()->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
