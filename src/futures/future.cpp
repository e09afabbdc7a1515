// The future's state machine (Python's concurrent.futures._base.Future), the log handler and the
// executor base.
//
// Locking: a future's WaitList spin lock guards its callbacks, its wait()/as_completed() links
// and the two transitions those depend on (to FINISHED and to CANCELLED_AND_NOTIFIED). The other
// transitions are compare-and-swaps on `state_` so a producer never holds the lock while it
// builds the value. cancel() changes the state first and takes the lock afterwards: whoever holds
// the lock before that sees the future pending (and queues its callback or waiter, which cancel()
// then collects), whoever takes it after sees it cancelled.
#include <cxxabi.h>

#include <cstdio>
#include <cstdlib>
#include <memory>
#include <mutex>

#include "futures/report.hpp"
#include "trident/futures.hpp"

namespace trident::futures {

namespace detail {

namespace {

using trident::detail::Waiter;

trident::detail::Mutex g_log_mutex;
// Never destroyed: a callback may fail during static destruction.
LogHandler& log_handler() {
  static auto* handler = new LogHandler();
  return *handler;
}

const char* state_name(State s) noexcept {
  switch (s) {
    case State::kPending:
      return "PENDING";
    case State::kRunning:
    case State::kCompleting:
      return "RUNNING";
    case State::kCancelled:
      return "CANCELLED";
    case State::kCancelledAndNotified:
      return "CANCELLED_AND_NOTIFIED";
    case State::kFinished:
      return "FINISHED";
  }
  return "?";
}

CallbackNode* reversed(CallbackNode* list) noexcept {
  CallbackNode* out = nullptr;
  while (list != nullptr) {
    CallbackNode* n = list;
    list = n->next;
    n->next = out;
    out = n;
  }
  return out;
}

std::string format_seconds(double s) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%g", s);
  return buf;
}

}  // namespace

std::string demangle(const std::type_info& type) {
  if (type == typeid(void)) return "void";
  int status = 0;
  std::unique_ptr<char, decltype(&std::free)> name(abi::__cxa_demangle(type.name(), nullptr, nullptr, &status),
                                                   &std::free);
  return status == 0 && name ? std::string(name.get()) : std::string(type.name());
}

std::string describe(const std::exception_ptr& error) {
  std::string text = trident::exception_type_name(error);
  const std::string message = trident::str(error);
  if (!message.empty()) text += ": " + message;
  return text;
}

void report(std::string_view message, std::exception_ptr error) noexcept {
  try {
    LogHandler handler;
    {
      std::lock_guard g(g_log_mutex);
      handler = log_handler();
    }
    if (handler) {
      handler(message, std::move(error));
    } else {
      default_log_handler(message, std::move(error));
    }
  } catch (...) {
    // A log handler must not throw; there is nowhere left to report to.
  }
}

[[noreturn]] void throw_taken(const char* api) {
  throw InvalidStateError(std::string(api) + ": the result was already moved out by take_result()");
}

[[noreturn]] void throw_value_error(const std::string& message) { throw ValueError(message); }

// ---- FutureCore ----

FutureCore::~FutureCore() {
  TRIDENT_ASSERT(links_ == nullptr, "a future destroyed while wait() or as_completed() watches it");
  // A future dropped while pending: its callbacks never run (as in Python, where they die with it).
  CallbackNode* cb = callbacks_;
  while (cb != nullptr) {
    CallbackNode* n = cb;
    cb = n->next;
    delete n;
  }
}

bool FutureCore::cancel() noexcept {
  State s = state_.load(std::memory_order_acquire);
  for (;;) {
    if (s == State::kCancelled || s == State::kCancelledAndNotified) return true;
    if (s != State::kPending) return false;
    if (state_.compare_exchange_weak(s, State::kCancelled, std::memory_order_acq_rel, std::memory_order_acquire)) {
      break;
    }
  }
  CallbackNode* callbacks;
  bool wake;
  {
    std::lock_guard g(waiters_);
    callbacks = std::exchange(callbacks_, nullptr);
    wake = !waiters_.empty_locked();
  }
  if (wake) waiters_.notify_all();
  run_callbacks(reversed(callbacks));
  return true;
}

bool FutureCore::set_running_or_notify_cancel() {
  State s = State::kPending;
  if (state_.compare_exchange_strong(s, State::kRunning, std::memory_order_acq_rel, std::memory_order_acquire)) {
    return true;
  }
  if (s == State::kCancelled && notify_cancel()) return false;
  throw RuntimeError(std::string("Future::set_running_or_notify_cancel(): Future in unexpected state ") +
                     state_name(state()) + ": " + repr());
}

void FutureCore::wait_finished_slow(const Timeout& timeout, const char* api) {
  const Deadline deadline = Deadline::after(timeout, api);
  for (;;) {
    const State s = state();
    if (s == State::kFinished) return;
    if (s == State::kCancelled || s == State::kCancelledAndNotified) {
      throw CancelledError(std::string(api) + ": the future was cancelled");
    }
    if (deadline.expired()) {
      throw TimeoutError(std::string(api) + ": the future did not finish within " + format_seconds(timeout->count()) +
                         " s");
    }
    Waiter w;
    waiters_.lock();
    if (is_done(state_.load(std::memory_order_relaxed))) {
      waiters_.unlock();
      continue;
    }
    waiters_.push_locked(w);
    waiters_.unlock();
    waiters_.wait(w, deadline);
  }
}

void FutureCore::add_callback(CallbackNode* node) {
  {
    std::lock_guard g(waiters_);
    if (!is_done(state_.load(std::memory_order_relaxed))) {
      node->next = callbacks_;
      callbacks_ = node;
      return;
    }
  }
  node->next = nullptr;
  run_callbacks(node);
}

std::string FutureCore::repr() const {
  char address[32];
  std::snprintf(address, sizeof address, "%p", static_cast<const void*>(this));
  std::string r = std::string("<Future at ") + address + " state=";
  switch (state()) {
    case State::kPending:
      r += "pending";
      break;
    case State::kRunning:
    case State::kCompleting:
      r += "running";
      break;
    case State::kCancelled:
    case State::kCancelledAndNotified:
      r += "cancelled";
      break;
    case State::kFinished:
      r += exception_ ? "finished raised " + trident::exception_type_name(exception_)
                      : "finished returned " + demangle(*result_type_);
      break;
  }
  return r + ">";
}

State FutureCore::claim(const char* api) {
  State s = state_.load(std::memory_order_acquire);
  for (;;) {
    if (s != State::kPending && s != State::kRunning) {
      throw InvalidStateError(std::string(api) + ": " + state_name(s) + ": " + repr());
    }
    if (state_.compare_exchange_weak(s, State::kCompleting, std::memory_order_acq_rel, std::memory_order_acquire)) {
      return s;
    }
  }
}

void FutureCore::notify_links_locked(Outcome outcome) noexcept {
  for (WaiterLink* l = links_; l != nullptr; l = l->next) WaitList::wake(l->owner->notify(l->index, outcome));
}

CallbackNode* FutureCore::publish() noexcept {
  const Outcome outcome = exception_ ? Outcome::kException : Outcome::kResult;
  CallbackNode* callbacks;
  bool wake;
  {
    std::lock_guard g(waiters_);
    state_.store(State::kFinished, std::memory_order_release);
    callbacks = std::exchange(callbacks_, nullptr);
    if (links_ != nullptr) notify_links_locked(outcome);
    wake = !waiters_.empty_locked();
  }
  if (wake) waiters_.notify_all();
  return reversed(callbacks);
}

void FutureCore::run_callbacks(CallbackNode* list) noexcept {
  while (list != nullptr) {
    CallbackNode* n = list;
    list = n->next;
    try {
      n->invoke(*this);
    } catch (...) {
      report("exception calling callback for " + repr(), std::current_exception());
    }
    delete n;
  }
}

bool FutureCore::start_task() noexcept {
  State s = State::kPending;
  if (state_.compare_exchange_strong(s, State::kCompleting, std::memory_order_acq_rel, std::memory_order_acquire)) {
    return true;
  }
  if (s == State::kCancelled && notify_cancel()) return false;
  // Someone completed the executor's future by hand; Python logs this and its worker dies.
  try {
    report(std::string("Future in unexpected state ") + state_name(state()) + ": " + repr(), nullptr);
  } catch (...) {
  }
  return false;
}

bool FutureCore::notify_cancel() noexcept {
  std::lock_guard g(waiters_);
  State s = State::kCancelled;
  if (!state_.compare_exchange_strong(s, State::kCancelledAndNotified, std::memory_order_acq_rel,
                                      std::memory_order_acquire)) {
    return false;
  }
  notify_links_locked(Outcome::kCancelled);
  return true;
}

void FutureCore::fail(std::exception_ptr error) noexcept {
  State s = State::kPending;
  if (!state_.compare_exchange_strong(s, State::kCompleting, std::memory_order_acq_rel, std::memory_order_acquire)) {
    if (s == State::kCancelled) notify_cancel();
    return;
  }
  exception_ = std::move(error);
  finish();
}

bool FutureCore::link(WaiterLink& l, Outcome& outcome) noexcept {
  std::lock_guard g(waiters_);
  const State s = state_.load(std::memory_order_relaxed);
  if (s == State::kFinished) {
    outcome = exception_ ? Outcome::kException : Outcome::kResult;
    return false;
  }
  if (s == State::kCancelledAndNotified) {
    outcome = Outcome::kCancelled;
    return false;
  }
  l.core = this;
  l.prev = nullptr;
  l.next = links_;
  if (links_ != nullptr) links_->prev = &l;
  links_ = &l;
  return true;
}

void FutureCore::unlink(WaiterLink& l) noexcept {
  std::lock_guard g(waiters_);
  if (l.core != this) return;
  (l.prev != nullptr ? l.prev->next : links_) = l.next;
  if (l.next != nullptr) l.next->prev = l.prev;
  l.core = nullptr;
  l.prev = l.next = nullptr;
}

}  // namespace detail

LogHandler set_log_handler(LogHandler handler) {
  std::lock_guard g(detail::g_log_mutex);
  LogHandler old = std::exchange(detail::log_handler(), std::move(handler));
  if (!old) old = &default_log_handler;
  return old;
}

void default_log_handler(std::string_view message, std::exception_ptr error) {
  // One write, so concurrent reports do not interleave.
  std::string text(message);
  text += '\n';
  if (error) text += detail::describe(error) + '\n';
  std::fwrite(text.data(), 1, text.size(), stderr);
  std::fflush(stderr);
}

// ---- WorkItem / Executor ----

WorkItem& WorkItem::operator=(WorkItem&& other) noexcept {
  if (this != &other) {
    if (core_ != nullptr) core_->release();
    core_ = std::exchange(other.core_, nullptr);
  }
  return *this;
}

WorkItem::~WorkItem() {
  if (core_ != nullptr) core_->release();
}

void WorkItem::run() noexcept {
  if (core_ == nullptr) return;
  if (core_->execute()) core_->finish();
  std::exchange(core_, nullptr)->release();
}

void WorkItem::cancel() noexcept {
  if (core_ == nullptr) return;
  core_->cancel();
  core_->notify_cancel();
  std::exchange(core_, nullptr)->release();
}

void WorkItem::fail(std::exception_ptr error) noexcept {
  if (core_ == nullptr) return;
  core_->fail(std::move(error));
  std::exchange(core_, nullptr)->release();
}

Executor::~Executor() = default;

}  // namespace trident::futures
