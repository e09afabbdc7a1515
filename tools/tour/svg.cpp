// SVG chart for `trident tour --svg FILE`.
#include "tour/svg.hpp"

#include <algorithm>
#include <cmath>
#include <sstream>
#include <string>
#include <string_view>
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

// "12.5" rather than "12.500000" in attributes.
std::string num(double v) {
  std::ostringstream s;
  s << std::round(v * 10) / 10;
  return s.str();
}

constexpr size_t kCaptionChars = 120;
constexpr int kCaptionLine = 17;
constexpr int kMinWidth = 900;
constexpr int kMargin = 20;
constexpr int kMinLabelColumn = 200;
constexpr int kLabelGap = 10;  // between a label's end and its bar
constexpr int kBarMax = 460;
constexpr int kBarHeight = 20;
constexpr int kBarGap = 8;
constexpr int kSeriesHeight = 34;
constexpr int kAxisLine = 18;
constexpr double kFontSize = 13;
constexpr double kAxisFontSize = 11;
const char* const kColors[] = {"#8c8c8c", "#2f6fb3", "#e08a1e", "#3a9a5b", "#b33a3a", "#7a4fb3"};

}  // namespace

double text_width(const std::string& text, double size) {
  double em = 0;
  for (const char ch : text) {
    const auto c = static_cast<unsigned char>(ch);
    if ((c & 0xC0) == 0x80) continue;  // a UTF-8 continuation byte: counted with its lead byte
    if (c >= 0x80) {
      em += 0.8;  // a non-ASCII character: µ, →, a CJK ideograph is wider (1.0)
    } else if (std::string_view(" .,:;'|!il()[]{}`").find(static_cast<char>(c)) != std::string_view::npos) {
      em += 0.4;
    } else if (std::string_view("mwMW@%").find(static_cast<char>(c)) != std::string_view::npos) {
      em += 1.0;
    } else if (c >= 'A' && c <= 'Z') {
      em += 0.78;
    } else {
      em += 0.64;  // lowercase, digits, most punctuation
    }
  }
  return em * size;
}

void write_svg(std::ostream& out, const std::string& title, const std::vector<Panel>& panels) {
  // The label column fits the longest label; the texts right of the bars set the width.
  double label_text = 0, right_text = 0;
  for (const Panel& p : panels) {
    for (const Bar& b : p.bars) {
      label_text = std::max(label_text, text_width(b.label, kFontSize));
      right_text = std::max(right_text, text_width(human_seconds(b.seconds), kFontSize));
    }
    for (const Series& s : p.picture.rows) {
      label_text = std::max(label_text, text_width(s.label, kFontSize));
      right_text = std::max(right_text, text_width(s.note, kFontSize));
    }
  }
  const int label_column = std::max(kMinLabelColumn, kMargin + static_cast<int>(std::ceil(label_text)) + kLabelGap);
  int width = std::max(kMinWidth, label_column + kBarMax + 8 + static_cast<int>(std::ceil(right_text)) + kMargin);
  for (const Panel& p : panels) {
    width = std::max(width,
                     label_column + static_cast<int>(std::ceil(text_width(p.picture.axis, kAxisFontSize))) + kMargin);
  }

  std::ostringstream body;
  int y = 60;
  for (const Panel& p : panels) {
    body << "<g class=\"panel\" id=\"panel-" << xml_escape(p.name) << "\">\n<text x=\"" << kMargin << "\" y=\""
         << y + 16 << "\" font-size=\"15\" font-weight=\"bold\">" << xml_escape(p.title) << "</text>\n";
    y += 28;
    double slowest = 0;
    for (const Bar& b : p.bars) slowest = std::max(slowest, b.seconds);
    int i = 0;
    for (const Bar& b : p.bars) {
      int w = slowest > 0 ? std::max(1, static_cast<int>(kBarMax * b.seconds / slowest)) : 1;
      body << "<text x=\"" << label_column - kLabelGap << "\" y=\"" << y + 15 << "\" text-anchor=\"end\">"
           << xml_escape(b.label) << "</text>\n"
           << "<rect class=\"bar\" x=\"" << label_column << "\" y=\"" << y << "\" width=\"" << w << "\" height=\""
           << kBarHeight << "\" fill=\"" << kColors[i % 6] << "\"><title>" << xml_escape(b.label) << ": "
           << xml_escape(human_seconds(b.seconds)) << "</title></rect>\n"
           << "<text x=\"" << label_column + w + 6 << "\" y=\"" << y + 15 << "\">"
           << xml_escape(human_seconds(b.seconds)) << "</text>\n";
      y += kBarHeight + kBarGap;
      ++i;
    }
    // The picture: each row's columns share the row's width, so runs line up across rows.
    size_t columns = 0;
    for (const Series& s : p.picture.rows) columns = std::max(columns, s.values.size());
    for (const Series& s : p.picture.rows) {
      double scale = s.scale;
      for (double v : s.values) scale = std::max(scale, v);
      const double step = columns > 0 ? static_cast<double>(kBarMax) / static_cast<double>(columns) : kBarMax;
      // Runs are separate columns; slices of time run together (overlapping by half a pixel, so
      // no anti-aliased seam shows between them).
      const double gap = step >= 8 ? 2 : 0;
      const int bottom = y + kSeriesHeight;
      body << "<g class=\"series\">\n<text x=\"" << label_column - kLabelGap << "\" y=\"" << y + kSeriesHeight / 2 + 5
           << "\" text-anchor=\"end\">" << xml_escape(s.label) << "</text>\n"
           << "<line x1=\"" << label_column << "\" y1=\"" << bottom << "\" x2=\"" << label_column + kBarMax
           << "\" y2=\"" << bottom << "\" stroke=\"#bbb\"/>\n";
      for (size_t k = 0; k < s.values.size(); ++k) {
        const double v = s.values[k];
        // A zero still gets a grey sliver, so "nothing here" is visibly a measured run.
        const double h = v > 0 && scale > 0 ? std::max(1.0, (kSeriesHeight - 2) * v / scale) : 2;
        body << "<rect class=\"column\" x=\"" << num(label_column + step * static_cast<double>(k)) << "\" y=\""
             << num(bottom - h) << "\" width=\"" << num(gap > 0 ? step - gap : step + 0.5) << "\" height=\"" << num(h)
             << "\" fill=\"" << (v > 0 ? xml_escape(s.color) : "#ccc") << "\"><title>" << k + 1 << ": " << num(v)
             << "</title></rect>\n";
      }
      if (s.limit && scale > 0) {
        const double ly = bottom - (kSeriesHeight - 2) * *s.limit / scale;
        body << "<line class=\"limit\" x1=\"" << label_column << "\" y1=\"" << num(ly) << "\" x2=\""
             << label_column + kBarMax << "\" y2=\"" << num(ly) << "\" stroke=\"#222\" stroke-dasharray=\"5 3\"/>\n";
      }
      body << "<text x=\"" << label_column + kBarMax + 8 << "\" y=\"" << y + kSeriesHeight / 2 + 5 << "\">"
           << xml_escape(s.note) << "</text>\n</g>\n";
      y += kSeriesHeight + kBarGap;
    }
    if (!p.picture.rows.empty() && !p.picture.axis.empty()) {
      body << "<text x=\"" << label_column << "\" y=\"" << y + 4 << "\" font-size=\"" << kAxisFontSize
           << "\" fill=\"#666\">" << xml_escape(p.picture.axis) << "</text>\n";
      y += kAxisLine;
    }
    for (const std::string& line : wrap(p.caption, kCaptionChars)) {
      body << "<text x=\"" << kMargin << "\" y=\"" << y + 14 << "\" font-style=\"italic\" fill=\"#444\">"
           << xml_escape(line) << "</text>\n";
      y += kCaptionLine;
    }
    body << "</g>\n";
    y += 28;
  }
  const int height = y;
  out << "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
      << "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" << width << "\" height=\"" << height
      << "\" viewBox=\"0 0 " << width << ' ' << height << "\" font-family=\"sans-serif\" font-size=\"" << kFontSize
      << "\">\n"
      << "<title>" << xml_escape(title) << "</title>\n"
      << "<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n"
      << "<text x=\"" << kMargin << "\" y=\"32\" font-size=\"18\" font-weight=\"bold\">" << xml_escape(title)
      << "</text>\n"
      << body.str() << "</svg>\n";
}

}  // namespace trident::tour
