// A user's program built against the installed trident (find_package and pkg-config).
#include <trident/futures.hpp>
#include <trident/greenlet.hpp>
#include <trident/pickle.hpp>  // pulls in cereal: the package must find it
#include <trident/queue.hpp>
#include <trident/threading.hpp>

#include <iostream>

int main() {
  trident::queue::Queue<int> q;
  trident::threading::Thread producer([&q] {
    for (int i = 1; i <= 10; ++i) q.put(i);
  });
  producer.start();
  int sum = 0;
  for (int i = 0; i < 10; ++i) sum += q.get();
  producer.join();
  sum = trident::pickle::loads<int>(trident::pickle::dumps(sum));
  trident::futures::ThreadPoolExecutor pool(2);
  auto f = pool.submit([](int x) { return x * 2; }, sum);
  // And through a greenlet: switching stacks needs Boost.Context, found through trident's package.
  trident::greenlet::greenlet echo([](int x) { return x; });
  int result = echo.switch_<int>(f.result());
  std::cout << "consumer: " << result << "\n";
  return result == 110 ? 0 : 1;
}
