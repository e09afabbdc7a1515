// Greenlet stacks: a per-thread pool over mmap, guard pages, and the overflow report.
//
// A fresh guarded stack costs two system calls (mmap + mprotect, several microseconds); a pooled
// one a few nanoseconds, so finished greenlets give their stacks back to a small per-thread pool.
// Each guarded stack is two kernel mappings (the guard page splits it), and vm.max_map_count
// (65 530 by default) caps a process near 32 000 of them: past that, mprotect fails and trident
// falls back to unguarded slab stacks with a one-time warning (docs/greenlet.md).
#include <signal.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <mutex>
#include <new>
#include <vector>

#include "greenlet/internal.hpp"
#include "greenlet/sanitizer.hpp"

namespace trident::greenlet::detail {
namespace {

constexpr std::size_t kPoolPerSize = 64;    // pooled stacks kept per size and kind, per thread
constexpr std::size_t kStacksPerSlab = 64;  // unguarded stacks carved from one mapping

struct Bucket {
  std::size_t size;
  bool guarded;
  std::vector<void*> free;  // stack tops
};

struct Pool {
  std::vector<Bucket> buckets;
  Bucket& bucket(std::size_t size, bool guarded) {
    for (auto& b : buckets) {
      if (b.size == size && b.guarded == guarded) return b;
    }
    buckets.push_back(Bucket{size, guarded, {}});
    return buckets.back();
  }
};

thread_local Pool* tls_pool = nullptr;
thread_local bool tls_altstack_checked = false;
thread_local void* tls_altstack = nullptr;  // the alternate signal stack trident gave this thread
constexpr std::size_t kAltStackSize = 64 * 1024;

Pool& pool() {
  if (!tls_pool) tls_pool = new Pool;
  return *tls_pool;
}

// Unguarded stacks are never unmapped (a slab is shared by many stacks); a thread that exits
// hands its free ones here for other threads.
std::mutex g_slab_mutex;
std::vector<Bucket> g_slab_free;  // guarded by g_slab_mutex

std::atomic<bool> g_map_limit_warned{false};

void* map_guarded(std::size_t size) {
  std::size_t page = page_size();
  void* base = ::mmap(nullptr, size + page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  if (base == MAP_FAILED) return nullptr;
  if (::mprotect(base, page, PROT_NONE) != 0) {
    int saved = errno;  // the caller tells "out of mappings" (ENOMEM) from other failures
    ::munmap(base, size + page);
    errno = saved;
    return nullptr;
  }
  return static_cast<char*>(base) + page + size;
}

void* take_unguarded(std::size_t size) {
  {
    std::lock_guard<std::mutex> lock(g_slab_mutex);
    for (auto& b : g_slab_free) {
      if (b.size == size && !b.free.empty()) {
        void* top = b.free.back();
        b.free.pop_back();
        return top;
      }
    }
  }
  void* slab = ::mmap(nullptr, size * kStacksPerSlab, PROT_READ | PROT_WRITE,
                      MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  if (slab == MAP_FAILED) throw std::bad_alloc();
  Bucket& b = pool().bucket(size, false);
  for (std::size_t i = 1; i < kStacksPerSlab; ++i) b.free.push_back(static_cast<char*>(slab) + (i + 1) * size);
  return static_cast<char*>(slab) + size;
}

// The SIGSEGV handler chained before ours (the default action, or a sanitizer's).
struct sigaction g_previous_segv;
std::once_flag g_handler_once;

void write_str(const char* s) noexcept {
  std::size_t n = std::strlen(s);
  while (n > 0) {
    ssize_t w = ::write(STDERR_FILENO, s, n);
    if (w <= 0) return;
    s += w;
    n -= static_cast<std::size_t>(w);
  }
}

void write_num(std::size_t v) noexcept {
  char buf[32];
  char* p = buf + sizeof buf;
  *--p = '\0';
  do {
    *--p = static_cast<char>('0' + v % 10);
    v /= 10;
  } while (v);
  write_str(p);
}

void on_segv(int sig, siginfo_t* info, void* uctx) {
  std::size_t size = 0;
  if (info && is_greenlet_overflow(info->si_addr, size)) {
    write_str("trident.greenlet: greenlet stack overflow: the running greenlet used its whole stack of ");
    write_num(size);
    write_str(
        " bytes (deep recursion?) and hit the guard page below it; give it a larger stack with "
        "greenlet({.stack_size = ...}, run)\n");
    ::signal(SIGSEGV, SIG_DFL);  // the faulting instruction runs again and the process dies of SIGSEGV
    return;
  }
  if (g_previous_segv.sa_flags & SA_SIGINFO) {
    if (g_previous_segv.sa_sigaction) {
      g_previous_segv.sa_sigaction(sig, info, uctx);
      return;
    }
  } else if (g_previous_segv.sa_handler != SIG_DFL && g_previous_segv.sa_handler != SIG_IGN) {
    g_previous_segv.sa_handler(sig);
    return;
  }
  ::signal(SIGSEGV, SIG_DFL);
}

}  // namespace

std::size_t page_size() noexcept {
  static const std::size_t page = static_cast<std::size_t>(::sysconf(_SC_PAGESIZE));
  return page;
}

std::size_t round_stack_size(std::size_t size) noexcept {
  if (size == 0) size = kDefaultStackSize;
  std::size_t page = page_size();
  std::size_t minimum = 4 * page;
  if (size < minimum) size = minimum;
  return (size + page - 1) / page * page;
}

Stack allocate_stack(std::size_t size, bool guarded) {
  Bucket& b = pool().bucket(size, guarded);
  void* top = nullptr;
  if (!b.free.empty()) {
    top = b.free.back();
    b.free.pop_back();
  } else if (guarded) {
    prepare_overflow_reporting();
    top = map_guarded(size);
    if (!top) {
      if (errno != ENOMEM) throw std::bad_alloc();
      // Out of mappings (vm.max_map_count): go on with unguarded stacks rather than fail.
      if (!g_map_limit_warned.exchange(true)) {
        std::fprintf(stderr,
                     "trident.greenlet: cannot map another guarded greenlet stack (vm.max_map_count reached?); "
                     "further stacks come unguarded from shared slabs\n");
      }
      guarded = false;
      Bucket& ub = pool().bucket(size, false);
      if (!ub.free.empty()) {
        top = ub.free.back();
        ub.free.pop_back();
      } else {
        top = take_unguarded(size);
      }
    }
  } else {
    top = take_unguarded(size);
  }
  Stack s{top, size, guarded};
  // A recycled stack may keep ASan's poison from frames that never returned (switched away).
  sanitizer::unpoison(s.bottom(), s.size);
  return s;
}

void release_stack(const Stack& s) noexcept {
  Pool* p = tls_pool;
  if (p) {
    Bucket& b = p->bucket(s.size, s.guarded);
    // Slab stacks are never unmapped; past the pool's size their pages go back to the kernel.
    if (!s.guarded && b.free.size() >= kPoolPerSize) ::madvise(s.bottom(), s.size, MADV_DONTNEED);
    if (!s.guarded || b.free.size() < kPoolPerSize) {
      try {
        b.free.push_back(s.top);
        return;
      } catch (...) {
      }
    }
  }
  if (s.guarded) {
    std::size_t page = page_size();
    ::munmap(static_cast<char*>(s.bottom()) - page, s.size + page);
  }
}

void drain_stack_pool() noexcept {
  Pool* p = tls_pool;
  if (!p) return;
  tls_pool = nullptr;
  std::size_t page = page_size();
  std::lock_guard<std::mutex> lock(g_slab_mutex);
  for (auto& b : p->buckets) {
    if (b.guarded) {
      for (void* top : b.free) ::munmap(static_cast<char*>(top) - b.size - page, b.size + page);
      continue;
    }
    Bucket* shared = nullptr;
    for (auto& g : g_slab_free) {
      if (g.size == b.size) shared = &g;
    }
    try {
      if (!shared) {
        g_slab_free.push_back(Bucket{b.size, false, {}});
        shared = &g_slab_free.back();
      }
      shared->free.insert(shared->free.end(), b.free.begin(), b.free.end());
    } catch (...) {
    }
  }
  delete p;
}

void prepare_overflow_reporting() noexcept {
  std::call_once(g_handler_once, [] {
    struct sigaction sa {};
    sa.sa_sigaction = on_segv;
    sa.sa_flags = SA_SIGINFO | SA_ONSTACK;
    sigemptyset(&sa.sa_mask);
    ::sigaction(SIGSEGV, &sa, &g_previous_segv);
  });
  // The handler must run on another stack than the one that overflowed.
  if (tls_altstack_checked) return;
  tls_altstack_checked = true;
  stack_t current{};
  if (::sigaltstack(nullptr, &current) == 0 && !(current.ss_flags & SS_DISABLE)) return;
  std::size_t size = kAltStackSize;
  void* mem = ::mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (mem == MAP_FAILED) return;
  stack_t alt{};
  alt.ss_sp = mem;
  alt.ss_size = size;
  if (::sigaltstack(&alt, nullptr) == 0) {
    tls_altstack = mem;
  } else {
    ::munmap(mem, size);
  }
}

void release_overflow_reporting() noexcept {
  if (!tls_altstack) return;
  stack_t alt{};
  alt.ss_flags = SS_DISABLE;
  if (::sigaltstack(&alt, nullptr) == 0) ::munmap(tls_altstack, kAltStackSize);
  tls_altstack = nullptr;
  tls_altstack_checked = false;
}

}  // namespace trident::greenlet::detail
