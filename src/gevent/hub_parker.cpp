// The waiting core's parker for a thread that has a hub (docs/core.md, "How a wait parks"; the
// seam is detail::set_current_parker). A core wait made by a greenlet of the hub's thread parks
// that greenlet: it switches to the hub, which runs the others, and comes back when the waiter is
// marked notified or its deadline's hub timer fires. A waker on the same thread puts the greenlet
// in the ready queue; a waker on another thread sends the hub's ev_async, and the hub looks for
// the marked waiters among its parked greenlets. The hub greenlet itself (which never runs user
// code) and the thread outside any greenlet fall back to the thread parker.
#include <sched.h>

#include <cstdio>
#include <cstdlib>

#include "gevent/hub.hpp"

namespace trident::gevent {

using detail::Task;
using trident::detail::Deadline;
using trident::detail::Waiter;

namespace {
// Boxes of dead hubs, reused by new hubs. A late unpark aimed at the old hub at worst sends a
// spurious ev_async to the new one, which every wait tolerates.
trident::detail::SpinLock g_free_lock;
ParkerBox* g_free = nullptr;
}  // namespace

ParkerBox* ParkerBox::acquire(HubImpl* hub) {
  ParkerBox* b;
  {
    std::lock_guard g(g_free_lock);
    b = g_free;
    if (b != nullptr) g_free = b->next_free;
  }
  if (b == nullptr) b = new ParkerBox();  // never freed: see the class comment
  b->hub.store(hub, std::memory_order_seq_cst);
  return b;
}

void ParkerBox::release() noexcept {
  // After this store no new unpark reaches the hub; wait out those already inside (a few
  // instructions each) before the loop they signal is destroyed.
  hub.store(nullptr, std::memory_order_seq_cst);
  while (inflight.load(std::memory_order_seq_cst) != 0) sched_yield();
  async = nullptr;
  std::lock_guard g(g_free_lock);
  next_free = g_free;
  g_free = this;
}

void* ParkerBox::current_context() noexcept {
  HubImpl* h = HubImpl::current();
  if (h == nullptr || h->parker_ != this) return nullptr;
  try {
    return h->current_task();
  } catch (...) {
    return nullptr;  // no memory for a raw greenlet's record: it parks as a thread
  }
}

bool ParkerBox::park(Waiter& w, const Deadline& deadline) noexcept {
  if (w.context == nullptr) return trident::detail::thread_parker().park(w, deadline);
  return HubImpl::current()->park_core(w, deadline);
}

void ParkerBox::unpark(void* context, std::atomic<std::uint32_t>* word, std::uint32_t previous) noexcept {
  if (context == nullptr) {
    trident::detail::thread_parker().unpark(context, word, previous);
    return;
  }
  HubImpl* mine = HubImpl::current();
  if (mine != nullptr && mine->parker_ == this) {
    // Same thread: the parked greenlet is suspended right now (nothing ran on this thread between
    // its mark and this call), so its record is alive.
    mine->schedule(static_cast<Task*>(context));
    return;
  }
  inflight.fetch_add(1, std::memory_order_seq_cst);
  if (HubImpl* h = hub.load(std::memory_order_seq_cst)) ev_async_send(h->loop, async);
  inflight.fetch_sub(1, std::memory_order_seq_cst);
}

bool HubImpl::park_core(Waiter& w, const Deadline& deadline) {
  auto* t = static_cast<Task*>(w.context);
  ParkRecord rec{t, &w.state};
  rec.next = parked_;
  if (parked_ != nullptr) parked_->prev = &rec;
  parked_ = &rec;
  std::optional<Timer> timer;
  bool notified = false;
  for (;;) {
    if (w.state.load(std::memory_order_acquire) == Waiter::kNotified) {
      notified = true;
      break;
    }
    if (deadline.expired()) break;
    // libev may fire a hair before the steady_clock deadline: arm it again for what is left.
    if (timer && timer->fired) timer.reset();
    if (!deadline.is_forever() && !timer) timer.emplace(*this, *t, deadline.remaining().count());
    t->waiting = Task::Wait::kCore;
    t->what = "a trident blocking call (threading, queue, futures)";
    try {
      hub_g->switch_<void>();
    } catch (...) {
      // Only the greenlet module's kill (its thread exiting, or its last handle dropped in
      // another thread) can raise here, and a core wait cannot unwind: its primitive holds the
      // waiter. Fail loudly rather than corrupt the primitive.
      std::fputs(
          "trident.gevent: a greenlet blocked in a trident core wait was killed (its thread exited); core waits "
          "are not interruptible yet (docs/gevent.md)\n",
          stderr);
      std::abort();
    }
    t->waiting = Task::Wait::kNone;
  }
  (rec.prev != nullptr ? rec.prev->next : parked_) = rec.next;
  if (rec.next != nullptr) rec.next->prev = rec.prev;
  return notified;
}

}  // namespace trident::gevent
