// Note 001 (seeds/001_ac1dc8bb15e913a9.txt), section "1. Process 进程", point "进程间通信"
// (communication between processes): the parent creates a Queue and passes it to a writer and a
// reader process; the writer puts 'A', 'B', 'C' with a random pause after each, the reader loops on
// get forever, so the parent joins the writer and ends the reader with terminate(). The Python:
//
//     def write(q):
//         print('Process to write: %s' % os.getpid())
//         for value in ['A', 'B', 'C']:
//             print('Put %s to queue...' % value)
//             q.put(value)
//             time.sleep(random.random())
//
//     def read(q):
//         print('Process to read: %s' % os.getpid())
//         while True:
//             value = q.get(True)
//             print('Get %s from queue.' % value)
//
//     if __name__=='__main__':
//         q = Queue()
//         pw = Process(target=write, args=(q,))
//         pr = Process(target=read, args=(q,))
//         pw.start(); pr.start()
//         pw.join()
//         pr.terminate()
//
// The Queue crosses to both children (forkserver, the default start method) as the name of its
// shared-memory segment; write and read are plain functions (named write_proc and read_proc here,
// as POSIX owns write and read), so they cross too. Racy, as the note's is: the reader may be
// terminated before it has printed "Get C" (the writer's pause after its last put makes that rare,
// not impossible), and the reader's lines interleave with the writer's in any order. So the
// .expect asks for the writer's lines in order and the reader's exit by SIGTERM only. The pauses
// are shorter than the note's (up to 0.2 s) to keep the test quick.
#include <chrono>
#include <cstdio>
#include <random>
#include <string>
#include <thread>

#include "trident/multiprocessing.hpp"
#include "trident/os.hpp"

namespace mp = trident::multiprocessing;
namespace os = trident::os;

// Code run by the writing process.
void write_proc(mp::Queue<std::string> q) {
  std::printf("Process to write: %d\n", os::getpid());
  std::fflush(stdout);
  std::mt19937 rng(std::random_device{}());
  std::uniform_int_distribution<int> pause_ms(0, 200);
  for (const char* value : {"A", "B", "C"}) {
    std::printf("Put %s to queue...\n", value);
    std::fflush(stdout);
    q.put(value);
    std::this_thread::sleep_for(std::chrono::milliseconds(pause_ms(rng)));
  }
}

// Code run by the reading process: an endless loop, ended from outside.
void read_proc(mp::Queue<std::string> q) {
  std::printf("Process to read: %d\n", os::getpid());
  std::fflush(stdout);
  for (;;) {
    const std::string value = q.get(true);
    std::printf("Get %s from queue.\n", value.c_str());
    std::fflush(stdout);
  }
}

int main(int argc, char** argv) {
  mp::main(argc, argv);
  // The parent creates the Queue and passes it to each child:
  mp::Queue<std::string> q;
  mp::Process pw(write_proc, q);
  mp::Process pr(read_proc, q);
  pw.start();  // start the writer
  pr.start();  // start the reader
  pw.join();   // wait for the writer to finish
  // The reader loops forever and cannot be waited for; it can only be ended by force:
  pr.terminate();
  pr.join();
  std::printf("reader terminated: exitcode %d\n", pr.exitcode().value_or(0));
}
