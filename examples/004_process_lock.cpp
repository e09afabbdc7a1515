// Note 004 (seeds/004_1070f59b120f7860.txt), section "#进程锁" (process locks): "一加上进程锁, 程序就变成
// 串行的了. 终端打印的时候, 保证输出结果不会混乱." — with a process lock the program becomes serial,
// and what the processes print to the terminal is not mixed up. The note has no code; this is the
// usual Python program for it:
//
//     from multiprocessing import Process, Lock
//     import os, sys, time
//
//     def report(lock, i):
//         with lock:
//             for word in ('process', str(i) + ':', 'hello', 'from', 'pid', str(os.getpid())):
//                 sys.stdout.write(word + ' '); sys.stdout.flush()
//                 time.sleep(0.002)
//             print('- one whole line', flush=True)
//
//     if __name__ == '__main__':
//         lock = Lock()
//         ps = [Process(target=report, args=(lock, i)) for i in range(5)]
//         for p in ps: p.start()
//         for p in ps: p.join()
//
// Each process writes its line word by word (a write each, with a pause between), so without the
// lock the words of different processes would interleave. The order of the lines is racy (the
// .expect accepts any), their wholeness is not. The Lock crosses to each child (forkserver, the
// default) as the same lock.
#include <chrono>
#include <cstdio>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "trident/multiprocessing.hpp"
#include "trident/os.hpp"

namespace mp = trident::multiprocessing;

void say(const std::string& word) {
  std::fputs(word.c_str(), stdout);
  std::fflush(stdout);
  std::this_thread::sleep_for(std::chrono::milliseconds(2));
}

void report(mp::Lock lock, int i) {
  std::lock_guard g(lock);  // Python's `with lock:`
  for (const std::string& word :
       {std::string("process "), std::to_string(i) + ": ", std::string("hello "), std::string("from "),
        std::string("pid "), std::to_string(trident::os::getpid()) + " "}) {
    say(word);
  }
  std::printf("- one whole line\n");
  std::fflush(stdout);
}

int main(int argc, char** argv) {
  mp::main(argc, argv);
  mp::Lock lock;
  std::vector<mp::Process> ps;
  for (int i = 0; i < 5; ++i) ps.emplace_back(report, lock, i);
  for (auto& p : ps) p.start();
  for (auto& p : ps) p.join();
}
