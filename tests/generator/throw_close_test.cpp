// trident::Generator's throw_() and close(), and what destroying a suspended generator does — the
// throw/close themes of CPython's Lib/test/test_generators.py (PEP 342's rules for gen.throw and
// gen.close, and the close-on-collection of a suspended generator).
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <exception>
#include <optional>
#include <string>
#include <vector>

#include "generator_test_support.hpp"
#include "trident/errors.hpp"
#include "trident/generator.hpp"

namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using trident::Generator;
using trident::GeneratorExit;
using trident::StopIteration;
using trident::StopIterationOf;
using trident::generator_test::Boom;
using trident::generator_test::Cleanup;
using trident::generator_test::Log;

// Catches Boom at its yield, records it and yields the code back. (C++ forbids co_yield inside a
// catch handler, so the handler records and the yield follows it.)
Generator<int> catches_boom(Log* log) {
  Cleanup c(*log, "local");
  for (int i = 0;; ++i) {
    std::optional<int> caught;
    try {
      co_yield i;
    } catch (const Boom& b) {
      log->push_back("caught " + std::to_string(b.code));
      caught = b.code;
    }
    if (caught) co_yield 100 + *caught;
  }
}

Generator<int> plain(Log* log) {
  Cleanup c(*log, "local");
  log->push_back("started");
  co_yield 1;
  co_yield 2;
  log->push_back("finished");
}

// Python: gen.throw(exc) raises exc at the suspended yield; if the generator catches it and yields,
// throw() returns that value and the generator goes on.
TEST(GeneratorThrow, CaughtAtTheYieldAndTheNextValueReturned) {
  Log log;
  auto gen = catches_boom(&log);
  EXPECT_EQ(gen.next(), 0);
  EXPECT_EQ(gen.throw_(Boom{7}), 107);
  EXPECT_THAT(log, ElementsAre("caught 7"));
  EXPECT_EQ(gen.next(), 1);
  EXPECT_EQ(gen.throw_(std::make_exception_ptr(Boom{3})), 103);
}

// Python: an exception the generator does not catch propagates out of throw(), and the generator
// is finished (its locals cleaned up).
TEST(GeneratorThrow, UncaughtPropagatesAndFinishes) {
  Log log;
  auto gen = plain(&log);
  EXPECT_EQ(gen.next(), 1);
  try {
    gen.throw_(Boom{5});
    FAIL() << "throw_ did not propagate";
  } catch (const Boom& b) {
    EXPECT_EQ(b.code, 5);
  }
  EXPECT_THAT(log, ElementsAre("started", "~local"));
  EXPECT_TRUE(gen.finished());
  EXPECT_THROW(gen.next(), StopIteration);
}

// Python: throw() into a just-started generator raises the exception at its first line: no code
// runs, the exception propagates, and the generator is finished.
TEST(GeneratorThrow, IntoAJustStartedGeneratorRaisesWithoutRunningIt) {
  Log log;
  auto gen = plain(&log);
  EXPECT_THROW(gen.throw_(Boom{1}), Boom);
  EXPECT_TRUE(log.empty());
  EXPECT_TRUE(gen.finished());
  EXPECT_THROW(gen.next(), StopIteration);
}

// Python: throw() into an exhausted generator raises the exception straight back.
TEST(GeneratorThrow, IntoAFinishedGeneratorRaisesItBack) {
  Log log;
  auto gen = plain(&log);
  gen.next();
  gen.next();
  EXPECT_THROW(gen.next(), StopIteration);
  EXPECT_THROW(gen.throw_(trident::ValueError("again")), trident::ValueError);
  Generator<int> empty;
  EXPECT_THROW(empty.throw_(Boom{2}), Boom);
}

// Python: a generator that returns after catching the thrown exception makes throw() raise
// StopIteration carrying the return value.
Generator<int, void, int> returns_on_throw() {
  try {
    co_yield 1;
  } catch (const Boom& b) {
    co_return b.code * 2;
  }
  co_return 0;
}

TEST(GeneratorThrow, GeneratorReturningOnThrowGivesStopIterationWithTheValue) {
  auto gen = returns_on_throw();
  gen.next();
  try {
    gen.throw_(Boom{21});
    FAIL() << "no StopIteration";
  } catch (const StopIterationOf<int>& e) {
    EXPECT_EQ(e.value(), 42);
  }
}

// Python: the generator may raise a different exception in response; that one propagates.
Generator<int> translates() {
  try {
    co_yield 1;
  } catch (const Boom&) {
    throw trident::RuntimeError("translated");
  }
}

TEST(GeneratorThrow, ATranslatedExceptionPropagates) {
  auto gen = translates();
  gen.next();
  EXPECT_THROW(gen.throw_(Boom{0}), trident::RuntimeError);
}

// Python: throw() requires an exception; here a null exception_ptr is TypeError.
TEST(GeneratorThrow, NullExceptionPtrIsTypeError) {
  Log log;
  auto gen = plain(&log);
  gen.next();
  EXPECT_THROW(gen.throw_(std::exception_ptr()), trident::TypeError);
  EXPECT_EQ(gen.next(), 2);  // untouched
}

// Python: close() raises GeneratorExit at the yield; the generator's finally/except blocks and its
// locals' cleanup run, and close() returns. The generator is then finished.
Generator<int> sees_exit(Log* log) {
  Cleanup c(*log, "local");
  try {
    co_yield 1;
  } catch (const GeneratorExit&) {
    log->push_back("GeneratorExit");
    throw;
  }
}

TEST(GeneratorClose, RaisesGeneratorExitAtTheYieldAndRunsCleanup) {
  Log log;
  auto gen = sees_exit(&log);
  gen.next();
  gen.close();
  EXPECT_THAT(log, ElementsAre("GeneratorExit", "~local"));
  EXPECT_TRUE(gen.finished());
  EXPECT_THROW(gen.next(), StopIteration);
  gen.close();  // closing again does nothing
  EXPECT_THAT(log, ElementsAre("GeneratorExit", "~local"));
}

// Python: close() on a just-started generator runs none of it and finishes it.
TEST(GeneratorClose, JustStartedGeneratorRunsNothing) {
  Log log;
  auto gen = sees_exit(&log);
  gen.close();
  EXPECT_TRUE(log.empty());
  EXPECT_TRUE(gen.finished());
  EXPECT_THROW(gen.next(), StopIteration);
}

// Python: close() on an exhausted generator does nothing.
TEST(GeneratorClose, FinishedGeneratorIsANoOp) {
  Log log;
  auto gen = plain(&log);
  for (int v : gen) (void)v;
  gen.close();
  EXPECT_THAT(log, ElementsAre("started", "finished", "~local"));
}

// Python: a generator that yields after GeneratorExit makes close() raise RuntimeError("generator
// ignored GeneratorExit"); it stays suspended at that yield.
Generator<int> ignores_exit(Log* log) {
  Cleanup c(*log, "local");
  for (;;) {
    try {
      co_yield 1;
    } catch (const GeneratorExit&) {
      log->push_back("ignored");
    }
  }
}

TEST(GeneratorClose, YieldingAfterGeneratorExitIsRuntimeError) {
  Log log;
  {
    auto gen = ignores_exit(&log);
    gen.next();
    try {
      gen.close();
      FAIL() << "close() did not raise";
    } catch (const trident::RuntimeError& e) {
      EXPECT_THAT(e.what(), HasSubstr("generator ignored GeneratorExit"));
    }
    EXPECT_TRUE(gen.gi_suspended());
    EXPECT_EQ(gen.next(), 1);
    ::testing::internal::CaptureStderr();
  }
  // Dropping it closes it again (ignored again: reported as Python's unraisable hook does), then
  // its frame is freed all the same: the local's destructor ran.
  std::string err = ::testing::internal::GetCapturedStderr();
  EXPECT_THAT(err, HasSubstr("Exception ignored in"));
  EXPECT_THAT(err, HasSubstr("RuntimeError: Generator::close(): generator ignored GeneratorExit"));
  EXPECT_THAT(log, ElementsAre("ignored", "ignored", "~local"));
}

// Python: returning in response to GeneratorExit is fine; since 3.13 close() returns that value.
Generator<int, void, std::string> returns_on_exit() {
  try {
    co_yield 1;
  } catch (const GeneratorExit&) {
    co_return "closed";
  }
  co_return "normal";
}

TEST(GeneratorClose, ReturningOnGeneratorExitIsFineAndCloseReturnsTheValue) {
  auto gen = returns_on_exit();
  gen.next();
  std::optional<std::string> result = gen.close();
  EXPECT_EQ(result, "closed");
  EXPECT_TRUE(gen.finished());
  EXPECT_EQ(gen.close(), std::nullopt);  // already closed: None
  auto never_started = returns_on_exit();
  EXPECT_EQ(never_started.close(), std::nullopt);
}

// Python: a generator that lets GeneratorExit out (not catching it) closes cleanly: close() returns
// None.
TEST(GeneratorClose, LettingGeneratorExitOutIsFine) {
  auto gen = returns_on_throw();  // catches only Boom
  gen.next();
  EXPECT_EQ(gen.close(), std::nullopt);
  EXPECT_TRUE(gen.finished());
}

// Python: any other exception raised in response to GeneratorExit propagates out of close().
Generator<int> raises_on_exit() {
  try {
    co_yield 1;
  } catch (const GeneratorExit&) {
    throw trident::ValueError("cleanup failed");
  }
}

TEST(GeneratorClose, AnotherExceptionPropagates) {
  auto gen = raises_on_exit();
  gen.next();
  EXPECT_THROW(gen.close(), trident::ValueError);
  EXPECT_TRUE(gen.finished());
}

// Python (PEP 479): a StopIteration raised in response to GeneratorExit becomes RuntimeError
// ("generator raised StopIteration"), which close() raises.
Generator<int> raises_stop_on_exit() {
  try {
    co_yield 1;
  } catch (const GeneratorExit&) {
    throw StopIteration("from the body");
  }
}

TEST(GeneratorClose, StopIterationOnGeneratorExitBecomesRuntimeError) {
  auto gen = raises_stop_on_exit();
  gen.next();
  try {
    gen.close();
    FAIL() << "close() did not raise";
  } catch (const trident::RuntimeError& e) {
    EXPECT_THAT(e.what(), HasSubstr("generator raised StopIteration"));
  }
}

// Python: GeneratorExit derives from BaseException, not Exception, so `except Exception` inside a
// generator does not swallow it; here `catch (const trident::Exception&)` does not.
Generator<int> catches_exception(Log* log) {
  try {
    co_yield 1;
  } catch (const trident::Exception&) {
    log->push_back("swallowed");
  }
}

TEST(GeneratorClose, GeneratorExitIsNotATridentException) {
  static_assert(!std::is_base_of_v<trident::Exception, GeneratorExit>);
  static_assert(std::is_base_of_v<std::exception, GeneratorExit>);
  Log log;
  auto gen = catches_exception(&log);
  gen.next();
  gen.close();
  EXPECT_TRUE(log.empty());
}

// Python: throw(GeneratorExit) is an ordinary throw: a generator yielding in response just yields.
TEST(GeneratorThrow, ThrowingGeneratorExitIsNotClose) {
  Log log;
  auto gen = ignores_exit(&log);
  gen.next();
  EXPECT_EQ(gen.throw_(GeneratorExit()), 1);
  EXPECT_THAT(log, ElementsAre("ignored"));
}

// Python closes a suspended generator when it is collected; destroying a trident::Generator does the
// same: GeneratorExit at the yield, then the frame (and every local) is destroyed.
TEST(GeneratorDestroy, SuspendedGeneratorIsClosed) {
  Log log;
  {
    auto gen = sees_exit(&log);
    gen.next();
  }
  EXPECT_THAT(log, ElementsAre("GeneratorExit", "~local"));
}

// A generator never started has no locals yet: destroying it runs nothing of its body, but its
// parameters (copied into the frame) are destroyed.
Generator<int> takes_param(Cleanup* /*unused*/, std::shared_ptr<int> p) { co_yield *p; }

TEST(GeneratorDestroy, UnstartedGeneratorFreesItsParameters) {
  auto p = std::make_shared<int>(5);
  {
    auto gen = takes_param(nullptr, p);
    EXPECT_EQ(p.use_count(), 2);
  }
  EXPECT_EQ(p.use_count(), 1);
}

// Destroying a generator whose close raises reports it on stderr (Python's "Exception ignored in")
// and never throws out of the destructor.
TEST(GeneratorDestroy, ExceptionDuringTheCloseIsReportedNotThrown) {
  ::testing::internal::CaptureStderr();
  {
    auto gen = raises_on_exit();
    gen.next();
  }
  std::string err = ::testing::internal::GetCapturedStderr();
  EXPECT_THAT(err, HasSubstr("Exception ignored in"));
  EXPECT_THAT(err, HasSubstr("ValueError: cleanup failed"));
}

// A suspended generator destroyed while another exception unwinds the stack is closed too, without
// terminating the program.
TEST(GeneratorDestroy, DuringStackUnwinding) {
  Log log;
  try {
    auto gen = sees_exit(&log);
    gen.next();
    throw Boom{9};
  } catch (const Boom&) {
  }
  EXPECT_THAT(log, ElementsAre("GeneratorExit", "~local"));
}

}  // namespace
