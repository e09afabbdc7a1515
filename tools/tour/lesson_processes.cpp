// Lesson "processes": processes talk. Notes 001 and 004 pass data between processes with a Queue
// and a Pipe, and note 004 warns that a process killed while holding a Lock leaves it held. Here
// note 001's writer and reader processes share a Queue (the items-per-second rate; the endless
// reader is ended with terminate(), as in the note), a child echoes small objects over a Pipe (the
// round-trip rate), takes 1 MiB messages (the bandwidth), and a child killed with SIGKILL while
// holding a process Lock does not block the next acquirer: trident's locks are robust and say so
// with owner_died().
//
// Each part is one step of kSteps.
#include <signal.h>

#include <chrono>
#include <cstdint>
#include <iterator>
#include <string>
#include <tuple>
#include <variant>

#include "tour/lesson.hpp"
#include "trident/multiprocessing.hpp"

namespace trident::tour {
namespace {

namespace mp = multiprocessing;
using namespace std::chrono_literals;

// The tour has no multiprocessing::main (the guard forkserver and spawn need), so its children
// use the fork start method; what they run is the same under every method.
constexpr const mp::ForkContext& kCtx = mp::fork_context;

// Note 001's writer/reader over a Queue: the writer puts n ints, the reader gets forever. Once it
// has got n it reports (over a Pipe, so the Queue carries only the note's traffic) the count, the
// sum and the seconds from its first get to its last (CLOCK_MONOTONIC, the same in every process),
// then goes on getting until the parent terminates it, as the note's parent does.
void queue_writer_reader(Context& ctx, Result& r) {
  const int n = ctx.quick() ? 20000 : 500000;
  mp::Queue<int> q;
  auto [mine, theirs] = mp::Pipe();
  mp::Process pw = kCtx.Process(
      {.name = "writer"},
      [](mp::Queue<int> queue, int count) {
        for (int i = 0; i < count; ++i) queue.put(i);
      },
      q, n);
  mp::Process pr = kCtx.Process(
      {.name = "reader"},
      [](mp::Queue<int> queue, mp::Connection report, int count) {
        std::int64_t sum = queue.get(true);
        const auto first = std::chrono::steady_clock::now();
        for (int got = 1; got < count; ++got) sum += queue.get(true);
        const std::chrono::duration<double> took = std::chrono::steady_clock::now() - first;
        report.send(std::tuple<std::int64_t, std::int64_t, double>{count, sum, took.count()});
        for (;;) queue.get(true);
      },
      q, theirs, n);
  pw.start();
  pr.start();
  pw.join();
  const auto [received, sum, seconds] = mine.recv<std::tuple<std::int64_t, std::int64_t, double>>();
  pr.terminate();
  pr.join();
  const std::int64_t expected_sum = static_cast<std::int64_t>(n) * (n - 1) / 2;
  const double items_per_s = seconds > 0 ? static_cast<double>(received - 1) / seconds : 0;
  r.rows.push_back({.what = format("Queue: a writer process puts %d ints, a reader process gets them", n),
                    .seconds = seconds,
                    .speedup = std::nullopt,
                    .detail = format("%.2f M items/s, %lld received, sum %s; reader terminated, exitcode %d",
                                     items_per_s / 1e6, static_cast<long long>(received),
                                     sum == expected_sum ? "right" : "WRONG", pr.exitcode().value_or(0))});
  r.figures.emplace_back("queue_items", std::int64_t{n});
  r.figures.emplace_back("queue_items_received", received);
  r.figures.emplace_back("queue_sum_right", sum == expected_sum);
  r.figures.emplace_back("queue_items_per_s", items_per_s);
  r.figures.emplace_back("queue_reader_exitcode", std::int64_t{pr.exitcode().value_or(0)});
}

// Note 004's Pipe: the child answers every int with the same int, until -1.
void pipe_round_trips(Context& ctx, Result& r) {
  const int n = ctx.quick() ? 2000 : 50000;
  auto [mine, theirs] = mp::Pipe();
  mp::Process echo = kCtx.Process(
      {.name = "echo"},
      [](mp::Connection c) {
        for (int v; (v = c.recv<int>()) != -1;) c.send(v);
      },
      theirs);
  echo.start();
  mine.send(0);  // the first round trip also waits for the child to be running: not timed
  mine.recv<int>();
  std::int64_t wrong = 0;
  const double seconds = time_seconds([&] {
    for (int i = 1; i <= n; ++i) {
      mine.send(i);
      wrong += mine.recv<int>() != i ? 1 : 0;
    }
  });
  mine.send(-1);
  echo.join();
  const double rtt_us = seconds / n * 1e6;
  r.rows.push_back(
      {.what = format("Pipe: %d round trips of an int (send + recv, both ways)", n),
       .seconds = seconds,
       .speedup = std::nullopt,
       .detail = format("%.1f µs per round trip, %lld answers wrong", rtt_us, static_cast<long long>(wrong))});
  r.figures.emplace_back("pipe_round_trips", std::int64_t{n});
  r.figures.emplace_back("pipe_round_trip_us", rtt_us);
  r.figures.emplace_back("pipe_wrong_answers", wrong);
}

// 1 MiB messages with send_bytes; the child counts the bytes and reports the total.
void pipe_bandwidth(Context& ctx, Result& r) {
  const int messages = ctx.quick() ? 16 : 256;
  constexpr std::size_t kSize = 1 << 20;
  auto [mine, theirs] = mp::Pipe();
  mp::Process sink = kCtx.Process(
      {.name = "sink"},
      [](mp::Connection c) {
        std::int64_t total = 0;
        for (;;) {
          const pickle::bytes b = c.recv_bytes();
          if (b.empty()) break;
          total += static_cast<std::int64_t>(b.size());
        }
        c.send(total);
      },
      theirs);
  sink.start();
  const std::string payload(kSize, 'x');
  std::int64_t received = 0;
  const double seconds = time_seconds([&] {
    for (int i = 0; i < messages; ++i) mine.send_bytes(payload);
    mine.send_bytes(std::string_view());
    received = mine.recv<std::int64_t>();
  });
  sink.join();
  const double mb_per_s = static_cast<double>(received) / seconds / 1e6;
  r.rows.push_back({.what = format("Pipe: %d messages of 1 MiB (send_bytes / recv_bytes)", messages),
                    .seconds = seconds,
                    .speedup = std::nullopt,
                    .detail = format("%.0f MB/s, %lld bytes arrived", mb_per_s, static_cast<long long>(received))});
  r.figures.emplace_back("pipe_messages", std::int64_t{messages});
  r.figures.emplace_back("pipe_bytes_received", received);
  r.figures.emplace_back("pipe_bytes_sent", static_cast<std::int64_t>(messages * kSize));
  r.figures.emplace_back("pipe_mb_per_s", mb_per_s);
}

// Note 004's process Lock, and what CPython cannot do: the holder dies, the lock comes back.
void robust_lock(Context&, Result& r) {
  mp::Lock lock;
  auto [mine, theirs] = mp::Pipe();
  mp::Process holder = kCtx.Process(
      {.name = "holder"},
      [](mp::Lock l, mp::Connection c) {
        l.acquire();
        c.send(true);
        c.recv<int>();  // never answered: the parent kills this process holding the lock
      },
      lock, theirs);
  holder.start();
  mine.recv<bool>();
  const bool held = lock.locked();
  bool acquired = false;
  const double seconds = time_seconds([&] {
    holder.kill();
    acquired = lock.acquire(true, 10s);
  });
  const bool owner_died = lock.owner_died();
  if (acquired) lock.release();
  holder.join();
  r.rows.push_back(
      {.what = "Lock: its holder killed with SIGKILL, the next acquire()",
       .seconds = seconds,
       .speedup = std::nullopt,
       .detail = format("%s after %s, owner_died() = %s, holder's exitcode %d", acquired ? "acquired" : "NOT acquired",
                        human_seconds(seconds).c_str(), owner_died ? "true" : "false", holder.exitcode().value_or(0))});
  r.figures.emplace_back("robust_lock_held_by_child", held);
  r.figures.emplace_back("robust_lock_acquired", acquired);
  r.figures.emplace_back("robust_lock_owner_died", owner_died);
  r.figures.emplace_back("robust_lock_recovery_seconds", seconds);
  r.figures.emplace_back("robust_lock_holder_exitcode", std::int64_t{holder.exitcode().value_or(0)});
}

struct Step {
  const char* name;
  void (*run)(Context&, Result&);
};
constexpr Step kSteps[] = {
    {"queue writer/reader", queue_writer_reader},
    {"pipe round trips", pipe_round_trips},
    {"pipe bandwidth", pipe_bandwidth},
    {"robust lock", robust_lock},
};

double figure(const Result& r, const std::string& name) {
  for (const auto& [n, v] : r.figures) {
    if (n == name) {
      if (const double* d = std::get_if<double>(&v)) return *d;
      if (const std::int64_t* i = std::get_if<std::int64_t>(&v)) return static_cast<double>(*i);
      if (const bool* b = std::get_if<bool>(&v)) return *b ? 1 : 0;
    }
  }
  return 0;
}

class ProcessesLesson final : public Lesson {
 public:
  LessonInfo info() const override {
    return {.name = "processes",
            .title =
                "Processes talk: a Queue writer and reader, a Pipe round trip, 1 MiB messages, a Lock whose "
                "holder was killed",
            .order = 45,
            .summary = "notes 001/004's IPC, measured; a process Lock survives its holder's SIGKILL",
            .chart = false};
  }

  Result run(Context& ctx) override {
    Result r;
    auto progress = ctx.progress("processes: talking", std::size(kSteps));
    for (const Step& s : kSteps) {
      s.run(ctx, r);
      progress->advance();
    }
    progress.reset();
    const bool recovered = figure(r, "robust_lock_acquired") != 0 && figure(r, "robust_lock_owner_died") != 0;
    r.conclusion = format(
        "a Queue carried %.2f M items/s from a writer process to a reader process, a Pipe round trip "
        "between two processes took %.1f µs and 1 MiB messages moved at %.0f MB/s; %s",
        figure(r, "queue_items_per_s") / 1e6, figure(r, "pipe_round_trip_us"), figure(r, "pipe_mb_per_s"),
        recovered ? format("a Lock whose holder was SIGKILLed was acquired %s later with owner_died() = true "
                           "(CPython's would stay locked forever)",
                           human_seconds(figure(r, "robust_lock_recovery_seconds")).c_str())
                        .c_str()
                  : "the Lock of the killed holder was NOT recovered: a bug, please report it");
    return r;
  }
};

const Registration registered{std::make_unique<ProcessesLesson>()};

}  // namespace
}  // namespace trident::tour
