// Process subclasses under every start method: CPython's _TestSubclassingProcess themes — run()
// overridden, the object's state available in the child (Python pickles the object for
// forkserver/spawn; trident needs TRIDENT_REGISTER_PROCESS and a cereal serialize member), and the
// name Python gives a subclass ("MyProcess-N"). An unregistered subclass works under fork only.
#include <string>

#include "multiprocessing/process_test_support.hpp"
#include "trident/multiprocessing.hpp"
#include "trident/os.hpp"

namespace mp = trident::multiprocessing;

namespace demo {

// Exits with a code computed from its members and its name, so the parent can tell they crossed.
class Worker : public mp::Process {
 public:
  Worker() = default;
  Worker(int base, std::string word) : base_(base), word_(std::move(word)) {}
  void run() override {
    const bool named = mp::current_process().name() == name() && &mp::current_process() == this;
    trident::os::_exit(base_ + static_cast<int>(word_.size()) + (named ? 100 : 0));
  }
  template <class A>
  void serialize(A& ar) {
    ar(base_, word_);
  }

 private:
  int base_ = 0;
  std::string word_;
};

class Unregistered : public mp::Process {
 public:
  void run() override { trident::os::_exit(3); }
};

class Raises : public mp::Process {
 public:
  void run() override { throw trident::RuntimeError("from run()"); }
  template <class A>
  void serialize(A&) {}
};

}  // namespace demo

TRIDENT_REGISTER_PROCESS(demo::Worker);
TRIDENT_REGISTER_PROCESS(demo::Raises);

namespace {

class SubclassTest : public ::testing::TestWithParam<std::string> {
 protected:
  mp::Context ctx() const { return mp::get_context(GetParam()); }
};

// Python: a subclass's run() runs in the child, with the object's state.
TEST_P(SubclassTest, RegisteredSubclassRunsWithItsState) {
  demo::Worker w(10, "four");
  ctx().bind(w);
  w.start();
  w.join();
  EXPECT_EQ(w.exitcode(), 114);
}

// Python names a subclass's object after its class.
TEST_P(SubclassTest, DefaultNameIsTheClassName) {
  demo::Worker w;
  ASSERT_EQ(w.name().rfind("Worker-", 0), 0u) << w.name();
  w.set_name("renamed");
  EXPECT_EQ(w.name(), "renamed");
  ctx().bind(w);
  w.start();
  w.join();
  EXPECT_EQ(w.exitcode(), 100);
}

TEST_P(SubclassTest, ExceptionInRunExitsOne) {
  demo::Raises r;
  ctx().bind(r);
  r.start();
  r.join();
  EXPECT_EQ(r.exitcode(), 1);
}

// An unregistered subclass cannot cross to a forkserver/spawn child: TypeError naming the fix.
TEST_P(SubclassTest, UnregisteredSubclassCrossesOnlyUnderFork) {
  demo::Unregistered u;
  ctx().bind(u);
  if (GetParam() == "fork") {
    u.start();
    u.join();
    EXPECT_EQ(u.exitcode(), 3);
  } else {
    try {
      u.start();
      FAIL() << "start() accepted an unregistered subclass";
    } catch (const trident::TypeError& e) {
      EXPECT_NE(std::string(e.what()).find("TRIDENT_REGISTER_PROCESS"), std::string::npos) << e.what();
    }
  }
}

INSTANTIATE_TEST_SUITE_P(StartMethods, SubclassTest, ::testing::ValuesIn(trident::testing::all_methods()),
                         trident::testing::method_test_name);

}  // namespace

TRIDENT_PROCESS_TEST_MAIN()
