// futures/report.hpp — the module's private helpers: reporting uncatchable errors, describing them.
#pragma once

#include <exception>
#include <string>
#include <string_view>
#include <typeinfo>

#include "trident/errors.hpp"

namespace trident::futures::detail {

/// Passes `message` and `error` to the installed log handler (Python's "concurrent.futures"
/// logger). Never throws: a handler that throws, or a failing allocation, is dropped silently.
void report(std::string_view message, std::exception_ptr error) noexcept;

/// "TYPE: message" for an exception (just "TYPE" when there is no message): trident's
/// exception_type_name() and str(), as a traceback's last line.
std::string describe(const std::exception_ptr& error);

/// A demangled C++ type name ("int", "std::vector<int, ...>").
std::string demangle(const std::type_info& type);

}  // namespace trident::futures::detail
