// The calls the compile checks try (tests/threading/CMakeLists.txt): CORRECT_CALLS must compile;
// each CASE_* is a mistake a Python programmer makes, which must fail with exactly one error, the
// static_assert naming the fix. Not part of any build target.
#include <chrono>
#include <functional>
#include <memory>

#include "trident/threading.hpp"

namespace threading = trident::threading;
using namespace std::chrono_literals;

void worker(threading::Event& ready) { ready.wait(); }
void waiter(const threading::Event& ready) { (void)ready.is_set(); }
void bump(int& n) { ++n; }

int main() {
  threading::Event ready;
  int n = 0;
#if defined(CORRECT_CALLS)
  threading::Thread a(worker, std::ref(ready));
  threading::Thread b({.name = "b"}, waiter, std::cref(ready));
  threading::Thread c(bump, std::ref(n));
  auto owner = [p = std::make_unique<int>(1)] { (void)*p; };
  threading::Thread d(std::move(owner));
  threading::Timer e(1s, worker, std::ref(ready));
  threading::Timer f({.name = "f"}, 1s, bump, std::ref(n));
#elif defined(CASE_thread_event_by_value)
  threading::Thread t(worker, ready);
#elif defined(CASE_thread_const_ref_parameter)
  threading::Thread t({.name = "t"}, waiter, ready);
#elif defined(CASE_thread_lock_by_value)
  threading::Lock lock;
  threading::Thread t([](threading::Lock&) {}, lock);
#elif defined(CASE_thread_nonconst_ref_parameter)
  threading::Thread t(bump, n);
#elif defined(CASE_thread_noncopyable_target)
  auto owner = [p = std::make_unique<int>(1)] { (void)*p; };
  threading::Thread t(owner);
#elif defined(CASE_timer_event_by_value)
  threading::Timer t(1s, worker, ready);
#elif defined(CASE_timer_nonconst_ref_parameter)
  threading::Timer t({.name = "t"}, 1s, bump, n);
#else
#error "define CORRECT_CALLS or one CASE_*"
#endif
}
