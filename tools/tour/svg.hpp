// tools/tour/svg.hpp — the bar chart of `trident tour --svg FILE`.
#pragma once

#include <ostream>
#include <string>
#include <vector>

namespace trident::tour {

/// One bar: a label and a duration.
struct Bar {
  std::string label;
  double seconds = 0;
};

/// One panel of the chart: a lesson's timings, scaled to that lesson's slowest bar.
struct Panel {
  std::string title;
  std::vector<Bar> bars;
  std::string caption;  ///< the lesson's conclusion, under its bars
};

/// Writes a standalone SVG document: a title, then one panel of horizontal bars per lesson, each
/// bar labelled with its time. Text is XML-escaped.
void write_svg(std::ostream& out, const std::string& title, const std::vector<Panel>& panels);

}  // namespace trident::tour
