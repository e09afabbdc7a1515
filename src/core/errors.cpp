#include "trident/errors.hpp"

#include <cxxabi.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string_view>
#include <typeinfo>

#include "trident/config.hpp"

namespace trident {

Exception::~Exception() = default;

namespace {

// The demangled name, with libstdc++'s inline-namespace and ABI-tag noise removed
// ("std::__cxx11::basic_string<...>[abi:cxx11]" reads as "std::basic_string<...>").
std::string readable_type_name(const std::type_info& type) {
  int status = 0;
  std::unique_ptr<char, decltype(&std::free)> raw(abi::__cxa_demangle(type.name(), nullptr, nullptr, &status),
                                                  &std::free);
  std::string name = status == 0 && raw ? std::string(raw.get()) : std::string(type.name());
  for (const std::string_view noise : {std::string_view("__cxx11::"), std::string_view("[abi:cxx11]")}) {
    for (std::size_t at = name.find(noise); at != std::string::npos; at = name.find(noise, at)) {
      name.erase(at, noise.size());
    }
  }
  return name;
}

// Python's repr() of a str: single quotes unless the text holds a ' and no ", backslash escapes
// for the quote, the backslash and control bytes. Bytes >= 0x80 pass through, so UTF-8 text
// prints as Python prints its printable characters.
std::string python_quote(std::string_view text) {
  const char quote = text.find('\'') != std::string_view::npos && text.find('"') == std::string_view::npos ? '"' : '\'';
  std::string out(1, quote);
  for (const char c : text) {
    const auto byte = static_cast<unsigned char>(c);
    if (c == quote || c == '\\') {
      out += '\\';
      out += c;
    } else if (c == '\n') {
      out += "\\n";
    } else if (c == '\r') {
      out += "\\r";
    } else if (c == '\t') {
      out += "\\t";
    } else if (byte < 0x20 || byte == 0x7f) {
      char buf[5];
      std::snprintf(buf, sizeof buf, "\\x%02x", byte);
      out += buf;
    } else {
      out += c;
    }
  }
  out += quote;
  return out;
}

// What an exception says about itself. `is_text` tells whether `text` is a message to quote
// (an exception's what(), a thrown string) rather than a number; `readable` is false for a
// thrown object trident cannot look into.
struct Described {
  std::string type;
  std::string text;
  bool is_text = true;
  bool readable = true;
  bool exception = false;  // a std::exception or a trident error
  bool trident = false;
};

// The shortest "%g" text that reads back as `x` (Python's repr of a float does the same).
std::string shortest_text(double x) {
  char buf[40];
  for (int precision = 1; precision <= 17; ++precision) {
    std::snprintf(buf, sizeof buf, "%.*g", precision, x);
    if (std::strtod(buf, nullptr) == x) break;
  }
  return buf;
}

Described describe(const std::exception_ptr& error) {
  Described d;
  // Rethrowing is the only portable way to look inside an exception_ptr; the catch clauses
  // below see a copy of nothing, only references to the stored object.
  try {
    std::rethrow_exception(error);
  } catch (const Exception& e) {
    d.type = e.type_name();
    d.text = e.what();
    d.exception = d.trident = true;
  } catch (const std::exception& e) {
    d.type = readable_type_name(typeid(e));
    d.text = e.what();
    d.exception = true;
  } catch (const char* s) {
    d.type = "const char*";
    d.text = s != nullptr ? s : "";
  } catch (const std::string& s) {
    d.type = "std::string";
    d.text = s;
  } catch (const std::string_view& s) {
    d.type = "std::string_view";
    d.text = std::string(s);
  } catch (bool b) {
    d.type = "bool";
    d.text = b ? "true" : "false";
    d.is_text = false;
  } catch (char c) {
    d.type = "char";
    d.text = std::string(1, c);
  } catch (int n) {
    d = {"int", std::to_string(n), false};
  } catch (unsigned n) {
    d = {"unsigned int", std::to_string(n), false};
  } catch (long n) {
    d = {"long", std::to_string(n), false};
  } catch (unsigned long n) {
    d = {"unsigned long", std::to_string(n), false};
  } catch (long long n) {
    d = {"long long", std::to_string(n), false};
  } catch (unsigned long long n) {
    d = {"unsigned long long", std::to_string(n), false};
  } catch (double x) {
    d = {"double", shortest_text(x), false};
  } catch (float x) {
    d = {"float", shortest_text(static_cast<double>(x)), false};
  } catch (...) {
    const std::type_info* t = abi::__cxa_current_exception_type();
    d.type = t != nullptr ? readable_type_name(*t) : "unknown exception";
    d.readable = false;
  }
  return d;
}

}  // namespace

std::string exception_type_name(const std::exception_ptr& error) {
  if (!error) return "NoneType";
  return describe(error).type;
}

std::string str(const std::exception_ptr& error) {
  if (!error) return "None";
  return describe(error).text;
}

std::string repr(const std::exception_ptr& error) {
  if (!error) return "None";
  Described d = describe(error);
  if (d.trident) {
    // Python's BaseException.__repr__ uses type(exc).__name__: "Empty", not "queue.Empty".
    if (const std::size_t dot = d.type.rfind('.'); dot != std::string::npos) d.type.erase(0, dot + 1);
  }
  if (!d.readable) return "<" + d.type + " object>";
  if (d.exception && d.text.empty()) return d.type + "()";
  return d.type + "(" + (d.is_text ? python_quote(d.text) : d.text) + ")";
}

OSError::OSError(int error_number, const std::string& what, std::string filename)
    : detail::StdError<std::system_error>(std::error_code(error_number, std::generic_category()), what),
      filename_(std::move(filename)) {}

TimeoutError::TimeoutError(const std::string& what) : OSError(ETIMEDOUT, what) {}

void raise_os_error(int error_number, const std::string& what, std::string filename) {
  switch (error_number) {
    case ENOENT:
      throw FileNotFoundError(error_number, what, std::move(filename));
    case EACCES:
    case EPERM:
      throw PermissionError(error_number, what, std::move(filename));
    case ENOTDIR:
      throw NotADirectoryError(error_number, what, std::move(filename));
    case EISDIR:
      throw IsADirectoryError(error_number, what, std::move(filename));
    case ECHILD:
      throw ChildProcessError(error_number, what, std::move(filename));
    case ESRCH:
      throw ProcessLookupError(error_number, what, std::move(filename));
    case EPIPE:
      throw BrokenPipeError(error_number, what, std::move(filename));
    case EINTR:
      throw InterruptedError(error_number, what, std::move(filename));
    case EEXIST:
      throw FileExistsError(error_number, what, std::move(filename));
    case ETIMEDOUT:
      throw TimeoutError(what);
    default:
      throw OSError(error_number, what, std::move(filename));
  }
}

namespace detail {
void assert_fail(const char* expr, const char* file, int line, const char* msg) noexcept {
  std::fprintf(stderr, "trident: internal assertion failed: %s (%s) at %s:%d\n", msg, expr, file, line);
  std::abort();
}
}  // namespace detail

}  // namespace trident
