// multiprocessing.shared_memory: SharedMemory and ShareableList.
#include "trident/multiprocessing/shared_memory.hpp"

#include <cstring>
#include <string>

namespace trident::multiprocessing::shared_memory {

using trident::detail::ShmSegment;

namespace {
std::shared_ptr<ShmSegment> open_segment(const SharedMemoryOptions& o) {
  constexpr const char* kApi = "SharedMemory()";
  if (!o.create) {
    if (o.name.empty()) throw ValueError("SharedMemory(): 'name' can only be empty if create=true");
    return ShmSegment::attach(o.name, kApi);
  }
  if (o.size == 0) throw ValueError("SharedMemory(): 'size' must be a positive number different from zero");
  return ShmSegment::create(o.name, o.size, o.track ? ShmSegment::Lifetime::kTracked : ShmSegment::Lifetime::kUntracked,
                            "psm_", kApi);
}
}  // namespace

SharedMemory::SharedMemory(SharedMemoryOptions options) : segment_(open_segment(options)) {}

std::span<std::byte> SharedMemory::buf() const noexcept {
  return segment_->closed() ? std::span<std::byte>() : std::span<std::byte>(segment_->data(), segment_->size());
}

// ---- ShareableList ----

namespace {
constexpr std::uint64_t kMagic = 0x3154534c4d485354ULL;  // "TSHMLST1"
enum Type : std::uint32_t { kNone = 0, kInt = 1, kFloat = 2, kBool = 3, kStr = 4, kBytes = 5 };
struct Header {
  std::uint64_t magic;
  std::uint64_t count;
};
}  // namespace

struct ShareableList::Slot {
  std::uint32_t type;
  std::uint32_t length;    // bytes used by a str/bytes item
  std::uint64_t capacity;  // bytes reserved at `offset`
  std::uint64_t offset;    // from the start of the segment
};

namespace {
std::size_t round8(std::size_t n) { return n == 0 ? 8 : (n + 7) / 8 * 8; }

std::size_t payload_size(const ShareableList::Item& v) {
  if (const auto* s = std::get_if<std::string>(&v)) return s->size();
  if (const auto* b = std::get_if<Bytes>(&v)) return b->data.size();
  return 8;
}
}  // namespace

ShareableList::ShareableList(const std::vector<Item>& sequence, ShareableListOptions options)
    : shm_([&] {
        std::size_t size = sizeof(Header) + sequence.size() * sizeof(Slot);
        for (const auto& v : sequence) size += round8(payload_size(v));
        return SharedMemory({.name = options.name, .create = true, .size = size});
      }()),
      count_(sequence.size()) {
  std::byte* base = shm_.buf().data();
  auto* h = reinterpret_cast<Header*>(base);
  h->magic = kMagic;
  h->count = count_;
  std::uint64_t offset = sizeof(Header) + count_ * sizeof(Slot);
  auto* slots = reinterpret_cast<Slot*>(base + sizeof(Header));
  for (std::size_t i = 0; i < count_; ++i) {
    slots[i] = Slot{kNone, 0, round8(payload_size(sequence[i])), offset};
    offset += slots[i].capacity;
    set(static_cast<long>(i), sequence[i]);
  }
}

ShareableList::ShareableList(std::nullptr_t, ShareableListOptions options)
    : shm_({.name = options.name, .create = false}) {
  const auto buf = shm_.buf();
  const auto bad = [&] {
    throw ValueError("ShareableList(): segment '" + options.name + "' does not hold a ShareableList");
  };
  if (buf.size() < sizeof(Header)) bad();
  const auto* h = reinterpret_cast<const Header*>(buf.data());
  if (h->magic != kMagic || h->count > (buf.size() - sizeof(Header)) / sizeof(Slot)) bad();
  count_ = h->count;
  const auto* slots = reinterpret_cast<const Slot*>(buf.data() + sizeof(Header));
  for (std::size_t i = 0; i < count_; ++i) {
    const Slot& s = slots[i];
    if (s.type > kBytes || s.capacity < 8 || s.offset > buf.size() || s.capacity > buf.size() - s.offset ||
        s.length > s.capacity) {
      bad();
    }
  }
}

ShareableList::Slot* ShareableList::slot(long index, const char* api) const {
  const long n = static_cast<long>(count_);
  const long i = index < 0 ? index + n : index;
  if (i < 0 || i >= n) throw IndexError(std::string(api) + ": list index out of range");
  const auto buf = shm_.buf();
  if (buf.empty()) throw ValueError(std::string(api) + ": the list's segment is closed");
  return reinterpret_cast<Slot*>(buf.data() + sizeof(Header)) + i;
}

ShareableList::Item ShareableList::get(long index) const {
  const Slot* s = slot(index, "ShareableList[]");
  const std::byte* p = shm_.buf().data() + s->offset;
  switch (s->type) {
    case kInt: {
      std::int64_t v;
      std::memcpy(&v, p, sizeof v);
      return v;
    }
    case kFloat: {
      double v;
      std::memcpy(&v, p, sizeof v);
      return v;
    }
    case kBool:
      return p[0] != std::byte{0};
    case kStr:
      return std::string(reinterpret_cast<const char*>(p), s->length);
    case kBytes:
      return Bytes{std::string(reinterpret_cast<const char*>(p), s->length)};
    default:
      return nullptr;
  }
}

void ShareableList::set(long index, const Item& value) {
  Slot* s = slot(index, "ShareableList[]=");
  std::byte* p = shm_.buf().data() + s->offset;
  const std::size_t n = payload_size(value);
  if (n > s->capacity) {
    throw ValueError("ShareableList[]=: bytes/str item exceeds available storage (" + std::to_string(n) + " > " +
                     std::to_string(s->capacity) + " bytes)");
  }
  std::visit(
      [&](const auto& v) {
        using V = std::decay_t<decltype(v)>;
        if constexpr (std::is_same_v<V, std::nullptr_t>) {
          s->type = kNone;
        } else if constexpr (std::is_same_v<V, std::int64_t>) {
          std::memcpy(p, &v, sizeof v);
          s->type = kInt;
        } else if constexpr (std::is_same_v<V, double>) {
          std::memcpy(p, &v, sizeof v);
          s->type = kFloat;
        } else if constexpr (std::is_same_v<V, bool>) {
          p[0] = std::byte{v ? std::uint8_t{1} : std::uint8_t{0}};
          s->type = kBool;
        } else if constexpr (std::is_same_v<V, std::string>) {
          std::memcpy(p, v.data(), v.size());
          s->length = static_cast<std::uint32_t>(v.size());
          s->type = kStr;
        } else {
          std::memcpy(p, v.data.data(), v.data.size());
          s->length = static_cast<std::uint32_t>(v.data.size());
          s->type = kBytes;
        }
      },
      value);
}

bool ShareableList::items_equal(const Item& a, const Item& b) noexcept {
  const auto number = [](const Item& v, double& out) {
    if (const auto* i = std::get_if<std::int64_t>(&v)) {
      out = static_cast<double>(*i);
    } else if (const auto* d = std::get_if<double>(&v)) {
      out = *d;
    } else if (const auto* t = std::get_if<bool>(&v)) {
      out = *t ? 1.0 : 0.0;
    } else {
      return false;
    }
    return true;
  };
  if (std::holds_alternative<std::int64_t>(a) && std::holds_alternative<std::int64_t>(b)) return a == b;
  double x, y;
  if (number(a, x) && number(b, y)) return x == y;
  return a == b;
}

std::size_t ShareableList::count(const Item& value) const {
  std::size_t n = 0;
  for (std::size_t i = 0; i < count_; ++i) n += items_equal(get(static_cast<long>(i)), value) ? 1 : 0;
  return n;
}

std::size_t ShareableList::index(const Item& value) const {
  for (std::size_t i = 0; i < count_; ++i) {
    if (items_equal(get(static_cast<long>(i)), value)) return i;
  }
  throw ValueError("ShareableList::index(): value not in list");
}

}  // namespace trident::multiprocessing::shared_memory
