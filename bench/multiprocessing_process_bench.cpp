// Process start + join for each start method (issue 7): process_start_join_{fork,forkserver,
// spawn}_ms, and the floor the fork method is held to — a bare fork + _exit + waitpid in this same
// program (peer `fork_waitpid`). CPython's peers are in bench/peers/multiprocessing_process_bench.py.
// The target does nothing, so what is measured is the start method itself: fork (copying this
// small program's page tables), the fork server's round trip (request with fds, fork, pid + pidfd
// back, status at exit), spawn (exec of this program, dynamic loading, static initialisation and
// multiprocessing::main's bootstrap read).
#include <benchmark/benchmark.h>
#include <sys/wait.h>
#include <unistd.h>

#include "trident/multiprocessing.hpp"

namespace mp = trident::multiprocessing;

namespace {

void nothing() {}

void start_join(benchmark::State& state, const mp::Context& ctx) {
  for (auto _ : state) {
    mp::Process p = ctx.Process(nothing);
    p.start();
    p.join();
    if (p.exitcode() != 0) state.SkipWithError("the child failed");
  }
}

void BM_fork(benchmark::State& state) { start_join(state, mp::fork_context); }
void BM_forkserver(benchmark::State& state) { start_join(state, mp::forkserver_context); }
void BM_spawn(benchmark::State& state) { start_join(state, mp::spawn_context); }

void BM_fork_waitpid(benchmark::State& state) {
  for (auto _ : state) {
    const pid_t pid = ::fork();
    if (pid == 0) ::_exit(0);
    int status = 0;
    ::waitpid(pid, &status, 0);
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) state.SkipWithError("the child failed");
  }
}

}  // namespace

BENCHMARK(BM_fork)->Name("process_start_join_fork_ms/trident")->UseRealTime()->Unit(benchmark::kMillisecond);
BENCHMARK(BM_fork_waitpid)
    ->Name("process_start_join_fork_ms/fork_waitpid")
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond);
BENCHMARK(BM_forkserver)
    ->Name("process_start_join_forkserver_ms/trident")
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond);
BENCHMARK(BM_spawn)->Name("process_start_join_spawn_ms/trident")->UseRealTime()->Unit(benchmark::kMillisecond);

// multiprocessing::main first: a spawn child is this program re-executed, and the fork server is
// forked before Google Benchmark starts any thread.
int main(int argc, char** argv) {
  mp::main(argc, argv);
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
