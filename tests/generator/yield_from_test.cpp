// `co_yield trident::yield_from(g)`: PEP 380's `yield from` — the delegation themes of CPython's
// Lib/test/test_yield_from.py (values, send, throw and close forwarded; the return value; errors
// crossing back into the delegating generator).
#include <gmock/gmock.h>
#include <gtest/gtest.h>

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
using trident::yield_from;
using trident::generator_test::Boom;
using trident::generator_test::Cleanup;
using trident::generator_test::Log;

// Yields first..first+n-1, recording what it is sent, and returns the sum of the sent values.
Generator<int, int, int> inner(Log* log, int first, int n) {
  Cleanup c(*log, "inner");
  int sum = 0;
  for (int i = 0; i < n; ++i) {
    std::optional<int> sent = co_yield first + i;
    log->push_back("inner got " + (sent ? std::to_string(*sent) : std::string("None")));
    sum += sent.value_or(0);
  }
  co_return sum;
}

Generator<int, int, int> outer(Log* log) {
  Cleanup c(*log, "outer");
  co_yield 0;
  int r = co_yield yield_from(inner(log, 10, 2));
  log->push_back("outer got " + std::to_string(r));
  co_yield r;
  co_return -1;
}

// PEP 380: the values of the inner generator pass through; `yield from` evaluates to its return
// value.
TEST(YieldFrom, ValuesPassThroughAndTheReturnValueComesBack) {
  Log log;
  auto gen = outer(&log);
  std::vector<int> seen;
  for (int v : gen) seen.push_back(v);
  EXPECT_THAT(seen, ElementsAre(0, 10, 11, 0));
  EXPECT_THAT(log, ElementsAre("inner got None", "inner got None", "~inner", "outer got 0", "~outer"));
}

// PEP 380: send() on the delegating generator goes to the inner one.
TEST(YieldFrom, SendIsForwarded) {
  Log log;
  auto gen = outer(&log);
  EXPECT_EQ(gen.next(), 0);
  EXPECT_EQ(gen.send(5), 10);  // outer's first yield receives 5 (ignored); inner starts with next()
  EXPECT_EQ(gen.send(3), 11);
  EXPECT_EQ(gen.send(4), 7);  // inner returned 3 + 4
  EXPECT_THAT(log, ElementsAre("inner got 3", "inner got 4", "~inner", "outer got 7"));
}

// PEP 380: throw() goes to the inner generator; if it catches the exception and yields, that value
// comes out.
Generator<int, int, int> inner_catching(Log* log) {
  for (int i = 0;; ++i) {
    try {
      co_yield i;
    } catch (const Boom& b) {
      log->push_back("inner caught " + std::to_string(b.code));
      co_return b.code;
    }
  }
}

Generator<int, int, int> outer_of(Log* log, Generator<int, int, int> g) {
  std::optional<int> caught;  // co_yield is not allowed in a catch handler: it yields after
  try {
    int r = co_yield yield_from(std::move(g));
    log->push_back("outer got " + std::to_string(r));
    co_yield 1000 + r;
  } catch (const Boom& b) {
    log->push_back("outer caught " + std::to_string(b.code));
    caught = b.code;
  } catch (const GeneratorExit&) {
    log->push_back("outer GeneratorExit");
    throw;
  }
  if (caught) co_yield 2000 + *caught;
  co_return 0;
}

TEST(YieldFrom, ThrowIsForwardedAndAReturnResumesTheOuter) {
  Log log;
  auto gen = outer_of(&log, inner_catching(&log));
  EXPECT_EQ(gen.next(), 0);
  EXPECT_EQ(gen.next(), 1);
  EXPECT_EQ(gen.throw_(Boom{4}), 1004);
  EXPECT_THAT(log, ElementsAre("inner caught 4", "outer got 4"));
}

// PEP 380: an exception the inner generator lets out is raised in the delegating one at its
// `yield from`.
TEST(YieldFrom, ExceptionLeavingTheInnerIsRaisedInTheOuter) {
  Log log;
  auto gen = outer_of(&log, inner(&log, 0, 5));  // inner does not catch Boom
  EXPECT_EQ(gen.next(), 0);
  EXPECT_EQ(gen.throw_(Boom{6}), 2006);
  EXPECT_THAT(log, ElementsAre("~inner", "outer caught 6"));
}

Generator<int, int, int> raising_inner() {
  co_yield 1;
  throw trident::ValueError("inner failed");
}

Generator<int, int, int> outer_catching_value_error(Log* log) {
  try {
    co_yield yield_from(raising_inner());
  } catch (const trident::ValueError& e) {
    log->push_back(e.what());
  }
  co_yield 2;
  co_return 0;
}

TEST(YieldFrom, ExceptionRaisedByTheInnerBodyReachesTheOuter) {
  Log log;
  auto gen = outer_catching_value_error(&log);
  EXPECT_EQ(gen.next(), 1);
  EXPECT_EQ(gen.next(), 2);
  EXPECT_THAT(log, ElementsAre("inner failed"));
}

// PEP 380: close() on the delegating generator closes the inner one first, then raises
// GeneratorExit in the delegating one.
TEST(YieldFrom, CloseClosesTheInnerThenRaisesGeneratorExitInTheOuter) {
  Log log;
  auto gen = outer_of(&log, inner(&log, 0, 5));
  EXPECT_EQ(gen.next(), 0);
  gen.close();
  EXPECT_THAT(log, ElementsAre("~inner", "outer GeneratorExit"));
  EXPECT_TRUE(gen.finished());
}

// Python: even if the inner generator returns a value on close, the outer still gets GeneratorExit
// (close() is not a send).
Generator<int, int, int> inner_returning_on_exit(Log* log) {
  try {
    co_yield 1;
  } catch (const GeneratorExit&) {
    log->push_back("inner GeneratorExit");
    co_return 9;
  }
  co_return 0;
}

TEST(YieldFrom, InnerReturningOnCloseStillClosesTheOuter) {
  Log log;
  auto gen = outer_of(&log, inner_returning_on_exit(&log));
  EXPECT_EQ(gen.next(), 1);
  EXPECT_EQ(gen.close(), std::nullopt);
  EXPECT_THAT(log, ElementsAre("inner GeneratorExit", "outer GeneratorExit"));
}

// PEP 380: if closing the inner generator raises, that exception is raised in the outer one at its
// `yield from` (here the RuntimeError of an inner ignoring GeneratorExit).
Generator<int, int, int> inner_ignoring_exit() {
  for (;;) {
    try {
      co_yield 1;
    } catch (const GeneratorExit&) {
    }
  }
}

Generator<int, int, int> outer_recording(Log* log, Generator<int, int, int> g) {
  try {
    co_yield yield_from(std::move(g));
  } catch (const trident::RuntimeError& e) {
    log->push_back(std::string("outer caught ") + e.what());
    throw;
  }
  co_return 0;
}

TEST(YieldFrom, InnerIgnoringGeneratorExitRaisesRuntimeErrorInTheOuter) {
  Log log;
  auto gen = outer_recording(&log, inner_ignoring_exit());
  gen.next();
  EXPECT_THROW(gen.close(), trident::RuntimeError);
  ASSERT_EQ(log.size(), 1u);
  EXPECT_THAT(log[0], HasSubstr("outer caught Generator::close(): generator ignored GeneratorExit"));
}

// Python: delegation nests; every level forwards, and the innermost runs directly.
Generator<int, int, int> level(Log* log, int depth) {
  if (depth == 0) {
    std::optional<int> v = co_yield 0;
    co_return v.value_or(-1);
  }
  int r = co_yield yield_from(level(log, depth - 1));
  log->push_back("level " + std::to_string(depth) + " got " + std::to_string(r));
  co_return r + 1;
}

TEST(YieldFrom, NestedDelegation) {
  Log log;
  auto gen = level(&log, 3);
  EXPECT_EQ(gen.next(), 0);
  try {
    gen.send(10);
    FAIL() << "no StopIteration";
  } catch (const trident::StopIterationOf<int>& e) {
    EXPECT_EQ(e.value(), 13);
  }
  EXPECT_THAT(log, ElementsAre("level 1 got 10", "level 2 got 11", "level 3 got 12"));
}

// Python: an inner generator that returns before yielding anything gives its value without the
// outer suspending.
Generator<int, int, int> returns_at_once(int v) { co_return v; }

Generator<int, int, int> outer_of_immediate() {
  int a = co_yield yield_from(returns_at_once(4));
  int b = co_yield yield_from(returns_at_once(5));
  co_yield a* b;
  co_return 0;
}

TEST(YieldFrom, InnerFinishingAtOnce) {
  auto gen = outer_of_immediate();
  EXPECT_EQ(gen.next(), 20);
}

// Python: `yield from g` of a variable continues g from where it stands; g can be used afterwards.
Generator<int, int, int> outer_of_lvalue(Generator<int, int, int>* g) {
  int r = co_yield yield_from(*g);
  co_yield 100 + r;
  co_return 0;
}

TEST(YieldFrom, AnLvalueGeneratorContinuesFromWhereItStands) {
  Log log;
  auto g = inner(&log, 0, 3);
  EXPECT_EQ(g.next(), 0);
  auto gen = outer_of_lvalue(&g);
  EXPECT_EQ(gen.next(), 1);
  EXPECT_EQ(gen.send(2), 2);
  EXPECT_EQ(gen.send(3), 105);
  EXPECT_TRUE(g.finished());
}

// Python: `yield from` an exhausted generator (void Return) ends at once.
Generator<int> counts(int n) {
  for (int i = 0; i < n; ++i) co_yield i;
}

Generator<int> outer_of_exhausted(Generator<int>* g) {
  co_yield yield_from(*g);
  co_yield 99;
}

TEST(YieldFrom, AnExhaustedGeneratorEndsAtOnce) {
  auto g = counts(1);
  g.next();
  EXPECT_THROW(g.next(), StopIteration);
  auto gen = outer_of_exhausted(&g);
  EXPECT_EQ(gen.next(), 99);
}

// A typed Return cannot be None: `yield from` a generator whose value was already taken is a
// RuntimeError in the delegating generator.
Generator<int, int, int> outer_of_taken(Generator<int, int, int>* g) {
  co_yield yield_from(*g);
  co_return 0;
}

TEST(YieldFrom, ATakenReturnValueIsRuntimeError) {
  auto g = returns_at_once(1);
  EXPECT_THROW(g.next(), trident::StopIterationOf<int>);
  auto gen = outer_of_taken(&g);
  EXPECT_THROW(gen.next(), trident::RuntimeError);
}

// Python: a generator delegating to itself (or to any running generator) gets ValueError
// "generator already executing".
Generator<int, int, int> delegates_to_self(Generator<int, int, int>** self) {
  co_yield yield_from(**self);
  co_return 0;
}

TEST(YieldFrom, DelegatingToARunningGeneratorIsValueError) {
  Generator<int, int, int>* self = nullptr;
  auto gen = delegates_to_self(&self);
  self = &gen;
  EXPECT_THROW(gen.next(), trident::ValueError);
}

// Python: while the inner generator runs, the delegating one is running too: re-entering it from
// the inner body is ValueError.
Generator<int, int, int> inner_reentering(Generator<int, int, int>** outer_gen, Log* log) {
  co_yield 1;
  try {
    (*outer_gen)->next();
  } catch (const trident::ValueError&) {
    log->push_back("ValueError");
  }
  log->push_back((*outer_gen)->gi_running() ? "outer running" : "outer not running");
  co_yield 2;
  co_return 0;
}

TEST(YieldFrom, TheOuterIsRunningWhileTheInnerRuns) {
  Log log;
  Generator<int, int, int>* self = nullptr;
  auto gen = outer_of(&log, inner_reentering(&self, &log));
  self = &gen;
  EXPECT_EQ(gen.next(), 1);
  EXPECT_EQ(gen.next(), 2);
  EXPECT_THAT(log, ElementsAre("ValueError", "outer running"));
}

// Python closes a collected delegating generator, which closes its inner one: every local of both is
// destroyed, inner first.
TEST(YieldFrom, DestroyingTheOuterClosesTheInner) {
  Log log;
  {
    auto gen = outer(&log);
    gen.next();
    gen.next();
  }
  EXPECT_THAT(log, ElementsAre("~inner", "~outer"));
}

// PEP 479 across delegation: a StopIteration leaking from the inner body is a RuntimeError in the
// outer.
Generator<int, int, int> inner_leaking_stop() {
  auto empty = counts(0);
  co_yield empty.next();
  co_return 0;
}

Generator<int, int, int> outer_of_leaking() {
  std::string message;
  try {
    co_yield yield_from(inner_leaking_stop());
  } catch (const trident::RuntimeError& e) {
    message = e.what();
  }
  if (message.find("generator raised StopIteration") != std::string::npos) co_yield 7;
  co_return 0;
}

TEST(YieldFrom, StopIterationLeakingFromTheInnerIsRuntimeError) {
  auto gen = outer_of_leaking();
  EXPECT_EQ(gen.next(), 7);
}

}  // namespace

namespace {

// Values that do not fit the promise (strings) travel by pointer; delegation forwards them alike.
Generator<std::string, std::string, std::string> words_inner() {
  std::string got;
  for (const char* w : {"a", "b"}) {
    std::optional<std::string> sent = co_yield std::string(w);
    got += sent.value_or("-");
  }
  co_return got;
}

Generator<std::string, std::string, std::string> words_outer() {
  std::string local = "start";
  co_yield local;
  std::string r = co_yield trident::yield_from(words_inner());
  co_yield "inner returned " + r;
  co_return "";
}

// PEP 380 with values of any type: yielded strings pass through, sent strings reach the inner.
TEST(YieldFrom, NonTrivialValuesPassBothWays) {
  auto gen = words_outer();
  EXPECT_EQ(gen.next(), "start");
  EXPECT_EQ(gen.send("ignored"), "a");
  EXPECT_EQ(gen.send("x"), "b");
  EXPECT_EQ(gen.next(), "inner returned x-");
}

}  // namespace

namespace {

// An inner generator driven directly whose body resumes the outer one still delegating to it.
Generator<int, int, int> inner_resuming_outer(Generator<int, int, int>** outer_gen, Log* log) {
  co_yield 1;
  try {
    (*outer_gen)->next();
  } catch (const trident::ValueError& e) {
    log->push_back(std::string("outer raised ") + e.what());
  }
  co_yield 2;
  co_return 0;
}

Generator<int, int, int> outer_borrowing(Generator<int, int, int>* g, Log* log) {
  try {
    co_yield yield_from(*g);
  } catch (const trident::ValueError& e) {
    log->push_back(std::string("outer caught ") + e.what());
    throw;
  }
  co_return 0;
}

// Python: resuming a generator whose `yield from` target is running raises ValueError ("generator
// already executing") in the delegating generator, at its `yield from`.
TEST(YieldFrom, ResumingTheOuterWhileTheDelegateRunsIsValueErrorAtTheYieldFrom) {
  Log log;
  Generator<int, int, int>* outer_ptr = nullptr;
  auto g = inner_resuming_outer(&outer_ptr, &log);
  auto gen = outer_borrowing(&g, &log);
  outer_ptr = &gen;
  EXPECT_EQ(gen.next(), 1);  // g runs to its first yield through gen
  EXPECT_EQ(g.next(), 2);    // g, driven directly, resumes gen while running
  ASSERT_EQ(log.size(), 2u);
  EXPECT_THAT(log[0], HasSubstr("outer caught yield_from(): generator already executing"));
  EXPECT_THAT(log[1], HasSubstr("outer raised yield_from(): generator already executing"));
  EXPECT_TRUE(gen.finished());
}

}  // namespace

namespace {

// PEP 380: a GeneratorExit thrown into the delegating generator with throw() closes the inner one
// (it is not thrown into it), then is raised in the delegating one.
TEST(YieldFrom, ThrowingGeneratorExitClosesTheInner) {
  Log log;
  auto gen = outer_of(&log, inner_returning_on_exit(&log));
  EXPECT_EQ(gen.next(), 1);
  EXPECT_THROW(gen.throw_(GeneratorExit()), GeneratorExit);
  EXPECT_THAT(log, ElementsAre("inner GeneratorExit", "outer GeneratorExit"));
  EXPECT_TRUE(gen.finished());
}

}  // namespace
