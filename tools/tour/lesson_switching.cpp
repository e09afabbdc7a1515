// Lesson "switching": note 002's greenlet example (test1/test2/test3 switching explicitly, printing
// 12, 56, 777, 34, 68 — test2 finishing returns to its parent, main, so 78 never prints), replayed
// live, then a million switches timed against the figure CPython's greenlet gets for the same
// ping-pong (measured by running bench/peers/greenlet_bench.py with /usr/bin/python3 when it has
// greenlet; otherwise that row is left out).
#include <unistd.h>

#include <cstdio>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "tour/lesson.hpp"
#include "trident/errors.hpp"
#include "trident/greenlet.hpp"
#include "trident/subprocess.hpp"

namespace trident::tour {
namespace {

using trident::greenlet::getcurrent;
using trident::greenlet::greenlet;

// Note 002's three functions; what they print is collected in `out`.
std::string note002_ordering() {
  std::string out;
  auto say = [&](int v) { out += (out.empty() ? "" : " ") + std::to_string(v); };
  std::optional<greenlet> gr1, gr2, gr3;
  gr1.emplace([&] {
    say(12);
    gr2->switch_();
    say(34);
    gr2->switch_();
  });
  gr2.emplace([&] {
    say(56);
    gr3->switch_();
    say(68);
  });
  gr3.emplace([&] {
    say(777);
    gr1->switch_();
  });
  gr1->switch_();
  return out;
}

// CPython greenlet's nanoseconds per switch, from the benchmark peer; nullopt when unavailable.
std::optional<double> cpython_switch_ns(bool quick) {
  std::string peer = std::string(TRIDENT_SOURCE_DIR) + "/bench/peers/greenlet_bench.py";
  if (::access("/usr/bin/python3", X_OK) != 0 || ::access(peer.c_str(), R_OK) != 0) return std::nullopt;
  std::vector<std::string> args{"/usr/bin/python3", peer};
  if (quick) args.emplace_back("--quick");
  args.emplace_back("greenlet_switch_ns");
  std::string out;
  try {
    subprocess::RunOptions options;
    options.timeout = Seconds{120};
    options.stderr = subprocess::DEVNULL;
    out = subprocess::check_output(args, std::move(options));
  } catch (const Exception&) {
    return std::nullopt;
  }
  auto at = out.find("\"value\":");
  if (at == std::string::npos) return std::nullopt;  // python3 without greenlet: the peer prints nothing
  double ns = 0;
  if (std::sscanf(out.c_str() + at + 8, "%lf", &ns) != 1 || ns <= 0) return std::nullopt;
  return ns;
}

class SwitchingLesson final : public Lesson {
 public:
  LessonInfo info() const override {
    return {.name = "switching",
            .title = "Greenlets: note 002's explicit switching, then a million switches",
            .order = 70,
            .summary = "test1/test2/test3 switching live; 1 000 000 switches vs CPython's greenlet",
            .chart = false};
  }

  Result run(Context& ctx) override {
    Result r;
    std::string printed;
    double ordering = time_seconds([&] { printed = note002_ordering(); });
    r.rows.push_back({.what = "note 002: gr1.switch() -> test1 -> test2 -> test3 -> test1 -> test2",
                      .seconds = ordering,
                      .speedup = std::nullopt,
                      .detail = "printed " + printed});

    constexpr long kSwitches = 1000000;
    greenlet main = getcurrent();
    greenlet partner([&] {
      for (;;) main.switch_<void>();
    });
    for (int i = 0; i < 10000; ++i) partner.switch_<void>();  // warm: caches and branch predictors
    double ours = time_seconds([&] {
      for (long i = 0; i < kSwitches / 2; ++i) partner.switch_<void>();  // there and back: 2 switches
    });
    const double ours_ns = ours / kSwitches * 1e9;

    std::optional<double> py_ns;
    {
      auto progress = ctx.progress("switching: measuring CPython's greenlet", 1);
      py_ns = cpython_switch_ns(ctx.quick());
    }
    if (py_ns) {
      r.rows.push_back({.what = "CPython greenlet: 1 000 000 switches (bench peer)",
                        .seconds = *py_ns * kSwitches / 1e9,
                        .speedup = std::nullopt,
                        .detail = format("%.0f ns per switch", *py_ns)});
    }
    r.rows.push_back({.what = "trident greenlet: 1 000 000 switches",
                      .seconds = ours,
                      .speedup = std::nullopt,
                      .detail = format("%.1f ns per switch", ours_ns)});

    r.figures.emplace_back("printed", printed);
    r.figures.emplace_back("ordering_ok", printed == "12 56 777 34 68");
    r.figures.emplace_back("switches", static_cast<std::int64_t>(kSwitches));
    r.figures.emplace_back("switch_ns", ours_ns);
    r.figures.emplace_back("cpython_measured", py_ns.has_value());
    if (py_ns) {
      r.figures.emplace_back("cpython_switch_ns", *py_ns);
      r.figures.emplace_back("speedup_vs_cpython", *py_ns / ours_ns);
      r.conclusion = format(
          "note 002 printed %s (test2's end returns to main, so 78 never prints); a switch costs %.1f ns here "
          "against %.0f ns in CPython's greenlet: %.0fx faster",
          printed.c_str(), ours_ns, *py_ns, *py_ns / ours_ns);
    } else {
      r.conclusion = format(
          "note 002 printed %s (test2's end returns to main, so 78 never prints); a switch costs %.1f ns here "
          "(CPython's greenlet is not installed for /usr/bin/python3, so no comparison)",
          printed.c_str(), ours_ns);
    }
    return r;
  }
};

const Registration registered{std::make_unique<SwitchingLesson>()};

}  // namespace
}  // namespace trident::tour
