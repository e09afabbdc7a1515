// Shared by the futures tests: one future in each state, as CPython's test_concurrent_futures
// util module provides (PENDING, RUNNING, CANCELLED, CANCELLED_AND_NOTIFIED, FINISHED twice).
#pragma once

#include <exception>

#include "trident/errors.hpp"
#include "trident/futures.hpp"

namespace trident::testing {

using FutureInt = trident::futures::Future<int>;

inline FutureInt pending_future() { return FutureInt(); }
inline FutureInt running_future() {
  FutureInt f;
  f.set_running_or_notify_cancel();
  return f;
}
inline FutureInt cancelled_future() {
  FutureInt f;
  f.cancel();
  return f;
}
inline FutureInt cancelled_and_notified_future() {
  FutureInt f;
  f.cancel();
  f.set_running_or_notify_cancel();
  return f;
}
inline FutureInt exception_future() {
  FutureInt f;
  f.set_exception(std::make_exception_ptr(trident::OSError(5, "boom")));
  return f;
}
inline FutureInt successful_future() {
  FutureInt f;
  f.set_result(42);
  return f;
}

}  // namespace trident::testing
