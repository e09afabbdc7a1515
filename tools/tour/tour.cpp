// `trident tour` (the lessons, their tables, --json and --svg) and `trident serve`.
#include "tour/tour.hpp"

#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <memory>
#include <stdexcept>
#include <thread>

#include "tour/http.hpp"
#include "tour/json.hpp"
#include "tour/lesson.hpp"
#include "tour/progress.hpp"
#include "tour/svg.hpp"

namespace trident::tour {
namespace {

// A bad command line: reported as "trident tour: MESSAGE" with exit status 2.
struct UsageError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

int parse_int(const std::string& option, const std::string& text, int lo, int hi) {
  size_t used = 0;
  long v = 0;
  try {
    v = std::stol(text, &used, 10);
  } catch (const std::exception&) {
    used = 0;
  }
  if (used == 0 || used != text.size()) {
    throw UsageError("option " + option + " expects an integer, got '" + text + "'");
  }
  if (v < lo || v > hi) {
    throw UsageError(format("option %s must be between %d and %d, got %ld", option.c_str(), lo, hi, v));
  }
  return static_cast<int>(v);
}

// Walks argv, splitting "--opt=value" and taking "--opt value".
class ArgReader {
 public:
  explicit ArgReader(const std::vector<std::string>& args) : args_(args) {}
  bool next() {
    if (pos_ >= args_.size()) return false;
    const std::string& a = args_[pos_++];
    inline_value_.reset();
    size_t eq = a.find('=');
    if (a.rfind("--", 0) == 0 && eq != std::string::npos) {
      current_ = a.substr(0, eq);
      inline_value_ = a.substr(eq + 1);
    } else {
      current_ = a;
    }
    return true;
  }
  const std::string& current() const { return current_; }
  std::string value() {
    if (inline_value_) return *std::exchange(inline_value_, std::nullopt);
    if (pos_ >= args_.size()) throw UsageError("option " + current_ + " expects a value");
    return args_[pos_++];
  }
  void no_value() const {
    if (inline_value_) throw UsageError("option " + current_ + " takes no value");
  }

 private:
  const std::vector<std::string>& args_;
  size_t pos_ = 0;
  std::string current_;
  std::optional<std::string> inline_value_;
};

// Terminal columns a UTF-8 string takes (every code point here is one column wide).
size_t width(const std::string& s) {
  return static_cast<size_t>(std::count_if(s.begin(), s.end(), [](char c) { return (c & 0xC0) != 0x80; }));
}

std::string pad_right(const std::string& s, size_t w) { return s + std::string(w > width(s) ? w - width(s) : 0, ' '); }
std::string pad_left(const std::string& s, size_t w) { return std::string(w > width(s) ? w - width(s) : 0, ' ') + s; }

std::string speedup_text(const std::optional<double>& s) { return s ? format("%.2fx", *s) : "—"; }

void print_table(std::ostream& out, const Result& r) {
  std::vector<std::array<std::string, 4>> cells = {{"what ran", "wall time", "speedup", "result"}};
  for (const Row& row : r.rows) {
    cells.push_back({row.what, human_seconds(row.seconds), speedup_text(row.speedup), row.detail});
  }
  std::array<size_t, 4> w{};
  for (auto& line : cells)
    for (size_t i = 0; i < 4; ++i) w[i] = std::max(w[i], width(line[i]));
  for (size_t n = 0; n < cells.size(); ++n) {
    auto& c = cells[n];
    out << "   " << pad_right(c[0], w[0]) << "  " << pad_left(c[1], w[1]) << "  " << pad_left(c[2], w[2]) << "  "
        << c[3] << '\n';
    if (n == 0) {
      out << "   " << std::string(w[0], '-') << "  " << std::string(w[1], '-') << "  " << std::string(w[2], '-') << "  "
          << std::string(std::max<size_t>(w[3], 6), '-') << '\n';
    }
  }
  out << "   => " << r.conclusion << '\n';
}

void write_value(JsonWriter& j, const Value& v) {
  std::visit([&](const auto& x) { j.value(x); }, v);
}

class TourContext final : public Context {
 public:
  TourContext(Options options, int progress_fd) : options_(options), progress_fd_(progress_fd) {}
  const Options& options() const override { return options_; }
  std::string server_url() override {
    if (!server_) server_ = std::make_unique<HttpServer>(HttpServer::Options{.delay = delay()});
    return server_->url();
  }
  std::unique_ptr<Progress> progress(std::string label, std::int64_t total) override {
    std::cout.flush();
    return make_progress(std::move(label), total, progress_fd_);
  }
  void stop_server() { server_.reset(); }

 private:
  std::chrono::milliseconds delay() const { return std::chrono::milliseconds(options_.delay_ms); }
  Options options_;
  int progress_fd_;
  std::unique_ptr<HttpServer> server_;
};

struct Outcome {
  Lesson* lesson;
  LessonInfo info;
  Result result;
  double seconds = 0;
  std::string error;
};

void write_json(std::ostream& out, const Options& o, const std::vector<Outcome>& outcomes, double total) {
  JsonWriter j(out);
  j.begin_object();
  j.key("tool");
  j.value("trident tour");
  j.key("quick");
  j.value(o.quick);
  j.key("options");
  j.begin_object();
  j.key("pages");
  j.value(o.pages);
  j.key("delay_ms");
  j.value(o.delay_ms);
  j.key("workers");
  j.value(o.workers);
  j.key("cores");
  j.value(static_cast<std::int64_t>(o.cores));
  j.end_object();
  j.key("lessons");
  j.begin_array();
  for (const Outcome& oc : outcomes) {
    j.begin_object();
    j.key("name");
    j.value(oc.info.name);
    j.key("title");
    j.value(oc.info.title);
    j.key("seconds");
    j.value(oc.seconds);
    j.key("ok");
    j.value(oc.error.empty());
    if (!oc.error.empty()) {
      j.key("error");
      j.value(oc.error);
    }
    j.key("rows");
    j.begin_array();
    for (const Row& r : oc.result.rows) {
      j.begin_object();
      j.key("what");
      j.value(r.what);
      j.key("seconds");
      j.value(r.seconds);
      j.key("speedup");
      if (r.speedup) {
        j.value(*r.speedup);
      } else {
        j.null();
      }
      j.key("detail");
      j.value(r.detail);
      j.end_object();
    }
    j.end_array();
    j.key("figures");
    j.begin_object();
    for (const auto& [name, v] : oc.result.figures) {
      j.key(name);
      write_value(j, v);
    }
    j.end_object();
    j.key("conclusion");
    j.value(oc.result.conclusion);
    j.end_object();
  }
  j.end_array();
  j.key("total_seconds");
  j.value(total);
  j.end_object();
}

void write_svg_file(const std::string& path, const Options& o, const std::vector<Outcome>& outcomes) {
  std::vector<Panel> panels;
  for (const Outcome& oc : outcomes) {
    if ((!oc.info.chart && oc.result.picture.rows.empty()) || !oc.error.empty()) continue;
    Panel p{.name = oc.info.name,
            .title = oc.info.title,
            .bars = {},
            .picture = oc.result.picture,
            .caption = oc.result.conclusion};
    if (oc.info.chart) {
      for (const Row& r : oc.result.rows) p.bars.push_back({r.what, r.seconds});
    }
    panels.push_back(std::move(p));
  }
  std::ofstream f(path);
  if (!f) throw std::runtime_error("cannot write --svg file '" + path + "'");
  write_svg(f, format("trident tour — what each lesson measured (%u cores%s)", o.cores, o.quick ? ", --quick" : ""),
            panels);
  f.close();
  if (!f) throw std::runtime_error("cannot write --svg file '" + path + "'");
}

void list_lessons(std::ostream& out) {
  out << "Lessons of `trident tour`, in order (run some with `trident tour NAME...`):\n";
  size_t w = 0;
  for (Lesson* l : lessons()) w = std::max(w, l->info().name.size());
  for (Lesson* l : lessons()) {
    LessonInfo info = l->info();
    out << "  " << pad_right(info.name, w) << "  " << info.title << "\n  " << std::string(w, ' ') << "  "
        << info.summary << '\n';
  }
}

}  // namespace

std::string tour_help() {
  return "usage: trident tour [OPTIONS] [LESSON...]\n"
         "\n"
         "Replays the lessons of the seed notes on Python threads live, with trident, and shows what\n"
         "was measured: for each lesson a table (what ran, wall time, speedup against the sequential\n"
         "run, result) and a conclusion drawn from those numbers. Runs every lesson unless some are\n"
         "named (see --list). Needs nothing outside this machine: the IO lessons talk to an HTTP\n"
         "server the tour starts on 127.0.0.1.\n"
         "\n"
         "options:\n"
         "  --list           list the lessons and exit\n"
         "  --quick          small sizes: the whole tour in a few seconds (used by the tests)\n"
         "  --json           print one JSON document with every figure instead of the tables\n"
         "  --svg FILE       also write a chart of the lessons (timings, lost updates, ...) to FILE (SVG)\n"
         "  --pages N        pages the IO lesson fetches (1..10000; default 24, 8 with --quick)\n"
         "  --delay-ms N     the server answers each request after N ms (0..10000; default 100,\n"
         "                   20 with --quick)\n"
         "  --workers N      ThreadPoolExecutor size of the IO and futures lessons (1..256; default 8,\n"
         "                   4 with --quick)\n"
         "  -h, --help       show this text and exit\n"
         "\n"
         "On a terminal a phase that lasts over a second shows a progress bar; off a terminal no\n"
         "control characters are printed. Exit status: 0 ok, 1 a lesson failed, 2 bad usage.\n";
}

std::string serve_help() {
  return "usage: trident serve [--port N] [--delay-ms N] [--print-port]\n"
         "\n"
         "Runs the tour's HTTP server on 127.0.0.1 (never another address) until SIGINT or SIGTERM,\n"
         "or until the process that started it exits. GET /page/N answers a small page after the\n"
         "delay; ?delay_ms=D overrides the delay for one request. The examples' tests use it in\n"
         "place of the internet.\n"
         "\n"
         "options:\n"
         "  --port N         port to listen on (0..65535; default 0: any free port)\n"
         "  --delay-ms N     answer each request after N ms (0..10000; default 0)\n"
         "  --print-port     print the port on its own line once listening\n"
         "  -h, --help       show this text and exit\n";
}

int tour_main(const std::vector<std::string>& args) {
  Options o;
  o.cores = std::max(1u, std::thread::hardware_concurrency());
  bool list = false, json = false;
  std::optional<int> pages, delay_ms, workers;
  std::string svg;
  std::vector<std::string> selected;
  try {
    ArgReader r(args);
    while (r.next()) {
      const std::string& a = r.current();
      if (a == "-h" || a == "--help") {
        std::cout << tour_help();
        return 0;
      } else if (a == "--list") {
        r.no_value();
        list = true;
      } else if (a == "--quick") {
        r.no_value();
        o.quick = true;
      } else if (a == "--json") {
        r.no_value();
        json = true;
      } else if (a == "--svg") {
        svg = r.value();
        if (svg.empty()) throw UsageError("option --svg expects a file name");
      } else if (a == "--pages") {
        pages = parse_int(a, r.value(), 1, 10000);
      } else if (a == "--delay-ms") {
        delay_ms = parse_int(a, r.value(), 0, 10000);
      } else if (a == "--workers") {
        workers = parse_int(a, r.value(), 1, 256);
      } else if (a.size() > 1 && a[0] == '-') {
        throw UsageError("unknown option '" + a + "' (see trident tour --help)");
      } else {
        const std::vector<Lesson*> all = lessons();
        bool known = std::any_of(all.begin(), all.end(), [&](Lesson* l) { return l->info().name == a; });
        if (!known) throw UsageError("unknown lesson '" + a + "' (see trident tour --list)");
        if (std::find(selected.begin(), selected.end(), a) == selected.end()) selected.push_back(a);
      }
    }
  } catch (const UsageError& e) {
    std::cerr << "trident tour: " << e.what() << '\n';
    return 2;
  }
  if (list) {
    list_lessons(std::cout);
    return 0;
  }
  o.pages = pages.value_or(o.quick ? 8 : 24);
  o.delay_ms = delay_ms.value_or(o.quick ? 20 : 100);
  o.workers = workers.value_or(o.quick ? 4 : 8);

  // The bar is drawn where people look: on stdout when the tables go there, on stderr under
  // --json (stdout then holds a document a program reads); never on a file or a pipe.
  int bar_fd = json ? (::isatty(2) ? 2 : -1) : (::isatty(1) ? 1 : -1);
  TourContext ctx(o, bar_fd);

  std::vector<Outcome> outcomes;
  for (Lesson* l : lessons()) {
    LessonInfo info = l->info();
    if (selected.empty() || std::find(selected.begin(), selected.end(), info.name) != selected.end()) {
      outcomes.push_back({l, info, {}, 0, {}});
    }
  }

  auto& out = std::cout;
  if (!json) {
    out << "trident tour — the seed notes' lessons, run live in C++ with trident (" << o.cores << " cores"
        << (o.quick ? ", --quick" : "") << ")\n";
  }
  int failed = 0;
  double total = time_seconds([&] {
    int n = 0;
    for (Outcome& oc : outcomes) {
      ++n;
      if (!json) {
        out << '\n' << n << ". " << oc.info.title << '\n';
        out.flush();
      }
      try {
        oc.seconds = time_seconds([&] { oc.result = oc.lesson->run(ctx); });
      } catch (const std::exception& e) {
        oc.error = e.what();
        ++failed;
      }
      if (!json) {
        if (oc.error.empty()) {
          print_table(out, oc.result);
        } else {
          out << "   lesson failed: " << oc.error << '\n';
        }
        out.flush();
      }
    }
    ctx.stop_server();
  });
  if (json) {
    write_json(out, o, outcomes, total);
  } else {
    out << "\ntour finished in " << human_seconds(total) << (failed ? format(", %d lesson(s) failed", failed) : "")
        << '\n';
  }
  if (!svg.empty()) {
    try {
      write_svg_file(svg, o, outcomes);
      if (!json) out << "chart written to " << svg << '\n';
    } catch (const std::exception& e) {
      std::cerr << "trident tour: " << e.what() << '\n';
      return 1;
    }
  }
  for (const Outcome& oc : outcomes) {
    if (!oc.error.empty()) std::cerr << "trident tour: lesson " << oc.info.name << " failed: " << oc.error << '\n';
  }
  out.flush();
  return failed ? 1 : 0;
}

int serve_main(const std::vector<std::string>& args) {
  int port = 0, delay_ms = 0;
  bool print_port = false;
  try {
    ArgReader r(args);
    while (r.next()) {
      const std::string& a = r.current();
      if (a == "-h" || a == "--help") {
        std::cout << serve_help();
        return 0;
      } else if (a == "--port") {
        port = parse_int(a, r.value(), 0, 65535);
      } else if (a == "--delay-ms") {
        delay_ms = parse_int(a, r.value(), 0, 10000);
      } else if (a == "--print-port") {
        r.no_value();
        print_port = true;
      } else {
        throw UsageError("unknown option '" + a + "' (see trident serve --help)");
      }
    }
  } catch (const UsageError& e) {
    std::cerr << "trident serve: " << e.what() << '\n';
    return 2;
  }
  // Block the stop signals before any thread exists, so every thread inherits the mask and only
  // sigtimedwait below receives them.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);
  pid_t parent = ::getppid();
  try {
    HttpServer server({.port = port, .delay = std::chrono::milliseconds(delay_ms)});
    if (print_port) {
      std::cout << server.port() << std::endl;
    } else {
      std::cerr << "trident serve: listening on " << server.url() << '\n';
    }
    timespec tick{1, 0};
    // Also stop when the parent goes away, so a killed test runner never leaves a server behind.
    while (::getppid() == parent) {
      int sig = ::sigtimedwait(&stop_signals, nullptr, &tick);
      if (sig == SIGINT || sig == SIGTERM) break;
    }
    server.stop();
  } catch (const std::exception& e) {
    std::cerr << "trident serve: " << e.what() << '\n';
    return 1;
  }
  return 0;
}

}  // namespace trident::tour
