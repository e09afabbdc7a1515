// Benchmarks of trident's shared-memory multiprocessing objects (sharedctypes, synchronize),
// side by side with CPython's multiprocessing (bench/peers/multiprocessing_shm_bench.py does the
// same work). Each benchmark is named <metric>/<impl> (see bench/run_bench.py).
#include <benchmark/benchmark.h>

#include <mutex>

#include "trident/multiprocessing/sharedctypes.hpp"
#include "trident/multiprocessing/synchronize.hpp"

namespace {

namespace mp = trident::multiprocessing;

// mp_value_increment_ns: `with v.get_lock(): v.value += 1` on a multiprocessing.Value('i') — the
// RLock taken, the value read and written (each under the recursive lock, as Python's
// synchronized wrapper does), the lock released. Single process: the cost of the operation itself.
void mp_value_increment_trident(benchmark::State& state) {
  mp::Value<int> v(0);
  for (auto _ : state) {
    std::lock_guard g(v.get_lock());
    v.set_value(v.value() + 1);
  }
  benchmark::DoNotOptimize(v.get_obj());
}
BENCHMARK(mp_value_increment_trident)->Name("mp_value_increment_ns/trident")->UseRealTime();

// mp_lock_uncontended_ns: acquire + release of a multiprocessing.Lock no one else touches.
void mp_lock_uncontended_trident(benchmark::State& state) {
  mp::Lock lock;
  for (auto _ : state) {
    benchmark::DoNotOptimize(lock.acquire());
    lock.release();
  }
}
BENCHMARK(mp_lock_uncontended_trident)->Name("mp_lock_uncontended_ns/trident")->UseRealTime();

}  // namespace

BENCHMARK_MAIN();
