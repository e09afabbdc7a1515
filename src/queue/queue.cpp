// The cold paths of trident/queue.hpp: building the exceptions queues throw.
#include <string>

#include "trident/errors.hpp"
#include "trident/queue.hpp"

namespace trident::queue::detail {
namespace {

std::string api(const char* cls, const char* method) { return std::string(cls) + "::" + method + "()"; }

}  // namespace

void raise_empty(const char* cls, bool timed_out) {
  throw Empty(api(cls, "get") + (timed_out ? ": no item arrived before the timeout" : ": queue is empty"));
}

void raise_full(const char* cls, long maxsize, bool timed_out) {
  throw Full(api(cls, "put") + (timed_out ? ": no free slot before the timeout" : ": queue is full") + " (maxsize " +
             std::to_string(maxsize) + ")");
}

void raise_shut_down(const char* cls, const char* method) {
  throw ShutDown(api(cls, method) +
                 (std::string(method) == "get" ? ": queue is shut down and empty" : ": queue is shut down"));
}

void raise_task_done_too_many(const char* cls) {
  throw ValueError(api(cls, "task_done") + ": task_done() called too many times");
}

void raise_bad_timeout(const char* cls, const char* method, const Timeout& timeout) {
  const std::string where = api(cls, method);
  // The core's check gives trident's one wording for a negative timeout; NaN is ours to reject.
  trident::detail::check_timeout(timeout, where);
  throw ValueError(where + ": timeout must be a non-negative number, got " + std::to_string(timeout->count()) + " s");
}

}  // namespace trident::queue::detail
