// tools/tour/lesson.hpp — the lesson interface of `trident tour`.
//
// A lesson replays one idea of the seed notes (../shared/seeds/) live and returns what it
// measured: a small table (rows), named figures (for --json), and a one-line conclusion computed
// from those numbers. The tour prints the table, writes the JSON document and the SVG chart; a
// lesson never prints.
//
// Adding a lesson is one new file, tools/tour/lesson_<name>.cpp (tools/CMakeLists.txt globs them):
//
//   #include "tour/lesson.hpp"
//   namespace trident::tour {
//   namespace {
//   class Example final : public Lesson {
//    public:
//     LessonInfo info() const override {
//       return {.name = "example", .title = "What it shows", .order = 60,
//               .summary = "one line for --list", .chart = true};
//     }
//     Result run(Context& ctx) override {
//       Result r;
//       double seq = time_seconds([&] { ... });
//       double par = time_seconds([&] { ... });
//       r.rows.push_back({.what = "sequential", .seconds = seq, .speedup = 1.0});
//       r.rows.push_back({.what = "parallel", .seconds = par, .speedup = seq / par});
//       r.figures.emplace_back("speedup", seq / par);
//       r.conclusion = format("parallel ran %.1fx faster", seq / par);
//       // Not timings? Leave .chart false and draw r.picture (see lesson_shared.cpp).
//       return r;
//     }
//   };
//   const Registration registered{std::make_unique<Example>()};
//   }  // namespace
//   }  // namespace trident::tour
//
// The project builds with -Wextra: a designated initializer must name every field before the last
// one it sets (e.g. `.speedup = std::nullopt` when a Row has a detail but no speedup).
//
// A lesson file that includes a trident module header is compiled only when that module is built
// (tools/CMakeLists.txt reads its includes), so a lesson may depend on any module.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

namespace trident::tour {

/// What `trident tour` was asked for (its command-line options, with defaults applied).
struct Options {
  bool quick = false;  ///< --quick: small sizes, a few seconds in all (tests use it)
  int pages = 24;      ///< --pages: pages the IO lesson fetches
  int delay_ms = 100;  ///< --delay-ms: the embedded server answers each request after this
  int workers = 8;     ///< --workers: ThreadPoolExecutor size of the IO and futures lessons
  unsigned cores = 1;  ///< std::thread::hardware_concurrency() (at least 1)
};

class Progress;

/// What a running lesson may use: the options and helpers the tour owns.
class Context {
 public:
  virtual ~Context() = default;
  /// The tour's options (sizes already scaled down when --quick).
  virtual const Options& options() const = 0;
  bool quick() const { return options().quick; }
  /// Base URL ("http://127.0.0.1:PORT") of the embedded HTTP server, started on first use and
  /// stopped when the tour ends. `GET /page/N` answers after --delay-ms with a small page;
  /// `?delay_ms=D` overrides the delay for one request.
  virtual std::string server_url() = 0;
  /// Starts a progress phase of `total` steps named `label`. On a terminal, a bar appears once
  /// the phase has lasted a second; off a terminal nothing is drawn. Ends when destroyed.
  virtual std::unique_ptr<Progress> progress(std::string label, std::int64_t total) = 0;
};

/// A progress phase (see Context::progress). `advance` may be called from any thread.
class Progress {
 public:
  virtual ~Progress() = default;
  virtual void advance(std::int64_t steps = 1) = 0;
};

/// One line of a lesson's table.
struct Row {
  std::string what;               ///< what ran, e.g. "4 threads (one per core)"
  double seconds = 0;             ///< wall time, > 0
  std::optional<double> speedup;  ///< against the lesson's sequential run (1.0 on that row)
  std::string detail;             ///< what came out, e.g. "balance = 0"
};

/// A named figure of the JSON document: a number, a flag or a text.
using Value = std::variant<std::int64_t, double, bool, std::string>;
using Figure = std::pair<std::string, Value>;

/// One row of a lesson's picture: values drawn as columns along the row, left to right (one per
/// run, or per slice of time).
struct Series {
  std::string label;              ///< left of the row, like a table row's `what`
  std::vector<double> values;     ///< one column each, >= 0
  double scale = 0;               ///< the value a full-height column stands for (0: the largest value)
  std::optional<double> limit;    ///< drawn as a dashed line across the row (e.g. a semaphore's value)
  std::string note;               ///< right of the row: what the columns came to
  std::string color = "#b33a3a";  ///< of the columns
};

/// A lesson's picture for --svg when its point is not a timing (LessonInfo::chart draws the rows'
/// timings instead): rows of columns, with one line saying what a column is.
struct Picture {
  std::vector<Series> rows;
  std::string axis;  ///< under the rows, e.g. "one column per run"
};

/// What a lesson measured.
struct Result {
  std::vector<Row> rows;
  std::vector<Figure> figures;
  std::string conclusion;  ///< one line, drawn from the numbers above
  Picture picture;         ///< optional: no rows, no picture
};

/// How a lesson presents itself.
struct LessonInfo {
  std::string name;     ///< selector on the command line: lowercase, no spaces ("cpu")
  std::string title;    ///< heading, e.g. "CPU-bound work: count primes"
  int order = 100;      ///< position in the tour (cpu 10, io 20, shared 30, coordination 40, futures 50)
  std::string summary;  ///< one line shown by --list
  bool chart = false;   ///< its rows are timings worth a bar chart (--svg); else Result::picture may draw one
};

/// A lesson: implement `info` and `run`, then register one instance (see Registration).
class Lesson {
 public:
  virtual ~Lesson() = default;
  virtual LessonInfo info() const = 0;
  /// Runs the lesson. May throw; the tour reports the error and exits non-zero.
  virtual Result run(Context& ctx) = 0;
};

/// Every registered lesson, sorted by `order`.
std::vector<Lesson*> lessons();

/// Registers a lesson at static initialisation: `const Registration registered{std::make_unique<L>()};`
struct Registration {
  explicit Registration(std::unique_ptr<Lesson> lesson);
};

/// Wall time of `fn()` in seconds (steady clock).
template <class F>
double time_seconds(F&& fn) {
  auto start = std::chrono::steady_clock::now();
  std::forward<F>(fn)();
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

/// printf-style formatting into a std::string (GCC 12 has no std::format).
std::string format(const char* fmt, ...) __attribute__((format(printf, 1, 2)));

/// "1.23 s", "45.6 ms" or "789 µs": a duration for people.
std::string human_seconds(double seconds);

}  // namespace trident::tour
