// Lesson "coordination": the notes' ways for threads to wait for each other, each measured.
// - Event gate: note 003's "redis ready" workers, polling with a timeout until the main thread
//   sets the event.
// - Condition.notify(n): note 002's "condition指定数目通过", n waiters released at a time.
// - BoundedSemaphore(3): note 002's "几个线程同时通过", with the peak of threads inside measured
//   and, for the picture, how many were inside over time.
// - Barrier: threads kept in step round after round.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <mutex>
#include <vector>

#include "tour/lesson.hpp"
#include "trident/errors.hpp"
#include "trident/threading.hpp"

namespace trident::tour {
namespace {

using std::chrono::milliseconds;
using Clock = std::chrono::steady_clock;

// time.sleep(): waits on an event nobody sets.
void sleep_ms(int ms) { threading::Event().wait(milliseconds(ms)); }

void update_max(std::atomic<int>& max, int value) {
  int seen = max.load();
  while (value > seen && !max.compare_exchange_weak(seen, value)) {
  }
}

using Threads = std::vector<std::unique_ptr<threading::Thread>>;

template <class F>
void start_threads(Threads& threads, int n, const char* prefix, F body) {
  for (int i = 0; i < n; ++i) {
    threads.emplace_back(new threading::Thread({.name = format("%s%d", prefix, i + 1)}, body, i));
    threads.back()->start();
  }
}

void join_all(Threads& threads) {
  for (auto& t : threads) t->join();
  threads.clear();
}

// When one thread was inside a guarded region.
struct Span {
  Clock::time_point enter, leave;
};

// How many spans overlapped, at most, within each of `slices` equal slices of [start, end].
std::vector<double> occupancy(const std::vector<Span>& spans, Clock::time_point start, Clock::time_point end,
                              int slices) {
  std::vector<std::pair<Clock::time_point, int>> events;
  for (const Span& s : spans) {
    events.emplace_back(s.enter, +1);
    events.emplace_back(s.leave, -1);
  }
  // At equal times a leave sorts first: a thread leaving as another enters is not two inside.
  std::sort(events.begin(), events.end());
  std::vector<double> out(static_cast<size_t>(slices), 0);
  const auto length = end - start;
  size_t e = 0;
  int inside = 0;
  for (int k = 0; k < slices; ++k) {
    const auto slice_start = start + length * k / slices;
    const auto slice_end = start + length * (k + 1) / slices;
    while (e < events.size() && events[e].first < slice_start) inside += events[e++].second;
    int most = inside;
    while (e < events.size() && events[e].first < slice_end) {
      inside += events[e++].second;
      most = std::max(most, inside);
    }
    out[static_cast<size_t>(k)] = most;
  }
  return out;
}

class CoordinationLesson final : public Lesson {
 public:
  LessonInfo info() const override {
    return {.name = "coordination",
            .title = "Coordination: Event gate, Condition.notify(n), BoundedSemaphore(3), Barrier",
            .order = 40,
            .summary = "threads waiting for each other: who gets through, when, and how many at once"};
  }

  Result run(Context& ctx) override {
    const bool quick = ctx.quick();
    Result r;
    auto progress = ctx.progress("coordination", 4);
    std::string event_summary = event_gate(r, quick ? 60 : 300, quick ? 20 : 100);
    progress->advance();
    std::string cond_summary = condition_batches(r);
    progress->advance();
    std::string sem_summary = bounded_semaphore(r, quick ? 5 : 30);
    progress->advance();
    std::string barrier_summary = barrier(r, quick ? 50 : 500);
    progress->advance();
    progress.reset();
    r.conclusion = event_summary + "; " + cond_summary + "; " + sem_summary + "; " + barrier_summary;
    return r;
  }

 private:
  // Note 003: workers log "Waiting for redis ready..." every `poll_ms` until main sets the event
  // after its `check_ms` check.
  static std::string event_gate(Result& r, int check_ms, int poll_ms) {
    constexpr int kWorkers = 4;
    threading::Event redis_ready;
    std::atomic<int> polls{0};
    std::atomic<std::int64_t> last_release_ns{0};
    Threads threads;
    Clock::time_point set_at;
    double seconds = time_seconds([&] {
      start_threads(threads, kWorkers, "t", [&](int) {
        while (!redis_ready.is_set()) {
          polls.fetch_add(1);  // logging.debug('Waiting for redis ready...')
          redis_ready.wait(milliseconds(poll_ms));
        }
        std::int64_t ns = std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now().time_since_epoch()).count();
        std::int64_t seen = last_release_ns.load();
        while (ns > seen && !last_release_ns.compare_exchange_weak(seen, ns)) {
        }
      });
      sleep_ms(check_ms);  // "check redis server, make sure it is OK"
      set_at = Clock::now();
      redis_ready.set();
      join_all(threads);
    });
    double latency =
        static_cast<double>(last_release_ns.load() -
                            std::chrono::duration_cast<std::chrono::nanoseconds>(set_at.time_since_epoch()).count()) /
        1e9;
    latency = std::max(latency, 0.0);
    r.rows.push_back({.what = format("Event gate: %d workers poll wait(%d ms)", kWorkers, poll_ms),
                      .seconds = seconds,
                      .speedup = std::nullopt,
                      .detail = format("%d 'waiting' polls in %d ms; all through %s after set()", polls.load(),
                                       check_ms, human_seconds(latency).c_str())});
    r.figures.emplace_back("event_workers", std::int64_t{kWorkers});
    r.figures.emplace_back("event_polls", std::int64_t{polls.load()});
    r.figures.emplace_back("event_release_seconds", latency);
    return format("set() released %d waiting workers within %s", kWorkers, human_seconds(latency).c_str());
  }

  // Note 002: ten threads wait on a Condition; notify(n) lets exactly n through each time.
  static std::string condition_batches(Result& r) {
    constexpr int kWaiters = 10;
    const std::vector<int> batches = {3, 3, 3, 1};
    threading::Condition cond;
    threading::Semaphore in_wait(0), woke(0);
    std::atomic<int> released{0};
    std::vector<int> seen;
    bool exact = true;
    Threads threads;
    double seconds = time_seconds([&] {
      start_threads(threads, kWaiters, "cond-", [&](int) {
        cond.acquire();
        in_wait.release();  // still holding the lock: main cannot notify before wait() below
        cond.wait();
        released.fetch_add(1);
        cond.release();
        woke.release();
      });
      for (int i = 0; i < kWaiters; ++i) in_wait.acquire(true, std::chrono::seconds(10));
      {
        std::scoped_lock all_waiting(cond);  // every thread has released it inside wait()
      }
      int before = 0;
      for (int n : batches) {
        {
          std::scoped_lock guard(cond);
          cond.notify(n);
        }
        for (int i = 0; i < n; ++i) {
          if (!woke.acquire(true, std::chrono::seconds(10))) exact = false;
        }
        // A moment for any extra thread to come through: none should.
        if (woke.acquire(true, milliseconds(10))) exact = false;
        int now = released.load();
        seen.push_back(now - before);
        before = now;
      }
      {
        std::scoped_lock guard(cond);
        cond.notify_all();  // never leave a thread behind, even if a batch went wrong
      }
      join_all(threads);
    });
    std::string asked, got;
    for (size_t i = 0; i < batches.size(); ++i) {
      asked += (i ? "," : "") + std::to_string(batches[i]);
      got += (i ? "," : "") + std::to_string(seen[i]);
    }
    exact = exact && asked == got;
    r.rows.push_back({.what = format("Condition: %d waiters, notify(%s)", kWaiters, asked.c_str()),
                      .seconds = seconds,
                      .speedup = std::nullopt,
                      .detail = format("released %s%s", got.c_str(), exact ? " (exactly n each time)" : "")});
    r.figures.emplace_back("condition_waiters", std::int64_t{kWaiters});
    r.figures.emplace_back("condition_notify", asked);
    r.figures.emplace_back("condition_released", got);
    r.figures.emplace_back("condition_exact", exact);
    return exact ? format("notify(n) woke exactly %s", got.c_str())
                 : format("notify(n) woke %s, not %s", got.c_str(), asked.c_str());
  }

  // Note 002: ten threads, at most three inside at once.
  static std::string bounded_semaphore(Result& r, int hold_ms) {
    constexpr int kThreads = 10;
    threading::BoundedSemaphore sem(3);
    std::atomic<int> inside{0}, peak{0};
    std::vector<Span> spans(kThreads);  // each thread writes its own; read after join
    Threads threads;
    const Clock::time_point start = Clock::now();
    double seconds = time_seconds([&] {
      start_threads(threads, kThreads, "sem-", [&](int i) {
        sem.acquire();
        spans[static_cast<size_t>(i)].enter = Clock::now();
        update_max(peak, inside.fetch_add(1) + 1);
        sleep_ms(hold_ms);
        inside.fetch_sub(1);
        spans[static_cast<size_t>(i)].leave = Clock::now();
        sem.release();
      });
      join_all(threads);
    });
    const Clock::time_point end = Clock::now();
    // One release too many: Python raises ValueError, so does trident.
    std::string over_release = "no error";
    bool raised = false;
    try {
      sem.release();
    } catch (const ValueError& e) {
      over_release = std::string("ValueError: ") + e.what();
      raised = true;
    }
    const int rounds = (kThreads + 2) / 3;
    r.rows.push_back({.what = format("BoundedSemaphore(3): %d threads hold %d ms", kThreads, hold_ms),
                      .seconds = seconds,
                      .speedup = std::nullopt,
                      .detail = format("peak %d inside (ideal time %d x %d ms); extra release() -> %s", peak.load(),
                                       rounds, hold_ms, raised ? "ValueError" : "no error")});
    r.figures.emplace_back("semaphore_threads", std::int64_t{kThreads});
    r.figures.emplace_back("semaphore_peak", std::int64_t{peak.load()});
    r.figures.emplace_back("semaphore_over_release_raised", raised);
    r.figures.emplace_back("semaphore_over_release", over_release);
    // The picture: threads inside over time, against the semaphore's value.
    constexpr int kSlices = 92;
    const std::vector<double> inside_over_time = occupancy(spans, start, end, kSlices);
    const double most = *std::max_element(inside_over_time.begin(), inside_over_time.end());
    r.picture.rows.push_back({.label = format("BoundedSemaphore(3): %d threads", kThreads),
                              .values = inside_over_time,
                              .scale = 4,
                              .limit = 3,
                              .note = format("at most %.0f inside at once", most),
                              .color = "#2f6fb3"});
    r.picture.axis = format(
        "time, left to right (%s, one column per %s); height: threads inside; dashed: the "
        "semaphore's value",
        human_seconds(std::chrono::duration<double>(end - start).count()).c_str(),
        human_seconds(std::chrono::duration<double>(end - start).count() / kSlices).c_str());
    return format("BoundedSemaphore(3) let at most %d in at once", peak.load());
  }

  // Four threads meet at a Barrier every round; its action counts rounds.
  static std::string barrier(Result& r, int rounds) {
    constexpr int kParties = 4;
    std::atomic<int> actions{0}, out_of_step{0};
    std::atomic<std::int64_t> index_sum{0};
    threading::Barrier barrier(
        kParties, [&] { actions.fetch_add(1); }, std::chrono::seconds(10));
    Threads threads;
    double seconds = time_seconds([&] {
      start_threads(threads, kParties, "barrier-", [&](int) {
        for (int round = 0; round < rounds; ++round) {
          index_sum.fetch_add(barrier.wait());
          // The action ran before anyone was released, and nobody can trip the next round without
          // this thread: exactly round + 1 actions so far.
          if (actions.load() != round + 1) out_of_step.fetch_add(1);
        }
      });
      join_all(threads);
    });
    const bool in_step = out_of_step.load() == 0 && actions.load() == rounds &&
                         index_sum.load() == static_cast<std::int64_t>(rounds) * (kParties * (kParties - 1) / 2);
    r.rows.push_back(
        {.what = format("Barrier(%d): %d rounds", kParties, rounds),
         .seconds = seconds,
         .speedup = std::nullopt,
         .detail = format("action ran %d times; %s; %s per round", actions.load(),
                          in_step ? "all threads in step" : "OUT OF STEP", human_seconds(seconds / rounds).c_str())});
    r.figures.emplace_back("barrier_parties", std::int64_t{kParties});
    r.figures.emplace_back("barrier_rounds", std::int64_t{rounds});
    r.figures.emplace_back("barrier_actions", std::int64_t{actions.load()});
    r.figures.emplace_back("barrier_in_step", in_step);
    return format("Barrier(%d) kept %d threads in step for %d rounds (%s each)", kParties, kParties, rounds,
                  human_seconds(seconds / rounds).c_str());
  }
};

const Registration registered{std::make_unique<CoordinationLesson>()};

}  // namespace
}  // namespace trident::tour
