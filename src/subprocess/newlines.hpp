// subprocess/newlines.hpp — Python's universal newlines, applied to bytes as they arrive.
#pragma once

#include <cstddef>

namespace trident::subprocess::detail {

/// Rewrites `data[0, n)` in place so "\r\n" and "\r" become "\n"; returns the new length.
/// `skip_lf` carries a "\r" that ended the previous chunk: a "\n" starting this one is dropped.
inline std::size_t translate_newlines(char* data, std::size_t n, bool& skip_lf) noexcept {
  std::size_t out = 0;
  for (std::size_t i = 0; i < n; ++i) {
    char c = data[i];
    if (skip_lf) {
      skip_lf = false;
      if (c == '\n') continue;
    }
    if (c == '\r') {
      c = '\n';
      skip_lf = true;
    }
    data[out++] = c;
  }
  return out;
}

}  // namespace trident::subprocess::detail
