"""CPython peer of bench/multiprocessing_shm_bench.cpp: the same work with multiprocessing's
shared-memory objects (multiprocessing.Value, multiprocessing.Lock).

Run by bench/run_bench.py as /usr/bin/python3 multiprocessing_shm_bench.py [--quick] [METRIC...];
see _peer.py for the output protocol.
"""

import multiprocessing
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import _peer  # noqa: E402


def mp_value_increment_ns(n):
    """`with v.get_lock(): v.value += 1` on a Value('i'); nanoseconds per increment."""
    v = multiprocessing.Value("i", 0)
    t0 = time.perf_counter()
    for _ in range(n):
        with v.get_lock():
            v.value += 1
    return (time.perf_counter() - t0) / n * 1e9


def mp_lock_uncontended_ns(n):
    """acquire() + release() of a multiprocessing.Lock no one else touches; nanoseconds per pair."""
    lock = multiprocessing.Lock()
    acquire, release = lock.acquire, lock.release
    t0 = time.perf_counter()
    for _ in range(n):
        acquire()
        release()
    return (time.perf_counter() - t0) / n * 1e9


if __name__ == "__main__":
    sys.exit(
        _peer.main(
            {
                "mp_value_increment_ns": (mp_value_increment_ns, 200_000, 50_000),
                "mp_lock_uncontended_ns": (mp_lock_uncontended_ns, 1_000_000, 200_000),
            }
        )
    )
