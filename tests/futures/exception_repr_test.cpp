// trident::repr() / str() / exception_type_name() on a std::exception_ptr — what Python prints for
// `repr(f.exception())` and `str(f.exception())`. The helpers live in errors.hpp; they are tested
// here because Future::exception() is where a Python programmer meets an exception_ptr.
#include <gtest/gtest.h>

#include <cerrno>
#include <exception>
#include <stdexcept>
#include <string>
#include <system_error>

#include "trident/errors.hpp"
#include "trident/futures.hpp"

namespace futures = trident::futures;

namespace repr_test {
struct Widget {
  int size = 3;
};
struct ParseError : std::runtime_error {
  using std::runtime_error::runtime_error;
};
}  // namespace repr_test

namespace {

template <class E>
std::exception_ptr ptr(E e) {
  return std::make_exception_ptr(std::move(e));
}

}  // namespace

// repr(ValueError('bad value')) == "ValueError('bad value')"; str() is the message alone.
TEST(ExceptionRepr, TridentErrorUsesPythonName) {
  const auto e = ptr(trident::ValueError("bad value"));
  EXPECT_EQ(trident::repr(e), "ValueError('bad value')");
  EXPECT_EQ(trident::str(e), "bad value");
  EXPECT_EQ(trident::exception_type_name(e), "ValueError");
}

// Python's repr uses type(exc).__name__, without the module: repr(queue.Empty()) == "Empty()".
TEST(ExceptionRepr, ModuleQualifiedNamesDropTheModule) {
  EXPECT_EQ(trident::repr(ptr(trident::queue::Empty(""))), "Empty()");
  EXPECT_EQ(trident::repr(ptr(futures::CancelledError("cancelled"))), "CancelledError('cancelled')");
  // The full Python spelling stays available, as a traceback prints it.
  EXPECT_EQ(trident::exception_type_name(ptr(futures::CancelledError("x"))), "concurrent.futures.CancelledError");
  EXPECT_EQ(trident::repr(ptr(futures::BrokenThreadPool("broken"))), "BrokenThreadPool('broken')");
}

// An OSError subclass keeps its own name; the message is what() (call, then strerror).
TEST(ExceptionRepr, OSErrorFamily) {
  const auto e = ptr(trident::FileNotFoundError(ENOENT, "open(\"x\")", "x"));
  EXPECT_EQ(trident::exception_type_name(e), "FileNotFoundError");
  EXPECT_EQ(trident::repr(e), "FileNotFoundError('open(\"x\"): No such file or directory')");
}

// Python picks the quote the text does not contain, and escapes what it must.
TEST(ExceptionRepr, QuotesLikePythonStrRepr) {
  EXPECT_EQ(trident::repr(ptr(trident::ValueError("it's"))), "ValueError(\"it's\")");
  EXPECT_EQ(trident::repr(ptr(trident::ValueError("say \"hi\""))), "ValueError('say \"hi\"')");
  EXPECT_EQ(trident::repr(ptr(trident::ValueError("it's \"both\""))), "ValueError('it\\'s \"both\"')");
  EXPECT_EQ(trident::repr(ptr(trident::ValueError("a\nb\tc\\d\x01"))), "ValueError('a\\nb\\tc\\\\d\\x01')");
  EXPECT_EQ(trident::repr(ptr(trident::ValueError("caf\xc3\xa9"))), "ValueError('caf\xc3\xa9')");
}

// A std exception is named by its demangled C++ type, libstdc++'s ABI noise removed.
TEST(ExceptionRepr, StdExceptionsUseDemangledName) {
  EXPECT_EQ(trident::repr(ptr(std::out_of_range("vector::at"))), "std::out_of_range('vector::at')");
  EXPECT_EQ(trident::repr(ptr(std::bad_alloc())), "std::bad_alloc('std::bad_alloc')");
  EXPECT_EQ(trident::repr(ptr(repr_test::ParseError("line 3"))), "repr_test::ParseError('line 3')");
  EXPECT_EQ(trident::repr(ptr(std::runtime_error(""))), "std::runtime_error()");
  const auto sys = ptr(std::system_error(EIO, std::generic_category(), "read"));
  EXPECT_EQ(trident::exception_type_name(sys), "std::system_error");
  EXPECT_EQ(trident::str(sys), "read: Input/output error");
  const auto ios = ptr(std::ios_base::failure("stream"));
  EXPECT_EQ(trident::exception_type_name(ios), "std::ios_base::failure");
}

// What C++ lets you throw besides exceptions: strings and numbers show their value, anything
// else its type.
TEST(ExceptionRepr, NonExceptionValues) {
  EXPECT_EQ(trident::repr(ptr<const char*>("boom")), "const char*('boom')");
  EXPECT_EQ(trident::str(ptr<const char*>("boom")), "boom");
  EXPECT_EQ(trident::repr(ptr(std::string("it's"))), "std::string(\"it's\")");
  EXPECT_EQ(trident::repr(ptr(42)), "int(42)");
  EXPECT_EQ(trident::str(ptr(42)), "42");
  EXPECT_EQ(trident::repr(ptr(-7L)), "long(-7)");
  EXPECT_EQ(trident::repr(ptr(2.5)), "double(2.5)");
  EXPECT_EQ(trident::repr(ptr(true)), "bool(true)");
  EXPECT_EQ(trident::repr(ptr(repr_test::Widget{})), "<repr_test::Widget object>");
  EXPECT_EQ(trident::str(ptr(repr_test::Widget{})), "");
  EXPECT_EQ(trident::exception_type_name(ptr(repr_test::Widget{})), "repr_test::Widget");
}

// repr(None), str(None), type(None).__name__.
TEST(ExceptionRepr, NullIsNone) {
  EXPECT_EQ(trident::repr(nullptr), "None");
  EXPECT_EQ(trident::str(nullptr), "None");
  EXPECT_EQ(trident::exception_type_name(nullptr), "NoneType");
}

// Python: print(repr(f.exception())) for a failed task, None for a successful one.
TEST(ExceptionRepr, FutureExceptionPrints) {
  futures::ThreadPoolExecutor ex(1);
  auto failed = ex.submit([]() -> int { throw trident::ValueError("no such user"); });
  auto ok = ex.submit([] { return 1; });
  EXPECT_EQ(trident::repr(failed.exception()), "ValueError('no such user')");
  EXPECT_EQ(trident::repr(ok.exception()), "None");
}
