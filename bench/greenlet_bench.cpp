// Benchmarks of trident::greenlet, side by side with a raw boost::context::fiber switch in the
// same program and with CPython's greenlet (bench/peers/greenlet_bench.py does the same work).
// Each benchmark is named <metric>/<impl> (see bench/run_bench.py).
#include <benchmark/benchmark.h>
#include <unistd.h>

#include <boost/context/fiber.hpp>
#include <cstdio>
#include <vector>

#include "trident/greenlet.hpp"

namespace {

using trident::greenlet::getcurrent;
using trident::greenlet::greenlet;

// greenlet_switch_ns: one switch. Both sides of a ping-pong advance the benchmark's iteration
// count (KeepRunning), so one iteration is exactly one switch: a switch to another greenlet and
// back, halved.

void greenlet_switch_trident(benchmark::State& state) {
  greenlet main = getcurrent();
  greenlet partner([&] {
    while (state.KeepRunning()) main.switch_<void>();
  });
  while (state.KeepRunning()) {
    partner.switch_<void>();
    if (partner.dead()) break;
  }
}
BENCHMARK(greenlet_switch_trident)->Name("greenlet_switch_ns/trident")->UseRealTime();

void greenlet_switch_boost_context(benchmark::State& state) {
  namespace ctx = boost::context;
  bool done = false;
  ctx::fiber partner{[&](ctx::fiber&& back) {
    while (state.KeepRunning()) back = std::move(back).resume();
    done = true;
    return std::move(back);
  }};
  while (state.KeepRunning()) {
    partner = std::move(partner).resume();
    if (done) break;
  }
}
BENCHMARK(greenlet_switch_boost_context)->Name("greenlet_switch_ns/boost_context")->UseRealTime();

// greenlet_create_switch_finish_ns: a greenlet's whole life — `greenlet(f).switch()` with f
// returning at once.

void greenlet_create_switch_finish_trident(benchmark::State& state) {
  for (auto _ : state) {
    greenlet g([] {});
    g.switch_<void>();
  }
}
BENCHMARK(greenlet_create_switch_finish_trident)->Name("greenlet_create_switch_finish_ns/trident")->UseRealTime();

// greenlet_mem_per_suspended_kib: resident memory of 10 000 suspended greenlets, per greenlet
// (reported in the "value" counter); with the default guarded stacks, and with the smallest mode
// (16 KiB unguarded slab stacks).

long resident_kib() {
  long pages = 0, resident = 0;
  if (std::FILE* f = std::fopen("/proc/self/statm", "r")) {
    if (std::fscanf(f, "%ld %ld", &pages, &resident) != 2) resident = 0;
    std::fclose(f);
  }
  return resident * (sysconf(_SC_PAGESIZE) / 1024);
}

void measure_suspended(benchmark::State& state, trident::greenlet::Options options) {
  constexpr int kCount = 10000;
  double per = 0;
  for (auto _ : state) {
    greenlet main = getcurrent();
    std::vector<greenlet> gs;
    gs.reserve(kCount);
    long before = resident_kib();
    for (int i = 0; i < kCount; ++i) {
      gs.emplace_back(options, [&] { main.switch_<void>(); });
      gs.back().switch_<void>();
    }
    per = static_cast<double>(resident_kib() - before) / kCount;
  }
  state.counters["value"] = per;
}

void greenlet_mem_trident(benchmark::State& state) { measure_suspended(state, {}); }
BENCHMARK(greenlet_mem_trident)->Name("greenlet_mem_per_suspended_kib/trident")->Iterations(1)->UseRealTime();

void greenlet_mem_small_trident(benchmark::State& state) {
  measure_suspended(state, {.stack_size = 16 * 1024, .guard_page = false});
}
BENCHMARK(greenlet_mem_small_trident)
    ->Name("greenlet_mem_per_suspended_small_stack_kib/trident")
    ->Iterations(1)
    ->UseRealTime();

}  // namespace

BENCHMARK_MAIN();
