// wait() and as_completed(): one FutureWaiter links itself into every future it watches (Python's
// `_Waiter` in each future's `_waiters`), and each future reports its outcome to it when it
// finishes or its cancellation is noticed.
//
// Lock order: a future's lock, then the waiter's. A future reports while holding its own lock, and
// the caller unlinks under that same lock, so once every link is gone no report is in flight and
// the waiter may be destroyed.
#include <mutex>
#include <string>
#include <unordered_set>

#include "trident/futures.hpp"

namespace trident::futures::detail {

using trident::detail::Waiter;

FutureWaiter::FutureWaiter(Mode mode, std::size_t count) : mode_(mode), links_(count) {
  reported_.reserve(count);
  for (std::size_t i = 0; i < count; ++i) {
    links_[i].owner = this;
    links_[i].index = i;
  }
}

FutureWaiter::~FutureWaiter() { uninstall_all(); }

bool FutureWaiter::install(FutureCore& core, std::size_t index, Outcome& outcome) noexcept {
  if (!core.link(links_[index], outcome)) return false;
  // The future may already have reported (and decremented): the count only matters once
  // installation ends, and by then both changes are in.
  std::lock_guard g(wl_);
  ++linked_pending_;
  return true;
}

bool FutureWaiter::satisfied_locked() const noexcept {
  switch (mode_) {
    case Mode::kAsCompleted:
    case Mode::kFirstCompleted:
      return !reported_.empty();
    case Mode::kFirstException:
      if (linked_pending_ == 0) return true;
      for (const Entry& e : reported_) {
        if (e.outcome == Outcome::kException) return true;
      }
      return false;
    case Mode::kAllCompleted:
      return linked_pending_ == 0;
  }
  return false;
}

void FutureWaiter::installed(bool satisfied) noexcept {
  std::lock_guard g(wl_);
  installing_ = false;
  event_ = satisfied || satisfied_locked();
}

WaitList::Wake FutureWaiter::notify(std::size_t index, Outcome outcome) noexcept {
  std::lock_guard g(wl_);
  reported_.push_back({index, outcome});  // reserved for every future: never reallocates
  --linked_pending_;
  if (!installing_ && !event_) {
    switch (mode_) {
      case Mode::kAsCompleted:
      case Mode::kFirstCompleted:
        event_ = true;
        break;
      case Mode::kFirstException:
        event_ = outcome == Outcome::kException || linked_pending_ == 0;
        break;
      case Mode::kAllCompleted:
        event_ = linked_pending_ == 0;
        break;
    }
  }
  if (event_ && !wl_.empty_locked()) return wl_.notify_locked(*wl_.front_locked());
  return {};
}

bool FutureWaiter::wait_until(const Deadline& deadline) noexcept {
  for (;;) {
    Waiter w;
    {
      std::lock_guard g(wl_);
      if (event_) return true;
      if (deadline.expired()) return false;
      wl_.push_locked(w);
    }
    wl_.wait(w, deadline);
  }
}

void FutureWaiter::take(std::vector<Entry>& out) {
  std::lock_guard g(wl_);
  out.insert(out.end(), reported_.begin(), reported_.end());
  reported_.clear();
  event_ = false;
}

void FutureWaiter::uninstall(std::size_t index) noexcept {
  WaiterLink& l = links_[index];
  if (l.core != nullptr) l.core->unlink(l);
}

void FutureWaiter::uninstall_all() noexcept {
  for (std::size_t i = 0; i < links_.size(); ++i) uninstall(i);
}

std::vector<std::size_t> first_occurrences(const std::vector<FutureCore*>& cores) {
  std::vector<std::size_t> firsts;
  firsts.reserve(cores.size());
  std::unordered_set<const FutureCore*> seen;
  seen.reserve(cores.size());
  for (std::size_t i = 0; i < cores.size(); ++i) {
    TRIDENT_ASSERT(cores[i] != nullptr, "a moved-from Future passed to wait() or as_completed()");
    if (seen.insert(cores[i]).second) firsts.push_back(i);
  }
  return firsts;
}

std::vector<char> wait_cores(const std::vector<FutureCore*>& cores, const Deadline& deadline, ReturnWhen return_when) {
  using Mode = FutureWaiter::Mode;
  const Mode mode = return_when == ReturnWhen::FIRST_COMPLETED   ? Mode::kFirstCompleted
                    : return_when == ReturnWhen::FIRST_EXCEPTION ? Mode::kFirstException
                                                                 : Mode::kAllCompleted;
  FutureWaiter waiter(mode, cores.size());
  std::vector<char> done(cores.size(), 0);
  std::size_t already = 0;
  bool satisfied = false;
  for (std::size_t i = 0; i < cores.size(); ++i) {
    Outcome outcome;
    if (waiter.install(*cores[i], i, outcome)) continue;
    done[i] = 1;
    ++already;
    if (return_when == ReturnWhen::FIRST_COMPLETED) satisfied = true;
    if (return_when == ReturnWhen::FIRST_EXCEPTION && outcome == Outcome::kException) satisfied = true;
  }
  // Python returns at once when every future is already done, whatever `return_when` says.
  waiter.installed(satisfied || already == cores.size());
  waiter.wait_until(deadline);
  waiter.uninstall_all();
  std::vector<FutureWaiter::Entry> reported;
  reported.reserve(cores.size());
  waiter.take(reported);
  for (const auto& e : reported) done[e.index] = 1;
  return done;
}

AsCompletedState::AsCompletedState(const std::vector<FutureCore*>& cores, const Deadline& deadline)
    : waiter_(FutureWaiter::Mode::kAsCompleted, cores.size()), total_(cores.size()), deadline_(deadline) {
  // Every future reports at most once, so take() never reallocates this.
  ready_.reserve(cores.size());
  for (std::size_t i = 0; i < cores.size(); ++i) {
    Outcome outcome;
    if (!waiter_.install(*cores[i], i, outcome)) ready_.push_back({i, outcome});
  }
  waiter_.installed(false);
}

std::size_t AsCompletedState::next() {
  for (;;) {
    if (ready_pos_ < ready_.size()) {
      const std::size_t i = ready_[ready_pos_++].index;
      waiter_.uninstall(i);
      return i;
    }
    waiter_.take(ready_);
    if (ready_pos_ < ready_.size()) continue;
    if (deadline_.expired()) {
      throw TimeoutError("as_completed(): " + std::to_string(total_ - given_) + " (of " + std::to_string(total_) +
                         ") futures unfinished");
    }
    waiter_.wait_until(deadline_);
  }
}

}  // namespace trident::futures::detail
