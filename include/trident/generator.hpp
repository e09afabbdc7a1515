// trident/generator.hpp — Python's generators (PEP 255, 342, 380) as a C++20 coroutine type.
//
// A function returning `trident::Generator<Yield, Send, Return>` whose body uses `co_yield` is a
// generator: calling it runs nothing; `next()` runs it to its next `co_yield v` and returns `v`.
//
//   trident::Generator<int, int> jumping_range(int n) {      // def jumping_range(N):
//     int index = 0;                                         //     index = 0
//     while (index < n) {                                    //     while index < N:
//       std::optional<int> jump = co_yield index;            //         jump = yield index
//       index += jump.value_or(1);                           //         if jump is None: jump = 1
//     }                                                      //         index += jump
//   }
//
// What maps how (docs/generator.md explains the design):
// - `yield v` is `co_yield v`. With a `Send` type, `co_yield` returns `std::optional<Send>`:
//   the value of `send(v)`, or `std::nullopt` (Python's None) after `next()`. With `Send = void`
//   `co_yield` returns nothing and the generator only has `next()`.
// - `return v` is `co_return v` (Return is its type); it reaches the caller as
//   `StopIterationOf<Return>` (a `StopIteration` whose `value()` is v), as in Python.
// - `gen.throw(exc)` is `gen.throw_(exc)` (`throw` is a C++ keyword; greenlet uses the same name).
// - `yield from g` is `co_yield trident::yield_from(g)`, which returns g's Return value and
//   forwards `send`, `throw_` and `close` to g while g runs, as PEP 380 says.
// - `next(gen, default)` is `next(gen, default)`; besides it `try_next()` / `try_send(v)` return
//   `std::nullopt` at exhaustion instead of throwing (the exception-free loop), and range-for
//   iterates the values.
// - A Generator owns its coroutine (move-only). Destroying a suspended one closes it first, as
//   Python's garbage collector does: GeneratorExit is raised at its `co_yield` so its catch
//   handlers and the destructors of its locals run; an exception that escapes that close is
//   reported on stderr ("Exception ignored in ..."), as Python's unraisable hook does.
// - `close()` returns the value the generator returns on being closed (Python 3.13).
// - Python checks types at run time; here Yield, Send and Return are static, so `yield_from`
//   needs the inner generator's Yield and Send to be the outer's.
// - A Generator is used by one thread at a time (it can move between threads with the usual
//   synchronisation); re-entering it from its own body is Python's ValueError "generator already
//   executing".
#pragma once

#include <coroutine>
#include <cstddef>
#include <exception>
#include <iterator>
#include <memory>
#include <optional>
#include <string>
#include <type_traits>
#include <utility>

#include "trident/config.hpp"
#include "trident/errors.hpp"

namespace trident {

template <class Yield, class Send = void, class Return = void>
class Generator;

/// Python's `StopIteration` carrying a generator's return value (`StopIteration.value`): thrown
/// by the `next()`/`send()`/`throw_()` during which a `Generator<Y, S, Return>` returned. Later
/// calls throw a bare `StopIteration`, as Python's carry None.
template <class Return>
class StopIterationOf : public StopIteration {
 public:
  /// `what` names the call; `value` is what the generator returned.
  StopIterationOf(const std::string& what, std::shared_ptr<Return> value)
      : StopIteration(what), value_(std::move(value)) {}
  /// The generator's return value (`co_return v`), Python's `e.value`.
  const Return& value() const noexcept { return *value_; }
  /// The same, movable (`std::move(e.value())` in a `catch (StopIterationOf<R>& e)`).
  Return& value() noexcept { return *value_; }

 private:
  // Shared, not held, because a thrown type must be copyable and Return may be move-only.
  std::shared_ptr<Return> value_;
};

namespace detail {

// The cold paths, out of line (src/generator/generator.cpp). `method` names the call,
// e.g. "Generator::send()".
[[noreturn]] void generator_raise_running(const char* method);
[[noreturn]] void generator_raise_just_started(const char* method);
[[noreturn]] void generator_raise_exhausted(const char* method);
[[noreturn]] void generator_raise_no_return_value(const char* method);
[[noreturn]] void generator_raise_null_exception(const char* method);
// The message of the StopIterationOf that carries a return value.
std::string generator_returned_message(const char* method);
// Rethrows `pending` (an exception thrown into the generator), leaving it null. Out of line so the
// coroutine's resume path stays small.
[[noreturn]] void generator_raise_pending(std::exception_ptr& pending);
// Stores the exception being handled (one that escaped a generator's body) into `error` as Python
// stores it: a StopIteration becomes RuntimeError "generator raised StopIteration" (PEP 479). Out
// of line so the coroutine's own code stays small.
void generator_store_escaped(std::exception_ptr& error) noexcept;
std::exception_ptr generator_exit_exception() noexcept;
std::exception_ptr generator_running_exception(const char* method) noexcept;
std::exception_ptr generator_ignored_exit_exception() noexcept;
bool generator_is_exit(const std::exception_ptr& e) noexcept;
// What Python's sys.unraisablehook prints for an exception a garbage-collected generator raised.
void generator_report_unraisable(const std::exception_ptr& e) noexcept;

// Where a generator stands. `running` spans a resume, so a re-entry is seen; `finished` covers a
// generator that returned, raised, or was closed (also before it started).
enum class GeneratorState : unsigned char { unstarted, suspended, running, finished };

// What `co_yield` returns: the sent value or None (nullopt); nothing without a Send type.
template <class S>
struct SentType {
  using type = std::optional<S>;
};
template <>
struct SentType<void> {
  using type = void;
};

// Small trivially copyable values (ints, pointers, small PODs) travel in the promise itself: the
// hot path is then one store and one load, with no pointer to chase.
template <class T>
inline constexpr bool kInlineSlot = std::is_trivially_copyable_v<T>&& std::is_trivially_default_constructible_v<T> &&
                                    sizeof(T) <= 2 * sizeof(void*);
template <>
inline constexpr bool kInlineSlot<void> = false;

// The value yielded last: a copy held here, or a pointer to where the generator holds it.
template <class Y, bool Inline = kInlineSlot<Y>>
struct YieldSlot {
  Y& get() noexcept { return *ptr; }
  Y* ptr = nullptr;
};
template <class Y>
struct YieldSlot<Y, true> {
  Y& get() noexcept { return value; }
  Y value;
};

// What the co_yield a generator resumes at evaluates to: None (next()), the sent value (send()),
// or an exception raised there (throw_(), close()).
enum class ResumeWith : unsigned char { none, value, exception };

// The value send() passes in: a copy held here, or a pointer to send()'s argument.
template <class S, bool Inline = kInlineSlot<S>>
struct SentSlot {
  void set(S& v) noexcept { ptr = std::addressof(v); }
  S&& take() noexcept { return std::move(*ptr); }
  S* ptr = nullptr;
};
template <class S>
struct SentSlot<S, true> {
  void set(const S& v) noexcept { value = v; }
  S take() const noexcept { return value; }
  S value;
};
template <>
struct SentSlot<void, false> {};

template <class Y, class S, class R>
class GeneratorPromise;
template <class G, bool Owning>
class YieldFrom;
template <class Y, class S, class R, bool Owning>
class YieldFromAwaiter;

// The part of a generator's promise that does not depend on its Return type: what `yield_from`
// forwards to, so an outer generator steps an inner one of another Return type directly.
template <class Y, class S>
class GeneratorCore {
 public:
  using sent_type = typename SentType<S>::type;

  // Resumes the generator with what resume_with_ (and sent_, pending_, closing_) say — or, while it delegates
  // (`yield from`), the innermost generator it delegates to. Returns true when it yielded
  // (value_ holds the value), false when it finished (error_ or the return value tell how).
  // Never throws: the body's exceptions are caught by unhandled_exception().
  bool advance() noexcept { return advance(handle_); }
  // The same, given this generator's handle (the caller's copy saves a load on the hot path).
  bool advance(std::coroutine_handle<> self) noexcept {
    state_ = GeneratorState::running;
    if (delegate_ != nullptr) [[unlikely]] {
      if (advance_delegate()) {
        state_ = GeneratorState::suspended;
        return true;
      }
    }
    self.resume();
    // The final awaiter marks a generator that ran off its end or raised finished.
    if (state_ == GeneratorState::finished) [[unlikely]]
      return false;
    state_ = GeneratorState::suspended;
    return true;
  }

  // Python's close() on a suspended generator: raises GeneratorExit at its co_yield. Returns
  // the exception close() must raise (RuntimeError if it yielded again, any other exception that
  // escaped), or null when it finished (by returning, or by letting GeneratorExit out).
  std::exception_ptr close_suspended() noexcept {
    pending_ = generator_exit_exception();
    resume_with_ = ResumeWith::exception;
    closing_ = true;
    const bool yielded = advance();
    closing_ = false;
    if (yielded) return generator_ignored_exit_exception();
    if (error_ && generator_is_exit(error_)) error_ = nullptr;
    return std::exchange(error_, nullptr);
  }

  // ---- the coroutine's side ----

  std::suspend_always initial_suspend() const noexcept { return {}; }
  // Suspends at the end so the Generator still reads the outcome; marks the generator finished.
  class FinalAwaiter {
   public:
    explicit FinalAwaiter(GeneratorCore* core) noexcept : core_(core) {}
    bool await_ready() const noexcept { return false; }
    void await_suspend(std::coroutine_handle<>) const noexcept { core_->state_ = GeneratorState::finished; }
    void await_resume() const noexcept {}

   private:
    GeneratorCore* core_;
  };
  FinalAwaiter final_suspend() noexcept { return FinalAwaiter(this); }
  void unhandled_exception() noexcept { generator_store_escaped(error_); }
  // Generators do not await (Python's generators cannot either).
  template <class U>
  void await_transform(U&&) = delete;

  // What `co_yield v` suspends on; resuming it raises a thrown exception or returns the sent value.
  class YieldAwaiter {
   public:
    explicit YieldAwaiter(GeneratorCore* core) noexcept : core_(core) {}
    bool await_ready() const noexcept { return false; }
    void await_suspend(std::coroutine_handle<>) const noexcept {}
    sent_type await_resume() const {
      const ResumeWith with = core_->resume_with_;
      if (with == ResumeWith::exception) [[unlikely]]
        generator_raise_pending(core_->pending_);
      if constexpr (!std::is_void_v<S>) {
        if (with == ResumeWith::value) return sent_type(core_->sent_.take());
        return std::nullopt;
      }
    }

   protected:
    GeneratorCore* core_;
  };

  // `co_yield` of an lvalue: the generator's variable must stay as it is, so the value yielded is a
  // copy held in the awaiter, which lives in the coroutine frame until the generator resumes.
  class CopyYieldAwaiter : public YieldAwaiter {
   public:
    CopyYieldAwaiter(GeneratorCore* core, const Y& value) : YieldAwaiter(core), copy_(value) {}
    void await_suspend(std::coroutine_handle<>) noexcept { this->core_->value_.ptr = std::addressof(copy_); }

   private:
    Y copy_;
  };

  // `co_yield` of an rvalue: the temporary lives until the generator resumes, so the caller moves
  // it out directly.
  YieldAwaiter yield_value(Y&& value) noexcept {
    if constexpr (kInlineSlot<Y>)
      value_.value = value;
    else
      value_.ptr = std::addressof(value);
    return YieldAwaiter(this);
  }
  // A small trivially copyable value is copied into the promise, whatever its category.
  YieldAwaiter yield_value(const Y& value) noexcept requires kInlineSlot<Y> {
    value_.value = value;
    return YieldAwaiter(this);
  }
  CopyYieldAwaiter yield_value(const Y& value) noexcept(std::is_nothrow_copy_constructible_v<Y>) requires(
      std::is_copy_constructible_v<Y> && !kInlineSlot<Y>) {
    return CopyYieldAwaiter(this, value);
  }
  template <class R, bool Owning>
  YieldFromAwaiter<Y, S, R, Owning> yield_value(YieldFrom<Generator<Y, S, R>, Owning> from) noexcept {
    return YieldFromAwaiter<Y, S, R, Owning>(this, std::move(from));
  }

  // ---- state; the Generator and the awaiters use it directly ----

  YieldSlot<Y> value_;                 // the value yielded last (by this frame or a delegate)
  SentSlot<S> sent_;                   // the value send() passes in (resume_with_ == value)
  std::exception_ptr pending_;         // raised at the co_yield (resume_with_ == exception)
  std::exception_ptr error_;           // escaped the body; reported by the call that finished it
  GeneratorCore* delegate_ = nullptr;  // the generator a `yield from` forwards to, if any
  std::coroutine_handle<> handle_;
  GeneratorState state_ = GeneratorState::unstarted;
  ResumeWith resume_with_ = ResumeWith::none;
  bool closing_ = false;  // pending_ is close()'s GeneratorExit: a delegate is closed, not thrown into

 private:
  // PEP 380: send/next go to the delegate; so does a thrown exception (throw_), while close()
  // closes the delegate and then raises GeneratorExit (or what its close raised) here. Returns
  // true when the delegate yielded; false when it is done and this frame must resume.
  bool advance_delegate() noexcept {
    GeneratorCore* d = std::exchange(delegate_, nullptr);
    if (d->state_ == GeneratorState::finished) return false;  // finished meanwhile (driven directly)
    if (d->state_ == GeneratorState::running) [[unlikely]] {
      // The delegate's own body (driven directly) resumed us: Python raises ValueError at the
      // `yield from`, and the delegation is over.
      pending_ = generator_running_exception("yield_from()");
      resume_with_ = ResumeWith::exception;
      return false;
    }
    // PEP 380 closes the delegate for close() and for a GeneratorExit thrown in with throw_().
    if (closing_ || (resume_with_ == ResumeWith::exception && generator_is_exit(pending_))) {
      if (std::exception_ptr e = d->close_suspended()) pending_ = std::move(e);
      return false;
    }
    d->sent_ = sent_;
    d->resume_with_ = resume_with_;
    if (resume_with_ == ResumeWith::exception) {
      d->pending_ = std::exchange(pending_, nullptr);
      resume_with_ = ResumeWith::none;  // the exception is the delegate's now
    }
    if (d->advance()) {
      value_ = d->value_;
      delegate_ = d;
      return true;
    }
    return false;
  }
};

// Where `co_return` puts the value.
template <class R>
class ReturnSlot {
 public:
  void return_value(const R& value) { result_.emplace(value); }
  void return_value(R&& value) { result_.emplace(std::move(value)); }
  std::optional<R> result_;
};
template <>
class ReturnSlot<void> {
 public:
  void return_void() const noexcept {}
};

template <class Y, class S, class R>
class GeneratorPromise : public GeneratorCore<Y, S>, public ReturnSlot<R> {
 public:
  Generator<Y, S, R> get_return_object() noexcept {
    auto handle = std::coroutine_handle<GeneratorPromise>::from_promise(*this);
    this->handle_ = handle;
    return Generator<Y, S, R>(handle);
  }
};

// What `yield_from(g)` returns: g itself when it was passed as an rvalue (the yield from then owns
// it), else a pointer to it (the caller keeps it alive across the yield from).
template <class G, bool Owning>
class YieldFrom {
 public:
  explicit YieldFrom(G&& gen) noexcept : gen_(std::move(gen)) {}
  auto* promise() noexcept { return gen_.promise_or_null(); }

 private:
  G gen_;
};
template <class G>
class YieldFrom<G, false> {
 public:
  explicit YieldFrom(G& gen) noexcept : gen_(&gen) {}
  auto* promise() noexcept { return gen_->promise_or_null(); }

 private:
  G* gen_;
};

// `co_yield yield_from(inner)`: runs inner's first step; while inner yields, the outer generator's
// calls step inner directly (GeneratorCore::advance_delegate) and this frame stays suspended;
// when inner finishes, this frame resumes with inner's return value or exception.
template <class Y, class S, class R, bool Owning>
class YieldFromAwaiter {
 public:
  YieldFromAwaiter(GeneratorCore<Y, S>* outer, YieldFrom<Generator<Y, S, R>, Owning> from) noexcept
      : outer_(outer), from_(std::move(from)) {}

  bool await_ready() {
    GeneratorPromise<Y, S, R>* inner = from_.promise();
    if (inner == nullptr || inner->state_ == GeneratorState::finished) return true;
    if (inner->state_ == GeneratorState::running) generator_raise_running("yield_from()");
    inner->resume_with_ = ResumeWith::none;  // PEP 380 starts the delegate with next()
    if (!inner->advance()) return true;
    outer_->value_ = inner->value_;
    outer_->delegate_ = inner;
    return false;
  }
  void await_suspend(std::coroutine_handle<>) const noexcept {}
  R await_resume() {
    if (outer_->resume_with_ == ResumeWith::exception) [[unlikely]]
      generator_raise_pending(outer_->pending_);
    GeneratorPromise<Y, S, R>* inner = from_.promise();
    if (inner != nullptr && inner->error_) std::rethrow_exception(std::exchange(inner->error_, nullptr));
    if constexpr (!std::is_void_v<R>) {
      // Python would give None for a generator that finished before; a typed Return cannot.
      if (inner == nullptr || !inner->result_) generator_raise_no_return_value("yield_from()");
      R value = std::move(*inner->result_);
      inner->result_.reset();
      return value;
    }
  }

 private:
  GeneratorCore<Y, S>* outer_;
  YieldFrom<Generator<Y, S, R>, Owning> from_;
};

}  // namespace detail

/// A Python generator: a coroutine that yields `Yield` values, receives `Send` values through
/// `send()` (none when void) and returns a `Return` (none when void). Move-only; it owns the
/// coroutine frame. Calls never block: they run the generator to its next `co_yield` on the
/// caller's thread.
template <class Yield, class Send, class Return>
class Generator {
  static_assert(std::is_object_v<Yield> && !std::is_const_v<Yield> && !std::is_array_v<Yield>,
                "Generator<Yield, ...>: Yield must be a non-const object type");
  static_assert(std::is_void_v<Send> || std::is_object_v<Send>,
                "Generator<Y, Send>: Send must be void or an object type");

 public:
  using promise_type = detail::GeneratorPromise<Yield, Send, Return>;
  /// What `close()` returns: the value the generator returned on being closed (Python 3.13).
  using close_type = std::conditional_t<std::is_void_v<Return>, void, std::optional<Return>>;
  class iterator;

  /// An empty generator: already exhausted (as a moved-from one is).
  Generator() noexcept = default;
  Generator(Generator&& other) noexcept : handle_(std::exchange(other.handle_, nullptr)) {}
  Generator& operator=(Generator&& other) noexcept;
  Generator(const Generator&) = delete;
  Generator& operator=(const Generator&) = delete;
  /// Closes the generator if it is suspended (GeneratorExit at its `co_yield`, as Python's garbage
  /// collector does; an exception that escapes is reported on stderr), then frees it.
  ~Generator() { destroy(); }

  /// `next()` runs the generator to its next `co_yield` and returns the value (Python's
  /// `next(gen)`; the sent value is None). Throws what the generator raises;
  /// `StopIterationOf<Return>` (a bare `StopIteration` when Return is void) when it returns;
  /// `StopIteration` when it had already finished; ValueError when called from the generator's
  /// own body ("generator already executing").
  Yield next() { return step("Generator::next()"); }
  /// `next(default_value)` is `next()` returning `default_value` instead of raising StopIteration
  /// (Python's `next(gen, default)`).
  template <class U>
  Yield next(U&& default_value) {
    if (std::optional<Yield> value = try_next()) return std::move(*value);
    return static_cast<Yield>(std::forward<U>(default_value));
  }
  /// `send(value)` resumes the generator so that its `co_yield` returns `value`, and returns the
  /// next value it yields. Throws as `next()` does, and TypeError on a generator that has not
  /// started ("can't send non-None value to a just-started generator": start it with `next()`).
  template <class U = Send>
  requires(!std::is_void_v<U>) Yield send(std::type_identity_t<U> value) {
    // One check on the common path: only a suspended generator takes a value.
    if (!handle_ || promise().state_ != detail::GeneratorState::suspended) [[unlikely]]
      raise_not_sendable("Generator::send()");
    promise_type& p = promise();
    p.sent_.set(value);
    p.resume_with_ = detail::ResumeWith::value;
    if (p.advance(handle_)) [[likely]]
      return std::move(p.value_.get());
    raise_finished("Generator::send()");
  }
  /// `send()` and `send(std::nullopt)` are Python's `send(None)`: the same as `next()`.
  Yield send() { return step("Generator::send()"); }
  Yield send(std::nullopt_t) { return step("Generator::send()"); }

  /// `try_next()` is `next()` returning std::nullopt instead of raising StopIteration: the loop
  /// without exceptions. The return value stays for `return_value()`. Other exceptions propagate.
  std::optional<Yield> try_next() { return try_step(nullptr); }
  /// `try_send(value)` is `send(value)` returning std::nullopt instead of raising StopIteration.
  template <class U = Send>
  requires(!std::is_void_v<U>) std::optional<Yield> try_send(std::type_identity_t<U> value) {
    if (handle_ && promise().state_ == detail::GeneratorState::unstarted) [[unlikely]]
      detail::generator_raise_just_started("Generator::try_send()");
    return try_step(std::addressof(value));
  }

  /// `throw_(exc)` raises `exc` inside the generator at its `co_yield` and returns the next value
  /// it yields (Python's `gen.throw(exc)`). If the generator lets `exc` out, `throw_` throws it;
  /// if it returns, StopIteration as `next()` does. On a generator that has not started or has
  /// finished, `exc` is thrown straight back (and an unstarted one is finished, as in Python).
  template <class E>
  requires(!std::is_same_v<std::remove_cvref_t<E>, std::exception_ptr>) Yield throw_(E&& exc) {
    return throw_(std::make_exception_ptr(std::forward<E>(exc)));
  }
  /// `throw_(std::exception_ptr)` is the same for an exception already captured.
  Yield throw_(std::exception_ptr exc);

  /// `close()` raises GeneratorExit inside a suspended generator (Python's `gen.close()`). Fine if
  /// it returns or lets GeneratorExit out; RuntimeError ("generator ignored GeneratorExit") if it
  /// yields again; any other exception it raises propagates. Does nothing to a generator that has
  /// finished; one that has not started is just marked finished. Returns what the generator
  /// returned on being closed (Python 3.13), when Return is not void.
  close_type close();

  /// `return_value()` is the value the generator returned (`co_return v`) while this Generator
  /// still holds it: after `try_next()`/`try_send()`/range-for ended it, and until a
  /// `StopIterationOf<Return>` or `yield_from` took it. RuntimeError otherwise. (C++ only: Python
  /// gives the value only through StopIteration.)
  template <class U = Return>
  requires(!std::is_void_v<U>) U& return_value() {
    if (!handle_ || !handle_.promise().result_) detail::generator_raise_no_return_value("Generator::return_value()");
    return *handle_.promise().result_;
  }

  /// Python's `gi_running`: true while the generator's body runs (a call from inside it).
  bool gi_running() const noexcept { return handle_ && promise().state_ == detail::GeneratorState::running; }
  /// Python's `gi_suspended` (3.11): true while it waits at a `co_yield`.
  bool gi_suspended() const noexcept { return handle_ && promise().state_ == detail::GeneratorState::suspended; }
  /// True once it returned, raised, or was closed (Python: `gi_frame is None`).
  bool finished() const noexcept { return !handle_ || promise().state_ == detail::GeneratorState::finished; }

  /// Range-for over the values still to come: `begin()` takes the first one (as Python's `for`
  /// calls `next()`); exhaustion ends the loop, other exceptions propagate.
  iterator begin();
  std::default_sentinel_t end() const noexcept { return {}; }

 private:
  template <class, bool>
  friend class detail::YieldFrom;
  friend promise_type;

  explicit Generator(std::coroutine_handle<promise_type> handle) noexcept : handle_(handle) {}

  promise_type& promise() const noexcept { return handle_.promise(); }
  promise_type* promise_or_null() const noexcept { return handle_ ? &handle_.promise() : nullptr; }

  // The common path of next()/send(): a resume and a few loads; exceptions only at the end.
  Yield step(const char* method) {
    if (!handle_) [[unlikely]]
      detail::generator_raise_exhausted(method);
    promise_type& p = promise();
    if (p.state_ > detail::GeneratorState::suspended) [[unlikely]]
      raise_not_resumable(method);
    p.resume_with_ = detail::ResumeWith::none;
    if (p.advance(handle_)) [[likely]]
      return std::move(p.value_.get());
    raise_finished(method);
  }

  std::optional<Yield> try_step(std::add_pointer_t<Send> sent) {
    if (!handle_) return std::nullopt;
    promise_type& p = promise();
    if (p.state_ == detail::GeneratorState::finished) return std::nullopt;
    if (p.state_ == detail::GeneratorState::running) [[unlikely]]
      detail::generator_raise_running("Generator::try_next()");
    p.resume_with_ = detail::ResumeWith::none;
    if constexpr (!std::is_void_v<Send>) {
      if (sent != nullptr) {
        p.sent_.set(*sent);
        p.resume_with_ = detail::ResumeWith::value;
      }
    }
    if (p.advance(handle_)) [[likely]]
      return std::optional<Yield>(std::move(p.value_.get()));
    if (p.error_) std::rethrow_exception(std::exchange(p.error_, nullptr));
    return std::nullopt;
  }

  // One step of a range-for: exhaustion ends the loop, other exceptions propagate.
  void try_next_in_place() {
    promise_type& p = promise();
    if (p.state_ == detail::GeneratorState::finished) return;
    if (p.state_ == detail::GeneratorState::running) [[unlikely]]
      detail::generator_raise_running("Generator::begin()/iterator::operator++()");
    p.resume_with_ = detail::ResumeWith::none;
    if (!p.advance(handle_) && p.error_) [[unlikely]]
      std::rethrow_exception(std::exchange(p.error_, nullptr));
  }

  // send(value) to a generator that is not suspended: TypeError if it has not started, else what
  // next() would raise.
  [[noreturn]] void raise_not_sendable(const char* method) {
    if (!handle_) detail::generator_raise_exhausted(method);
    if (promise().state_ == detail::GeneratorState::unstarted) detail::generator_raise_just_started(method);
    raise_not_resumable(method);
  }

  [[noreturn]] void raise_not_resumable(const char* method) {
    if (promise().state_ == detail::GeneratorState::running) detail::generator_raise_running(method);
    raise_finished(method);
  }

  // The generator has finished: raise what it raised, else StopIteration with its return value
  // (taken, so the next call's StopIteration is bare, as Python's is).
  [[noreturn]] void raise_finished(const char* method) {
    promise_type& p = promise();
    if (p.error_) std::rethrow_exception(std::exchange(p.error_, nullptr));
    if constexpr (!std::is_void_v<Return>) {
      if (p.result_) {
        auto value = std::make_shared<Return>(std::move(*p.result_));
        p.result_.reset();
        throw StopIterationOf<Return>(detail::generator_returned_message(method), std::move(value));
      }
    }
    detail::generator_raise_exhausted(method);
  }

  void destroy() noexcept {
    if (!handle_) return;
    promise_type& p = promise();
    TRIDENT_ASSERT(p.state_ != detail::GeneratorState::running, "a Generator destroyed by its own body");
    if (p.state_ == detail::GeneratorState::suspended) {
      if (std::exception_ptr e = p.close_suspended()) detail::generator_report_unraisable(e);
    }
    handle_.destroy();
    handle_ = nullptr;
  }

  std::coroutine_handle<promise_type> handle_;
};

/// The iterator of a range-for over a Generator (an input iterator; `end()` is
/// std::default_sentinel). `*it` is the value yielded last; `++it` resumes the generator.
template <class Yield, class Send, class Return>
class Generator<Yield, Send, Return>::iterator {
 public:
  using value_type = Yield;
  using difference_type = std::ptrdiff_t;
  using iterator_concept = std::input_iterator_tag;

  iterator() noexcept = default;
  Yield& operator*() const noexcept { return gen_->promise().value_.get(); }
  Yield* operator->() const noexcept { return std::addressof(gen_->promise().value_.get()); }
  iterator& operator++() {
    gen_->try_next_in_place();
    return *this;
  }
  void operator++(int) { ++*this; }
  friend bool operator==(const iterator& it, std::default_sentinel_t) noexcept { return it.gen_->finished(); }

 private:
  friend class Generator;
  explicit iterator(Generator* gen) noexcept : gen_(gen) {}
  Generator* gen_ = nullptr;
};

// ---- definitions ----

template <class Yield, class Send, class Return>
Generator<Yield, Send, Return>& Generator<Yield, Send, Return>::operator=(Generator&& other) noexcept {
  if (this != &other) {
    destroy();
    handle_ = std::exchange(other.handle_, nullptr);
  }
  return *this;
}

template <class Yield, class Send, class Return>
Yield Generator<Yield, Send, Return>::throw_(std::exception_ptr exc) {
  if (!exc) detail::generator_raise_null_exception("Generator::throw_()");
  if (!handle_) std::rethrow_exception(exc);
  promise_type& p = promise();
  switch (p.state_) {
    case detail::GeneratorState::running:
      detail::generator_raise_running("Generator::throw_()");
    case detail::GeneratorState::unstarted:
      // Python raises it at the first line of the body: nothing runs, and the generator is done.
      p.state_ = detail::GeneratorState::finished;
      std::rethrow_exception(exc);
    case detail::GeneratorState::finished:
      std::rethrow_exception(exc);
    case detail::GeneratorState::suspended:
      break;
  }
  p.pending_ = std::move(exc);
  p.resume_with_ = detail::ResumeWith::exception;
  if (p.advance(handle_)) return std::move(p.value_.get());
  raise_finished("Generator::throw_()");
}

template <class Yield, class Send, class Return>
auto Generator<Yield, Send, Return>::close() -> close_type {
  if (handle_) {
    promise_type& p = promise();
    switch (p.state_) {
      case detail::GeneratorState::running:
        detail::generator_raise_running("Generator::close()");
      case detail::GeneratorState::unstarted:
        p.state_ = detail::GeneratorState::finished;
        break;
      case detail::GeneratorState::finished:
        break;
      case detail::GeneratorState::suspended:
        if (std::exception_ptr e = p.close_suspended()) std::rethrow_exception(e);
        if constexpr (!std::is_void_v<Return>) {
          if (p.result_) {
            std::optional<Return> value = std::move(p.result_);
            p.result_.reset();
            return value;
          }
        }
        break;
    }
  }
  if constexpr (!std::is_void_v<Return>) return std::nullopt;
}

template <class Yield, class Send, class Return>
auto Generator<Yield, Send, Return>::begin() -> iterator {
  if (handle_) try_next_in_place();
  return iterator(this);
}

/// Python's `next(gen)`.
template <class Yield, class Send, class Return>
Yield next(Generator<Yield, Send, Return>& gen) {
  return gen.next();
}
/// Python's `next(gen, default)`: `default_value` instead of StopIteration at exhaustion.
template <class Yield, class Send, class Return, class U>
Yield next(Generator<Yield, Send, Return>& gen, U&& default_value) {
  return gen.next(std::forward<U>(default_value));
}

/// `co_yield yield_from(gen)` is Python's `yield from gen` (PEP 380): the values `gen` yields
/// pass through to this generator's caller, and so do `send`, `throw_` and `close` (`close()`
/// closes `gen`, then raises GeneratorExit here); the expression's value is `gen`'s return value,
/// and an exception `gen` lets out is raised here. An rvalue `gen` is owned by the yield from;
/// an lvalue must outlive it. `gen` must have this generator's Yield and Send types.
template <class Yield, class Send, class Return>
detail::YieldFrom<Generator<Yield, Send, Return>, true> yield_from(Generator<Yield, Send, Return>&& gen) noexcept {
  return detail::YieldFrom<Generator<Yield, Send, Return>, true>(std::move(gen));
}
template <class Yield, class Send, class Return>
detail::YieldFrom<Generator<Yield, Send, Return>, false> yield_from(Generator<Yield, Send, Return>& gen) noexcept {
  return detail::YieldFrom<Generator<Yield, Send, Return>, false>(gen);
}

}  // namespace trident
