// trident::Generator: next, send, StopIteration and the return value, iteration, re-entry — the
// themes of CPython's Lib/test/test_generators.py (and PEP 342/479) that are not throw or close.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <memory>
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
using trident::StopIteration;
using trident::StopIterationOf;
using trident::generator_test::Cleanup;
using trident::generator_test::Log;

Generator<int> count_to(int n, Log* log = nullptr) {
  if (log) log->push_back("started");
  for (int i = 0; i < n; ++i) co_yield i;
  if (log) log->push_back("finished");
}

// Note 001's generator: `jump = yield index`.
Generator<int, int> jumping_range(int n) {
  int index = 0;
  while (index < n) {
    std::optional<int> jump = co_yield index;
    index += jump.value_or(1);
  }
}

Generator<int, void, std::string> two_then_return(std::string result) {
  co_yield 1;
  co_yield 2;
  co_return result;
}

// Python: calling a generator function runs none of its body; next() runs it to the first yield.
TEST(Generator, BodyRunsOnlyWhenFirstNextIsCalled) {
  Log log;
  auto gen = count_to(2, &log);
  EXPECT_TRUE(log.empty());
  EXPECT_FALSE(gen.gi_suspended());
  EXPECT_EQ(gen.next(), 0);
  EXPECT_THAT(log, ElementsAre("started"));
  EXPECT_TRUE(gen.gi_suspended());
}

// Python: next() returns each yielded value in turn, then raises StopIteration, and keeps raising
// it on every later call.
TEST(Generator, NextYieldsInOrderThenRaisesStopIterationForever) {
  Log log;
  auto gen = count_to(3, &log);
  EXPECT_EQ(next(gen), 0);
  EXPECT_EQ(next(gen), 1);
  EXPECT_EQ(gen.next(), 2);
  EXPECT_THROW(next(gen), StopIteration);
  EXPECT_THAT(log, ElementsAre("started", "finished"));
  EXPECT_TRUE(gen.finished());
  EXPECT_FALSE(gen.gi_suspended());
  EXPECT_THROW(next(gen), StopIteration);
  EXPECT_THROW(gen.next(), StopIteration);
}

// Note 001: jumping_range(5) driven by next, send(2), next, send(-1) gives 0 2 3 2.
TEST(GeneratorSend, JumpingRangeOfNote001) {
  auto itr = jumping_range(5);
  EXPECT_EQ(next(itr), 0);
  EXPECT_EQ(itr.send(2), 2);
  EXPECT_EQ(next(itr), 3);
  EXPECT_EQ(itr.send(-1), 2);
}

// PEP 342: the value of the yield expression is what send() passed, None after next().
Generator<int, std::string> record_sent(std::vector<std::optional<std::string>>* got) {
  for (int i = 0;; ++i) got->push_back(co_yield i);
}

TEST(GeneratorSend, YieldExpressionIsTheSentValueOrNoneAfterNext) {
  std::vector<std::optional<std::string>> got;
  auto gen = record_sent(&got);
  EXPECT_EQ(gen.next(), 0);
  EXPECT_EQ(gen.send("a"), 1);
  EXPECT_EQ(gen.next(), 2);
  EXPECT_EQ(gen.send(), 3);  // send(None)
  EXPECT_EQ(gen.send(std::nullopt), 4);
  EXPECT_EQ(gen.send(std::string("b")), 5);
  EXPECT_THAT(got, ElementsAre(std::optional<std::string>("a"), std::nullopt, std::nullopt, std::nullopt,
                               std::optional<std::string>("b")));
}

// Python: gen.send(value) before the first next() is TypeError "can't send non-None value to a
// just-started generator", and leaves the generator unstarted; send(None) starts it.
TEST(GeneratorSend, SendingAValueToAJustStartedGeneratorIsTypeError) {
  Log log;
  auto gen = jumping_range(5);
  try {
    gen.send(2);
    FAIL() << "send() on a just-started generator did not throw";
  } catch (const trident::TypeError& e) {
    EXPECT_THAT(e.what(), HasSubstr("Generator::send(): can't send non-None value to a just-started generator"));
  }
  EXPECT_FALSE(gen.gi_suspended());
  EXPECT_THROW(gen.try_send(2), trident::TypeError);
  EXPECT_EQ(gen.send(), 0);  // send(None) is next()
  EXPECT_EQ(gen.send(2), 2);
}

TEST(GeneratorSend, SendNoneStartsAJustStartedGenerator) {
  auto gen = jumping_range(3);
  EXPECT_EQ(gen.send(std::nullopt), 0);
  EXPECT_EQ(gen.send(1), 1);
}

// Python: send() on an exhausted generator raises StopIteration, like next().
TEST(GeneratorSend, SendToAnExhaustedGeneratorRaisesStopIteration) {
  auto gen = jumping_range(1);
  EXPECT_EQ(gen.next(), 0);
  EXPECT_THROW(gen.send(5), StopIteration);
  EXPECT_THROW(gen.send(5), StopIteration);
}

// Python (PEP 380): `return value` in a generator raises StopIteration(value); later calls raise
// a bare StopIteration (value None).
TEST(GeneratorReturn, ReturnValueRidesTheFirstStopIteration) {
  auto gen = two_then_return("done");
  EXPECT_EQ(gen.next(), 1);
  EXPECT_EQ(gen.next(), 2);
  try {
    gen.next();
    FAIL() << "no StopIteration";
  } catch (const StopIterationOf<std::string>& e) {
    EXPECT_EQ(e.value(), "done");
    EXPECT_STREQ(e.type_name(), "StopIteration");
  }
  try {
    gen.next();
    FAIL() << "no StopIteration";
  } catch (const StopIterationOf<std::string>&) {
    FAIL() << "the second StopIteration carried the value again";
  } catch (const StopIteration& e) {
    EXPECT_THAT(e.what(), HasSubstr("exhausted"));
  }
}

// A move-only return value travels in StopIterationOf (which is copyable, as thrown types must be).
Generator<int, void, std::unique_ptr<int>> returns_unique() {
  co_yield 0;
  co_return std::make_unique<int>(42);
}

TEST(GeneratorReturn, MoveOnlyReturnValue) {
  auto gen = returns_unique();
  gen.next();
  try {
    gen.next();
    FAIL() << "no StopIteration";
  } catch (StopIterationOf<std::unique_ptr<int>>& e) {
    std::unique_ptr<int> p = std::move(e.value());
    EXPECT_EQ(*p, 42);
  }
}

// The exception-free loop: try_next() gives nullopt at exhaustion and the return value stays in
// the generator (Python has only StopIteration.value; this is trident's non-throwing form).
TEST(GeneratorReturn, TryNextEndsWithNulloptAndKeepsTheReturnValue) {
  auto gen = two_then_return("kept");
  std::vector<int> seen;
  while (std::optional<int> v = gen.try_next()) seen.push_back(*v);
  EXPECT_THAT(seen, ElementsAre(1, 2));
  EXPECT_EQ(gen.return_value(), "kept");
  EXPECT_EQ(gen.try_next(), std::nullopt);
  // The first StopIteration still carries it; then it is gone.
  EXPECT_THROW(gen.next(), StopIterationOf<std::string>);
  EXPECT_THROW(gen.return_value(), trident::RuntimeError);
}

TEST(GeneratorReturn, ReturnValueBeforeReturningIsRuntimeError) {
  auto gen = two_then_return("x");
  EXPECT_THROW(gen.return_value(), trident::RuntimeError);
  gen.next();
  EXPECT_THROW(gen.return_value(), trident::RuntimeError);
}

// Python's next(gen, default) returns default instead of raising StopIteration.
TEST(Generator, NextWithDefaultAtExhaustion) {
  auto gen = count_to(1);
  EXPECT_EQ(next(gen, -1), 0);
  EXPECT_EQ(next(gen, -1), -1);
  EXPECT_EQ(gen.next(-2), -2);
}

// Python: an exception raised in the body propagates out of next(); the generator is then
// finished and raises StopIteration.
Generator<int> raises_after_one() {
  co_yield 1;
  throw trident::ValueError("bad");
}

TEST(Generator, ExceptionFromTheBodyPropagatesThenStopIteration) {
  auto gen = raises_after_one();
  EXPECT_EQ(gen.next(), 1);
  try {
    gen.next();
    FAIL() << "no ValueError";
  } catch (const trident::ValueError& e) {
    EXPECT_STREQ(e.what(), "bad");
  }
  EXPECT_TRUE(gen.finished());
  EXPECT_THROW(gen.next(), StopIteration);
}

TEST(Generator, TryNextStillPropagatesOtherExceptions) {
  auto gen = raises_after_one();
  EXPECT_EQ(gen.try_next(), 1);
  EXPECT_THROW(gen.try_next(), trident::ValueError);
  EXPECT_EQ(gen.try_next(), std::nullopt);
}

// PEP 479: a StopIteration escaping a generator's body is turned into RuntimeError("generator
// raised StopIteration"), so it cannot silently end the caller's loop.
Generator<int> leaks_stop_iteration() {
  auto inner = count_to(0);
  co_yield 1;
  co_yield inner.next();  // raises StopIteration inside this body
}

TEST(Generator, StopIterationEscapingTheBodyBecomesRuntimeError) {
  auto gen = leaks_stop_iteration();
  EXPECT_EQ(gen.next(), 1);
  try {
    gen.next();
    FAIL() << "no RuntimeError";
  } catch (const StopIteration&) {
    FAIL() << "StopIteration escaped the generator";
  } catch (const trident::RuntimeError& e) {
    EXPECT_THAT(e.what(), HasSubstr("generator raised StopIteration"));
  }
}

// Python: a generator that calls next() on itself gets ValueError "generator already executing";
// gi_running is true while its body runs.
Generator<int> reenters(Generator<int>** self, std::vector<bool>* running_seen) {
  running_seen->push_back((*self)->gi_running());
  std::string message;
  try {
    (*self)->next();
  } catch (const trident::ValueError& e) {
    message = e.what();
  }
  EXPECT_THAT(message, HasSubstr("Generator::next(): generator already executing"));
  co_yield 1;
  EXPECT_THROW((*self)->close(), trident::ValueError);
  EXPECT_THROW((*self)->throw_(trident::generator_test::Boom{1}), trident::ValueError);
  co_yield 2;
}

TEST(Generator, ReenteringARunningGeneratorIsValueError) {
  Generator<int>* self = nullptr;
  std::vector<bool> running_seen;
  auto gen = reenters(&self, &running_seen);
  self = &gen;
  EXPECT_FALSE(gen.gi_running());
  EXPECT_EQ(gen.next(), 1);
  EXPECT_EQ(gen.next(), 2);
  EXPECT_THAT(running_seen, ElementsAre(true));
  EXPECT_FALSE(gen.gi_running());
}

// Python: `for x in gen` calls next() until StopIteration, which ends the loop.
TEST(GeneratorIteration, RangeForGivesEveryValue) {
  std::vector<int> seen;
  for (int v : count_to(4)) seen.push_back(v);
  EXPECT_THAT(seen, ElementsAre(0, 1, 2, 3));
}

TEST(GeneratorIteration, RangeForOverAnEmptyGenerator) {
  int n = 0;
  for (int v : count_to(0)) n += v + 1;
  EXPECT_EQ(n, 0);
  Generator<int> empty;
  for (int v : empty) n += v + 1;
  EXPECT_EQ(n, 0);
  EXPECT_THROW(empty.next(), StopIteration);
}

// Python: iterating a partly consumed generator continues where it stands.
TEST(GeneratorIteration, RangeForContinuesAPartlyConsumedGenerator) {
  auto gen = count_to(4);
  gen.next();
  std::vector<int> seen;
  for (int v : gen) seen.push_back(v);
  EXPECT_THAT(seen, ElementsAre(1, 2, 3));
}

// Python: an exception raised in the body propagates out of the for loop.
TEST(GeneratorIteration, ExceptionsPropagateOutOfTheLoop) {
  std::vector<int> seen;
  auto loop = [&] {
    for (int v : raises_after_one()) seen.push_back(v);
  };
  EXPECT_THROW(loop(), trident::ValueError);
  EXPECT_THAT(seen, ElementsAre(1));
}

// Python: leaving a for loop early leaves the generator suspended; dropping it closes it.
TEST(GeneratorIteration, BreakThenDestroyRunsTheCleanup) {
  Log log;
  auto body = [](Log* l) -> Generator<int> {
    Cleanup c(*l, "local");
    for (int i = 0;; ++i) co_yield i;
  };
  {
    auto gen = body(&log);
    for (int v : gen)
      if (v == 2) break;
    EXPECT_TRUE(log.empty());
  }
  EXPECT_THAT(log, ElementsAre("~local"));
}

// The generator is an input range: std::ranges algorithms take it.
static_assert(std::ranges::input_range<Generator<int>>);
static_assert(std::ranges::input_range<Generator<std::string, int, double>>);

// co_yield of an lvalue hands out a copy (the generator's variable is unchanged); of an rvalue,
// the value itself (moved out, so move-only types work).
Generator<std::string> yields_lvalue(std::string* observed) {
  std::string s = "kept";
  co_yield s;
  *observed = s;
}

Generator<std::unique_ptr<int>> yields_unique() {
  co_yield std::make_unique<int>(7);
  co_yield std::make_unique<int>(8);
}

TEST(GeneratorValues, LvalueIsCopiedRvalueIsMoved) {
  std::string observed;
  auto gen = yields_lvalue(&observed);
  std::string got = gen.next();
  EXPECT_EQ(got, "kept");
  EXPECT_THROW(gen.next(), StopIteration);
  EXPECT_EQ(observed, "kept");

  auto uniq = yields_unique();
  EXPECT_EQ(*uniq.next(), 7);
  std::vector<int> rest;
  for (auto& p : uniq) rest.push_back(*p);
  EXPECT_THAT(rest, ElementsAre(8));
}

// A value converted on the way (a const char* yielded into Generator<std::string>) lives until the
// generator resumes.
Generator<std::string> yields_converted() {
  co_yield "abc";
  const char* p = "def";
  co_yield p;
}

TEST(GeneratorValues, ConvertedValues) {
  auto gen = yields_converted();
  EXPECT_EQ(gen.next(), "abc");
  EXPECT_EQ(gen.next(), "def");
}

// Moving a Generator moves the suspended coroutine; the moved-from one is exhausted.
TEST(Generator, MoveKeepsThePosition) {
  auto a = count_to(3);
  EXPECT_EQ(a.next(), 0);
  Generator<int> b = std::move(a);
  EXPECT_EQ(b.next(), 1);
  EXPECT_THROW(a.next(), StopIteration);  // NOLINT(bugprone-use-after-move): documented state
  EXPECT_TRUE(a.finished());
  a = std::move(b);
  EXPECT_EQ(a.next(), 2);
}

// Generators can be stored and driven in turn (a round-robin scheduler, the classic use).
TEST(Generator, RoundRobinOfSeveralGenerators) {
  std::vector<Generator<int>> gens;
  for (int n = 1; n <= 3; ++n) gens.push_back(count_to(n));
  std::vector<int> order;
  bool any = true;
  while (any) {
    any = false;
    for (auto& g : gens)
      if (auto v = g.try_next()) {
        order.push_back(*v);
        any = true;
      }
  }
  EXPECT_THAT(order, ElementsAre(0, 0, 0, 1, 1, 2));
}

}  // namespace

namespace {

// Sent values are moved in: a move-only Send type works (Python passes references; C++ moves).
Generator<int, std::unique_ptr<int>> sums_sent() {
  int total = 0;
  for (;;) {
    std::optional<std::unique_ptr<int>> sent = co_yield total;
    if (sent && *sent) total += **sent;
  }
}

TEST(GeneratorSend, MoveOnlySentValues) {
  auto gen = sums_sent();
  EXPECT_EQ(gen.next(), 0);
  EXPECT_EQ(gen.send(std::make_unique<int>(4)), 4);
  EXPECT_EQ(gen.send(std::make_unique<int>(5)), 9);
  EXPECT_EQ(gen.next(), 9);
  EXPECT_EQ(gen.try_send(std::make_unique<int>(1)), 10);
}

}  // namespace
