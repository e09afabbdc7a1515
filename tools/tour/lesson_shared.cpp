// Lesson "shared": note 001's bank balance. Two threads each add then subtract their amount
// 100 000 times; with a Lock the balance ends at 0, without one updates are lost. The unlocked run
// reads and writes the balance with separate atomic loads and stores: the same lost-update race as
// Python's `balance = balance + n`, without the undefined behaviour of a C++ data race.
#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <mutex>
#include <vector>

#include "tour/lesson.hpp"
#include "trident/threading.hpp"

namespace trident::tour {
namespace {

constexpr int kIterations = 100'000;  // as in note 001

class SharedLesson final : public Lesson {
 public:
  LessonInfo info() const override {
    return {.name = "shared",
            .title = "Shared data: note 001's bank balance, with and without a Lock",
            .order = 30,
            .summary = "two threads deposit and withdraw 100000 times; who keeps the balance at 0?"};
  }

  Result run(Context& ctx) override {
    const int runs = ctx.quick() ? 5 : 20;
    auto progress = ctx.progress("shared: bank balance runs", 2 * runs);

    // Sequential: one thread does both threads' work; nothing can be lost.
    std::atomic<long> seq_balance{0};
    double seq = time_seconds([&] {
      for (int n : {5, 8}) {
        for (int i = 0; i < kIterations; ++i) change_unlocked(seq_balance, n);
      }
    });

    // No lock: two threads, started together by a Barrier so their loops overlap. A run lasts
    // well under a millisecond, so on a busy machine the two may not overlap at all: past the
    // planned runs, keep trying (up to max_runs) until a run shows the race.
    const int max_runs = ctx.quick() ? 50 : 200;
    int wrong_runs = 0, unlocked_runs = 0;
    long worst = 0;
    std::vector<double> unlocked_off;  // per run: how far the final balance is from 0
    double unlocked = 0;
    for (int run = 0; run < max_runs && (run < runs || wrong_runs == 0); ++run) {
      ++unlocked_runs;
      std::atomic<long> balance{0};
      threading::Barrier together(2);
      auto body = [&](int n) {
        together.wait();
        for (int i = 0; i < kIterations; ++i) change_unlocked(balance, n);
      };
      unlocked += time_seconds([&] {
        threading::Thread t1(body, 5), t2(body, 8);
        t1.start();
        t2.start();
        t1.join();
        t2.join();
      });
      if (run < runs) progress->advance();
      long b = balance.load();
      unlocked_off.push_back(static_cast<double>(std::labs(b)));
      if (b != 0) ++wrong_runs;
      if (std::labs(b) > std::labs(worst)) worst = b;
    }
    unlocked /= unlocked_runs;

    // With a Lock, exactly as the note: acquire, change_it(n), release.
    int locked_wrong = 0;
    long locked_last = 0;
    std::vector<double> locked_off;
    double locked = 0;
    for (int run = 0; run < runs; ++run) {
      long balance = 0;  // guarded by lock
      threading::Lock lock;
      threading::Barrier together(2);
      auto body = [&](int n) {
        together.wait();
        for (int i = 0; i < kIterations; ++i) {
          lock.acquire();
          balance = balance + n;
          balance = balance - n;
          lock.release();
        }
      };
      locked += time_seconds([&] {
        threading::Thread t1(body, 5), t2(body, 8);
        t1.start();
        t2.start();
        t1.join();
        t2.join();
      });
      progress->advance();
      locked_last = balance;
      locked_off.push_back(static_cast<double>(std::labs(balance)));
      if (balance != 0) ++locked_wrong;
    }
    locked /= runs;
    progress.reset();

    Result r;
    r.rows.push_back({.what = "sequential (one thread does both)",
                      .seconds = seq,
                      .speedup = 1.0,
                      .detail = format("balance = %ld", seq_balance.load())});
    r.rows.push_back({.what = "2 threads, no lock",
                      .seconds = unlocked,
                      .speedup = seq / unlocked,
                      .detail = format("balance != 0 in %d of %d runs (worst %ld)", wrong_runs, unlocked_runs, worst)});
    r.rows.push_back({.what = "2 threads, Lock",
                      .seconds = locked,
                      .speedup = seq / locked,
                      .detail = format("balance = %ld in all %d runs", locked_last, runs)});
    const double ns_per_change = locked / (2.0 * kIterations) * 1e9;
    r.figures = {{"iterations", std::int64_t{kIterations}},
                 {"runs", std::int64_t{runs}},
                 {"sequential_balance", static_cast<std::int64_t>(seq_balance.load())},
                 {"unlocked_runs", std::int64_t{unlocked_runs}},
                 {"unlocked_wrong_runs", std::int64_t{wrong_runs}},
                 {"unlocked_worst_balance", static_cast<std::int64_t>(worst)},
                 {"locked_balance", static_cast<std::int64_t>(locked_last)},
                 {"locked_wrong_runs", std::int64_t{locked_wrong}},
                 {"sequential_seconds", seq},
                 {"unlocked_seconds", unlocked},
                 {"locked_seconds", locked},
                 {"locked_ns_per_change", ns_per_change}};
    // The picture: one column per run, as high as the balance ended away from 0 — the updates
    // lost in that run, net — without and with the Lock, on one scale.
    const double full = static_cast<double>(std::max(std::labs(worst), 1L));
    r.picture.rows.push_back({.label = "2 threads, no lock",
                              .values = unlocked_off,
                              .scale = full,
                              .limit = std::nullopt,
                              .note = format("balance not 0 after %d of %d runs", wrong_runs, unlocked_runs),
                              .color = "#b33a3a"});
    r.picture.rows.push_back({.label = "2 threads, Lock",
                              .values = locked_off,
                              .scale = full,
                              .limit = std::nullopt,
                              .note = locked_wrong == 0
                                          ? format("balance 0 after all %d runs", runs)
                                          : format("balance not 0 after %d of %d runs", locked_wrong, runs),
                              .color = "#3a9a5b"});
    r.picture.axis = worst != 0 ? format(
                                      "one column per run; its height: how far the final balance is from 0 (the "
                                      "updates lost), full height %ld",
                                      std::labs(worst))
                                : "one column per run; no run lost an update here (grey: balance 0)";
    if (locked_wrong != 0) {
      r.conclusion = "the locked balance was not 0: a bug in Lock, please report it";
    } else if (wrong_runs > 0) {
      r.conclusion = format(
          "without a lock updates were lost in %d of %d runs (balance %ld instead of 0); the Lock kept it at 0 "
          "every time, for %.0f ns per locked change",
          wrong_runs, unlocked_runs, worst, ns_per_change);
    } else {
      r.conclusion = format(
          "no update happened to be lost in %d unlocked runs here (the threads barely overlapped), but nothing "
          "prevents it; the Lock makes 0 certain, for %.0f ns per locked change",
          unlocked_runs, ns_per_change);
    }
    return r;
  }

 private:
  // Python's `balance = balance + n; balance = balance - n` without a lock: read, then write back.
  // Another thread's write between the two is overwritten — a lost update.
  static void change_unlocked(std::atomic<long>& balance, int n) {
    balance.store(balance.load(std::memory_order_relaxed) + n, std::memory_order_relaxed);
    balance.store(balance.load(std::memory_order_relaxed) - n, std::memory_order_relaxed);
  }
};

const Registration registered{std::make_unique<SharedLesson>()};

}  // namespace
}  // namespace trident::tour
