// ThreadPoolExecutor (Python's concurrent/futures/thread.py) on threading::Thread workers.
//
// The work queue is an intrusive FIFO of task states (the futures themselves) under one core
// Mutex, with one CondVar where idle workers wait. A submit costs one allocation (the task, made
// by Executor::submit), one lock and, only when a worker is waiting, one notify — which is no
// system call while that worker is still in its spin.
//
// Process exit follows Python's `_python_exit`: threading joins every non-daemon thread at exit,
// and pool workers wait for work forever, so an executor still alive then (a global, a leaked one)
// would hang the exit. An atexit handler registered after the first worker started — so it runs
// before threading's join, which is registered at the first start — shuts every live pool down
// (queued calls still run, later submits fail) and joins its workers.
//
// After a fork, a pool made in the parent has no workers in the child (only the forking thread is
// copied) while its counters say it has: the child's pthread_atfork handler gives each pool fresh
// locks and marks it forked, and submit() then throws BrokenThreadPool. Calls queued or running in
// the parent at the fork stay pending in the child's copy, as in CPython.
//
// Idle accounting replaces Python's idle semaphore: `idle` counts workers not running a call. A
// worker counts itself idle again *before* it publishes a result, so a caller that got the result
// and submits again finds that worker idle and no new thread starts (Python has a small race
// there). While it runs done-callbacks it counts as busy, as in Python: a callback that submits
// and waits gets a new worker rather than waiting for itself.
#include <pthread.h>

#include <algorithm>
#include <mutex>
#include <new>
#include <string>

#include "futures/report.hpp"
#include "platform/linux/futex.hpp"
#include "trident/futures.hpp"
#include "trident/threading.hpp"

namespace trident::futures {

namespace {

std::atomic<int> g_executor_counter{0};

// Every pool alive (expired entries are pruned lazily), and whether the process is exiting.
trident::detail::Mutex g_pools_mutex;
std::vector<std::weak_ptr<void>>* g_pools = nullptr;  // guarded by g_pools_mutex; never freed
bool g_exiting = false;                               // guarded by g_pools_mutex

constexpr const char* kBrokenMessage = "A thread initializer failed, the thread pool is not usable anymore";

int default_max_workers() { return std::min(32, platform::cpu_count() + 4); }

}  // namespace

struct ThreadPoolExecutor::Pool {
  Pool(int workers, std::string name_prefix, std::function<void()> init)
      : max_workers(workers), prefix(std::move(name_prefix)), initializer(std::move(init)) {}

  void push_locked(detail::FutureCore* item) noexcept {
    item->next_work = nullptr;
    (tail != nullptr ? tail->next_work : head) = item;
    tail = item;
    ++queued;
  }
  // Takes the oldest call for a worker, which stops counting as idle.
  detail::FutureCore* pop_locked() noexcept {
    detail::FutureCore* item = head;
    if (item == nullptr) return nullptr;
    head = item->next_work;
    if (head == nullptr) tail = nullptr;
    item->next_work = nullptr;
    --queued;
    --idle;
    return item;
  }
  detail::FutureCore* take_all_locked() noexcept {
    detail::FutureCore* all = std::exchange(head, nullptr);
    tail = nullptr;
    queued = 0;
    return all;
  }
  // A worker, counted idle, waits for a call; null when the pool shut down and the queue is empty.
  detail::FutureCore* wait_for_work_locked() {
    for (;;) {
      if (detail::FutureCore* item = pop_locked()) return item;
      if (shut) {
        --idle;
        return nullptr;
      }
      work_ready.wait(mutex);
    }
  }
  void start_worker_locked();
  void shut_down(bool cancel_futures);
  static void join_pools_at_exit();
  static void after_fork_in_child() noexcept;
  static const bool fork_handler_registered;
  static void ensure_exit_handler();
  void worker() noexcept;
  void initializer_failed() noexcept;
  void join_all();

  const int max_workers;
  const std::string prefix;
  const std::function<void()> initializer;

  trident::detail::Mutex mutex;
  trident::detail::CondVar work_ready;  // idle workers wait here for a call or shutdown
  detail::FutureCore* head = nullptr;   // the queue, guarded by mutex
  detail::FutureCore* tail = nullptr;   // guarded by mutex
  std::size_t queued = 0;               // guarded by mutex
  std::size_t idle = 0;                 // workers not running a call; guarded by mutex
  bool shut = false;                    // guarded by mutex
  bool exiting = false;                 // shut by the exit handler; guarded by mutex
  bool broken = false;                  // guarded by mutex
  bool forked = false;                  // this is a forked child's copy of the pool; guarded by mutex
  // Every worker ever started; only grows, and only before `shut`. Guarded by mutex.
  std::vector<std::unique_ptr<threading::Thread>> threads;

  trident::detail::Mutex join_mutex;  // one joiner at a time
  std::size_t joined = 0;             // threads[0, joined) are joined; guarded by join_mutex
};

// In a forked child (see the top of this file). The child has one thread: nothing else runs here.
void ThreadPoolExecutor::Pool::after_fork_in_child() noexcept {
  new (&g_pools_mutex) trident::detail::Mutex;
  if (g_pools == nullptr) return;
  for (auto& weak : *g_pools) {
    auto p = std::static_pointer_cast<Pool>(weak.lock());
    if (!p) continue;
    new (&p->mutex) trident::detail::Mutex;
    new (&p->join_mutex) trident::detail::Mutex;
    new (&p->work_ready) trident::detail::CondVar;
    p->forked = true;
  }
}

// Registered at load time rather than by the first executor: a guarded static still being
// initialized by another thread at a fork would block the child at its first executor.
const bool ThreadPoolExecutor::Pool::fork_handler_registered =
    (pthread_atfork(nullptr, nullptr, &ThreadPoolExecutor::Pool::after_fork_in_child), true);

void ThreadPoolExecutor::Pool::join_pools_at_exit() {
  std::vector<std::shared_ptr<Pool>> pools;
  {
    std::lock_guard g(g_pools_mutex);
    g_exiting = true;
    for (auto& weak : *g_pools) {
      if (auto p = std::static_pointer_cast<Pool>(weak.lock())) pools.push_back(std::move(p));
    }
  }
  for (auto& p : pools) {
    {
      std::lock_guard g(p->mutex);
      p->exiting = !p->shut;
    }
    p->shut_down(false);
  }
  for (auto& p : pools) {
    try {
      p->join_all();
    } catch (...) {
      // exit() called by a worker of this pool: it cannot join itself; the others are joined.
    }
  }
}

void ThreadPoolExecutor::Pool::ensure_exit_handler() {
  static const bool registered = (std::atexit(&join_pools_at_exit), true);
  (void)registered;
}

void ThreadPoolExecutor::Pool::start_worker_locked() {
  const std::size_t i = threads.size();
  auto thread = std::make_unique<threading::Thread>(threading::ThreadOptions{.name = prefix + "_" + std::to_string(i)},
                                                    [this] { worker(); });
  // Room first: once started, the thread must be recorded, or nobody would join it.
  if (threads.size() == threads.capacity()) threads.reserve(threads.capacity() * 2 + 1);
  ++idle;
  try {
    thread->start();
  } catch (...) {
    --idle;
    throw;
  }
  threads.push_back(std::move(thread));
  ensure_exit_handler();
}

void ThreadPoolExecutor::Pool::shut_down(bool cancel_futures) {
  detail::FutureCore* dropped = nullptr;
  {
    std::lock_guard g(mutex);
    shut = true;
    if (cancel_futures) dropped = take_all_locked();
  }
  work_ready.notify_all();
  while (dropped != nullptr) {
    detail::FutureCore* next = dropped->next_work;
    WorkItem(dropped).cancel();
    dropped = next;
  }
}

void ThreadPoolExecutor::Pool::worker() noexcept {
  if (initializer) {
    try {
      initializer();
    } catch (...) {
      detail::report("Exception in initializer:", std::current_exception());
      initializer_failed();
      return;
    }
  }
  detail::FutureCore* item;
  {
    std::lock_guard g(mutex);
    item = wait_for_work_locked();
  }
  while (item != nullptr) {
    const bool has_outcome = item->execute();
    detail::FutureCore* next;
    {
      std::lock_guard g(mutex);
      ++idle;
      next = pop_locked();
    }
    if (has_outcome) {
      if (detail::CallbackNode* callbacks = item->publish()) {
        if (next == nullptr) {
          std::lock_guard g(mutex);
          --idle;
        }
        item->run_callbacks(callbacks);
        if (next == nullptr) {
          std::lock_guard g(mutex);
          ++idle;
        }
      }
    }
    item->release();
    if (next == nullptr) {
      std::lock_guard g(mutex);
      next = wait_for_work_locked();
    }
    item = next;
  }
}

void ThreadPoolExecutor::Pool::initializer_failed() noexcept {
  detail::FutureCore* dropped;
  {
    std::lock_guard g(mutex);
    broken = true;
    dropped = take_all_locked();
    --idle;
  }
  std::exception_ptr error;
  try {
    error = std::make_exception_ptr(BrokenThreadPool(std::string("ThreadPoolExecutor: ") + kBrokenMessage));
  } catch (...) {
    error = std::current_exception();  // bad_alloc: still an error the futures can carry
  }
  while (dropped != nullptr) {
    detail::FutureCore* next = dropped->next_work;
    dropped->fail(error);
    dropped->release();
    dropped = next;
  }
}

void ThreadPoolExecutor::Pool::join_all() {
  std::lock_guard g(join_mutex);
  std::size_t n;
  {
    std::lock_guard lk(mutex);
    n = threads.size();  // final: nothing starts after `shut`
  }
  // Joining the calling worker itself (shutdown from a task) throws; join the others anyway, and
  // leave that one for a later shutdown() (joining a finished thread again is instant).
  std::exception_ptr self_join;
  std::size_t first_unjoined = n;
  for (std::size_t i = joined; i < n; ++i) {
    try {
      threads[i]->join();
    } catch (const RuntimeError&) {
      if (!self_join) {
        self_join = std::current_exception();
        first_unjoined = i;
      }
    }
  }
  joined = first_unjoined;
  if (self_join) std::rethrow_exception(self_join);
}

ThreadPoolExecutor::ThreadPoolExecutor(int max_workers)
    : ThreadPoolExecutor(ThreadPoolOptions{.max_workers = max_workers}) {}

ThreadPoolExecutor::ThreadPoolExecutor(ThreadPoolOptions options) {
  const int workers = options.max_workers.value_or(default_max_workers());
  if (workers <= 0) throw ValueError("ThreadPoolExecutor(): max_workers must be greater than 0");
  std::string prefix = std::move(options.thread_name_prefix);
  if (prefix.empty()) prefix = "ThreadPoolExecutor-" + std::to_string(g_executor_counter.fetch_add(1));
  pool_ = std::make_shared<Pool>(workers, std::move(prefix), std::move(options.initializer));
  std::lock_guard g(g_pools_mutex);
  if (g_pools == nullptr) g_pools = new std::vector<std::weak_ptr<void>>();
  std::erase_if(*g_pools, [](const std::weak_ptr<void>& w) { return w.expired(); });
  g_pools->push_back(pool_);
  if (g_exiting) {
    // Created by a static destructor or another exit handler: like Python after interpreter
    // shutdown, it accepts nothing.
    pool_->shut = true;
    pool_->exiting = true;
  }
}

ThreadPoolExecutor::~ThreadPoolExecutor() {
  try {
    shutdown(true);
  } catch (...) {
    detail::report("ThreadPoolExecutor destroyed by one of its own workers; aborting", std::current_exception());
    std::terminate();
  }
  // Calls left behind by a worker that could not be started.
  detail::FutureCore* left;
  {
    std::lock_guard g(pool_->mutex);
    left = pool_->take_all_locked();
  }
  while (left != nullptr) {
    detail::FutureCore* next = left->next_work;
    WorkItem(left).cancel();
    left = next;
  }
}

void ThreadPoolExecutor::schedule(WorkItem item) {
  Pool& p = *pool_;
  {
    std::lock_guard g(p.mutex);
    if (p.broken) throw BrokenThreadPool(std::string("ThreadPoolExecutor::submit(): ") + kBrokenMessage);
    if (p.forked) {
      throw BrokenThreadPool(
          "ThreadPoolExecutor::submit(): the executor was created before a fork; its workers are not in this child "
          "process");
    }
    if (p.shut) {
      throw RuntimeError(p.exiting
                             ? "ThreadPoolExecutor::submit(): cannot schedule new futures after interpreter shutdown"
                             : "ThreadPoolExecutor::submit(): cannot schedule new futures after shutdown");
    }
    p.push_locked(std::exchange(item.core_, nullptr));
    // More calls waiting than idle workers to take them: one more worker, while allowed.
    if (p.queued > p.idle && p.threads.size() < static_cast<std::size_t>(p.max_workers)) p.start_worker_locked();
  }
  p.work_ready.notify(1);
}

void ThreadPoolExecutor::shutdown(bool wait, bool cancel_futures) {
  pool_->shut_down(cancel_futures);
  if (wait) pool_->join_all();
}

int ThreadPoolExecutor::max_workers() const noexcept { return pool_->max_workers; }

std::size_t ThreadPoolExecutor::worker_count() const {
  std::lock_guard g(pool_->mutex);
  return pool_->threads.size();
}

}  // namespace trident::futures
