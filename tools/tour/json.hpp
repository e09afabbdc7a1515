// tools/tour/json.hpp — a small streaming JSON writer for `trident tour --json`.
#pragma once

#include <cstdint>
#include <ostream>
#include <string>
#include <string_view>
#include <vector>

namespace trident::tour {

/// Writes one JSON document to a stream, indented by two spaces. The caller nests
/// begin_/end_ calls correctly; inside an object each value is preceded by key().
class JsonWriter {
 public:
  explicit JsonWriter(std::ostream& out) : out_(out) {}
  void begin_object() { open('{'); }
  void end_object() { close('}'); }
  void begin_array() { open('['); }
  void end_array() { close(']'); }
  void key(std::string_view name);
  void value(std::string_view s);
  void value(const char* s) { value(std::string_view(s)); }
  void value(const std::string& s) { value(std::string_view(s)); }
  void value(double d);  ///< NaN and infinities become null (JSON has no such numbers)
  void value(std::int64_t i);
  void value(int i) { value(static_cast<std::int64_t>(i)); }
  void value(bool b);
  void null();

  /// `s` as a quoted JSON string.
  static std::string quote(std::string_view s);

 private:
  void open(char c);
  void close(char c);
  void before_value();
  void newline();

  std::ostream& out_;
  std::vector<int> counts_;  // values written so far at each open level
  bool after_key_ = false;
};

}  // namespace trident::tour
