// Benchmarks of trident::Generator, side by side with CPython's generators
// (bench/peers/generator_bench.py does the same work) and with the floor a C++20 coroutine sets: a
// bare coroutine that stores its value in the promise and is resumed by hand (impl `raw_coroutine`).
// Each benchmark is named <metric>/<impl> (see bench/run_bench.py).
#include <benchmark/benchmark.h>

#include <coroutine>
#include <exception>
#include <optional>

#include "trident/generator.hpp"

namespace {

// generator_next_ns: one `next(gen)` of a generator counting up forever (`while True: yield i;
// i += 1`): resume to the next yield and take the value.

trident::Generator<long> count_up() {
  for (long i = 0;; ++i) co_yield i;
}

void generator_next_trident(benchmark::State& state) {
  auto gen = count_up();
  for (auto _ : state) benchmark::DoNotOptimize(gen.next());
}
BENCHMARK(generator_next_trident)->Name("generator_next_ns/trident")->UseRealTime();

// The floor: a coroutine with nothing but a value slot — no send, throw, close, delegation, state
// or error checks.
struct RawCounter {
  struct promise_type {
    long value = 0;
    RawCounter get_return_object() { return RawCounter{std::coroutine_handle<promise_type>::from_promise(*this)}; }
    std::suspend_always initial_suspend() noexcept { return {}; }
    std::suspend_always final_suspend() noexcept { return {}; }
    std::suspend_always yield_value(long v) noexcept {
      value = v;
      return {};
    }
    void return_void() noexcept {}
    void unhandled_exception() { std::terminate(); }
  };
  explicit RawCounter(std::coroutine_handle<promise_type> h) : handle(h) {}
  RawCounter(const RawCounter&) = delete;
  RawCounter& operator=(const RawCounter&) = delete;
  ~RawCounter() { handle.destroy(); }
  long next() {
    handle.resume();
    return handle.promise().value;
  }
  std::coroutine_handle<promise_type> handle;
};

RawCounter raw_count_up() {
  for (long i = 0;; ++i) co_yield i;
}

void generator_next_raw(benchmark::State& state) {
  auto gen = raw_count_up();
  for (auto _ : state) benchmark::DoNotOptimize(gen.next());
}
BENCHMARK(generator_next_raw)->Name("generator_next_ns/raw_coroutine")->UseRealTime();

// generator_send_ns: one `gen.send(i)` to a generator that yields back what it receives
// (`x = yield x`), started with next() before the clock starts.

trident::Generator<long, long> echo() {
  long x = 0;
  for (;;) x = (co_yield x).value_or(-1);
}

void generator_send_trident(benchmark::State& state) {
  auto gen = echo();
  gen.next();
  long i = 0;
  for (auto _ : state) benchmark::DoNotOptimize(gen.send(++i));
}
BENCHMARK(generator_send_trident)->Name("generator_send_ns/trident")->UseRealTime();

}  // namespace

BENCHMARK_MAIN();
