// Benchmarks of trident::gevent, side by side with CPython's gevent (bench/peers/gevent_bench.py
// does the same work). Each benchmark is named <metric>/<impl> (see bench/run_bench.py).
#include <benchmark/benchmark.h>

#include "trident/gevent.hpp"
#include "trident/threading.hpp"

namespace {

namespace gevent = trident::gevent;

// gevent_spawn_join_ns: a greenlet's whole life on the hub — spawn(f).join() with f returning at
// once (the join switches to the hub, which runs f, which returns to the hub, which resumes us).
void gevent_spawn_join_trident(benchmark::State& state) {
  for (auto _ : state) {
    gevent::spawn([] {}).join();
  }
}
BENCHMARK(gevent_spawn_join_trident)->Name("gevent_spawn_join_ns/trident")->UseRealTime();

// gevent_sleep0_ns: two greenlets taking turns with sleep(0); one iteration is one sleep(0) (both
// advance the count; the first to see the end stops the other, which must not ask again).
void gevent_sleep0_trident(benchmark::State& state) {
  bool stop = false;
  auto body = [&] {
    while (!stop && state.KeepRunning()) gevent::sleep(0);
    stop = true;
  };
  auto a = gevent::spawn(body);
  auto b = gevent::spawn(body);
  gevent::joinall({a, b});
}
BENCHMARK(gevent_sleep0_trident)->Name("gevent_sleep0_ns/trident")->UseRealTime();

// gevent_event_pingpong_ns: two greenlets, a round trip over two trident threading::Events (set,
// wait, clear each way) — gevent's Event in the peer; trident's own Event parks the greenlet.
void gevent_event_pingpong_trident(benchmark::State& state) {
  trident::threading::Event ping, pong;
  bool done = false;
  auto b = gevent::spawn([&] {
    for (;;) {
      ping.wait();
      ping.clear();
      if (done) return;
      pong.set();
    }
  });
  for (auto _ : state) {
    ping.set();
    pong.wait();
    pong.clear();
  }
  done = true;
  ping.set();
  b.join();
}
BENCHMARK(gevent_event_pingpong_trident)->Name("gevent_event_pingpong_ns/trident")->UseRealTime();

}  // namespace

BENCHMARK_MAIN();
