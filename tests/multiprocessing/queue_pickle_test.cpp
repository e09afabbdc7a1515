// multiprocessing.Queue carrying pickled objects: Python pickles whatever is put (dicts, tuples,
// instances of user classes) and a process gets an equal object back. Also pinned: trident's put
// serializes in the caller, so a pickling error is raised by put itself (CPython's feeder thread
// only prints it) and the queue is unchanged; a get of another type raises and leaves the item.
#include <map>
#include <stdexcept>
#include <string>
#include <tuple>
#include <vector>

#include "shm_test_support.hpp"
#include "support/helpers.hpp"
#include "trident/multiprocessing/queues.hpp"

namespace mp = trident::multiprocessing;
using shm_test::ShmTest;
using namespace std::chrono_literals;

namespace pickle_test {

struct Order {
  std::string customer;
  std::vector<int> items;
  double total = 0;
  template <class Archive>
  void serialize(Archive& ar) {
    ar(customer, items, total);
  }
  bool operator==(const Order&) const = default;
};

// A type whose pickling fails, like a Python object whose __reduce__ raises.
struct Unpicklable {
  int value = 0;
  template <class Archive>
  void save(Archive& ar) const {
    if (value < 0) throw std::runtime_error("Unpicklable: negative values cannot be pickled");
    ar(value);
  }
  template <class Archive>
  void load(Archive& ar) {
    ar(value);
  }
};

}  // namespace pickle_test

namespace {

using pickle_test::Order;
using pickle_test::Unpicklable;

// Python: a dict put in one process is got, equal, in another.
TEST_F(ShmTest, QueueCarriesAMapBetweenProcesses) {
  mp::Queue<std::map<std::string, std::vector<int>>> q;
  const int pid = fork_child([&] {
    for (int i = 0; i < 100; ++i) q.put({{"n", {i}}, {"squares", {i, i * i}}, {std::string(i, 'k'), {}}});
    return 0;
  });
  for (int i = 0; i < 100; ++i) {
    const auto m = q.get(10s);
    ASSERT_EQ(m.size(), 3u);
    EXPECT_TRUE(m.at(std::string(i, 'k')).empty());
    EXPECT_EQ(m.at("n"), std::vector<int>{i});
    EXPECT_EQ(m.at("squares"), (std::vector<int>{i, i * i}));
  }
  EXPECT_EQ(join_child(pid), 0);
}

// Python: an instance of a user class (here a struct with serialize) and a tuple cross processes
// both ways, including one too big for the ring.
TEST_F(ShmTest, QueueCarriesUserTypesAndTuples) {
  mp::Queue<Order> orders(mp::QueueOptions{.buffer_size = 4096});
  mp::Queue<std::tuple<int, std::string, double>> replies;
  const int pid = fork_child([&] {
    for (int i = 0; i < 50; ++i) {
      const Order o = orders.get(10s);
      int sum = 0;
      for (int x : o.items) sum += x;
      replies.put({i, o.customer, o.total + sum});
    }
    return 0;
  });
  for (int i = 0; i < 50; ++i) {
    Order o{.customer = "c" + std::to_string(i), .items = std::vector<int>(i == 7 ? 5000 : i, 1), .total = 0.5};
    orders.put(o);
  }
  for (int i = 0; i < 50; ++i) {
    const auto [n, customer, total] = replies.get(10s);
    EXPECT_EQ(n, i);
    EXPECT_EQ(customer, "c" + std::to_string(i));
    EXPECT_DOUBLE_EQ(total, 0.5 + (i == 7 ? 5000 : i));
  }
  EXPECT_EQ(join_child(pid), 0);
}

// trident (CPython loses this error in its feeder thread): put raises what pickling raised, and
// nothing was added — the items before and after come out in order.
TEST_F(ShmTest, QueuePutWhosePicklingThrowsLeavesTheQueueUnchanged) {
  mp::Queue<Unpicklable> q;
  q.put(Unpicklable{1});
  EXPECT_THROW(q.put(Unpicklable{-1}), std::runtime_error);
  EXPECT_THROW(q.put_nowait(Unpicklable{-2}), std::runtime_error);
  EXPECT_EQ(q.qsize(), 1);
  q.put(Unpicklable{2});
  EXPECT_EQ(q.get_nowait().value, 1);
  EXPECT_EQ(q.get_nowait().value, 2);
  EXPECT_TRUE(q.empty());
  EXPECT_THROW(q.get_nowait(), trident::queue::Empty);
}

// trident: a handle of another type gets TypeError naming its type, and the item stays for a
// handle of the right type (even when the two types pickle to the same bytes).
TEST_F(ShmTest, QueueGetOfAnotherPicklableTypeIsTypeErrorAndTheItemStays) {
  mp::Queue<std::vector<int>> q;
  auto as_map = mp::Queue<std::map<int, int>>::attach(q.segment_name());
  auto as_deque_like = mp::Queue<std::vector<long>>::attach(q.segment_name());
  q.put({1, 2, 3});
  const int pid = fork_child([&] {
    try {
      (void)as_map.get(10s);
      return 1;
    } catch (const trident::TypeError& e) {
      if (std::string(e.what()).find("std::map<int, int") == std::string::npos) return 2;
    }
    try {
      (void)as_deque_like.get_nowait();
      return 3;
    } catch (const trident::TypeError&) {
    }
    return 0;
  });
  EXPECT_EQ(join_child(pid), 0);
  EXPECT_EQ(q.qsize(), 1);
  EXPECT_EQ(q.get_nowait(), (std::vector<int>{1, 2, 3}));
}

}  // namespace
