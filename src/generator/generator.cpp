// The cold paths of trident/generator.hpp: building the exceptions generators raise, and reporting
// the one a destroyed generator's close raised.
#include <cstdio>
#include <exception>
#include <string>
#include <utility>

#include "trident/errors.hpp"
#include "trident/generator.hpp"

namespace trident::detail {
namespace {

std::exception_ptr generator_escaped(std::exception_ptr escaped) noexcept {
  try {
    std::rethrow_exception(escaped);
  } catch (const StopIteration&) {
    // PEP 479: a StopIteration leaking out of a generator would silently end the caller's loop.
    return std::make_exception_ptr(RuntimeError("Generator: generator raised StopIteration"));
  } catch (...) {
    return escaped;
  }
}

}  // namespace

void generator_raise_running(const char* method) {
  throw ValueError(std::string(method) + ": generator already executing");
}

void generator_raise_just_started(const char* method) {
  throw TypeError(std::string(method) +
                  ": can't send non-None value to a just-started generator (start it with next())");
}

void generator_raise_exhausted(const char* method) {
  throw StopIteration(std::string(method) + ": the generator is exhausted");
}

void generator_raise_no_return_value(const char* method) {
  throw RuntimeError(std::string(method) +
                     ": the generator holds no return value (it has not returned, or the value was taken)");
}

void generator_raise_null_exception(const char* method) {
  throw TypeError(std::string(method) + ": exceptions must be given (got a null std::exception_ptr)");
}

void generator_raise_pending(std::exception_ptr& pending) {
  std::exception_ptr e = std::exchange(pending, nullptr);
  std::rethrow_exception(std::move(e));
}

std::string generator_returned_message(const char* method) {
  return std::string(method) + ": the generator returned (its value is StopIterationOf::value())";
}

void generator_store_escaped(std::exception_ptr& error) noexcept {
  error = generator_escaped(std::current_exception());
}

std::exception_ptr generator_exit_exception() noexcept { return std::make_exception_ptr(GeneratorExit()); }

std::exception_ptr generator_running_exception(const char* method) noexcept {
  return std::make_exception_ptr(ValueError(std::string(method) + ": generator already executing"));
}

std::exception_ptr generator_ignored_exit_exception() noexcept {
  return std::make_exception_ptr(RuntimeError("Generator::close(): generator ignored GeneratorExit"));
}

bool generator_is_exit(const std::exception_ptr& e) noexcept {
  try {
    std::rethrow_exception(e);
  } catch (const GeneratorExit&) {
    return true;
  } catch (...) {
    return false;
  }
}

void generator_report_unraisable(const std::exception_ptr& e) noexcept {
  std::string line;
  try {
    std::rethrow_exception(e);
  } catch (const Exception& exc) {
    line = std::string(exc.type_name()) + ": " + exc.what();
  } catch (const GeneratorExit& exc) {
    line = exc.type_name();
  } catch (const std::exception& exc) {
    line = exc.what();
  } catch (...) {
    line = "an exception not derived from std::exception";
  }
  std::fprintf(stderr, "Exception ignored in: a trident::Generator being destroyed (its close() raised)\n%s\n",
               line.c_str());
}

}  // namespace trident::detail
