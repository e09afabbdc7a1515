// trident/greenlet.hpp — Python's `greenlet` module (greenlet 3): stackful coroutines switched
// explicitly.
//
// `greenlet(run, parent)`, `switch`, `throw`, `parent`, `dead`, `bool(g)`, `getcurrent()`,
// `GreenletExit` and `greenlet.error` keep greenlet's semantics: the first switch into a greenlet
// calls `run` with the switch's arguments; a switch returns whatever the next switch back into the
// calling greenlet passes; returning from `run` switches to the parent with the return value, and an
// exception escaping `run` is raised in the parent; switching to a finished greenlet goes to its
// parent. One implicit main greenlet exists per OS thread; greenlets never move between threads.
//
// What deliberately differs from Python:
// - Spelling: `switch_` and `throw_` (C++ keywords); `set_parent`, `set_run`; no `gr_frame`,
//   `gr_context`, `settrace` or keyword arguments through switch.
// - Typed values. The values a switch carries are checked, not guessed: the sender's arguments are
//   decay-copied (exact types, no conversion) and the receiver names the type it expects:
//     `int v = g.switch_<int>(1);`               one value of exactly type int
//     `auto [a, b] = g.switch_<std::tuple<int, std::string>>(...);`   several values
//     `g.switch_<void>(...)`                     ignore what comes back
//     `greenlet::Values v = g.switch_(...);`     the default: any values, inspected at run time
//   A mismatch throws TypeError naming both sides' types ("greenlet::switch_(): received (int) but
//   the receiver expects (std::string)"), never undefined behaviour. `run` is any callable with
//   concrete parameter types (not a generic lambda); the first switch's values must match them, as
//   Python raises TypeError for a wrong argument count. A `run` taking one `Values` takes anything.
//   Why this design and not `greenlet<Signature>`: which greenlet switches back into you is decided
//   at run time (a parent, a sibling, a hub), so no static type can name what a switch returns; a
//   checked type at the receiving end is the honest contract, and it keeps one `greenlet` type that
//   a hub can hold in a queue, as gevent does.
// - Lifetime: a `greenlet` is a reference-counted handle (copies share the greenlet, as Python
//   references do). When the last handle of a suspended greenlet is dropped, GreenletExit is thrown
//   into it at its switch point so its destructors run (catching it and returning is fine). Handles
//   may be copied and dropped in any thread, like a detached `threading::Thread` handle; when the
//   last one is dropped in another thread, the greenlet is killed by its own thread at its next
//   switch or when that thread exits. A thread that exits kills its remaining suspended greenlets
//   (GreenletExit, destructors run on that thread); their handles then report dead().
// - Stacks are fixed-size (see Options; Python's greenlet copies stacks instead). A greenlet that
//   recurses past its stack hits a guard page and the process dies with a message naming the
//   greenlet stack overflow (docs/greenlet.md), never silent corruption.
#pragma once

#include <cstddef>
#include <exception>
#include <functional>
#include <memory>
#include <optional>
#include <tuple>
#include <type_traits>
#include <typeinfo>
#include <utility>

#include <atomic>
#include <boost/context/detail/fcontext.hpp>
#include <cstdint>

#include "trident/errors.hpp"

namespace trident::greenlet {

class greenlet;
class Values;

/// How a greenlet's stack is made (no Python equivalent: greenlet copies stacks).
struct Options {
  /// Usable stack size in bytes (rounded up to whole pages); 0 means kDefaultStackSize.
  std::size_t stack_size = 0;
  /// A PROT_NONE guard page below the stack turns an overflow into a clear fatal error. Without
  /// it, stacks are carved from shared slabs (one memory mapping per 64 stacks instead of two per
  /// stack), for programs that keep more greenlets alive than vm.max_map_count allows guarded.
  bool guard_page = true;
};

/// The stack size used when Options::stack_size is 0.
inline constexpr std::size_t kDefaultStackSize = 256 * 1024;

namespace detail {

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
// Sanitizers need every switch annotated: always take the library's switch.
#define TRIDENT_GREENLET_INLINE_SWITCH 0
#else
#define TRIDENT_GREENLET_INLINE_SWITCH 1
#endif

// The C++ runtime's per-thread exception state (Itanium C++ ABI __cxa_eh_globals): the chain of
// caught exceptions and the uncaught count. Each greenlet keeps its own copy, swapped on switch,
// so `throw;`, std::current_exception and std::uncaught_exceptions see that greenlet's exceptions.
struct EhGlobals {
  void* caught = nullptr;
  unsigned int uncaught = 0;
};

// The part of a greenlet's record that the inline switch touches (the rest is private to the
// library). Owned by its handles through `refs`; the owning thread alone writes the other fields.
class Impl {
 public:
  // Values of `state` (written by the owning thread, read by any):
  static constexpr int kNew = 0;     // not started
  static constexpr int kActive = 1;  // started, not finished (running or suspended)
  static constexpr int kDead = 2;    // finished, or killed before starting
  std::atomic<int> refs{1};
  std::atomic<int> state{kNew};
  std::uint64_t owner_id = 0;  // the owning thread's ThreadHot::id
  void* ctx = nullptr;         // where it resumes, while suspended (a Boost.Context fcontext)
  EhGlobals eh;
  bool orphaned = false;  // lost its last handle while running; reaped when it switches away
};

// The part of a thread's greenlet state that the inline switch touches.
struct ThreadHot {
  std::uint64_t id = 0;
  Impl* current = nullptr;           // not counted: a running greenlet is alive by construction
  Impl* origin = nullptr;            // the greenlet that switched to `current`, until after_switch()
  EhGlobals* eh = nullptr;           // this thread's __cxa_eh_globals
  std::atomic<bool> pending{false};  // greenlets queued by other threads to be killed here
};

// The calling thread's state; null until it first uses a greenlet.
extern constinit thread_local ThreadHot* tls_thread __attribute__((tls_model("initial-exec")));

// What one switch carries from the sender (on its stack, alive until the receiver has taken it)
// to the receiver. `values[i]` points at a value of type `*types[i]`; the receiver moves from it.
struct Transfer {
  std::size_t count = 0;
  const std::type_info* const* types = nullptr;
  void* const* values = nullptr;
  Values (*take)(const Transfer&) = nullptr;  // moves every value into an owning Values
  Values* source = nullptr;                   // set: the values are this object's; take moves it
  std::exception_ptr error;                   // set: raise this in the receiver instead
};

[[noreturn]] void throw_type_mismatch(const char* api, const Transfer& t, const std::type_info* const* want,
                                      std::size_t n);

// Where a switch came back from, and what it carries.
struct Resumed {
  void* from;
  const Transfer* transfer;
};
// Switches from the current greenlet to `target` carrying `out`; returns when something switches
// back. The caller passes the result to arrive() at once, takes the values, then calls
// after_switch() (see greenlet::receive).
Resumed switch_to(Impl* target, const Transfer& out, const char* api);
// Completes the jump on the receiving side (the cases arrive() does not inline).
void arrive_slow(Resumed r) noexcept;
void after_switch_slow() noexcept;

// switch_to, with the common case — resuming a suspended greenlet of this thread — inline, so that
// jump_fcontext is called straight from the user's frame: a switch made from inside one more
// function call costs several times more, the CPU mispredicting returns across the stack change.
[[gnu::always_inline]] inline Resumed switch_inline(Impl* target, const Transfer& out, const char* api) {
#if TRIDENT_GREENLET_INLINE_SWITCH
  ThreadHot* ts = tls_thread;
  if (ts && target->owner_id == ts->id && target != ts->current && !out.error &&
      target->state.load(std::memory_order_relaxed) == Impl::kActive) [[likely]] {
    Impl* from = ts->current;
    from->eh = *ts->eh;
    ts->current = target;
    ts->origin = from;
    boost::context::detail::transfer_t back =
        boost::context::detail::jump_fcontext(std::exchange(target->ctx, nullptr), const_cast<Transfer*>(&out));
    return Resumed{back.fctx, static_cast<const Transfer*>(back.data)};
  }
#endif
  return switch_to(target, out, api);
}

// Completes the jump on the receiving side; returns what the switch carried.
[[gnu::always_inline]] inline const Transfer& arrive(Resumed r) noexcept {
  if (r.from) {
#if TRIDENT_GREENLET_INLINE_SWITCH
    ThreadHot* ts = tls_thread;
    Impl* o = ts->origin;
    if (o->state.load(std::memory_order_relaxed) != Impl::kDead) [[likely]] {
      o->ctx = r.from;
      *ts->eh = ts->current->eh;
      return *r.transfer;
    }
#endif
    arrive_slow(r);
  }
  return *r.transfer;
}
// Completes a switch once the receiver has taken its values: reaps a greenlet that finished or
// lost its last handle while running, and kills greenlets queued by other threads.
[[gnu::always_inline]] inline void after_switch() noexcept {
  ThreadHot* ts = tls_thread;
  Impl* o = ts->origin;
  if ((o && (o->orphaned || o->state.load(std::memory_order_relaxed) == Impl::kDead)) ||
      ts->pending.load(std::memory_order_relaxed)) [[unlikely]] {
    after_switch_slow();
    return;
  }
  ts->origin = nullptr;
}

// The type-erased callable a greenlet runs.
class RunBase {
 public:
  virtual ~RunBase();
  // Takes run's arguments from `t` (after_switch() once taken), calls run and returns its result.
  virtual Values invoke(const Transfer& t) = 0;
};

Impl* create(const Options& options, std::unique_ptr<RunBase> run, Impl* parent);
inline void ref(Impl* g) noexcept { g->refs.fetch_add(1, std::memory_order_relaxed); }
void unref(Impl* g) noexcept;
Impl* current();  // not reference-counted
void set_run(Impl* g, std::unique_ptr<RunBase> run);
Impl* parent_of(Impl* g) noexcept;
void set_parent(Impl* g, Impl* parent);
inline bool is_dead(Impl* g) noexcept { return g->state.load(std::memory_order_acquire) == Impl::kDead; }
inline bool is_active(Impl* g) noexcept { return g->state.load(std::memory_order_acquire) == Impl::kActive; }

template <class T>
inline constexpr bool is_tuple_v = false;
template <class... T>
inline constexpr bool is_tuple_v<std::tuple<T...>> = true;

}  // namespace detail

/// The values a switch carried, when the receiver did not name their types (`switch_()` without a
/// type argument). Python's "nothing, one value or a tuple" is `size()` 0, 1 or more.
class Values {
 public:
  Values() noexcept = default;
  Values(Values&&) noexcept = default;
  Values& operator=(Values&&) noexcept = default;

  /// How many values the switch carried.
  std::size_t size() const noexcept { return holder_ ? holder_->count : 0; }
  /// True when the switch carried nothing (Python's `()` / `None`).
  bool empty() const noexcept { return size() == 0; }
  /// The type of value `i` (precondition: i < size()).
  const std::type_info& type(std::size_t i = 0) const noexcept { return *holder_->types[i]; }
  /// Value `i` as a T. Throws TypeError when it is missing or of another type.
  template <class T>
  T& get(std::size_t i = 0) {
    if (i >= size() || *holder_->types[i] != typeid(T)) {
      const std::type_info* want[] = {&typeid(T)};
      detail::throw_type_mismatch("greenlet::Values::get()", transfer(), want, 1);
    }
    return *static_cast<T*>(holder_->values[i]);
  }
  /// Python's `a, b = values`: every value, as exactly these types (TypeError otherwise).
  template <class... T>
  std::tuple<T...> as() && {
    return take<std::tuple<T...>>(transfer(), "greenlet::Values::as()");
  }

  // Internal: builds an owning Values from a transfer, and a transfer viewing this.
  template <class... T>
  static Values make(std::tuple<T...>&& t) {
    Values v;
    v.holder_ = std::make_unique<Holder<T...>>(std::move(t));
    return v;
  }
  detail::Transfer transfer() noexcept {
    detail::Transfer t;
    if (holder_) {
      t.count = holder_->count;
      t.types = holder_->types;
      t.values = holder_->values;
      t.source = this;
    }
    return t;
  }

  // Takes values of the types R names out of `t` (see switch_ for the forms of R).
  template <class R>
  static R take(const detail::Transfer& t, const char* api) {
    if constexpr (std::is_void_v<R>) {
      return;
    } else if constexpr (std::is_same_v<R, Values>) {
      if (t.source) return std::move(*t.source);
      return t.take ? t.take(t) : Values{};
    } else if constexpr (detail::is_tuple_v<R>) {
      return take_tuple<R>(t, api, std::make_index_sequence<std::tuple_size_v<R>>{});
    } else {
      if (t.count != 1 || *t.types[0] != typeid(R)) {
        const std::type_info* want[] = {&typeid(R)};
        detail::throw_type_mismatch(api, t, want, 1);
      }
      return R(std::move(*static_cast<R*>(t.values[0])));
    }
  }

 private:
  template <class R, std::size_t... I>
  static R take_tuple(const detail::Transfer& t, const char* api, std::index_sequence<I...>) {
    constexpr std::size_t n = sizeof...(I);
    if (t.count == 1 && *t.types[0] == typeid(R)) return R(std::move(*static_cast<R*>(t.values[0])));
    bool ok = t.count == n && ((*t.types[I] == typeid(std::tuple_element_t<I, R>)) && ...);
    if (!ok) {
      const std::type_info* want[n + 1] = {&typeid(std::tuple_element_t<I, R>)..., nullptr};
      detail::throw_type_mismatch(api, t, want, n);
    }
    return R(std::move(*static_cast<std::tuple_element_t<I, R>*>(t.values[I]))...);
  }

  struct HolderBase {
    virtual ~HolderBase() = default;
    std::size_t count = 0;
    const std::type_info* const* types = nullptr;
    void* const* values = nullptr;
  };
  template <class... T>
  struct Holder final : HolderBase {
    static constexpr const std::type_info* kTypes[] = {&typeid(T)..., nullptr};
    explicit Holder(std::tuple<T...>&& v) : tuple(std::move(v)) {
      count = sizeof...(T);
      types = kTypes;
      std::apply(
          [this](T&... x) {
            std::size_t i = 0;
            ((ptrs[i++] = &x), ...);
          },
          tuple);
      values = ptrs;
    }
    std::tuple<T...> tuple;
    void* ptrs[sizeof...(T) + 1] = {};
  };
  friend class greenlet;
  std::unique_ptr<HolderBase> holder_;
};

namespace detail {

// The sender's side of a switch: its arguments decay-copied on its stack.
template <class... T>
struct Pack {
  template <class... A>
  explicit Pack(A&&... a) : values(std::forward<A>(a)...) {
    std::apply(
        [this](T&... x) {
          std::size_t i = 0;
          ((ptrs[i++] = &x), ...);
        },
        values);
    transfer.count = sizeof...(T);
    transfer.types = kTypes;
    transfer.values = ptrs;
    transfer.take = [](const Transfer& t) { return take_all(t, std::index_sequence_for<T...>{}); };
  }
  template <std::size_t... I>
  static Values take_all(const Transfer& t, std::index_sequence<I...>) {
    return Values::make(std::tuple<T...>(std::move(*static_cast<T*>(t.values[I]))...));
  }
  static constexpr const std::type_info* kTypes[] = {&typeid(T)..., nullptr};
  std::tuple<T...> values;
  void* ptrs[sizeof...(T) + 1] = {};
  Transfer transfer;
};

// A callable's parameter list, decayed, as a tuple type; and its result type.
template <class F>
struct Signature : Signature<decltype(&std::remove_cvref_t<F>::operator())> {};
template <class R, class... A>
struct Signature<R (*)(A...)> {
  using result = R;
  using args = std::tuple<std::decay_t<A>...>;
};
template <class R, class... A>
struct Signature<R (*)(A...) noexcept> : Signature<R (*)(A...)> {};
template <class R, class... A>
struct Signature<R(A...)> : Signature<R (*)(A...)> {};
template <class R, class... A>
struct Signature<R(A...) noexcept> : Signature<R (*)(A...)> {};
template <class C, class R, class... A>
struct Signature<R (C::*)(A...)> : Signature<R (*)(A...)> {};
template <class C, class R, class... A>
struct Signature<R (C::*)(A...) const> : Signature<R (*)(A...)> {};
template <class C, class R, class... A>
struct Signature<R (C::*)(A...) noexcept> : Signature<R (*)(A...)> {};
template <class C, class R, class... A>
struct Signature<R (C::*)(A...) const noexcept> : Signature<R (*)(A...)> {};

template <class F>
class Run final : public RunBase {
 public:
  explicit Run(F f) : f_(std::move(f)) {}
  Values invoke(const Transfer& t) override {
    using Sig = Signature<F>;
    using Args = typename Sig::args;
    using R = typename Sig::result;
    Args args = [&] {
      struct Done {
        ~Done() { after_switch(); }
      } done;
      if (t.error) std::rethrow_exception(t.error);
      if constexpr (std::is_same_v<Args, std::tuple<Values>>) {
        return Args(Values::take<Values>(t, "greenlet run"));
      } else if constexpr (std::tuple_size_v<Args> == 1) {
        // One parameter: exactly one value of its type (a one-tuple is not unpacked).
        using A0 = std::tuple_element_t<0, Args>;
        return Args(Values::take<A0>(t, "greenlet run"));
      } else {
        return Values::take<Args>(t, "greenlet run");
      }
    }();
    if constexpr (std::is_void_v<R>) {
      std::apply(f_, std::move(args));
      return Values{};
    } else if constexpr (std::is_same_v<std::decay_t<R>, Values>) {
      return std::apply(f_, std::move(args));
    } else {
      return Values::make(std::tuple<std::decay_t<R>>(std::apply(f_, std::move(args))));
    }
  }

 private:
  F f_;
};

template <class F>
std::unique_ptr<RunBase> make_run(F&& f) {
  return std::make_unique<Run<std::decay_t<F>>>(std::forward<F>(f));
}

}  // namespace detail

/// Python's `greenlet.greenlet`: a handle to one greenlet (copies share it).
class greenlet {
 public:
  /// `greenlet.error` and `greenlet.GreenletExit`, reachable as members too, as in Python.
  using error = ::trident::greenlet::error;
  using GreenletExit = ::trident::greenlet::GreenletExit;

  /// Python's `greenlet()`: a new greenlet without `run` (set one with set_run before switching to
  /// it); its parent is the current greenlet.
  greenlet() : greenlet(Options{}, std::unique_ptr<detail::RunBase>{}, nullptr) {}
  /// Python's `greenlet(run)`: runs `run` when first switched to; its parent is the current greenlet.
  template <class F>
  explicit greenlet(F&& run) requires(!std::is_same_v<std::remove_cvref_t<F>, greenlet> &&
                                      !std::is_same_v<std::remove_cvref_t<F>, Options>)
      : greenlet(Options{}, detail::make_run(std::forward<F>(run)), nullptr) {}
  /// Python's `greenlet(run, parent)`. Throws ValueError when `parent` is of another thread.
  template <class F>
  greenlet(F&& run, const greenlet& parent) requires(!std::is_same_v<std::remove_cvref_t<F>, Options>)
      : greenlet(Options{}, detail::make_run(std::forward<F>(run)), parent.impl_) {}
  /// `greenlet(run)` with stack options: `greenlet({.stack_size = 64 * 1024}, run)`.
  template <class F>
  greenlet(Options options, F&& run) : greenlet(options, detail::make_run(std::forward<F>(run)), nullptr) {}
  /// `greenlet(run, parent)` with stack options.
  template <class F>
  greenlet(Options options, F&& run, const greenlet& parent)
      : greenlet(options, detail::make_run(std::forward<F>(run)), parent.impl_) {}

  greenlet(const greenlet& other) noexcept : impl_(other.impl_) { detail::ref(impl_); }
  greenlet(greenlet&& other) noexcept : impl_(std::exchange(other.impl_, nullptr)) {}
  greenlet& operator=(greenlet other) noexcept {
    std::swap(impl_, other.impl_);
    return *this;
  }
  /// Drops this handle; dropping the last one of a suspended greenlet throws GreenletExit into it.
  ~greenlet() {
    if (impl_) detail::unref(impl_);
  }

  /// Python's `g.switch(*args)`: switches to this greenlet, passing `args` (decay-copied) — to
  /// `run` on the first switch, else as the return value of the switch that suspended it — and
  /// returns what the next switch back into the calling greenlet passes, as an `R`:
  /// `void` (ignore), `Values` (the default: anything), `std::tuple<T...>` (several values), or
  /// any other T (exactly one value of that type). A mismatch throws TypeError. Switching to a
  /// finished greenlet switches to its parent; switching to the current greenlet returns `args`.
  /// Throws greenlet::error when this greenlet belongs to another thread, and whatever exception
  /// a greenlet raises into the caller (a child's escaping exception, or throw_).
  template <class R = Values, class... A>
  [[gnu::always_inline]] R switch_(A&&... args) {
    if constexpr (sizeof...(A) == 0) {
      return receive<R>(detail::arrive(detail::switch_inline(impl_, detail::Transfer{}, "greenlet::switch_()")),
                        "greenlet::switch_()");
    } else {
      detail::Pack<std::decay_t<A>...> pack(std::forward<A>(args)...);
      return receive<R>(detail::arrive(detail::switch_inline(impl_, pack.transfer, "greenlet::switch_()")),
                        "greenlet::switch_()");
    }
  }
  /// Python's `g.throw(exc)`: switches to this greenlet and raises `exc` at its switch point (a
  /// greenlet not yet started dies at once and the exception goes to its parent). Returns what
  /// the next switch back passes, as switch_ does.
  template <class R = Values, class E>
  R throw_(E&& exc) {
    if constexpr (std::is_same_v<std::decay_t<E>, std::exception_ptr>) {
      detail::Transfer t;
      t.error = std::forward<E>(exc);
      return receive<R>(detail::arrive(detail::switch_inline(impl_, t, "greenlet::throw_()")), "greenlet::throw_()");
    } else {
      return throw_<R>(std::make_exception_ptr(std::forward<E>(exc)));
    }
  }
  /// Python's `g.throw()`: raises GreenletExit in the greenlet.
  template <class R = Values>
  R throw_() {
    return throw_<R>(GreenletExit{});
  }

  /// Python's `g.parent`: the greenlet that gets control when this one finishes; nullopt for a
  /// main greenlet.
  std::optional<greenlet> parent() const {
    detail::Impl* p = detail::parent_of(impl_);
    if (!p) return std::nullopt;
    return greenlet(p, kAdopt);
  }
  /// Python's `g.parent = p`. Throws ValueError "greenlet::set_parent(): parent cannot be on the
  /// parent chain" for a cycle, and ValueError when `p` belongs to another thread.
  void set_parent(const greenlet& p) { detail::set_parent(impl_, p.impl_); }
  /// Python's `g.run = f`, before the greenlet starts. Throws greenlet::error once it has started.
  template <class F>
  void set_run(F&& run) {
    detail::set_run(impl_, detail::make_run(std::forward<F>(run)));
  }
  /// Python's `g.dead`: finished (returned, raised, or was killed before starting).
  bool dead() const noexcept { return detail::is_dead(impl_); }
  /// Python's `bool(g)`: started and not dead.
  explicit operator bool() const noexcept { return detail::is_active(impl_); }
  /// Whether two handles name the same greenlet (Python's `is`).
  friend bool operator==(const greenlet& a, const greenlet& b) noexcept { return a.impl_ == b.impl_; }

  /// The greenlet running now in this thread (its main greenlet when no other runs).
  friend greenlet getcurrent();
  /// Internal: the identity a parker keeps for this greenlet (see docs/greenlet.md).
  detail::Impl* native_handle() const noexcept { return impl_; }
  /// Internal: a new handle to the greenlet `native_handle()` returned.
  static greenlet from_native_handle(detail::Impl* g) noexcept { return greenlet(g, kAdopt); }

 private:
  enum Adopt { kAdopt };
  greenlet(detail::Impl* g, Adopt) noexcept : impl_(g) { detail::ref(impl_); }
  greenlet(const Options& options, std::unique_ptr<detail::RunBase> run, detail::Impl* parent)
      : impl_(detail::create(options, std::move(run), parent)) {}

  template <class R>
  [[gnu::always_inline]] static R receive(const detail::Transfer& t, const char* api) {
    struct Done {
      ~Done() { detail::after_switch(); }
    } done;
    if (t.error) std::rethrow_exception(t.error);
    return Values::take<R>(t, api);
  }

  detail::Impl* impl_;
};

/// Python's `greenlet.getcurrent()`.
greenlet getcurrent();

}  // namespace trident::greenlet
