// greenlet switching: the themes of greenlet's own test_greenlet.py (switch ordering and values,
// parents and reparenting, dead greenlets, switching to a finished greenlet, throw, exceptions
// crossing into the parent) plus trident's typed switch values.
#include <memory>
#include <stdexcept>
#include <string>
#include <tuple>
#include <vector>

#include <gtest/gtest.h>

#include "trident/greenlet.hpp"

namespace {

using trident::greenlet::getcurrent;
using trident::greenlet::greenlet;
using trident::greenlet::GreenletExit;
using trident::greenlet::Values;

// test_simple: switching interleaves the two bodies in order.
TEST(GreenletSwitch, SimpleOrdering) {
  std::vector<int> seen;
  greenlet g([&] {
    seen.push_back(1);
    getcurrent().parent()->switch_();
    seen.push_back(3);
  });
  seen.push_back(0);
  g.switch_();
  seen.push_back(2);
  g.switch_();
  seen.push_back(4);
  EXPECT_EQ(seen, (std::vector<int>{0, 1, 2, 3, 4}));
  EXPECT_TRUE(g.dead());
}

// Note 002: test1/test2/test3 — test2 finishing returns to its parent (main), so 78 never prints.
TEST(GreenletSwitch, Note002Ordering) {
  std::vector<int> out;
  std::unique_ptr<greenlet> gr1, gr2, gr3;
  gr1 = std::make_unique<greenlet>([&] {
    out.push_back(12);
    gr2->switch_();
    out.push_back(34);
    gr2->switch_();
  });
  gr2 = std::make_unique<greenlet>([&] {
    out.push_back(56);
    gr3->switch_();
    out.push_back(68);
  });
  gr3 = std::make_unique<greenlet>([&] {
    out.push_back(777);
    gr1->switch_();
  });
  gr1->switch_();
  EXPECT_EQ(out, (std::vector<int>{12, 56, 777, 34, 68}));
  EXPECT_FALSE(gr1->dead());  // suspended in its second gr2.switch(): dropped below, killed
  EXPECT_TRUE(gr2->dead());
  EXPECT_FALSE(gr3->dead());
}

// switch(*args): the first switch's arguments are run's; run's return value is what the parent's
// switch returns.
TEST(GreenletSwitch, ArgumentsAndReturnValue) {
  greenlet g([](int a, std::string b) { return b + std::to_string(a); });
  EXPECT_EQ(g.switch_<std::string>(7, std::string("x")), "x7");
  EXPECT_TRUE(g.dead());
}

// A switch returns what the next switch back passes: one value, several, or nothing.
TEST(GreenletSwitch, ValuesTravelBothWays) {
  greenlet main = getcurrent();
  greenlet g([&](int first) {
    int second = main.switch_<int>(first * 10);
    auto [a, b] = main.switch_<std::tuple<int, std::string>>(second + 1, std::string("two"));
    main.switch_<void>();
    return a + static_cast<int>(b.size());
  });
  EXPECT_EQ(g.switch_<int>(4), 40);
  auto [n, s] = g.switch_<std::tuple<int, std::string>>(100);
  EXPECT_EQ(n, 101);
  EXPECT_EQ(s, "two");
  Values nothing = g.switch_(5, std::string("abc"));
  EXPECT_TRUE(nothing.empty());
  EXPECT_EQ(g.switch_<int>(), 8);
}

// The untyped form: Values inspected at run time.
TEST(GreenletSwitch, UntypedValues) {
  greenlet main = getcurrent();
  greenlet g([&](Values v) {
    EXPECT_EQ(v.size(), 2u);
    EXPECT_EQ(v.get<int>(0), 1);
    EXPECT_EQ(v.get<double>(1), 2.5);
    main.switch_(std::string("back"));
  });
  Values v = g.switch_(1, 2.5);
  ASSERT_EQ(v.size(), 1u);
  EXPECT_EQ(v.type(), typeid(std::string));
  EXPECT_EQ(v.get<std::string>(), "back");
  EXPECT_THROW(v.get<int>(), trident::TypeError);
  auto [s] = std::move(v).as<std::string>();
  EXPECT_EQ(s, "back");
}

// A type mismatch is a TypeError naming both sides, not undefined behaviour.
TEST(GreenletSwitch, TypeMismatchIsTypeError) {
  greenlet main = getcurrent();
  greenlet g([&] { main.switch_(42); });
  try {
    g.switch_<std::string>();
    FAIL() << "no TypeError";
  } catch (const trident::TypeError& e) {
    EXPECT_STREQ(e.what(), "greenlet::switch_(): received (int) but the receiver expects (std::string)");
  }
  // Wrong arguments for run: TypeError raised in the new greenlet, which dies; it reaches its parent.
  greenlet h([](int) {});
  EXPECT_THROW(h.switch_(std::string("no")), trident::TypeError);
  EXPECT_TRUE(h.dead());
}

// Switching to the current greenlet returns the arguments at once.
TEST(GreenletSwitch, SwitchToSelfReturnsArguments) {
  EXPECT_EQ(getcurrent().switch_<int>(3), 3);
  greenlet g([] { return getcurrent().switch_<std::string>(std::string("me")); });
  EXPECT_EQ(g.switch_<std::string>(), "me");
}

// test_dead / bool(g): not started -> false, running -> true, finished -> dead.
TEST(GreenletSwitch, DeadAndBool) {
  greenlet main = getcurrent();
  greenlet g([&] {
    EXPECT_TRUE(static_cast<bool>(getcurrent()));
    main.switch_();
  });
  EXPECT_FALSE(static_cast<bool>(g));
  EXPECT_FALSE(g.dead());
  g.switch_();
  EXPECT_TRUE(static_cast<bool>(g));
  EXPECT_FALSE(g.dead());
  g.switch_();
  EXPECT_FALSE(static_cast<bool>(g));
  EXPECT_TRUE(g.dead());
  EXPECT_TRUE(static_cast<bool>(main));  // the main greenlet is always active
  EXPECT_FALSE(main.parent().has_value());
}

// Switching to a finished greenlet switches to its parent, with the arguments.
TEST(GreenletSwitch, SwitchToFinishedGoesToParent) {
  greenlet main = getcurrent();
  greenlet g([] { return 1; });
  EXPECT_EQ(g.switch_<int>(), 1);
  EXPECT_EQ(g.switch_<int>(5), 5);  // g is dead: goes to its parent, main, the current greenlet

  std::vector<int> got;
  greenlet parent([&] {
    for (;;) got.push_back(main.switch_<int>());
  });
  parent.switch_();
  greenlet child([] { return 7; }, parent);
  child.switch_<void>();  // child finishes: its parent receives 7 and switches back to main
  EXPECT_EQ(got, (std::vector<int>{7}));
  child.switch_<void>(8);  // child is dead: the switch goes to its parent
  EXPECT_EQ(got, (std::vector<int>{7, 8}));
}

// run settable before start only; a greenlet without run cannot be switched to.
TEST(GreenletSwitch, RunSettableBeforeStart) {
  greenlet g;
  EXPECT_THROW(g.switch_(), trident::greenlet::error);
  g.set_run([] { return 5; });
  greenlet main = getcurrent();
  greenlet h([&] { main.switch_(); });
  h.switch_();
  EXPECT_THROW(h.set_run([] {}), trident::greenlet::error);
  EXPECT_EQ(g.switch_<int>(), 5);
  h.switch_();
}

// test_parent_equals_None / parent chain: the default parent is the creating greenlet.
TEST(GreenletParent, DefaultParentIsCreator) {
  greenlet main = getcurrent();
  greenlet g([&] {
    greenlet inner([] {});
    EXPECT_TRUE(*inner.parent() == getcurrent());
    return 0;
  });
  EXPECT_TRUE(*g.parent() == main);
  EXPECT_EQ(g.switch_<int>(), 0);
}

// test_parent_restored / reparenting: a greenlet returns to its parent at the time it finishes.
TEST(GreenletParent, ReparentingChangesWhereReturnGoes) {
  std::vector<std::string> log;
  greenlet main = getcurrent();
  greenlet p1([&] { log.push_back("p1 got " + std::to_string(main.switch_<int>())); });
  greenlet p2([&](int x) {
    log.push_back("p2 got " + std::to_string(x));
    return -1;
  });
  greenlet child([] { return 9; });
  p1.switch_();
  child.set_parent(p2);  // p2 not started: child's return value starts it
  EXPECT_EQ(child.switch_<int>(), -1);
  EXPECT_TRUE(p2.dead());
  EXPECT_EQ(log, (std::vector<std::string>{"p2 got 9"}));
  greenlet child2([] { return 11; });
  child2.set_parent(p1);
  child2.switch_<void>();  // p1 receives 11 and finishes, returning to main
  EXPECT_EQ(log.back(), "p1 got 11");
  EXPECT_TRUE(p1.dead());
}

// test_parent_cycle: greenlet raises ValueError "parent cannot be on the parent chain".
TEST(GreenletParent, CyclesRefused) {
  greenlet a([] {});
  greenlet b([] {}, a);
  try {
    a.set_parent(b);
    FAIL() << "no ValueError";
  } catch (const trident::ValueError& e) {
    EXPECT_STREQ(e.what(), "greenlet::set_parent(): parent cannot be on the parent chain");
  }
  EXPECT_THROW(a.set_parent(a), trident::ValueError);
  EXPECT_THROW(getcurrent().set_parent(a), trident::ValueError);
}

// test_throw / test_kill: throw raises at the switch point; the greenlet may catch and go on.
TEST(GreenletThrow, RaisedAtSwitchPoint) {
  greenlet main = getcurrent();
  std::string caught;
  greenlet g([&] {
    try {
      main.switch_();
    } catch (const std::runtime_error& e) {
      caught = e.what();
    }
    return 1;
  });
  g.switch_();
  EXPECT_EQ(g.throw_<int>(std::runtime_error("boom")), 1);
  EXPECT_EQ(caught, "boom");
  EXPECT_TRUE(g.dead());
}

// An exception escaping run is raised in the parent; GreenletExit escaping is a plain return.
TEST(GreenletThrow, EscapingExceptionRaisedInParent) {
  greenlet g([] { throw std::logic_error("out"); });
  EXPECT_THROW(g.switch_(), std::logic_error);
  EXPECT_TRUE(g.dead());

  greenlet main = getcurrent();
  greenlet k([&] { main.switch_(); });
  k.switch_();
  Values v = k.throw_();  // GreenletExit by default
  EXPECT_TRUE(v.empty());
  EXPECT_TRUE(k.dead());
}

// test_throw_goes_to_parent: the exception lands in the parent, not in whoever threw.
TEST(GreenletThrow, ThrowIntoUnstartedDiesAndRaisesInParent) {
  bool ran = false;
  greenlet g([&] { ran = true; });
  EXPECT_THROW(g.throw_(std::runtime_error("early")), std::runtime_error);
  EXPECT_FALSE(ran);
  EXPECT_TRUE(g.dead());
  greenlet h([&] { ran = true; });
  EXPECT_TRUE(h.throw_().empty());  // GreenletExit into an unstarted greenlet: just dead
  EXPECT_TRUE(h.dead());
  EXPECT_FALSE(ran);
}

// Each greenlet has its own exception state: a greenlet switching away inside a catch block
// and rethrowing after coming back rethrows ITS exception, while others throw and catch meanwhile.
TEST(GreenletExceptions, CatchBlocksSurviveSwitches) {
  greenlet main = getcurrent();
  std::string rethrown;
  int uncaught_seen = -1;
  greenlet a([&] {
    try {
      throw std::runtime_error("from a");
    } catch (...) {
      main.switch_();  // inside the handler
      try {
        throw;  // must still be a's exception
      } catch (const std::runtime_error& e) {
        rethrown = e.what();
      }
    }
  });
  greenlet b([&] {
    try {
      throw std::logic_error("from b");
    } catch (const std::logic_error&) {
      EXPECT_TRUE(std::current_exception() != nullptr);
    }
    uncaught_seen = std::uncaught_exceptions();
  });
  a.switch_();
  EXPECT_TRUE(std::current_exception() == nullptr);  // main has none
  try {
    throw std::out_of_range("main's");
  } catch (...) {
    b.switch_();
    EXPECT_TRUE(std::current_exception() != nullptr);
  }
  a.switch_();
  EXPECT_EQ(rethrown, "from a");
  EXPECT_EQ(uncaught_seen, 0);
  EXPECT_TRUE(a.dead());
  EXPECT_TRUE(b.dead());
}

// A switch from a destructor during unwinding: uncaught_exceptions is per greenlet.
TEST(GreenletExceptions, UncaughtCountPerGreenlet) {
  greenlet main = getcurrent();
  int in_other = -1;
  greenlet other([&] {
    for (;;) {
      in_other = std::uncaught_exceptions();
      main.switch_();
    }
  });
  struct SwitchOnUnwind {
    greenlet* g;
    int* here;
    ~SwitchOnUnwind() {
      *here = std::uncaught_exceptions();
      g->switch_();
    }
  };
  int here = -1;
  try {
    SwitchOnUnwind s{&other, &here};
    throw std::runtime_error("unwinding");
  } catch (const std::runtime_error&) {
  }
  EXPECT_EQ(here, 1);
  EXPECT_EQ(in_other, 0);
  other.switch_();
  EXPECT_EQ(in_other, 0);
}

}  // namespace
