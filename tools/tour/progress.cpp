// Terminal progress bar: a trident thread redraws it while the phase runs.
#include "tour/progress.hpp"

#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <string_view>

#include "trident/threading.hpp"

namespace trident::tour {
namespace {

class NoProgress final : public Progress {
 public:
  void advance(std::int64_t) override {}
};

void write_all(int fd, std::string_view s) {
  while (!s.empty()) {
    ssize_t n = ::write(fd, s.data(), s.size());
    if (n <= 0) return;  // a terminal that went away: the bar is cosmetic, drop it
    s.remove_prefix(static_cast<size_t>(n));
  }
}

class TerminalProgress final : public Progress {
 public:
  TerminalProgress(std::string label, std::int64_t total, int fd)
      : label_(std::move(label)),
        total_(std::max<std::int64_t>(total, 1)),
        fd_(fd),
        drawer_({.name = "tour-progress", .daemon = true}, [this] { draw_loop(); }) {
    drawer_.start();
  }
  ~TerminalProgress() override {
    done_.set();
    drawer_.join();
  }
  void advance(std::int64_t steps) override { done_steps_.fetch_add(steps, std::memory_order_relaxed); }

 private:
  void draw_loop() {
    auto start = std::chrono::steady_clock::now();
    bool drawn = false;
    // Wait in tenths of a second until the phase ends; draw once it has lasted a second.
    while (!done_.wait(std::chrono::milliseconds(100))) {
      double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
      if (elapsed < 1.0) continue;
      std::int64_t n = std::min(done_steps_.load(std::memory_order_relaxed), total_);
      constexpr int kCells = 30;
      int full = static_cast<int>(kCells * n / total_);
      std::string line = "\r  " + label_ + " [";
      for (int i = 0; i < kCells; ++i) line += i < full ? "#" : "-";
      line += format("] %3d%%  %lld/%lld  %.1f s", static_cast<int>(100 * n / total_), static_cast<long long>(n),
                     static_cast<long long>(total_), elapsed);
      line += "\x1b[K";  // erase what a longer previous line left
      write_all(fd_, line);
      drawn = true;
    }
    if (drawn) write_all(fd_, "\r\x1b[K");
  }

  std::string label_;
  std::int64_t total_;
  int fd_;
  std::atomic<std::int64_t> done_steps_{0};
  threading::Event done_;
  threading::Thread drawer_;
};

}  // namespace

std::unique_ptr<Progress> make_progress(std::string label, std::int64_t total, int fd) {
  if (fd < 0) return std::make_unique<NoProgress>();
  return std::make_unique<TerminalProgress>(std::move(label), total, fd);
}

}  // namespace trident::tour
