// Lesson "io": IO-bound work. The notes grant Python threads one use: waiting on IO in parallel
// ("对于IO密集型任务，Python的多线程有意义"). K pages are fetched from the tour's own HTTP server,
// which answers each request after --delay-ms: one after another, then with a ThreadPoolExecutor
// of --workers threads. Both use ordinary blocking sockets.
#include <algorithm>
#include <vector>

#include "tour/http.hpp"
#include "tour/lesson.hpp"
#include "trident/errors.hpp"
#include "trident/futures.hpp"

namespace trident::tour {
namespace {

class IoLesson final : public Lesson {
 public:
  LessonInfo info() const override {
    return {.name = "io",
            .title = "IO-bound work: fetch pages from a slow local server, sequential vs ThreadPoolExecutor",
            .order = 20,
            .summary = "K pages, each answered after --delay-ms: one by one, then --workers at a time",
            .chart = true};
  }

  Result run(Context& ctx) override {
    const Options& o = ctx.options();
    const std::string base = ctx.server_url();
    auto url = [&](int i) { return base + "/page/" + std::to_string(i); };
    auto progress = ctx.progress("io: fetching pages", 2 * static_cast<std::int64_t>(o.pages));
    auto fetch = [&](int i) {
      Response resp = http_get(url(i));
      if (resp.status_code != 200) {
        throw RuntimeError(format("GET %s answered %d", resp.url.c_str(), resp.status_code));
      }
      progress->advance();
      return static_cast<std::int64_t>(resp.content.size());
    };

    std::int64_t seq_bytes = 0;
    double seq = time_seconds([&] {
      for (int i = 0; i < o.pages; ++i) seq_bytes += fetch(i);
    });

    std::int64_t pool_bytes = 0;
    double pool = time_seconds([&] {
      futures::ThreadPoolExecutor executor(o.workers);
      std::vector<futures::Future<std::int64_t>> fs;
      for (int i = 0; i < o.pages; ++i) fs.push_back(executor.submit(fetch, i));
      for (auto& f : fs) pool_bytes += f.result();
    });
    progress.reset();

    const int rounds = (o.pages + o.workers - 1) / o.workers;
    const double ideal = static_cast<double>(o.pages) / rounds;
    const double speedup = seq / pool;
    Result r;
    r.rows.push_back({.what = format("sequential: %d GETs one after another", o.pages),
                      .seconds = seq,
                      .speedup = 1.0,
                      .detail = format("%lld bytes", static_cast<long long>(seq_bytes))});
    r.rows.push_back({.what = format("ThreadPoolExecutor(%d): %d GETs", o.workers, o.pages),
                      .seconds = pool,
                      .speedup = speedup,
                      .detail = format("%lld bytes", static_cast<long long>(pool_bytes))});
    r.figures = {{"pages", std::int64_t{o.pages}},
                 {"delay_ms", std::int64_t{o.delay_ms}},
                 {"workers", std::int64_t{o.workers}},
                 {"bytes", seq_bytes},
                 {"bytes_pool", pool_bytes},
                 {"sequential_seconds", seq},
                 {"pool_seconds", pool},
                 {"speedup", speedup},
                 {"ideal_speedup", ideal}};
    r.conclusion = format(
        "ThreadPoolExecutor(%d) fetched %d pages %.1fx faster (ideal %.1fx: %d rounds of %d ms instead of %d): "
        "threads overlap the waiting — the one speedup the notes grant Python threads",
        o.workers, o.pages, speedup, ideal, rounds, o.delay_ms, o.pages);
    return r;
  }
};

const Registration registered{std::make_unique<IoLesson>()};

}  // namespace
}  // namespace trident::tour
