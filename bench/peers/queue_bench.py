"""CPython peer of bench/queue_bench.cpp: the same work with Python's queue module.

Run by bench/run_bench.py as /usr/bin/python3 queue_bench.py [--quick] [METRIC...]; see _peer.py
for the output protocol.
"""

import os
import queue
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import _peer  # noqa: E402


def queue_pingpong_us(n):
    """Main puts on q1, a partner gets it and puts it on q2, main gets it: microseconds per round
    trip. The partner thread is started and warmed up before the clock starts."""
    q1, q2 = queue.Queue(), queue.Queue()

    def partner():
        get, put = q1.get, q2.put
        while True:
            item = get()
            if item is None:
                return
            put(item)

    def rounds(k):
        put, get = q1.put, q2.get
        for i in range(k):
            put(i)
            get()

    t = threading.Thread(target=partner)
    t.start()
    rounds(max(1, n // 20))
    t0 = time.perf_counter()
    rounds(n)
    elapsed = time.perf_counter() - t0
    q1.put(None)
    t.join()
    return elapsed / n * 1e6


def pingpong_cpu_us(n):
    """queue_pingpong_us's round trips, measured in the CPU time of the whole process (both
    threads) per round trip instead of the wall time."""
    q1, q2 = queue.Queue(), queue.Queue()

    def partner():
        get, put = q1.get, q2.put
        while True:
            item = get()
            if item is None:
                return
            put(item)

    def rounds(k):
        put, get = q1.put, q2.get
        for i in range(k):
            put(i)
            get()

    t = threading.Thread(target=partner)
    t.start()
    rounds(max(1, n // 20))
    t0 = time.process_time()
    rounds(n)
    cpu = time.process_time() - t0
    q1.put(None)
    t.join()
    return cpu / n * 1e6


def queue_throughput_ops(n):
    """The main thread puts n items into an unbounded Queue, a consumer thread gets them; items per
    second from the first put until the consumer has got the last (it then answers on an ack
    queue). The consumer is started before the clock starts."""
    q, ack = queue.Queue(), queue.Queue()

    def consumer():
        get = q.get
        count = 0
        while True:
            item = get()
            if item is None:
                ack.put(count)
                return
            count += 1

    t = threading.Thread(target=consumer)
    t.start()
    put = q.put
    t0 = time.perf_counter()
    for i in range(n):
        put(i)
    put(None)
    got = ack.get()
    elapsed = time.perf_counter() - t0
    t.join()
    assert got == n
    return n / elapsed


if __name__ == "__main__":
    sys.exit(_peer.main({
        "queue_pingpong_us": (queue_pingpong_us, 5000, 1500),
        "pingpong_cpu_us": (pingpong_cpu_us, 5000, 1500),
        "queue_throughput_ops": (queue_throughput_ops, 200_000, 50_000),
    }))
