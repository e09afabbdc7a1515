// Note 001 (seeds/001_ac1dc8bb15e913a9.txt), section "2. Thread 线程", 2. Lock: the bank balance.
// Two threads deposit and withdraw their amount 100000 times each, under a Lock, so the balance
// ends at 0. (`trident tour shared` also runs it without the lock and shows the lost updates.)
#include <cstdio>

#include "trident/threading.hpp"

namespace threading = trident::threading;

// Your bank balance (guarded by lock).
long balance = 0;
threading::Lock lock;

void change_it(long n) {
  // Deposit, then withdraw: the result should be 0.
  balance = balance + n;
  balance = balance - n;
}

void run_thread(long n) {
  for (int i = 0; i < 100000; ++i) {
    // Acquire the lock first.
    lock.acquire();
    try {
      // Change it safely.
      change_it(n);
    } catch (...) {
      lock.release();
      throw;
    }
    // Always release the lock when done (Python's finally:).
    lock.release();
  }
}

int main() {
  threading::Thread t1(run_thread, 5L);
  threading::Thread t2(run_thread, 8L);
  t1.start();
  t2.start();
  t1.join();
  t2.join();
  std::printf("%ld\n", balance);
}
