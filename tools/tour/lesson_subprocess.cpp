// Lesson "subprocess": other programs run in parallel for free. Note 001 shows subprocess.call and
// Popen; a program that runs N external commands one after another waits N times, while N Popens
// started at once wait about once — the children run concurrently while the parent just waits.
// Each command is `sleep D` (a fixed, short duration), so the ideal speedup is N.
#include <string>
#include <vector>

#include "tour/lesson.hpp"
#include "trident/errors.hpp"
#include "trident/subprocess.hpp"

namespace trident::tour {
namespace {

class SubprocessLesson final : public Lesson {
 public:
  LessonInfo info() const override {
    return {.name = "subprocess",
            .title = "External commands: N short commands one after another vs N Popen at once",
            .order = 60,
            .summary = "N `sleep D` commands with subprocess::call, then N Popen started together",
            .chart = true};
  }

  Result run(Context& ctx) override {
    const int n = ctx.quick() ? 8 : 16;
    const double d = ctx.quick() ? 0.05 : 0.1;
    const std::string dur = format("%.2f", d);
    auto progress = ctx.progress("subprocess: running commands", 2 * static_cast<std::int64_t>(n));

    int failures = 0;
    double seq = time_seconds([&] {
      for (int i = 0; i < n; ++i) {
        if (subprocess::call({"sleep", dur}) != 0) ++failures;
        progress->advance();
      }
    });
    double par = time_seconds([&] {
      std::vector<subprocess::Popen> children;
      children.reserve(static_cast<std::size_t>(n));
      for (int i = 0; i < n; ++i) children.emplace_back(subprocess::Args{"sleep", dur});
      for (auto& c : children) {
        if (c.wait() != 0) ++failures;
        progress->advance();
      }
    });
    progress.reset();
    if (failures != 0) throw RuntimeError(format("subprocess lesson: %d commands failed", failures));

    const double speedup = seq / par;
    Result r;
    r.rows.push_back({.what = format("sequential: %d x `sleep %s` with call()", n, dur.c_str()),
                      .seconds = seq,
                      .speedup = 1.0,
                      .detail = format("ideal %s", human_seconds(n * d).c_str())});
    r.rows.push_back({.what = format("parallel: %d Popen started at once, then wait()", n),
                      .seconds = par,
                      .speedup = speedup,
                      .detail = format("ideal %s", human_seconds(d).c_str())});
    r.figures.emplace_back("commands", static_cast<std::int64_t>(n));
    r.figures.emplace_back("command_seconds", d);
    r.figures.emplace_back("sequential_seconds", seq);
    r.figures.emplace_back("parallel_seconds", par);
    r.figures.emplace_back("speedup", speedup);
    r.conclusion = format(
        "%d commands at once took %s instead of %s: %.1fx faster (ideal %dx) — a child runs on its own; "
        "the parent only waits",
        n, human_seconds(par).c_str(), human_seconds(seq).c_str(), speedup, n);
    return r;
  }
};

const Registration registered{std::make_unique<SubprocessLesson>()};

}  // namespace
}  // namespace trident::tour
