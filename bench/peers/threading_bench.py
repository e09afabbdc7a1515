"""CPython peer of bench/threading_bench.cpp: the same work with Python's threading module.

Run by bench/run_bench.py as /usr/bin/python3 threading_bench.py [--quick] [METRIC...]; see
_peer.py for the output protocol.
"""

import os
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import _peer  # noqa: E402


def noop():
    pass


def thread_start_join_us(n):
    """Creates, starts and joins n no-op threads; microseconds per thread."""
    thread = threading.Thread
    t0 = time.perf_counter()
    for _ in range(n):
        t = thread(target=noop)
        t.start()
        t.join()
    return (time.perf_counter() - t0) / n * 1e6


def lock_uncontended_ns(n):
    """acquire() + release() of a Lock no other thread touches; nanoseconds per pair."""
    lock = threading.Lock()
    acquire, release = lock.acquire, lock.release
    t0 = time.perf_counter()
    for _ in range(n):
        acquire()
        release()
    return (time.perf_counter() - t0) / n * 1e9


def condition_pingpong_us(n):
    """Two threads take turns on one Condition; microseconds per round trip (two hand-overs).

    The partner thread is started and warmed up before the clock starts.
    """
    cond = threading.Condition()
    state = {"turn": 0, "stop": False}  # turn 1: the partner's move; 0: the main thread's

    def partner():
        with cond:
            while True:
                while state["turn"] != 1:
                    cond.wait()
                if state["stop"]:
                    return
                state["turn"] = 0
                cond.notify()

    def rounds(k):
        with cond:
            for _ in range(k):
                state["turn"] = 1
                cond.notify()
                while state["turn"] != 0:
                    cond.wait()

    t = threading.Thread(target=partner)
    t.start()
    rounds(max(1, n // 20))
    t0 = time.perf_counter()
    rounds(n)
    elapsed = time.perf_counter() - t0
    with cond:
        state["stop"] = True
        state["turn"] = 1
        cond.notify()
    t.join()
    return elapsed / n * 1e6


if __name__ == "__main__":
    sys.exit(_peer.main({
        "thread_start_join_us": (thread_start_join_us, 3000, 1000),
        "lock_uncontended_ns": (lock_uncontended_ns, 1_000_000, 300_000),
        "condition_pingpong_us": (condition_pingpong_us, 5000, 1500),
    }))
