// threading::local<T>: the per-thread slots behind it.
//
// Each thread keeps a map from a local's id to its slot; each local keeps a list of its slots in
// all threads. A slot's value is destroyed by whichever side unlinks it first under one global
// lock: the thread when it ends, or the local when it is destroyed. The slot's memory belongs to
// the thread (it may still be in the thread's map after its local died; ids are never reused, so
// such a stale entry is never looked up again and is pruned as the map grows).
#include <mutex>
#include <unordered_map>
#include <utility>
#include <vector>

#include "threading/internal.hpp"
#include "trident/threading.hpp"

namespace trident::threading::detail {

struct LocalBase::Slot {
  LocalBase* owner;  // null once the local was destroyed (its value is then gone too)
  void* value;
  Destroy destroy;
  Slot* prev;  // links in owner->slots_
  Slot* next;
};

namespace {

trident::detail::Mutex& locals_mutex() {
  static auto* const m = new trident::detail::Mutex;  // never destroyed: threads end after statics
  return *m;
}

std::atomic<std::uint64_t> g_next_local_id{1};

}  // namespace

struct LocalAccess {
  using Slot = LocalBase::Slot;

  static void unlink_locked(Slot* s) noexcept {
    (s->prev != nullptr ? s->prev->next : s->owner->slots_) = s->next;
    if (s->next != nullptr) s->next->prev = s->prev;
    s->prev = s->next = nullptr;
    s->owner = nullptr;
  }

  struct ThreadSlots {
    std::unordered_map<std::uint64_t, Slot*> slots;
    std::size_t prune_at = 16;
    ~ThreadSlots() {
      clear();
      tl_current = nullptr;
    }

    void clear() noexcept {
      // A value's destructor may use a local again and create a new slot: repeat until empty.
      while (!slots.empty()) {
        std::vector<std::pair<Slot*, bool>> taken;  // slot, whether its value is ours to destroy
        taken.reserve(slots.size());
        {
          std::lock_guard g(locals_mutex());
          for (auto& [id, s] : slots) {
            const bool live = s->owner != nullptr;
            if (live) unlink_locked(s);
            taken.emplace_back(s, live);
          }
          slots.clear();
        }
        for (auto& [s, live] : taken) {
          if (live) s->destroy(s->value);
          delete s;
        }
      }
    }

    void prune() {
      std::lock_guard g(locals_mutex());
      for (auto it = slots.begin(); it != slots.end();) {
        if (it->second->owner == nullptr) {
          delete it->second;
          it = slots.erase(it);
        } else {
          ++it;
        }
      }
      prune_at = std::max<std::size_t>(16, slots.size() * 2);
    }
  };

  // The calling thread's slots, made on its first use of any local (so threads that never use
  // one pay nothing at exit).
  static inline thread_local ThreadSlots* tl_current = nullptr;
  static ThreadSlots& thread_slots() {
    if (tl_current == nullptr) {
      thread_local ThreadSlots tl;
      tl_current = &tl;
    }
    return *tl_current;
  }

  static void* create(LocalBase& local, ThreadSlots& ts) {
    void* value = local.create_(local);
    auto* s = new (std::nothrow) Slot{&local, value, local.destroy_, nullptr, nullptr};
    if (s == nullptr) {
      local.destroy_(value);
      throw std::bad_alloc();
    }
    {
      std::lock_guard g(locals_mutex());
      s->next = local.slots_;
      if (local.slots_ != nullptr) local.slots_->prev = s;
      local.slots_ = s;
    }
    try {
      ts.slots.emplace(local.id_, s);
    } catch (...) {
      {
        std::lock_guard g(locals_mutex());
        unlink_locked(s);
      }
      local.destroy_(value);
      delete s;
      throw;
    }
    if (ts.slots.size() >= ts.prune_at) ts.prune();
    return value;
  }
};

LocalBase::LocalBase(Create create, Destroy destroy) noexcept
    : id_(g_next_local_id.fetch_add(1, std::memory_order_relaxed)), create_(create), destroy_(destroy) {}

LocalBase::~LocalBase() {
  std::vector<void*> values;
  {
    std::lock_guard g(locals_mutex());
    while (slots_ != nullptr) {
      values.push_back(slots_->value);
      LocalAccess::unlink_locked(slots_);
    }
  }
  for (void* v : values) destroy_(v);
}

void* LocalBase::get_value() {
  auto& ts = LocalAccess::thread_slots();
  if (auto it = ts.slots.find(id_); it != ts.slots.end()) return it->second->value;
  return LocalAccess::create(*this, ts);
}

}  // namespace trident::threading::detail

namespace trident::threading {

void destroy_current_thread_locals() noexcept {
  if (auto* ts = detail::LocalAccess::tl_current) ts->clear();
}

}  // namespace trident::threading
