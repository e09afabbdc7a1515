// subprocess benchmarks (issue 4). Metrics, each `<metric>/<impl>`:
//   subprocess_run_true_ms/{trident,posix_spawn}  run({"/bin/true"}) vs a bare posix_spawn+waitpid
//   communicate_mb_per_s/trident                   256 MiB through `cat` with communicate()
//   subprocess_run_true_big_parent_ms/small_parent run({"/bin/true"}) before the parent grows
//   subprocess_run_true_big_parent_ms/trident      the same once the process has touched 2 GiB and
//                                                  started 8 idle threads (registered last, so the
//                                                  other benchmarks run in a small parent)
// The CPython figures come from bench/peers/subprocess_bench.py.
#include <benchmark/benchmark.h>
#include <spawn.h>
#include <sys/mman.h>
#include <sys/wait.h>

#include <atomic>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include "trident/subprocess.hpp"

extern char** environ;

namespace sp = trident::subprocess;

namespace {

void BM_run_true_trident(benchmark::State& state) {
  for (auto _ : state) {
    auto cp = sp::run({"/bin/true"});
    benchmark::DoNotOptimize(cp.returncode);
  }
}

void BM_run_true_posix_spawn(benchmark::State& state) {
  char arg0[] = "/bin/true";
  char* argv[] = {arg0, nullptr};
  for (auto _ : state) {
    pid_t pid;
    if (posix_spawn(&pid, "/bin/true", nullptr, nullptr, argv, environ) != 0) {
      state.SkipWithError("posix_spawn failed");
      break;
    }
    int status;
    waitpid(pid, &status, 0);
    benchmark::DoNotOptimize(status);
  }
}

void BM_communicate_trident(benchmark::State& state) {
  const std::string data(256u << 20, 'c');
  std::size_t bytes = 0;
  for (auto _ : state) {
    sp::Popen p({"cat"}, {.stdin = sp::PIPE, .stdout = sp::PIPE});
    auto [out, err] = p.communicate(data);
    if (!out || out->size() != data.size()) state.SkipWithError("short output");
    bytes += out ? out->size() : 0;
  }
  state.counters["rate"] = benchmark::Counter(static_cast<double>(bytes), benchmark::Counter::kIsRate);
}

// The big parent: 2 GiB mapped and touched, 8 threads parked in a blocking read. Built once, on the
// first run of the big-parent benchmark, and kept to the end of the program.
struct BigParent {
  BigParent() {
    memory = static_cast<char*>(mmap(nullptr, kBytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0));
    if (memory != MAP_FAILED) {
      for (std::size_t i = 0; i < kBytes; i += 4096) memory[i] = 1;
    }
    if (pipe(stop) != 0) stop[0] = stop[1] = -1;
    for (int i = 0; i < 8; ++i) {
      threads.emplace_back([fd = stop[0]] {
        char c;
        [[maybe_unused]] ssize_t r = read(fd, &c, 1);
      });
    }
  }
  ~BigParent() {
    close(stop[1]);
    for (auto& t : threads) t.join();
    close(stop[0]);
    if (memory != MAP_FAILED) munmap(memory, kBytes);
  }
  static constexpr std::size_t kBytes = std::size_t{2} << 30;
  char* memory;
  int stop[2];
  std::vector<std::thread> threads;
};

void BM_run_true_big_parent(benchmark::State& state) {
  static BigParent big;
  if (big.memory == MAP_FAILED) {
    state.SkipWithError("cannot map 2 GiB");
    return;
  }
  for (auto _ : state) {
    auto cp = sp::run({"/bin/true"});
    benchmark::DoNotOptimize(cp.returncode);
  }
}

}  // namespace

BENCHMARK(BM_run_true_trident)->Name("subprocess_run_true_ms/trident")->UseRealTime()->Unit(benchmark::kMillisecond);
BENCHMARK(BM_run_true_posix_spawn)
    ->Name("subprocess_run_true_ms/posix_spawn")
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond);
BENCHMARK(BM_communicate_trident)
    ->Name("communicate_mb_per_s/trident")
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond)
    ->Iterations(3);
BENCHMARK(BM_run_true_trident)
    ->Name("subprocess_run_true_big_parent_ms/small_parent")
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond);
BENCHMARK(BM_run_true_big_parent)
    ->Name("subprocess_run_true_big_parent_ms/trident")
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond);

BENCHMARK_MAIN();
