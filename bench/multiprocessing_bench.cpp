// multiprocessing benchmarks (issue 7). Metrics, each `<metric>/<impl>`:
//   mp_pipe_rtt_us/trident    a small object (a (1, "ping") tuple) sent to a forked child over
//                             Pipe() and sent back by it: one round trip per iteration
//   mp_pipe_mb_per_s/trident  1 MiB send_bytes to a forked child, which recv_bytes it and answers
//                             with a one-byte ack (so each iteration is whole)
// The CPython figures come from bench/peers/multiprocessing_bench.py (multiprocessing.Pipe and a
// forked multiprocessing.Process doing the same work).
#include <benchmark/benchmark.h>
#include <signal.h>

#include <string>
#include <tuple>

#include "trident/multiprocessing.hpp"
#include "trident/os.hpp"

namespace mp = trident::multiprocessing;
namespace os = trident::os;

namespace {

// Forks a child that runs `serve(child_end)` until the parent closes its end; returns the
// parent's end and the child's pid.
template <class F>
std::pair<mp::Connection, int> start_server(F serve) {
  auto [mine, theirs] = mp::Pipe();
  const int pid = os::fork();
  if (pid == 0) {
    mine.close();
    try {
      for (;;) serve(theirs);
    } catch (const trident::EOFError&) {
      os::_exit(0);
    } catch (...) {
      os::_exit(1);
    }
  }
  theirs.close();
  return {mine, pid};
}

void stop_server(benchmark::State& state, mp::Connection& conn, int pid) {
  conn.close();
  auto [reaped, status] = os::waitpid(pid, 0);
  if (reaped != pid || os::waitstatus_to_exitcode(status) != 0) state.SkipWithError("the child failed");
}

using Small = std::tuple<int, std::string>;

void BM_pipe_rtt_trident(benchmark::State& state) {
  auto [conn, pid] = start_server([](mp::Connection& c) { c.send(c.recv<Small>()); });
  const Small msg{1, "ping"};
  for (auto _ : state) {
    conn.send(msg);
    auto back = conn.recv<Small>();
    benchmark::DoNotOptimize(back);
  }
  stop_server(state, conn, pid);
}

void BM_pipe_mb_per_s_trident(benchmark::State& state) {
  auto [conn, pid] = start_server([](mp::Connection& c) {
    auto data = c.recv_bytes();
    benchmark::DoNotOptimize(data.data());
    c.send_bytes("k");
  });
  const std::string data(1u << 20, 'm');
  std::size_t bytes = 0;
  for (auto _ : state) {
    conn.send_bytes(data);
    auto ack = conn.recv_bytes();
    benchmark::DoNotOptimize(ack.data());
    bytes += data.size();
  }
  state.counters["rate"] = benchmark::Counter(static_cast<double>(bytes), benchmark::Counter::kIsRate);
  stop_server(state, conn, pid);
}

}  // namespace

BENCHMARK(BM_pipe_rtt_trident)->Name("mp_pipe_rtt_us/trident")->UseRealTime()->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_pipe_mb_per_s_trident)->Name("mp_pipe_mb_per_s/trident")->UseRealTime()->Unit(benchmark::kMicrosecond);

BENCHMARK_MAIN();
