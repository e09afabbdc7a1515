// SVG bar chart for `trident tour --svg FILE`.
#include "tour/svg.hpp"

#include <algorithm>
#include <string>
#include <vector>

#include "tour/lesson.hpp"

namespace trident::tour {
namespace {

std::string xml_escape(const std::string& s) {
  std::string out;
  for (char c : s) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&apos;";
        break;
      default:
        // Control characters are not allowed in XML 1.0 text.
        if (static_cast<unsigned char>(c) >= 0x20 || c == '\n' || c == '\t') out += c;
    }
  }
  return out;
}

// Splits `text` at spaces into lines of at most `width` characters (a long word stays whole).
std::vector<std::string> wrap(const std::string& text, size_t width) {
  std::vector<std::string> lines;
  std::string line;
  size_t start = 0;
  while (start < text.size()) {
    size_t end = text.find(' ', start);
    if (end == std::string::npos) end = text.size();
    std::string word = text.substr(start, end - start);
    if (!line.empty() && line.size() + 1 + word.size() > width) {
      lines.push_back(line);
      line.clear();
    }
    line += (line.empty() ? "" : " ") + word;
    start = end + 1;
  }
  if (!line.empty()) lines.push_back(line);
  return lines;
}

constexpr size_t kCaptionChars = 120;
constexpr int kCaptionLine = 17;
constexpr int kWidth = 900;
constexpr int kLabelWidth = 300;
constexpr int kBarMax = 460;
constexpr int kBarHeight = 20;
constexpr int kBarGap = 8;
const char* const kColors[] = {"#8c8c8c", "#2f6fb3", "#e08a1e", "#3a9a5b", "#b33a3a", "#7a4fb3"};

}  // namespace

void write_svg(std::ostream& out, const std::string& title, const std::vector<Panel>& panels) {
  int height = 60;
  for (const Panel& p : panels) {
    height += 40 + static_cast<int>(p.bars.size()) * (kBarHeight + kBarGap) +
              static_cast<int>(wrap(p.caption, kCaptionChars).size()) * kCaptionLine + 16;
  }
  out << "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
      << "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" << kWidth << "\" height=\"" << height
      << "\" viewBox=\"0 0 " << kWidth << ' ' << height << "\" font-family=\"sans-serif\" font-size=\"13\">\n"
      << "<title>" << xml_escape(title) << "</title>\n"
      << "<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n"
      << "<text x=\"20\" y=\"32\" font-size=\"18\" font-weight=\"bold\">" << xml_escape(title) << "</text>\n";
  int y = 60;
  for (const Panel& p : panels) {
    out << "<g>\n<text x=\"20\" y=\"" << y + 16 << "\" font-size=\"15\" font-weight=\"bold\">" << xml_escape(p.title)
        << "</text>\n";
    y += 28;
    double slowest = 0;
    for (const Bar& b : p.bars) slowest = std::max(slowest, b.seconds);
    int i = 0;
    for (const Bar& b : p.bars) {
      int w = slowest > 0 ? std::max(1, static_cast<int>(kBarMax * b.seconds / slowest)) : 1;
      out << "<text x=\"" << kLabelWidth - 8 << "\" y=\"" << y + 15 << "\" text-anchor=\"end\">" << xml_escape(b.label)
          << "</text>\n"
          << "<rect x=\"" << kLabelWidth << "\" y=\"" << y << "\" width=\"" << w << "\" height=\"" << kBarHeight
          << "\" fill=\"" << kColors[i % 6] << "\"><title>" << xml_escape(b.label) << ": "
          << xml_escape(human_seconds(b.seconds)) << "</title></rect>\n"
          << "<text x=\"" << kLabelWidth + w + 6 << "\" y=\"" << y + 15 << "\">" << xml_escape(human_seconds(b.seconds))
          << "</text>\n";
      y += kBarHeight + kBarGap;
      ++i;
    }
    for (const std::string& line : wrap(p.caption, kCaptionChars)) {
      out << "<text x=\"20\" y=\"" << y + 14 << "\" font-style=\"italic\" fill=\"#444\">" << xml_escape(line)
          << "</text>\n";
      y += kCaptionLine;
    }
    out << "</g>\n";
    y += 28;
  }
  out << "</svg>\n";
}

}  // namespace trident::tour
