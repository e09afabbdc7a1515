// trident::pickle: dumps/loads round trips (Python's test_pickle: every built-in container comes
// back equal) and the frame checks that Python's pickle lacks — a truncated, corrupt, oversized or
// other-type frame throws UnpicklingError, never crashes or allocates a size read from the data
// (run under ASan in CI).
#include "trident/pickle.hpp"

#include <gtest/gtest.h>

#include <array>
#include <chrono>
#include <cstring>
#include <deque>
#include <list>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <tuple>
#include <unordered_map>
#include <unordered_set>
#include <utility>
#include <variant>
#include <vector>

namespace pickle = trident::pickle;

namespace {

struct Point {
  int x = 0;
  double y = 0;
  std::string label;
  template <class Archive>
  void serialize(Archive& ar) {
    ar(x, y, label);
  }
  bool operator==(const Point&) const = default;
};

struct Other {
  int x = 0;
  double y = 0;
  std::string label;
  template <class Archive>
  void serialize(Archive& ar) {
    ar(x, y, label);
  }
};

// A user type with separate save/load (cereal's other way), validating on load as a class that
// keeps an invariant would.
class Even {
 public:
  Even() = default;
  explicit Even(int v) : v_(v) {}
  int value() const { return v_; }
  template <class Archive>
  void save(Archive& ar) const {
    ar(v_);
  }
  template <class Archive>
  void load(Archive& ar) {
    ar(v_);
  }

 private:
  int v_ = 0;
};

template <class T>
void expect_round_trip(const T& v) {
  EXPECT_EQ(pickle::loads<T>(pickle::dumps(v)), v);
}

template <class T>
std::string unpickling_error(std::string_view data) {
  try {
    (void)pickle::loads<T>(data);
  } catch (const pickle::UnpicklingError& e) {
    return e.what();
  }
  return "no error";
}

using IntMap = std::map<int, int>;
using IntOrDouble = std::variant<int, double>;
using Nested =
    std::map<std::string,
             std::vector<std::tuple<int, std::optional<std::string>, std::variant<int, double, std::string>>>>;

Nested sample_nested() {
  Nested n;
  n["a"].emplace_back(1, std::nullopt, 2.5);
  n["a"].emplace_back(2, "two", std::string("variant string"));
  n["b"].emplace_back(-7, "", 42);
  n[""];
  return n;
}

}  // namespace

// pickle.loads(pickle.dumps(x)) == x for numbers, strings and bytes with NULs.
TEST(Pickle, ScalarsAndStringsRoundTrip) {
  expect_round_trip(0);
  expect_round_trip(-123456789LL);
  expect_round_trip(3.25);
  expect_round_trip(true);
  expect_round_trip(false);
  expect_round_trip('x');
  expect_round_trip(std::string());
  expect_round_trip(std::string("hello, world"));
  expect_round_trip(std::string("nul\0inside", 10));
  expect_round_trip(std::string(100000, 'z'));
}

// Every standard container comes back equal (test_pickle's container round trips).
TEST(Pickle, ContainersRoundTrip) {
  expect_round_trip(std::vector<int>{1, 2, 3});
  expect_round_trip(std::vector<bool>{true, false, true});
  expect_round_trip(std::vector<std::string>{"a", "", "ccc"});
  expect_round_trip(std::deque<double>{1.5, -2});
  expect_round_trip(std::list<std::string>{"x", "y"});
  expect_round_trip(std::array<int, 3>{7, 8, 9});
  expect_round_trip(std::map<int, std::string>{{1, "one"}, {2, "two"}});
  // cereal reinserts a multimap's equal keys with a hint, which may reverse their relative order
  // (documented in pickle.hpp): the same elements come back.
  auto mm = pickle::loads<std::multimap<int, int>>(pickle::dumps(std::multimap<int, int>{{1, 1}, {1, 2}, {0, 5}}));
  using Pairs = std::multiset<std::pair<int, int>>;
  EXPECT_EQ(Pairs(mm.begin(), mm.end()), (Pairs{{0, 5}, {1, 1}, {1, 2}}));
  expect_round_trip(std::unordered_map<std::string, int>{{"k", 1}, {"l", 2}});
  expect_round_trip(std::set<int>{3, 1, 2});
  expect_round_trip(std::multiset<int>{1, 1, 2});
  expect_round_trip(std::unordered_set<int>{5, 6});
  expect_round_trip(std::vector<std::vector<int>>{{}, {1}, {2, 3}});
}

// Tuples, pairs, optionals and variants (Python's tuples and None and unions of types).
TEST(Pickle, TuplesOptionalsVariantsRoundTrip) {
  expect_round_trip(std::pair<int, std::string>{1, "p"});
  expect_round_trip(std::tuple<int, double, std::string>{1, 2.5, "t"});
  expect_round_trip(std::tuple<>{});
  expect_round_trip(std::optional<int>{});
  expect_round_trip(std::optional<int>{5});
  expect_round_trip(std::variant<int, std::string>{std::string("s")});
  expect_round_trip(std::variant<std::monostate, int>{});
  expect_round_trip(std::chrono::milliseconds(1500));
  expect_round_trip(sample_nested());
}

// User types with serialize, or save/load, cross as Python pickles a class's __dict__.
TEST(Pickle, UserTypesRoundTrip) {
  expect_round_trip(Point{1, 2.5, "p"});
  expect_round_trip(std::vector<Point>{{1, 1, "a"}, {2, 2, "b"}});
  EXPECT_EQ(pickle::loads<Even>(pickle::dumps(Even(4))).value(), 4);
  auto p = pickle::loads<std::unique_ptr<Point>>(pickle::dumps(std::make_unique<Point>(Point{3, 0, "u"})));
  ASSERT_NE(p, nullptr);
  EXPECT_EQ(*p, (Point{3, 0, "u"}));
}

// Two shared_ptr to one object stay one object, as pickle's memo keeps identity.
TEST(Pickle, SharedPointersKeepSharing) {
  auto s = std::make_shared<std::string>("shared");
  auto v = pickle::loads<std::vector<std::shared_ptr<std::string>>>(pickle::dumps(std::vector{s, s}));
  ASSERT_EQ(v.size(), 2u);
  EXPECT_EQ(*v[0], "shared");
  EXPECT_EQ(v[0], v[1]);
}

// The header: magic 0x8A 0x54, version 1, then the fingerprint of the type.
TEST(Pickle, FrameHeaderLayout) {
  pickle::bytes b = pickle::dumps(std::int32_t{0x01020304});
  ASSERT_EQ(b.size(), pickle::kHeaderSize + 4);
  EXPECT_EQ(static_cast<unsigned char>(b[0]), 0x8A);
  EXPECT_EQ(static_cast<unsigned char>(b[1]), 0x54);
  EXPECT_EQ(static_cast<unsigned char>(b[2]), 1);
  std::uint64_t fp = 0;
  std::memcpy(&fp, b.data() + 3, 8);
  EXPECT_EQ(fp, pickle::type_fingerprint<std::int32_t>());
  EXPECT_NE(pickle::type_fingerprint<int>(), pickle::type_fingerprint<long>());
  EXPECT_NE(pickle::type_fingerprint<std::vector<int>>(), pickle::type_fingerprint<std::deque<int>>());
  EXPECT_NE(pickle::type_fingerprint<Point>(), pickle::type_fingerprint<Other>());
}

// Loading as another type than was dumped is an error even when the bytes would fit (Point and
// Other have the same layout): Python's pickle would hand back an object of the stored type.
TEST(Pickle, OtherTypeIsUnpicklingError) {
  EXPECT_EQ(unpickling_error<long>(pickle::dumps(5)),
            "pickle.loads(): the data was pickled from another type than the requested long");
  EXPECT_NE(unpickling_error<Other>(pickle::dumps(Point{})).find("another type"), std::string::npos);
  EXPECT_NE(unpickling_error<std::string>(pickle::dumps(std::vector<char>{'a'})).find("another type"),
            std::string::npos);
}

TEST(Pickle, BadMagicVersionAndEmptyInput) {
  EXPECT_NE(unpickling_error<int>("").find("shorter than the 11-byte header"), std::string::npos);
  pickle::bytes b = pickle::dumps(1);
  b[0] = 'x';
  EXPECT_EQ(unpickling_error<int>(b), "pickle.loads(): not a trident pickle (bad magic)");
  b = pickle::dumps(1);
  b[2] = 9;
  EXPECT_EQ(unpickling_error<int>(b), "pickle.loads(): unsupported format version 9");
}

TEST(Pickle, TrailingBytesAreUnpicklingError) {
  pickle::bytes b = pickle::dumps(std::string("abc"));
  b += "zz";
  EXPECT_EQ(unpickling_error<std::string>(b), "pickle.loads(): 2 bytes left over after the value");
}

// A length field claiming more than the bytes left is refused before anything is allocated (an
// allocation of 2^60 elements would abort under ASan, or throw bad_alloc).
TEST(Pickle, OversizedLengthIsRefusedWithoutAllocating) {
  pickle::bytes b = pickle::dumps(std::vector<std::uint64_t>{1, 2});
  const std::uint64_t huge = std::uint64_t{1} << 60;
  std::memcpy(b.data() + pickle::kHeaderSize, &huge, 8);
  EXPECT_NE(unpickling_error<std::vector<std::uint64_t>>(b).find("corrupt length: 1152921504606846976 elements"),
            std::string::npos);
  pickle::bytes s = pickle::dumps(std::string("abc"));
  std::memcpy(s.data() + pickle::kHeaderSize, &huge, 8);
  EXPECT_NE(unpickling_error<std::string>(s).find("corrupt length"), std::string::npos);
  pickle::bytes m = pickle::dumps(std::map<int, int>{{1, 2}});
  std::memcpy(m.data() + pickle::kHeaderSize, &huge, 8);
  EXPECT_NE(unpickling_error<IntMap>(m).find("corrupt length"), std::string::npos);
}

// Values that cannot exist: a bool byte of 2, a variant index past the end, an optional flag of 7.
TEST(Pickle, ImpossibleValuesAreUnpicklingError) {
  pickle::bytes b = pickle::dumps(true);
  b[pickle::kHeaderSize] = 2;
  EXPECT_EQ(unpickling_error<bool>(b), "pickle.loads(): corrupt data: a bool holds 2");
  pickle::bytes v = pickle::dumps(std::variant<int, double>{1});
  std::int32_t index = 5;
  std::memcpy(v.data() + pickle::kHeaderSize, &index, 4);
  EXPECT_NE(unpickling_error<IntOrDouble>(v).find("corrupt data"), std::string::npos);
  index = -1;
  std::memcpy(v.data() + pickle::kHeaderSize, &index, 4);
  EXPECT_NE(unpickling_error<IntOrDouble>(v).find("corrupt data"), std::string::npos);
  pickle::bytes o = pickle::dumps(std::optional<int>{3});
  o[pickle::kHeaderSize] = 7;
  EXPECT_NE(unpickling_error<std::optional<int>>(o).find("a bool holds 7"), std::string::npos);
}

// Fuzz: every proper prefix of a frame is an UnpicklingError (never a value, never a crash).
TEST(Pickle, EveryTruncationIsUnpicklingError) {
  const pickle::bytes b = pickle::dumps(sample_nested());
  for (std::size_t n = 0; n < b.size(); ++n) {
    SCOPED_TRACE(n);
    EXPECT_THROW((void)pickle::loads<Nested>(std::string_view(b.data(), n)), pickle::UnpicklingError);
  }
  EXPECT_EQ(pickle::loads<Nested>(b), sample_nested());
}

// Fuzz: flipping any byte of the header is always caught; flipping a payload byte either loads
// (a byte inside a number or string is another valid value: the frame carries no checksum, see
// docs/multiprocessing.md) or throws UnpicklingError — never crashes (ASan/UBSan watch) and never
// throws anything else.
TEST(Pickle, ByteFlipsNeverCrash) {
  const pickle::bytes b = pickle::dumps(sample_nested());
  int errors = 0;
  for (std::size_t i = 0; i < b.size(); ++i) {
    for (unsigned char mask : {0x01, 0x80, 0xFF, 0x7F}) {
      pickle::bytes c = b;
      c[i] = static_cast<char>(static_cast<unsigned char>(c[i]) ^ mask);
      try {
        (void)pickle::loads<Nested>(c);
        EXPECT_GE(i, pickle::kHeaderSize) << "a corrupt header loaded";
      } catch (const pickle::UnpicklingError&) {
        ++errors;
      }
    }
  }
  EXPECT_GT(errors, static_cast<int>(pickle::kHeaderSize * 4) - 1);
}

// Fuzz: a deterministic stream of random frames of random length must never crash the loader.
TEST(Pickle, RandomBytesAfterAValidHeaderNeverCrash) {
  const pickle::bytes header = pickle::dumps(Nested{}).substr(0, pickle::kHeaderSize);
  std::uint64_t state = 0x9E3779B97F4A7C15ull;
  auto next = [&] {
    state ^= state << 13;
    state ^= state >> 7;
    state ^= state << 17;
    return state;
  };
  for (int round = 0; round < 2000; ++round) {
    pickle::bytes c = header;
    const std::size_t n = next() % 64;
    for (std::size_t i = 0; i < n; ++i) c.push_back(static_cast<char>(next() % 4 == 0 ? next() : next() % 3));
    try {
      (void)pickle::loads<Nested>(c);
    } catch (const pickle::UnpicklingError&) {
    }
  }
}
