// Lesson "futures": note 002's thread pool module. Pages that take different times are fetched
// through a ThreadPoolExecutor with submit(); their results are collected with result() in
// submit order, with add_done_callback() (note 002's f1/f2/f3), and with as_completed(), which
// hands each future over as soon as it is done.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdlib>
#include <mutex>
#include <vector>

#include "tour/http.hpp"
#include "tour/lesson.hpp"
#include "trident/errors.hpp"
#include "trident/futures.hpp"
#include "trident/threading.hpp"

namespace trident::tour {
namespace {

using Clock = std::chrono::steady_clock;

double since(Clock::time_point start) { return std::chrono::duration<double>(Clock::now() - start).count(); }

class FuturesLesson final : public Lesson {
 public:
  LessonInfo info() const override {
    return {.name = "futures",
            .title = "Pools and futures: submit, result, add_done_callback, as_completed",
            .order = 50,
            .summary = "pages of different delays through a ThreadPoolExecutor, collected three ways",
            .chart = true};
  }

  Result run(Context& ctx) override {
    const Options& o = ctx.options();
    const int tasks = ctx.quick() ? 6 : 8;
    const std::string base = ctx.server_url();
    // Page i answers after delay * (tasks - i) / tasks: the first submitted is the slowest.
    std::vector<int> delays;
    for (int i = 0; i < tasks; ++i) delays.push_back(std::max(1, o.delay_ms * (tasks - i) / tasks));
    auto url = [&](int i) { return format("%s/page/%d?delay_ms=%d", base.c_str(), i, delays[i]); };
    auto func = [](const std::string& u) { return http_get(u); };  // note 002: requests.get(url)

    auto progress = ctx.progress("futures: fetching pages", 4);
    // Sequential, for the speedup column.
    double seq = time_seconds([&] {
      for (int i = 0; i < tasks; ++i) func(url(i));
    });
    progress->advance();

    // Declared before the executor, so they outlive its threads (the callbacks use them).
    threading::Semaphore callbacks_done(0);
    std::atomic<int> callbacks{0}, ok_callbacks{0};
    futures::ThreadPoolExecutor tp(o.workers);

    // submit + result() in submit order: the first result waits for the slowest page.
    double first_in_order = 0;
    int ok_in_order = 0;
    double in_order = time_seconds([&] {
      auto start = Clock::now();
      std::vector<futures::Future<Response>> fs;
      for (int i = 0; i < tasks; ++i) fs.push_back(tp.submit(func, url(i)));
      for (int i = 0; i < tasks; ++i) {
        if (fs[i].result().status_code == 200) ++ok_in_order;
        if (i == 0) first_in_order = since(start);
      }
    });
    progress->advance();

    // add_done_callback: each future's callback (f1, f2, f3, ... in the note) records its status.
    double with_callbacks = time_seconds([&] {
      std::vector<futures::Future<Response>> fs;
      for (int i = 0; i < tasks; ++i) {
        fs.push_back(tp.submit(func, url(i)));
        fs.back().add_done_callback([&](const futures::Future<Response>& f) {
          try {
            if (f.result().status_code == 200) ok_callbacks.fetch_add(1);  // print(response.status_code)
          } catch (const std::exception&) {
            // A failed fetch shows as a missing 200 in the table; the count below still moves on.
          }
          callbacks.fetch_add(1);
          callbacks_done.release();
        });
      }
      for (int i = 0; i < tasks; ++i) callbacks_done.acquire(true, std::chrono::seconds(30));
    });
    progress->advance();

    // as_completed: the fastest page first.
    double first_completed = 0;
    int first_index = -1, ok_completed = 0;
    std::string order;
    double completed = time_seconds([&] {
      auto start = Clock::now();
      std::vector<futures::Future<Response>> fs;
      for (int i = 0; i < tasks; ++i) fs.push_back(tp.submit(func, url(i)));
      for (auto&& f : futures::as_completed(fs)) {
        const Response& resp = f.result();
        if (resp.status_code == 200) ++ok_completed;
        int page = std::atoi(resp.url.c_str() + resp.url.find("/page/") + 6);
        if (first_index < 0) {
          first_index = page;
          first_completed = since(start);
        }
        order += (order.empty() ? "" : ",") + std::to_string(page);
      }
    });
    progress.reset();

    Result r;
    r.rows.push_back({.what = format("sequential: %d GETs", tasks),
                      .seconds = seq,
                      .speedup = 1.0,
                      .detail = format("delays %d..%d ms", delays.back(), delays.front())});
    r.rows.push_back(
        {.what = format("submit + result() in order (%d workers)", o.workers),
         .seconds = in_order,
         .speedup = seq / in_order,
         .detail = format("%d x 200; first result after %s", ok_in_order, human_seconds(first_in_order).c_str())});
    r.rows.push_back({.what = "submit + add_done_callback",
                      .seconds = with_callbacks,
                      .speedup = seq / with_callbacks,
                      .detail = format("%d callbacks ran, %d saw 200", callbacks.load(), ok_callbacks.load())});
    r.rows.push_back(
        {.what = "submit + as_completed",
         .seconds = completed,
         .speedup = seq / completed,
         .detail = format("order %s; first after %s", order.c_str(), human_seconds(first_completed).c_str())});
    r.figures = {{"tasks", std::int64_t{tasks}},
                 {"workers", std::int64_t{o.workers}},
                 {"sequential_seconds", seq},
                 {"in_order_seconds", in_order},
                 {"callbacks_seconds", with_callbacks},
                 {"as_completed_seconds", completed},
                 {"ok_in_order", std::int64_t{ok_in_order}},
                 {"callbacks_run", std::int64_t{callbacks.load()}},
                 {"ok_callbacks", std::int64_t{ok_callbacks.load()}},
                 {"ok_as_completed", std::int64_t{ok_completed}},
                 {"first_result_in_order_seconds", first_in_order},
                 {"first_result_as_completed_seconds", first_completed},
                 {"as_completed_first_page", std::int64_t{first_index}},
                 {"as_completed_order", order}};
    r.conclusion = format(
        "as_completed handed over page %d after %s, while result() in submit order waited %s for page 0; the pool "
        "ran %d fetches %.1fx faster than one by one",
        first_index, human_seconds(first_completed).c_str(), human_seconds(first_in_order).c_str(), tasks,
        seq / in_order);
    return r;
  }
};

const Registration registered{std::make_unique<FuturesLesson>()};

}  // namespace
}  // namespace trident::tour
