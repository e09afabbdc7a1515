// tools/tour/svg.hpp — the chart of `trident tour --svg FILE`.
#pragma once

#include <ostream>
#include <string>
#include <vector>

#include "tour/lesson.hpp"

namespace trident::tour {

/// One bar: a label and a duration.
struct Bar {
  std::string label;
  double seconds = 0;
};

/// One panel of the chart: a lesson's timings as bars scaled to that lesson's slowest, and/or its
/// picture as rows of columns.
struct Panel {
  std::string name;  ///< the lesson's name: the panel's id ("panel-NAME")
  std::string title;
  std::vector<Bar> bars;
  Picture picture;
  std::string caption;  ///< the lesson's conclusion, under its bars
};

/// Writes a standalone SVG document: a title, then one panel per lesson. The label column is as
/// wide as the longest label needs, and the picture widens to keep the texts right of the bars
/// inside it. Text is XML-escaped.
void write_svg(std::ostream& out, const std::string& title, const std::vector<Panel>& panels);

/// An estimate, on the generous side, of how wide `text` renders in a sans-serif font of `size`
/// pixels (per-character classes measured on DejaVu Sans, the widest common default).
double text_width(const std::string& text, double size);

}  // namespace trident::tour
