// JSON writer for `trident tour --json`.
#include "tour/json.hpp"

#include <cmath>
#include <cstdio>

namespace trident::tour {

std::string JsonWriter::quote(std::string_view s) {
  std::string out = "\"";
  for (unsigned char c : s) {
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        if (c < 0x20) {
          char buf[8];
          std::snprintf(buf, sizeof buf, "\\u%04x", c);
          out += buf;
        } else {
          out += static_cast<char>(c);  // UTF-8 passes through unchanged
        }
    }
  }
  return out + "\"";
}

void JsonWriter::newline() {
  out_ << '\n';
  for (size_t i = 0; i < counts_.size(); ++i) out_ << "  ";
}

void JsonWriter::before_value() {
  if (after_key_) {
    after_key_ = false;
    return;
  }
  if (!counts_.empty()) {
    if (counts_.back()++ > 0) out_ << ',';
    newline();
  }
}

void JsonWriter::open(char c) {
  before_value();
  out_ << c;
  counts_.push_back(0);
}

void JsonWriter::close(char c) {
  int n = counts_.back();
  counts_.pop_back();
  if (n > 0) newline();
  out_ << c;
  if (counts_.empty()) out_ << '\n';
}

void JsonWriter::key(std::string_view name) {
  before_value();
  out_ << quote(name) << ": ";
  after_key_ = true;
}

void JsonWriter::value(std::string_view s) {
  before_value();
  out_ << quote(s);
}

void JsonWriter::value(double d) {
  before_value();
  if (!std::isfinite(d)) {
    out_ << "null";
    return;
  }
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.9g", d);
  out_ << buf;
}

void JsonWriter::value(std::int64_t i) {
  before_value();
  out_ << i;
}

void JsonWriter::value(bool b) {
  before_value();
  out_ << (b ? "true" : "false");
}

void JsonWriter::null() {
  before_value();
  out_ << "null";
}

}  // namespace trident::tour
