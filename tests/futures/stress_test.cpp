// Many threads submitting, waiting, cancelling and adding callbacks at once: every future ends
// exactly once, with the right outcome, and nothing hangs (run under tsan and asan too).
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <memory>
#include <vector>

#include "support/helpers.hpp"
#include "trident/futures.hpp"
#include "trident/threading.hpp"

using namespace std::chrono_literals;
namespace futures = trident::futures;
namespace threading = trident::threading;
using futures::Future;

namespace {

// Fewer iterations under the sanitizers keeps the suite quick on two cores.
#if defined(__SANITIZE_THREAD__) || defined(__SANITIZE_ADDRESS__)
constexpr int kPerThread = 500;
#else
constexpr int kPerThread = 3000;
#endif
constexpr int kSubmitters = 4;

template <class F>
void run_threads(int n, F body) {
  std::vector<std::unique_ptr<threading::Thread>> ts;
  for (int i = 0; i < n; ++i) {
    ts.push_back(std::make_unique<threading::Thread>(body, i));
    ts.back()->start();
  }
  for (auto& t : ts) t->join();
}

}  // namespace

// Several threads submit to one pool and read their own results; callbacks count completions.
TEST(Stress, ManySubmittersOnePool) {
  futures::ThreadPoolExecutor executor(4);
  std::atomic<long> callbacks{0};
  std::atomic<int> wrong{0};
  run_threads(kSubmitters, [&](int t) {
    std::vector<Future<long>> fs;
    fs.reserve(kPerThread);
    for (int i = 0; i < kPerThread; ++i) {
      fs.push_back(executor.submit([](long a, long b) { return a * 100000 + b; }, t, i));
      if (i % 7 == 0) fs.back().add_done_callback([&callbacks](const Future<long>&) { ++callbacks; });
    }
    for (int i = 0; i < kPerThread; ++i) {
      if (fs[i].result(60s) != static_cast<long>(t) * 100000 + i) ++wrong;
    }
  });
  EXPECT_EQ(wrong.load(), 0);
  long expected_callbacks = 0;
  for (int i = 0; i < kPerThread; ++i) expected_callbacks += i % 7 == 0;
  EXPECT_EQ(callbacks.load(), expected_callbacks * kSubmitters);
}

// Cancelling from other threads while workers start the same calls: each future is either
// cancelled (and never ran) or ran and finished; wait(ALL_COMPLETED) returns for all of them.
TEST(Stress, CancelRacesWithWorkers) {
  futures::ThreadPoolExecutor executor(3);
  const int n = kPerThread * 2;
  std::vector<std::atomic<int>> runs(n);
  std::vector<Future<int>> fs;
  fs.reserve(n);
  for (int i = 0; i < n; ++i) {
    fs.push_back(executor.submit([&runs, i] {
      ++runs[i];
      return i;
    }));
  }
  run_threads(2, [&](int t) {
    for (int i = t; i < n; i += 2) fs[i].cancel();
  });
  auto r = futures::wait(fs, 60s, futures::ALL_COMPLETED);
  EXPECT_EQ(r.done.size(), static_cast<std::size_t>(n));
  for (int i = 0; i < n; ++i) {
    if (fs[i].cancelled()) {
      EXPECT_EQ(runs[i].load(), 0) << i;
    } else {
      EXPECT_EQ(runs[i].load(), 1) << i;
      EXPECT_EQ(fs[i].result(0s), i);
    }
  }
}

// wait() and as_completed() from several threads over the same futures while they complete.
TEST(Stress, ManyWaitersOnTheSameFutures) {
  futures::ThreadPoolExecutor executor(2);
  threading::Event go;
  std::vector<Future<int>> fs;
  for (int i = 0; i < 200; ++i) {
    fs.push_back(executor.submit([&go, i] {
      go.wait(60s);
      return i;
    }));
  }
  std::atomic<int> bad{0};
  run_threads(4, [&](int t) {
    if (t == 0) go.set();
    if (t % 2 == 0) {
      auto r = futures::wait(fs, 60s);
      if (r.done.size() != fs.size()) ++bad;
    } else {
      std::size_t n = 0;
      for (auto& f : futures::as_completed(fs, 60s)) n += f.done();
      if (n != fs.size()) ++bad;
    }
  });
  EXPECT_EQ(bad.load(), 0);
}

// Many pools created and destroyed while busy (the benchmark's pattern).
TEST(Stress, PoolsComeAndGo) {
  for (int round = 0; round < 20; ++round) {
    std::vector<Future<void>> fs;
    std::atomic<int> done{0};
    {
      futures::ThreadPoolExecutor executor(2);
      for (int i = 0; i < 200; ++i) fs.push_back(executor.submit([&done] { ++done; }));
      for (auto& f : fs) f.result(60s);
    }
    EXPECT_EQ(done.load(), 200);
  }
}
