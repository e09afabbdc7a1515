// The lesson registry and the small text helpers lessons share.
#include "tour/lesson.hpp"

#include <algorithm>
#include <cstdarg>
#include <cstdio>

namespace trident::tour {
namespace {

// Function-local static: registrations run during static initialisation of other files, in an
// order C++ does not fix, so the list must exist before the first of them.
std::vector<std::unique_ptr<Lesson>>& registry() {
  static std::vector<std::unique_ptr<Lesson>> all;
  return all;
}

}  // namespace

Registration::Registration(std::unique_ptr<Lesson> lesson) { registry().push_back(std::move(lesson)); }

std::vector<Lesson*> lessons() {
  std::vector<Lesson*> out;
  for (auto& l : registry()) out.push_back(l.get());
  std::stable_sort(out.begin(), out.end(), [](Lesson* a, Lesson* b) { return a->info().order < b->info().order; });
  return out;
}

std::string format(const char* fmt, ...) {
  va_list args;
  va_start(args, fmt);
  va_list copy;
  va_copy(copy, args);
  int n = std::vsnprintf(nullptr, 0, fmt, copy);
  va_end(copy);
  std::string out(n > 0 ? static_cast<size_t>(n) : 0, '\0');
  if (n > 0) std::vsnprintf(out.data(), out.size() + 1, fmt, args);
  va_end(args);
  return out;
}

std::string human_seconds(double seconds) {
  if (seconds >= 1.0) return format("%.2f s", seconds);
  if (seconds >= 1e-3) return format("%.1f ms", seconds * 1e3);
  return format("%.0f µs", seconds * 1e6);
}

}  // namespace trident::tour
