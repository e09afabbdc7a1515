// Greenlet switching and lifetime.
//
// The switch is Boost.Context's fcontext layer (jump_fcontext / make_fcontext: the assembly that
// boost::context::fiber is built on). fiber itself is not used because its exit path runs code of
// the finishing context after the jump (an ontop function) to free that context's stack, and
// ThreadSanitizer needs the fiber switch annotated exactly at the jump. Here the receiver frees a
// finished greenlet's stack in after_switch(), once it runs on its own stack.
#include <cxxabi.h>

#include <boost/context/detail/fcontext.hpp>
#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <string>
#include <unordered_map>

#include "greenlet/internal.hpp"
#include "greenlet/sanitizer.hpp"

namespace bctx = boost::context::detail;

namespace trident::greenlet::detail {
namespace {

// Guards every thread's `deleteme`, the live-thread table, and the last reference of a greenlet
// dropped in a thread other than its own (see unref).
std::mutex g_mutex;
std::unordered_map<std::uint64_t, ThreadState*> g_live;  // guarded by g_mutex
std::atomic<std::uint64_t> g_next_thread_id{1};

inline ThreadState* this_thread() noexcept { return static_cast<ThreadState*>(tls_thread); }

void teardown(ThreadState* ts) noexcept;

// Tears the thread's state down when the thread exits (after its other thread_locals' users).
struct Reaper {
  ThreadState* ts = nullptr;
  ~Reaper() {
    if (ts) teardown(ts);
  }
};
thread_local Reaper tls_reaper;

EhGlobals* eh_globals() noexcept { return reinterpret_cast<EhGlobals*>(abi::__cxa_get_globals()); }

ThreadState* make_state();

inline __attribute__((always_inline)) ThreadState* state() {
  if (ThreadState* ts = this_thread()) [[likely]]
    return ts;
  return make_state();
}

ThreadState* make_state() {
  auto* ts = new ThreadState;
  ts->id = g_next_thread_id.fetch_add(1, std::memory_order_relaxed);
  ts->eh = eh_globals();
  ts->registry.reg_next = ts->registry.reg_prev = &ts->registry;
  auto* m = new Record;
  m->state.store(Record::kActive, std::memory_order_relaxed);
  m->owner = ts;
  m->owner_id = ts->id;
  m->is_main = true;
  m->tsan_fiber = sanitizer::current_fiber();
  ts->main = m;
  ts->current = m;
  {
    std::lock_guard<std::mutex> lock(g_mutex);
    g_live.emplace(ts->id, ts);
  }
  tls_thread = ts;
  tls_reaper.ts = ts;
  return ts;
}

void link(ThreadState* ts, Record* g) noexcept {
  g->reg_next = ts->registry.reg_next;
  g->reg_prev = &ts->registry;
  ts->registry.reg_next->reg_prev = g;
  ts->registry.reg_next = g;
}

void unlink(Record* g) noexcept {
  if (!g->reg_next) return;
  g->reg_prev->reg_next = g->reg_next;
  g->reg_next->reg_prev = g->reg_prev;
  g->reg_next = g->reg_prev = nullptr;
}

void delete_impl(Record* g) noexcept {
  Record* parent = g->parent;
  sanitizer::destroy_fiber(std::exchange(g->tsan_fiber, nullptr));
  delete g;
  if (parent) unref(parent);
}

[[noreturn]] __attribute__((no_sanitize_thread)) void trampoline(bctx::transfer_t t) noexcept;

// Stores where the greenlet that switched to us resumes, and frees its stack if it finished.
// Runs first thing after every jump, on the receiver's stack.
inline __attribute__((always_inline)) void arrive_at(ThreadState* ts, Context from) noexcept {
  Record* cur = rec(ts->current);
  const void* from_bottom = nullptr;
  std::size_t from_size = 0;
  sanitizer::finish_switch(cur->asan_fake_stack, &from_bottom, &from_size);
  Record* o = rec(ts->origin);
  if (o->state.load(std::memory_order_relaxed) == Record::kDead) [[unlikely]] {
    release_stack(o->stack);
    o->stack = Stack{};
  } else {
    o->ctx = from;
    if (o->is_main && !o->asan_bottom) {
      o->asan_bottom = from_bottom;
      o->asan_size = from_size;
    }
  }
  *ts->eh = cur->eh;
}

// Leaves `from` (still current) for `to` carrying `out`; returns when something switches back to
// `from`, with where that came from (for arrive()). The caller of switch_to gets this straight
// from jump_fcontext: the fewer calls stand between the user's switch_ and the jump, the fewer
// returns the CPU mispredicts after the stack changed under its return-address predictor.
inline __attribute__((always_inline)) Resumed jump(ThreadState* ts, Record* from, Record* to,
                                                   const Transfer* out) noexcept {
  from->eh = *ts->eh;
  ts->current = to;
  ts->origin = from;
  sanitizer::start_switch(&from->asan_fake_stack, to->asan_bottom, to->asan_size);
  sanitizer::switch_to_fiber(to->tsan_fiber);
  bctx::transfer_t back = bctx::jump_fcontext(std::exchange(to->ctx, nullptr), const_cast<Transfer*>(out));
  return Resumed{back.fctx, static_cast<const Transfer*>(back.data)};
}

// Gives a new greenlet its stack and an entry point at `trampoline`.
void start(ThreadState* ts, Record* g) {
  if (!g->run) throw error("greenlet::switch_(): the greenlet has no run (set_run before switching to it)");
  g->stack = allocate_stack(round_stack_size(g->options.stack_size), g->options.guard_page);
  g->ctx = bctx::make_fcontext(g->stack.top, g->stack.size, &trampoline);
  g->asan_bottom = g->stack.bottom();
  g->asan_size = g->stack.size;
  if (TRIDENT_GREENLET_TSAN && !ts->tsan_fibers.empty()) {
    g->tsan_fiber = ts->tsan_fibers.back();
    ts->tsan_fibers.pop_back();
  } else {
    g->tsan_fiber = sanitizer::create_fiber();
  }
  g->state.store(Record::kActive, std::memory_order_release);
  link(ts, g);
}

// The greenlet a switch to `target` really reaches: a finished greenlet forwards to its parent,
// and a greenlet thrown into before it started dies at once and forwards too.
Record* resolve(Record* target, bool throwing, bool* killed = nullptr) noexcept {
  for (;;) {
    int s = target->state.load(std::memory_order_relaxed);
    if (s == Record::kNew && throwing) {
      target->state.store(Record::kDead, std::memory_order_release);
      target->run.reset();
      if (killed) *killed = true;
    } else if (s != Record::kDead) {
      return target;
    }
    target = target->parent;
  }
}

// Throws GreenletExit into a suspended greenlet of this thread, with the current greenlet as its
// parent so control comes back here (greenlet's dealloc). Its references are the caller's business.
void kill(ThreadState* ts, Record* g) noexcept {
  Record* cur = rec(ts->current);
  ref(cur);
  Record* old_parent = std::exchange(g->parent, cur);
  if (old_parent) unref(old_parent);
  try {
    Transfer t;
    t.error = std::make_exception_ptr(GreenletExit{});
    const Transfer& back = arrive(switch_to(g, t, "greenlet (killed)"));
    std::exception_ptr e = back.error;
    after_switch();
    if (e) std::rethrow_exception(e);
  } catch (const GreenletExit&) {
  } catch (const std::exception& e) {
    std::fprintf(stderr, "trident.greenlet: exception ignored in a greenlet killed by GreenletExit: %s\n", e.what());
  } catch (...) {
    std::fprintf(stderr, "trident.greenlet: non-std exception ignored in a greenlet killed by GreenletExit\n");
  }
}

// This thread's greenlet `g` has no handle left.
void reap(ThreadState* ts, Record* g) noexcept {
  if (g == rec(ts->current)) {
    g->orphaned = true;  // reaped when it switches away (after_switch)
  } else if (g->state.load(std::memory_order_relaxed) == Record::kActive) {
    g->refs.store(1, std::memory_order_relaxed);  // alive again while it unwinds
    kill(ts, g);
    if (g->state.load(std::memory_order_relaxed) != Record::kDead) {
      std::fprintf(stderr,
                   "trident.greenlet: a greenlet killed by GreenletExit switched away instead of finishing; "
                   "it is leaked\n");
      return;
    }
    unref(g);
  } else {
    delete_impl(g);
  }
}

void process_deleteme(ThreadState* ts) noexcept {
  std::vector<Record*> batch;
  {
    std::lock_guard<std::mutex> lock(g_mutex);
    batch.swap(ts->deleteme);
    ts->pending.store(false, std::memory_order_relaxed);
  }
  for (Record* g : batch) reap(ts, g);
}

void teardown(ThreadState* ts) noexcept {
  std::vector<Record*> queued;
  std::vector<Record*> active;
  {
    // From here on no other thread queues greenlets to this one, and none can drop the last handle
    // of an active greenlet of this thread while it is being killed (each gets a reference).
    std::lock_guard<std::mutex> lock(g_mutex);
    g_live.erase(ts->id);
    queued.swap(ts->deleteme);
    for (Record* g = ts->registry.reg_next; g != &ts->registry; g = g->reg_next) {
      if (g->refs.load(std::memory_order_relaxed) == 0) continue;  // queued: in `queued`
      g->refs.fetch_add(1, std::memory_order_relaxed);
      active.push_back(g);
    }
  }
  for (Record* g : queued) reap(ts, g);
  for (Record* g : active) {
    if (g->state.load(std::memory_order_relaxed) == Record::kActive) kill(ts, g);
    unref(g);
  }
  Record* m = ts->main;
  m->state.store(Record::kDead, std::memory_order_release);
  m->owner = nullptr;
  m->tsan_fiber = nullptr;  // the thread's own fiber, not ours to destroy
  tls_thread = nullptr;
  unref(m);
  for (void* f : ts->tsan_fibers) sanitizer::destroy_fiber(f);
  drain_stack_pool();
  release_overflow_reporting();
  delete ts;
}

// Not instrumented by TSan: it never returns, so its entry in the fiber's shadow call stack would
// never be popped, and fibers are reused.
[[noreturn]] __attribute__((no_sanitize_thread)) void trampoline(bctx::transfer_t t) noexcept {
  ThreadState* ts = this_thread();
  Record* self = rec(ts->current);
  self->asan_fake_stack = nullptr;
  arrive_at(ts, t.fctx);
  try {
    self->result = self->run->invoke(*static_cast<const Transfer*>(t.data));
  } catch (const GreenletExit&) {
    // greenlet: a GreenletExit escaping run is a normal end; the parent gets no value.
  } catch (...) {
    self->error = std::current_exception();
  }
  try {
    self->run.reset();
  } catch (...) {
  }
  self->state.store(Record::kDead, std::memory_order_release);
  unlink(self);
  Record* target = resolve(self->parent, self->error != nullptr);
  while (target->state.load(std::memory_order_relaxed) == Record::kNew) {
    try {
      start(ts, target);
      break;
    } catch (...) {
      self->error = std::current_exception();
      target = resolve(target, true);
    }
  }
  if (self->error) {
    self->final = Transfer{};
    self->final.error = self->error;
  } else {
    self->final = self->result.transfer();
  }
  ts->origin = self;
  ts->current = target;
  *ts->eh = target->eh;
  sanitizer::start_switch(nullptr, target->asan_bottom, target->asan_size);
  sanitizer::switch_to_fiber(target->tsan_fiber);
  bctx::jump_fcontext(std::exchange(target->ctx, nullptr), &self->final);
  std::abort();  // a finished greenlet is never resumed
}

bool is_greenlet_exit(const std::exception_ptr& e) noexcept {
  try {
    std::rethrow_exception(e);
  } catch (const GreenletExit&) {
    return true;
  } catch (...) {
  }
  return false;
}

std::string demangle(const std::type_info& t) {
  int status = 0;
  char* s = abi::__cxa_demangle(t.name(), nullptr, nullptr, &status);
  std::string out = status == 0 && s ? s : t.name();
  std::free(s);
  if (out.rfind("std::__cxx11::basic_string<char", 0) == 0) out = "std::string";
  return out;
}

}  // namespace

RunBase::~RunBase() = default;

void throw_type_mismatch(const char* api, const Transfer& t, const std::type_info* const* want, std::size_t n) {
  std::string msg = api;
  msg += ": received (";
  for (std::size_t i = 0; i < t.count; ++i) {
    if (i) msg += ", ";
    msg += demangle(*t.types[i]);
  }
  msg += ") but the receiver expects (";
  for (std::size_t i = 0; i < n; ++i) {
    if (i) msg += ", ";
    msg += demangle(*want[i]);
  }
  msg += ")";
  throw TypeError(msg);
}

namespace {
const Transfer kNothing{};

// switch_to's cases other than "resume a suspended greenlet": errors, dead and new targets,
// throwing, switching to the current greenlet.
__attribute__((noinline)) Resumed switch_slow(ThreadState* ts, Record* target, const Transfer& out, const char* api) {
  if (target->owner_id != ts->id) {
    throw error(std::string(api) + ": cannot switch to a different thread");
  }
  bool killed = false;
  target = resolve(target, out.error != nullptr, &killed);
  // A greenlet killed before it started by GreenletExit "returns" nothing to its parent.
  const Transfer& carried = killed && is_greenlet_exit(out.error) ? kNothing : out;
  Record* cur = rec(ts->current);
  ts->origin = nullptr;
  if (target == cur) return Resumed{nullptr, &carried};
  if (target->state.load(std::memory_order_relaxed) == Record::kNew) start(ts, target);
  return jump(ts, cur, target, &carried);
}

__attribute__((noinline)) void complete_switch(ThreadState* ts, Record* o) noexcept {
  if (o) {
    if (o->state.load(std::memory_order_relaxed) == Record::kDead) {
      if (void* f = std::exchange(o->tsan_fiber, nullptr)) {
        try {
          ts->tsan_fibers.push_back(f);
        } catch (...) {
          sanitizer::destroy_fiber(f);
        }
      }
      o->result = Values{};
      o->error = nullptr;
      o->final = Transfer{};
    }
    if (o->orphaned) {
      o->orphaned = false;
      reap(ts, o);
    }
  }
  if (ts->pending.load(std::memory_order_relaxed)) process_deleteme(ts);
}
}  // namespace

constinit thread_local ThreadHot* tls_thread __attribute__((tls_model("initial-exec"))) = nullptr;

Resumed switch_to(Impl* target_impl, const Transfer& out, const char* api) {
  Record* target = rec(target_impl);
  ThreadState* ts = state();
  Record* cur = rec(ts->current);
  if (target->owner_id == ts->id && target != cur && !out.error &&
      target->state.load(std::memory_order_relaxed) == Record::kActive) [[likely]] {
    return jump(ts, cur, target, &out);
  }
  return switch_slow(ts, target, out, api);
}

void arrive_slow(Resumed r) noexcept { arrive_at(this_thread(), r.from); }

void after_switch_slow() noexcept {
  ThreadState* ts = this_thread();
  Record* o = rec(std::exchange(ts->origin, nullptr));
  complete_switch(ts, o);
}

Impl* create(const Options& options, std::unique_ptr<RunBase> run, Impl* parent_impl) {
  Record* parent = rec(parent_impl);
  ThreadState* ts = state();
  if (!parent) parent = rec(ts->current);
  if (parent->owner_id != ts->id) throw ValueError("greenlet(): parent cannot be on a different thread");
  auto* g = new Record;
  g->owner = ts;
  g->owner_id = ts->id;
  g->options = options;
  g->run = std::move(run);
  ref(parent);
  g->parent = parent;
  return g;
}

void unref(Impl* g_impl) noexcept {
  Record* g = rec(g_impl);
  ThreadState* ts = this_thread();
  if (ts && g->owner_id == ts->id) {
    if (g->refs.fetch_sub(1, std::memory_order_acq_rel) == 1) reap(ts, g);
    return;
  }
  // Another thread's greenlet: decide under g_mutex, so the owner's teardown sees every last drop.
  std::unique_lock<std::mutex> lock(g_mutex);
  if (g->refs.fetch_sub(1, std::memory_order_acq_rel) != 1) return;
  auto it = g_live.find(g->owner_id);
  if (it != g_live.end() && g->state.load(std::memory_order_acquire) != Record::kNew) {
    it->second->deleteme.push_back(g);
    it->second->pending.store(true, std::memory_order_relaxed);
    return;
  }
  // Not started (it never ran: nothing to unwind), or its thread exited (which killed it).
  lock.unlock();
  delete_impl(g);
}

Impl* current() { return state()->current; }

void set_run(Impl* g, std::unique_ptr<RunBase> run) {
  if (g->state.load(std::memory_order_acquire) != Record::kNew) {
    throw error("greenlet::set_run(): run cannot be set after the start of the greenlet");
  }
  rec(g)->run = std::move(run);
}

Impl* parent_of(Impl* g) noexcept { return rec(g)->parent; }

void set_parent(Impl* g_impl, Impl* parent_impl) {
  Record* g = rec(g_impl);
  Record* parent = rec(parent_impl);
  for (Record* p = parent; p; p = p->parent) {
    if (p == g) throw ValueError("greenlet::set_parent(): parent cannot be on the parent chain");
  }
  if (parent->owner_id != g->owner_id) {
    throw ValueError("greenlet::set_parent(): parent cannot be on a different thread");
  }
  ref(parent);
  Record* old = std::exchange(g->parent, parent);
  if (old) unref(old);
}

bool is_greenlet_overflow(const void* addr, std::size_t& stack_size) noexcept {
  ThreadState* ts = this_thread();
  if (!ts || !rec(ts->current) || rec(ts->current)->is_main || !rec(ts->current)->stack.guarded) return false;
  const Stack& s = rec(ts->current)->stack;
  auto a = reinterpret_cast<std::uintptr_t>(addr);
  auto bottom = reinterpret_cast<std::uintptr_t>(s.bottom());
  // The guard page, or a little below it when a large frame jumped over it.
  if (a >= bottom || bottom - a > 16 * page_size()) return false;
  stack_size = s.size;
  return true;
}

}  // namespace trident::greenlet::detail

namespace trident::greenlet {

greenlet getcurrent() { return greenlet(detail::current(), greenlet::kAdopt); }

}  // namespace trident::greenlet
