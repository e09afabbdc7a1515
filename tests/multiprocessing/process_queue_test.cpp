// Queues as Process arguments, under every start method: Python's _test_multiprocessing passes a
// Queue, a JoinableQueue or a SimpleQueue in `args=` and the child uses the same queue
// (_TestQueue.test_put/test_get with a _test_put/_test_get child, test_task_done, test_simple_queue).
// Under fork the child inherits the mapping; under forkserver and spawn the handle crosses as its
// segment's name and the child attaches to the same ring.
#include <dirent.h>

#include <chrono>
#include <string>
#include <type_traits>
#include <vector>

#include "multiprocessing/process_test_support.hpp"
#include "trident/multiprocessing.hpp"

using namespace std::chrono_literals;
namespace mp = trident::multiprocessing;
using mp::Process;

namespace {

// ---- targets (plain functions: they cross to forkserver and spawn children) ----

void put_range(mp::Queue<int> q, int n) {
  for (int i = 0; i < n; ++i) q.put(i);
}

void put_words(mp::SimpleQueue<std::string> q, std::vector<std::string> words) {
  for (const auto& w : words) q.put(w);
}

// Takes every item, reports each done, and echoes the sum back through `out`.
void consume_tasks(mp::JoinableQueue<int> tasks, mp::Queue<long> out, int n) {
  long sum = 0;
  for (int i = 0; i < n; ++i) {
    sum += tasks.get(20s);
    tasks.task_done();
  }
  out.put(sum);
}

// The child's handle starts open even if the parent closed its own (they are separate objects, as
// a Python child's unpickled queue is).
void put_once(mp::Queue<int> q) { q.put(7); }

int internal_segments(int pid) {
  const std::string prefix = "trident_" + std::to_string(pid) + "_";
  int n = 0;
  if (DIR* d = opendir("/dev/shm")) {
    while (dirent* e = readdir(d)) n += std::string(e->d_name).rfind(prefix, 0) == 0 ? 1 : 0;
    closedir(d);
  }
  return n;
}

// The first shared object starts the segment tracker, whose fd stays open for the program's life:
// start it before the first test so the fd leak check does not count it.
class StartTracker : public ::testing::Environment {
  void SetUp() override { mp::Queue<int>(); }
};
[[maybe_unused]] ::testing::Environment* const g_start_tracker = ::testing::AddGlobalTestEnvironment(new StartTracker);

class QueueArgTest : public ::testing::TestWithParam<std::string> {
 protected:
  mp::Context ctx() const { return mp::get_context(GetParam()); }
  void TearDown() override { EXPECT_EQ(internal_segments(::getpid()), 0) << "a segment outlived its handles"; }
};

// Python: a child puts, the parent gets every item in order.
TEST_P(QueueArgTest, ChildPutsParentGets) {
  mp::Queue<int> q;
  Process p = ctx().Process(put_range, q, 1000);
  p.start();
  for (int i = 0; i < 1000; ++i) ASSERT_EQ(q.get(20s), i);
  p.join(20s);
  EXPECT_EQ(p.exitcode(), 0);
  EXPECT_TRUE(q.empty());
}

// Python's ctx.Queue(), ctx.JoinableQueue(), ctx.SimpleQueue(): a context makes the module's queues,
// and they reach that context's children.
TEST_P(QueueArgTest, ContextMakesTheModulesQueues) {
  const mp::Context c = ctx();
  static_assert(std::is_same_v<decltype(c.Queue<int>()), mp::Queue<int>>);
  static_assert(std::is_same_v<decltype(c.JoinableQueue<int>(4)), mp::JoinableQueue<int>>);
  static_assert(std::is_same_v<decltype(c.SimpleQueue<std::string>()), mp::SimpleQueue<std::string>>);
  mp::Queue<int> q = c.Queue<int>(10);
  EXPECT_EQ(q.qsize(), 0);
  Process p = c.Process(put_range, q, 5);
  p.start();
  for (int i = 0; i < 5; ++i) ASSERT_EQ(q.get(20s), i);
  p.join(20s);
  EXPECT_EQ(p.exitcode(), 0);
}

// Python: SimpleQueue crosses the same way.
TEST_P(QueueArgTest, SimpleQueueChildPutsParentGets) {
  mp::SimpleQueue<std::string> q;
  Process p = ctx().Process(put_words, q, std::vector<std::string>{"a", "bb", "ccc"});
  p.start();
  EXPECT_EQ(q.get(), "a");
  EXPECT_EQ(q.get(), "bb");
  EXPECT_EQ(q.get(), "ccc");
  p.join(20s);
  EXPECT_EQ(p.exitcode(), 0);
}

// Python test_task_done: the child's task_done calls release the parent's join().
TEST_P(QueueArgTest, JoinableQueueTaskDoneReleasesJoinAcrossChild) {
  mp::JoinableQueue<int> tasks;
  mp::Queue<long> out;
  constexpr int kTasks = 200;
  Process p = ctx().Process(consume_tasks, tasks, out, kTasks);
  p.start();
  for (int i = 1; i <= kTasks; ++i) tasks.put(i);
  EXPECT_TRUE(tasks.join(20s));
  EXPECT_EQ(out.get(20s), long{kTasks} * (kTasks + 1) / 2);
  p.join(20s);
  EXPECT_EQ(p.exitcode(), 0);
  EXPECT_THROW(tasks.task_done(), trident::ValueError);
}

// Python: close() is per process object; a child's copy of the queue is still usable.
TEST_P(QueueArgTest, ParentCloseDoesNotCloseTheChildsHandle) {
  mp::Queue<int> q;
  mp::Queue<int> reader = q;
  Process p = ctx().Process(put_once, q);
  p.start();
  p.join(20s);
  EXPECT_EQ(p.exitcode(), 0);
  q.close();
  EXPECT_THROW(reader.get_nowait(), trident::ValueError);  // copies in one process are one object
  mp::Queue<int> fresh = mp::Queue<int>::attach(q.segment_name());
  EXPECT_EQ(fresh.get(20s), 7);
}

INSTANTIATE_TEST_SUITE_P(StartMethods, QueueArgTest, ::testing::ValuesIn(trident::testing::all_methods()),
                         trident::testing::method_test_name);

}  // namespace

TRIDENT_PROCESS_TEST_MAIN()
