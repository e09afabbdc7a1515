// multiprocessing.queues: a byte ring in shared memory with two robust locks and futex wake-ups
// (docs/multiprocessing.md, "Queues", explains the layout, the wake-up protocol and crash behaviour).
#include "trident/multiprocessing/queues.hpp"

#include <cxxabi.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <climits>
#include <cstdio>
#include <cstdlib>

#include "core/cpu_relax.hpp"
#include "platform/linux/shm.hpp"
#include "trident/detail/wait.hpp"

namespace trident::multiprocessing::detail {

using trident::detail::Deadline;
using trident::detail::ShmSegment;

namespace {

constexpr std::uint64_t kMagic = 0x3155455551504d54ull;  // "TMPQUEU1"
constexpr std::size_t kRingOffset = 4096;
constexpr std::size_t kMinRing = 4096;
constexpr std::size_t kAlign = 32;  // every record starts 32-aligned, so a header never crosses the end

// A record's kind.
constexpr std::uint32_t kItem = 1;      // the item's bytes follow the header
constexpr std::uint32_t kPad = 2;       // filler to the ring's end; not an item
constexpr std::uint32_t kOverflow = 3;  // an OverflowRef follows: the item is in a segment of its own
constexpr std::uint32_t kSpill = 4;     // a SpillRef follows: items continue in a chain of segments

struct RecordHeader {
  std::uint32_t kind;
  std::uint32_t reserved;
  std::uint64_t size;  // payload bytes (kItem, kOverflow) or the whole record (kPad)
  std::uint64_t fingerprint;
  std::uint64_t reserved2;
};
static_assert(sizeof(RecordHeader) == 32 && sizeof(RecordHeader) % kAlign == 0);

constexpr std::size_t kNameMax = 63;
constexpr std::size_t round_up_const(std::size_t n, std::size_t a) { return (n + a - 1) / a * a; }
struct OverflowRef {
  std::uint64_t size;
  char name[kNameMax + 1];
};

// An unbounded queue whose ring is full goes on in a chain of spill segments: the ring gets one
// kSpill record naming the first; every later item goes into the chain (a SpillHeader, then
// records laid out as in the ring) until the chain ends, and later items go to the ring after the
// kSpill record. FIFO holds: producers append under the put lock, and the consumer reads the
// chain whole before the ring past the kSpill record. A chain ends when the producer finds the
// ring half empty again, or when the consumer has read all of it (so a drained segment is removed
// at once): both sides end it with a compare-and-swap on the segment's state word, so an item is
// either committed to the chain before it ended or goes to the ring.
struct SpillRef {
  char name[kNameMax + 1];
};
// A segment's state: pack(end, records committed).
constexpr std::uint32_t kChainOpen = 0;
constexpr std::uint32_t kChainNext = 1;    // the chain goes on in segment `next`
constexpr std::uint32_t kChainClosed = 2;  // the chain ends here
struct SpillHeader {
  std::atomic<std::uint64_t> state;
  char next[kNameMax + 1];  // written before the state says kChainNext
};
constexpr std::size_t kSpillHeader = round_up_const(sizeof(SpillHeader), 32);
constexpr std::size_t kSpillNeed = round_up_const(sizeof(RecordHeader) + sizeof(SpillRef), 32);
// Free ring bytes an unbounded queue keeps for a kSpill record and the pad before it.
constexpr std::size_t kSpillReserve = 2 * kSpillNeed;

// Polls of an empty (or full) ring before sleeping: a peer that is running usually publishes
// within a few microseconds, far less than a futex sleep plus wake-up costs both sides.
constexpr int kSpins = 2000;

constexpr std::size_t round_up(std::size_t n, std::size_t a) { return (n + a - 1) / a * a; }

// Each side's progress is ONE word, so that a process killed between two stores can never leave
// an item count disagreeing with a byte position: bits 32..63 count items, bits 0..31 are the byte
// position; both wrap around at 2^32 (differences are taken modulo 2^32, and the ring is at most
// 2^31 bytes).
constexpr std::uint32_t items_of(std::uint64_t w) { return static_cast<std::uint32_t>(w >> 32); }
constexpr std::uint32_t pos_of(std::uint64_t w) { return static_cast<std::uint32_t>(w); }
constexpr std::uint64_t pack(std::uint32_t items, std::uint32_t pos) { return (std::uint64_t{items} << 32) | pos; }
constexpr std::size_t kMaxRing = std::size_t{1} << 31;

}  // namespace

// The shared state. Fields on the producers' line are written by the put-lock holder only, those
// on the consumers' line by the get-lock holder only; each side reads the other's published
// counters (release stores, acquire loads) and caches them under its own lock.
struct QueueCore::Layout {
  std::uint64_t magic;
  std::uint64_t ring_size;  // a power of two
  std::int64_t maxsize;     // 0: no item limit
  std::uint32_t creator_pid;

  // Producers' line.
  alignas(64) LockState put_lock;
  std::atomic<std::uint64_t> published;  // pack(items published, tail): THE publish word
  std::uint64_t cached_consumed;         // `consumed` as last seen (put_lock)
  char pending_overflow[kNameMax + 1];   // a big item's segment, named before it exists (put_lock)
  std::uint32_t pending_items;           // items published before it: unpublished while still equal
  std::uint32_t spill_open;              // items now go to the chain, at spill_w + spill_w_off
  char spill_w[kNameMax + 1];
  std::uint64_t spill_w_off;

  // Consumers' line.
  alignas(64) LockState get_lock;
  std::atomic<std::uint64_t> consumed;  // pack(items removed, head)
  std::uint64_t cached_published;       // `published` as last seen (get_lock)
  std::uint32_t spill_reading;          // the next item is in the chain, at spill_r + spill_r_off
  char spill_r[kNameMax + 1];
  std::uint64_t spill_r_off;
  std::uint32_t spill_r_idx;   // records of the segment already removed
  std::uint64_t spill_resume;  // the ring position past the kSpill record

  // Wake-up words: a sleeper publishes "I may sleep" in *_sleeping, re-checks, then futex-waits on
  // the sequence word; the other side clears *_sleeping with an exchange and, if it was set, bumps
  // the sequence and wakes. Only a lock holder sleeps here, so there is at most one sleeper each.
  alignas(64) std::atomic<std::uint32_t> not_empty;  // bumped for each wake of a consumer
  std::atomic<std::uint32_t> consumer_sleeping;
  alignas(64) std::atomic<std::uint32_t> not_full;  // bumped for each wake of a producer
  std::atomic<std::uint32_t> producer_sleeping;

  // JoinableQueue.
  alignas(64) std::atomic<std::uint32_t> unfinished;  // tasks put and not yet done; a futex word
  std::atomic<std::uint32_t> joiners;                 // threads that may sleep on `unfinished`
};

namespace {

// The robust process locks of synchronize.hpp, used on state in the queue's own segment.
bool lock_take(LockState* s, bool block, const Deadline& deadline) {
  std::uint32_t expected = 0;
  if (s->word.compare_exchange_strong(expected, current_pid(), std::memory_order_acquire, std::memory_order_relaxed)) {
    if (s->owner_died.load(std::memory_order_relaxed) != 0) s->owner_died.store(0, std::memory_order_relaxed);
    return true;
  }
  return lock_acquire_slow(s, current_pid(), block, deadline);
}

void lock_give(LockState* s) noexcept {
  if ((s->word.exchange(0, std::memory_order_release) & kWaiters) != 0) lock_wake(s);
}

struct LockGuard {
  LockState* s;
  ~LockGuard() {
    if (s != nullptr) lock_give(s);
  }
};

// No string is built unless the timeout is bad: this runs on every put and get.
Deadline make_deadline(bool block, const Timeout& timeout, const char* cls, const char* method) {
  if (!block) return Deadline::now();
  if (!timeout) return Deadline::forever();
  return Deadline::after(timeout, std::string(cls) + "::" + method + "()");
}

}  // namespace

std::uint64_t type_fingerprint(const std::type_info& type) noexcept {
  std::uint64_t h = 0xcbf29ce484222325ull;
  for (const char* s = type.name(); *s != '\0'; ++s) {
    h ^= static_cast<unsigned char>(*s);
    h *= 0x100000001b3ull;
  }
  return h;
}

std::string demangled_name(const std::type_info& type) {
  int status = 0;
  char* p = abi::__cxa_demangle(type.name(), nullptr, nullptr, &status);
  std::string out = status == 0 && p != nullptr ? p : type.name();
  std::free(p);
  return out;
}

QueueCore::QueueCore(QueueOptions options, const char* cls) : cls_(cls) {
  static_assert(sizeof(Layout) <= kRingOffset);
  std::size_t ring = kMinRing;
  while (ring < options.buffer_size && ring < kMaxRing) ring <<= 1;
  segment_ = ShmSegment::make_internal(kRingOffset + ring);
  l_ = reinterpret_cast<Layout*>(segment_->data());
  ring_ = segment_->data() + kRingOffset;
  l_->ring_size = ring;
  l_->maxsize = options.maxsize > 0 ? std::min<long>(options.maxsize, INT32_MAX) : 0;
  l_->creator_pid = current_pid();
  l_->magic = kMagic;
}

QueueCore::QueueCore(const std::string& name, const char* cls) : cls_(cls) {
  segment_ = ShmSegment::attach(name, std::string(cls) + "::attach()");
  l_ = reinterpret_cast<Layout*>(segment_->data());
  if (segment_->size() <= kRingOffset || l_->magic != kMagic || l_->ring_size != segment_->size() - kRingOffset) {
    throw ValueError(std::string(cls) + "::attach(): segment '" + name + "' does not hold a queue");
  }
  ring_ = segment_->data() + kRingOffset;
}

QueueCore::~QueueCore() = default;

void QueueCore::check_open(const char* method) const {
  if (closed_) throw ValueError(std::string(cls_) + "::" + method + "(): the queue is closed");
}

long QueueCore::qsize() const noexcept {
  // Removed items first: what is read of the producers afterwards is at least as recent.
  const std::uint32_t g = items_of(l_->consumed.load(std::memory_order_acquire));
  const std::uint32_t p = items_of(l_->published.load(std::memory_order_acquire));
  const std::uint32_t n = p - g;
  return n <= INT32_MAX ? static_cast<long>(n) : 0;
}
bool QueueCore::empty() const noexcept { return qsize() == 0; }
bool QueueCore::full() const noexcept { return l_->maxsize > 0 && qsize() >= l_->maxsize; }
long QueueCore::maxsize() const noexcept { return static_cast<long>(l_->maxsize); }

void QueueCore::wake_consumer() noexcept {
  if (l_->consumer_sleeping.load(std::memory_order_seq_cst) != 0 &&
      l_->consumer_sleeping.exchange(0, std::memory_order_seq_cst) != 0) {
    l_->not_empty.fetch_add(1, std::memory_order_seq_cst);
    platform::futex_wake_shared(&l_->not_empty, 1);
  }
}

void QueueCore::wake_producer() noexcept {
  if (l_->producer_sleeping.load(std::memory_order_seq_cst) != 0 &&
      l_->producer_sleeping.exchange(0, std::memory_order_seq_cst) != 0) {
    l_->not_full.fetch_add(1, std::memory_order_seq_cst);
    platform::futex_wake_shared(&l_->not_full, 1);
  }
}

void QueueCore::put(std::uint64_t fp, const char* data, std::size_t n, bool block, const Timeout& timeout,
                    bool count_task) {
  check_open("put");
  const Deadline deadline = make_deadline(block, timeout, cls_, "put");
  const std::size_t ring = l_->ring_size;
  const bool big = sizeof(RecordHeader) + n > ring / 4;
  const std::size_t payload = big ? sizeof(OverflowRef) : n;
  const std::size_t need = round_up(sizeof(RecordHeader) + payload, kAlign);

  if (!lock_take(&l_->put_lock, block, deadline)) {
    throw queue::Full(std::string(cls_) + "::put(): the queue is full");
  }
  LockGuard guard{&l_->put_lock};
  if (l_->put_lock.owner_died.load(std::memory_order_relaxed) != 0 && l_->pending_overflow[0] != '\0' &&
      l_->pending_items == items_of(l_->published.load(std::memory_order_relaxed))) {
    // A producer died writing a big item: its segment (if it got as far as creating it) was never
    // published, and nobody else knows its name.
    platform::shm_remove(l_->pending_overflow);
    l_->pending_overflow[0] = '\0';
  }

  // Room for the record (and the pad before it when it would cross the ring's end) and, with a
  // maxsize, for one more item. Cached counters first: the consumers' line is read only when the
  // cache says there is no room.
  const std::uint64_t pub = l_->published.load(std::memory_order_relaxed);
  const std::uint32_t tail = pos_of(pub);
  const std::uint32_t count = items_of(pub);
  const std::size_t to_end = ring - (tail & (ring - 1));
  const std::size_t total = to_end < need ? to_end + need : need;
  auto has_room = [&] {
    const std::uint64_t c = l_->cached_consumed;
    return std::size_t{static_cast<std::uint32_t>(tail - pos_of(c))} + total + (l_->maxsize == 0 ? kSpillReserve : 0) <=
               ring &&
           (l_->maxsize == 0 ||
            static_cast<std::int64_t>(static_cast<std::uint32_t>(count - items_of(c))) < l_->maxsize);
  };
  auto refresh = [&] { l_->cached_consumed = l_->consumed.load(std::memory_order_seq_cst); };
  const bool unbounded = l_->maxsize == 0;
  auto publish_spilled = [&](std::uint32_t new_tail) {
    if (count_task) l_->unfinished.fetch_add(1, std::memory_order_seq_cst);
    l_->published.store(pack(count + 1, new_tail), std::memory_order_seq_cst);
    wake_consumer();
  };
  if (unbounded && l_->spill_open != 0) {
    refresh();
    if (std::size_t{static_cast<std::uint32_t>(tail - pos_of(l_->cached_consumed))} > ring / 2 &&
        spill_write(fp, data, n)) {
      publish_spilled(tail);
      return;
    }
    // The consumers have caught up (or have ended the chain themselves): this item and later ones
    // go to the ring.
    if (auto seg = open_spill_w()) {
      auto* sh = reinterpret_cast<SpillHeader*>(seg->data());
      std::uint64_t st = sh->state.load(std::memory_order_acquire);
      while (items_of(st) == kChainOpen &&
             !sh->state.compare_exchange_weak(st, pack(kChainClosed, pos_of(st)), std::memory_order_acq_rel)) {
      }
    }
    l_->spill_open = 0;
    spill_w_seg_.reset();
    refresh();
  }
  if (!has_room()) {
    refresh();
    for (int spin = 0; spin < kSpins && block && !has_room(); ++spin) {
      trident::detail::cpu_relax();
      refresh();
    }
    if (unbounded && !has_room()) {
      // Start a chain: its kSpill record fits in the reserve every other put leaves free.
      const std::size_t to_end_s = ring - (tail & (ring - 1));
      std::uint32_t at_s = tail;
      if (to_end_s < kSpillNeed) {
        auto* pad = reinterpret_cast<RecordHeader*>(ring_ + (at_s & (ring - 1)));
        pad->kind = kPad;
        pad->size = to_end_s;
        at_s += static_cast<std::uint32_t>(to_end_s);
      }
      auto* hs = reinterpret_cast<RecordHeader*>(ring_ + (at_s & (ring - 1)));
      auto* ref = reinterpret_cast<SpillRef*>(hs + 1);
      std::memset(ref, 0, sizeof *ref);
      spill_w_seg_ = new_spill_segment(kSpillHeader + round_up(sizeof(RecordHeader) + n, kAlign), ref->name);
      std::memcpy(l_->spill_w, ref->name, sizeof ref->name);
      l_->spill_w_off = kSpillHeader;
      l_->spill_open = 1;
      if (!spill_write(fp, data, n)) {
        throw RuntimeError(std::string(cls_) + "::put(): a new spill segment was ended before it was published");
      }
      hs->kind = kSpill;
      hs->size = sizeof(SpillRef);
      hs->fingerprint = 0;
      publish_spilled(at_s + static_cast<std::uint32_t>(kSpillNeed));
      return;
    }
    while (!has_room()) {
      if (deadline.expired()) throw queue::Full(std::string(cls_) + "::put(): the queue is full");
      const std::uint32_t seq = l_->not_full.load(std::memory_order_seq_cst);
      l_->producer_sleeping.store(1, std::memory_order_seq_cst);
      refresh();
      if (has_room()) {
        l_->producer_sleeping.store(0, std::memory_order_relaxed);
        break;
      }
      platform::futex_wait_shared(&l_->not_full, seq, deadline.when());
      l_->producer_sleeping.store(0, std::memory_order_relaxed);
      refresh();
    }
  }

  std::uint32_t at = tail;
  if (to_end < need) {
    auto* pad = reinterpret_cast<RecordHeader*>(ring_ + (at & (ring - 1)));
    pad->kind = kPad;
    pad->size = to_end;
    at += static_cast<std::uint32_t>(to_end);
  }
  auto* h = reinterpret_cast<RecordHeader*>(ring_ + (at & (ring - 1)));
  std::byte* body = reinterpret_cast<std::byte*>(h + 1);
  if (!big) {
    h->kind = kItem;
    if (n != 0) std::memcpy(body, data, n);
  } else {
    // The item goes in a segment of its own, named under this process (so the tests' leak checks
    // see it) and tracked under the queue's creator, so that it outlives this producer (which may
    // exit right after put) but not the program. The name is recorded in pending_overflow before
    // the segment exists, so a producer killed anywhere before publishing leaves it for the next
    // one to remove.
    auto* ref = reinterpret_cast<OverflowRef*>(body);
    std::memset(ref, 0, sizeof *ref);
    ref->size = n;
    std::shared_ptr<ShmSegment> seg;
    for (int attempt = 0; !seg; ++attempt) {
      unsigned char rnd[4] = {};
      platform::random_fill(rnd, sizeof rnd);
      std::snprintf(ref->name, sizeof ref->name, "trident_%u_%02x%02x%02x%02x", current_pid(), rnd[0], rnd[1], rnd[2],
                    rnd[3]);
      std::memcpy(l_->pending_overflow, ref->name, sizeof ref->name);
      l_->pending_items = count;
      try {
        seg = ShmSegment::create(ref->name, n == 0 ? 1 : n, ShmSegment::Lifetime::kUntracked, "",
                                 std::string(cls_) + "::put()");
      } catch (const FileExistsError&) {
        if (attempt == 100) throw;
      } catch (...) {
        l_->pending_overflow[0] = '\0';
        throw;
      }
    }
    try {
      std::memcpy(seg->data(), data, n);
      seg->track_as(static_cast<int>(l_->creator_pid), std::string(cls_) + "::put()");
    } catch (...) {
      platform::shm_remove(l_->pending_overflow);
      l_->pending_overflow[0] = '\0';
      throw;
    }
    h->kind = kOverflow;
  }
  h->size = payload;
  h->fingerprint = fp;
  if (count_task) l_->unfinished.fetch_add(1, std::memory_order_seq_cst);
  // The publication: one store makes the pad (if any) and the whole record visible together, and
  // moves the tail with the count (a producer killed before it has written nothing anyone sees).
  l_->published.store(pack(count + 1, at + static_cast<std::uint32_t>(need)), std::memory_order_seq_cst);
  wake_consumer();
}

QueueCore::Claim QueueCore::begin_get(std::uint64_t fp, bool block, const Timeout& timeout,
                                      const std::type_info& type) {
  check_open("get");
  const Deadline deadline = make_deadline(block, timeout, cls_, "get");
  if (!lock_take(&l_->get_lock, block, deadline)) {
    throw queue::Empty(std::string(cls_) + "::get(): the queue is empty");
  }
  LockGuard guard{&l_->get_lock};
  const std::size_t ring = l_->ring_size;
  const std::uint64_t cons = l_->consumed.load(std::memory_order_relaxed);
  const std::uint32_t done = items_of(cons);
  auto available = [&] { return items_of(l_->cached_published) != done; };
  if (!available()) {
    l_->cached_published = l_->published.load(std::memory_order_acquire);
    for (int spin = 0; spin < kSpins && block && !available(); ++spin) {
      trident::detail::cpu_relax();
      l_->cached_published = l_->published.load(std::memory_order_acquire);
    }
    while (!available()) {
      if (deadline.expired()) throw queue::Empty(std::string(cls_) + "::get(): the queue is empty");
      const std::uint32_t seq = l_->not_empty.load(std::memory_order_seq_cst);
      l_->consumer_sleeping.store(1, std::memory_order_seq_cst);
      l_->cached_published = l_->published.load(std::memory_order_seq_cst);
      if (available()) {
        l_->consumer_sleeping.store(0, std::memory_order_relaxed);
        break;
      }
      platform::futex_wait_shared(&l_->not_empty, seq, deadline.when());
      l_->consumer_sleeping.store(0, std::memory_order_relaxed);
      l_->cached_published = l_->published.load(std::memory_order_acquire);
    }
  }

  std::uint64_t cons_now = cons;
  std::uint32_t at = 0;
  const RecordHeader* h = nullptr;
  for (;;) {
    if (l_->spill_reading != 0) {
      auto seg = spill_segment(spill_r_seg_, l_->spill_r);
      auto* sh = reinterpret_cast<SpillHeader*>(seg->data());
      const std::uint64_t st = sh->state.load(std::memory_order_acquire);
      const std::uint64_t off = l_->spill_r_off;
      if (l_->spill_r_idx < pos_of(st)) {
        const auto* rh = reinterpret_cast<const RecordHeader*>(seg->data() + off);
        if (rh->fingerprint != fp) {
          throw TypeError(std::string(cls_) + "::get(): the next item was put as another type than " +
                          demangled_name(type) + " (it stays in the queue)");
        }
        Claim c;
        c.data = reinterpret_cast<const std::byte*>(rh + 1);
        c.size = rh->size;
        c.next = pack(done + 1, pos_of(cons_now));
        c.spill_next = off + round_up(sizeof(RecordHeader) + rh->size, kAlign);
        c.keep = std::move(seg);
        guard.s = nullptr;
        return c;
      }
      // Every record here was removed and an item is available: the chain goes on, or has ended
      // (the producer said which before publishing the item).
      if (items_of(st) == kChainOpen) {
        throw RuntimeError(std::string(cls_) + "::get(): the spill chain ends before the published items");
      }
      cons_now = leave_spill_segment(seg, items_of(st) == kChainNext, cons_now);
      continue;
    }
    at = pos_of(cons_now);
    h = reinterpret_cast<const RecordHeader*>(ring_ + (at & (ring - 1)));
    if (h->kind == kPad) {
      at += static_cast<std::uint32_t>(h->size);
      h = reinterpret_cast<const RecordHeader*>(ring_ + (at & (ring - 1)));
    }
    if (h->kind != kSpill) break;
    SpillRef ref;
    std::memcpy(&ref, h + 1, sizeof ref);
    ref.name[kNameMax] = '\0';
    std::memcpy(l_->spill_r, ref.name, sizeof ref.name);
    l_->spill_r_off = kSpillHeader;
    l_->spill_r_idx = 0;
    l_->spill_resume = at + static_cast<std::uint32_t>(kSpillNeed);
    l_->spill_reading = 1;
  }
  if (h->fingerprint != fp) {
    throw TypeError(std::string(cls_) + "::get(): the next item was put as another type than " + demangled_name(type) +
                    " (it stays in the queue)");
  }
  Claim c;
  c.next = pack(done + 1, at + static_cast<std::uint32_t>(round_up(sizeof(RecordHeader) + h->size, kAlign)));
  const auto* body = reinterpret_cast<const std::byte*>(h + 1);
  if (h->kind == kItem) {
    c.data = body;
    c.size = h->size;
  } else {
    OverflowRef ref;
    std::memcpy(&ref, body, sizeof ref);
    ref.name[kNameMax] = '\0';
    try {
      c.overflow = ShmSegment::attach(ref.name, std::string(cls_) + "::get()");
    } catch (const FileNotFoundError&) {
      // Its segment went with the queue's creator: the item is lost, and said so once.
      c.data = nullptr;
      finish_get(c);
      guard.s = nullptr;
      throw;
    }
    c.data = c.overflow->data();
    c.size = std::min<std::size_t>(ref.size, c.overflow->size());
  }
  guard.s = nullptr;  // held until finish_get/abandon_get
  return c;
}

void QueueCore::finish_get(Claim& c) noexcept {
  if (c.keep) {
    // The last record of the segment removed: end or leave it now, so that it is removed at once.
    l_->spill_r_off = c.spill_next;
    const std::uint32_t idx = ++l_->spill_r_idx;
    auto* sh = reinterpret_cast<SpillHeader*>(c.keep->data());
    std::uint64_t st = sh->state.load(std::memory_order_acquire);
    if (st == pack(kChainOpen, idx)) {
      sh->state.compare_exchange_strong(st, pack(kChainClosed, idx), std::memory_order_acq_rel);
      st = sh->state.load(std::memory_order_acquire);
    }
    if (pos_of(st) == idx && items_of(st) != kChainOpen) {
      c.next = leave_spill_segment(c.keep, items_of(st) == kChainNext, c.next);
    }
    c.keep.reset();
  }
  l_->consumed.store(c.next, std::memory_order_seq_cst);
  wake_producer();
  lock_give(&l_->get_lock);
  if (c.overflow) {
    try {
      c.overflow->unlink("Queue::get()");
    } catch (...) {
      // Already removed (its creator's exit): nothing is left to free.
    }
    c.overflow.reset();
  }
}

void QueueCore::abandon_get(Claim& c) noexcept {
  c.overflow.reset();
  c.keep.reset();
  lock_give(&l_->get_lock);
}

// A new segment for the spill chain (or a big item), named `trident_<pid>_<hex>` into `name` and
// tracked under the queue's creator: it outlives this producer but not the program.
std::shared_ptr<ShmSegment> QueueCore::new_spill_segment(std::size_t min_size, char* name) {
  const std::size_t size = std::max<std::size_t>(min_size, std::size_t{l_->ring_size});
  for (int attempt = 0;; ++attempt) {
    unsigned char rnd[4] = {};
    platform::random_fill(rnd, sizeof rnd);
    std::snprintf(name, kNameMax + 1, "trident_%u_%02x%02x%02x%02x", current_pid(), rnd[0], rnd[1], rnd[2], rnd[3]);
    try {
      auto seg = ShmSegment::create(name, size, ShmSegment::Lifetime::kUntracked, "", std::string(cls_) + "::put()");
      try {
        seg->track_as(static_cast<int>(l_->creator_pid), std::string(cls_) + "::put()");
      } catch (...) {
        seg->unlink(std::string(cls_) + "::put()");
        throw;
      }
      return seg;
    } catch (const FileExistsError&) {
      if (attempt == 100) throw;
    }
  }
}

// Leaves the drained spill segment `seg` (under the get lock) for the chain's next segment, or for
// the ring past the kSpill record; removes it. Returns the consumers' progress word to store.
std::uint64_t QueueCore::leave_spill_segment(const std::shared_ptr<ShmSegment>& seg, bool to_next,
                                             std::uint64_t progress) noexcept {
  auto* sh = reinterpret_cast<SpillHeader*>(seg->data());
  if (to_next) {
    std::memcpy(l_->spill_r, sh->next, sizeof l_->spill_r);
    l_->spill_r[kNameMax] = '\0';
    l_->spill_r_off = kSpillHeader;
    l_->spill_r_idx = 0;
  } else {
    l_->spill_reading = 0;
    progress = pack(items_of(progress), static_cast<std::uint32_t>(l_->spill_resume));
    l_->consumed.store(progress, std::memory_order_seq_cst);
    wake_producer();
  }
  try {
    seg->unlink(std::string(cls_) + "::get()");
  } catch (...) {
    // Already removed (its creator's exit): nothing is left to free.
  }
  spill_r_seg_.reset();
  return progress;
}

// This process's mapping of spill segment `name`, reusing `cache` when it is that segment.
std::shared_ptr<ShmSegment> QueueCore::spill_segment(std::shared_ptr<ShmSegment>& cache, const char* name) {
  if (!cache || cache->name() != name) cache = ShmSegment::attach(name, std::string(cls_) + "::spill");
  return cache;
}

// The segment the open chain is written to, or null if it is gone: a consumer that read the whole
// chain ended it and removed it before this process (which had not mapped it) got here.
std::shared_ptr<ShmSegment> QueueCore::open_spill_w() {
  try {
    return spill_segment(spill_w_seg_, l_->spill_w);
  } catch (const FileNotFoundError&) {
    return nullptr;
  }
}

// Appends one record to the open chain (in a new segment when it does not fit) and commits it;
// the caller publishes. False if the consumer ended the chain first (nothing was added).
bool QueueCore::spill_write(std::uint64_t fp, const char* data, std::size_t n) {
  const std::size_t need = round_up(sizeof(RecordHeader) + n, kAlign);
  auto write = [&](ShmSegment& seg, std::size_t off) {
    auto* h = reinterpret_cast<RecordHeader*>(seg.data() + off);
    if (n != 0) std::memcpy(h + 1, data, n);
    h->kind = kItem;
    h->size = n;
    h->fingerprint = fp;
  };
  auto seg = open_spill_w();
  if (!seg) return false;
  auto* sh = reinterpret_cast<SpillHeader*>(seg->data());
  std::uint64_t st = sh->state.load(std::memory_order_acquire);
  if (items_of(st) != kChainOpen) return false;
  if (l_->spill_w_off + need <= seg->size()) {
    write(*seg, l_->spill_w_off);
    if (!sh->state.compare_exchange_strong(st, pack(kChainOpen, pos_of(st) + 1), std::memory_order_acq_rel)) {
      return false;
    }
    l_->spill_w_off += need;
    return true;
  }
  char name[kNameMax + 1] = {};
  auto next = new_spill_segment(kSpillHeader + need, name);
  write(*next, kSpillHeader);
  reinterpret_cast<SpillHeader*>(next->data())->state.store(pack(kChainOpen, 1), std::memory_order_relaxed);
  std::memcpy(sh->next, name, sizeof name);
  if (!sh->state.compare_exchange_strong(st, pack(kChainNext, pos_of(st)), std::memory_order_acq_rel)) {
    try {
      next->unlink(std::string(cls_) + "::put()");
    } catch (...) {
    }
    return false;
  }
  std::memcpy(l_->spill_w, name, sizeof name);
  l_->spill_w_off = kSpillHeader + need;
  spill_w_seg_ = std::move(next);
  return true;
}

void QueueCore::task_done() {
  std::uint32_t v = l_->unfinished.load(std::memory_order_relaxed);
  do {
    if (v == 0) throw ValueError(std::string(cls_) + "::task_done(): called too many times");
  } while (!l_->unfinished.compare_exchange_weak(v, v - 1, std::memory_order_seq_cst, std::memory_order_relaxed));
  if (v == 1 && l_->joiners.load(std::memory_order_seq_cst) != 0) platform::futex_wake_shared(&l_->unfinished, INT_MAX);
}

bool QueueCore::join(const Timeout& timeout) {
  const Deadline deadline = Deadline::after(timeout, std::string(cls_) + "::join()");
  for (;;) {
    const std::uint32_t v = l_->unfinished.load(std::memory_order_seq_cst);
    if (v == 0) return true;
    if (deadline.expired()) return false;
    l_->joiners.fetch_add(1, std::memory_order_seq_cst);
    platform::futex_wait_shared(&l_->unfinished, v, deadline.when());
    l_->joiners.fetch_sub(1, std::memory_order_seq_cst);
  }
}

}  // namespace trident::multiprocessing::detail
