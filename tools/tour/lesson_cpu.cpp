// Lesson "cpu": CPU-bound work. Notes 000, 002 and 003 say Python threads cannot speed up
// computing because of the GIL ("对于计算密集型任务，Python的多线程并没有用") and send the reader
// to processes instead; here the same split of the work runs over one trident thread per core and
// over one process per core (multiprocessing::Process), and both use every core.
#include <algorithm>
#include <atomic>
#include <cstdint>
#include <cstdio>
#include <ctime>
#include <mutex>
#include <vector>

#include <sys/resource.h>

#include "tour/lesson.hpp"
#include "trident/multiprocessing.hpp"
#include "trident/threading.hpp"

namespace trident::tour {
namespace {

// Trial division: deliberately plain, so the work is pure computing.
bool is_prime(std::uint64_t n) {
  if (n < 2) return false;
  if (n % 2 == 0) return n == 2;
  for (std::uint64_t d = 3; d * d <= n; d += 2) {
    if (n % d == 0) return false;
  }
  return true;
}

std::int64_t count_primes(std::uint64_t lo, std::uint64_t hi) {
  std::int64_t n = 0;
  for (std::uint64_t i = lo; i < hi; ++i) n += is_prime(i) ? 1 : 0;
  return n;
}

// The 1-minute load average (/proc/loadavg), or a negative number when unreadable: it tells
// whether other processes competed for the cores during the run.
double load_average() {
  double load = -1;
  if (std::FILE* f = std::fopen("/proc/loadavg", "r")) {
    if (std::fscanf(f, "%lf", &load) != 1) load = -1;
    std::fclose(f);
  }
  return load;
}

// CPU time used by the whole process so far, in seconds: over a phase, divided by its wall time,
// it tells how many cores the process really got.
double process_cpu_seconds() {
  timespec ts{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) / 1e9;
}

// CPU time of this process's reaped children so far (the worker processes), in seconds.
double children_cpu_seconds() {
  rusage ru{};
  getrusage(RUSAGE_CHILDREN, &ru);
  auto s = [](const timeval& tv) { return static_cast<double>(tv.tv_sec) + static_cast<double>(tv.tv_usec) / 1e6; };
  return s(ru.ru_utime) + s(ru.ru_stime);
}

class CpuLesson final : public Lesson {
 public:
  LessonInfo info() const override {
    return {.name = "cpu",
            .title = "CPU-bound work: count the primes below N, sequential vs one thread or process per core",
            .order = 10,
            .summary = "the notes' GIL lesson, measured: do threads (and processes) speed up computing?",
            .chart = true};
  }

  Result run(Context& ctx) override {
    const std::uint64_t limit = ctx.quick() ? 1'000'000 : 6'000'000;
    constexpr int kChunks = 64;
    const unsigned threads = ctx.options().cores;
    auto chunk = [&](int c) {
      std::uint64_t lo = limit * static_cast<std::uint64_t>(c) / kChunks;
      std::uint64_t hi = limit * static_cast<std::uint64_t>(c + 1) / kChunks;
      return count_primes(lo, hi);
    };
    auto progress = ctx.progress("cpu: counting primes", 3 * kChunks);

    std::int64_t seq_count = 0;
    const double cpu_start = process_cpu_seconds();
    double seq = time_seconds([&] {
      for (int c = 0; c < kChunks; ++c) {
        seq_count += chunk(c);
        progress->advance();
      }
    });

    // Chunks near N cost more than chunks near 0, so threads take the next chunk from a shared
    // counter instead of one fixed slice each: every core stays busy to the end.
    std::atomic<int> next{0};
    std::atomic<std::int64_t> par_count{0};
    const double seq_cores_used = (process_cpu_seconds() - cpu_start) / seq;
    const double cpu_before = process_cpu_seconds();
    double par = time_seconds([&] {
      std::vector<std::unique_ptr<threading::Thread>> workers;
      for (unsigned t = 0; t < threads; ++t) {
        workers.emplace_back(new threading::Thread({.name = format("primes-%u", t)}, [&] {
          std::int64_t mine = 0;
          for (int c; (c = next.fetch_add(1, std::memory_order_relaxed)) < kChunks;) {
            mine += chunk(c);
            progress->advance();
          }
          par_count.fetch_add(mine, std::memory_order_relaxed);
        }));
        workers.back()->start();
      }
      for (auto& w : workers) w->join();
    });
    const double cores_used = (process_cpu_seconds() - cpu_before) / par;

    // The same chunks over one process per core, Python's answer to the GIL. The fork start method
    // (the tour has no multiprocessing::main): the children share the chunk counter and the
    // per-chunk counts through shared memory, as a Python program would with Value and Array.
    multiprocessing::Value<int> next_chunk(0);
    multiprocessing::Array<std::int64_t> chunk_counts(kChunks);
    const double children_before = children_cpu_seconds();
    double procs = time_seconds([&] {
      std::vector<multiprocessing::Process> workers;
      for (unsigned t = 0; t < threads; ++t) {
        workers.push_back(multiprocessing::fork_context.Process({.name = format("primes-%u", t)}, [=]() mutable {
          for (;;) {
            int c;
            {
              std::lock_guard g(next_chunk.get_lock());
              c = next_chunk.value();
              next_chunk.set_value(c + 1);
            }
            if (c >= kChunks) break;
            chunk_counts[static_cast<std::size_t>(c)] = chunk(c);
          }
        }));
      }
      for (auto& w : workers) w.start();
      // The children cannot reach the progress bar; the parent follows the shared counter.
      int shown = 0;
      for (auto& w : workers) {
        while (w.is_alive()) {
          multiprocessing::connection::wait({w.sentinel()}, std::chrono::milliseconds(50));
          const int now = std::min(next_chunk.value(), kChunks);
          progress->advance(now - shown);
          shown = now;
        }
        w.join();
      }
      progress->advance(kChunks - shown);
    });
    const double proc_cores_used = (children_cpu_seconds() - children_before) / procs;
    std::int64_t proc_count = 0;
    for (std::int64_t n : chunk_counts) proc_count += n;
    progress.reset();
    const double load = load_average();

    Result r;
    double speedup = seq / par;
    auto detail = [&](std::int64_t count, double cores) {
      return format("%lld primes below %llu, %.1f cores busy", static_cast<long long>(count),
                    static_cast<unsigned long long>(limit), cores);
    };
    r.rows.push_back(
        {.what = "sequential (1 thread)", .seconds = seq, .speedup = 1.0, .detail = detail(seq_count, seq_cores_used)});
    r.rows.push_back({.what = format("%u threads (one per core)", threads),
                      .seconds = par,
                      .speedup = speedup,
                      .detail = detail(par_count.load(), cores_used)});
    r.rows.push_back({.what = format("%u processes (one per core)", threads),
                      .seconds = procs,
                      .speedup = seq / procs,
                      .detail = detail(proc_count, proc_cores_used)});
    r.figures = {{"limit", static_cast<std::int64_t>(limit)},
                 {"chunks", std::int64_t{kChunks}},
                 {"threads", static_cast<std::int64_t>(threads)},
                 {"primes", seq_count},
                 {"primes_threaded", par_count.load()},
                 {"sequential_seconds", seq},
                 {"threaded_seconds", par},
                 {"speedup", speedup},
                 {"processes", static_cast<std::int64_t>(threads)},
                 {"primes_processes", proc_count},
                 {"processes_seconds", procs},
                 {"process_speedup", seq / procs},
                 {"process_cores_used", proc_cores_used},
                 {"load_average", load},
                 {"sequential_cores_used", seq_cores_used},
                 {"cores_used", cores_used}};
    // CPU time over wall time of the threaded run: how many cores this process was given.
    std::string busy =
        format("the threads got %.1f cores' worth of CPU time, one thread alone %.1f", cores_used, seq_cores_used);
    if (load >= 0) busy += format(" (load average %.1f: the cores were shared)", load);
    if (par_count.load() != seq_count || proc_count != seq_count) {
      r.conclusion = "a threaded or process count differs from the sequential one: a bug, please report it";
      return r;
    } else if (threads == 1) {
      r.conclusion =
          format("one core here: %.2fx, as expected; on k cores the same code runs up to k times faster", speedup);
    } else if (seq < 0.05) {
      r.conclusion = format(
          "%.2fx, but the run was too short (%s) for starting threads to pay off; run without "
          "--quick",
          speedup, human_seconds(seq).c_str());
    } else if (speedup >= 0.7 * threads) {
      r.conclusion = format(
          "%u threads counted %.2fx faster than one on %u cores: no GIL, CPU-bound threads use every core "
          "(the notes' Python threads stay near 1x)",
          threads, speedup, threads);
    } else if (speedup > 1.15) {
      r.conclusion = format("%u threads counted %.2fx faster on %u cores: parallel, below %ux because %s", threads,
                            speedup, threads, threads, busy.c_str());
    } else {
      r.conclusion = format("only %.2fx on %u cores: %s; rerun on an idle machine", speedup, threads, busy.c_str());
    }
    // Processes are measured, not judged: they scale like threads here, and cost a fork each.
    r.conclusion += format(
        "; %u processes: %.2fx (in trident threads and processes both scale; in the notes' "
        "Python only processes do)",
        threads, seq / procs);
    return r;
  }
};

const Registration registered{std::make_unique<CpuLesson>()};

}  // namespace
}  // namespace trident::tour
