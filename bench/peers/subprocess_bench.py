#!/usr/bin/python3
"""CPython's side of bench/subprocess_bench.cpp (issue 4), through the shared driver _peer.py.

Usage: /usr/bin/python3 bench/peers/subprocess_bench.py [--quick] [--list] [METRIC ...]
Prints {"metric": ..., "peer": "cpython", "value": median} per metric: ms per run() for the
*_ms metrics, MB/s (1e6 bytes per second) for communicate_mb_per_s.
"""
import mmap
import os
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import _peer  # noqa: E402


def run_true_ms(n):
    """Mean ms of n subprocess.run(["/bin/true"])."""
    t0 = time.perf_counter()
    for _ in range(n):
        subprocess.run(["/bin/true"])
    return (time.perf_counter() - t0) * 1e3 / n


_big_parent = None


def big_parent_run_true_ms(n):
    """run_true_ms from a parent that has touched 2 GiB and runs 8 idle threads, as the C++ side.

    The big state is built on the first call and kept until the process exits."""
    global _big_parent
    if _big_parent is None:
        size = 2 << 30
        mem = mmap.mmap(-1, size)
        for off in range(0, size, 4096):
            mem[off] = 1
        stop = threading.Event()
        threads = [threading.Thread(target=stop.wait, daemon=True) for _ in range(8)]
        for t in threads:
            t.start()
        _big_parent = (mem, stop, threads)
    return run_true_ms(n)


_DATA = None


def communicate_mb_per_s(n):
    """MB/s of n MiB through `cat` with Popen.communicate (the C++ side moves 256 MiB)."""
    global _DATA
    if _DATA is None or len(_DATA) != n << 20:
        _DATA = b"c" * (n << 20)
    t0 = time.perf_counter()
    with subprocess.Popen(["cat"], stdin=subprocess.PIPE, stdout=subprocess.PIPE) as p:
        out, _ = p.communicate(_DATA)
    elapsed = time.perf_counter() - t0
    assert len(out) == len(_DATA)
    return len(_DATA) / elapsed / 1e6


METRICS = {
    # name: (fn, size, quick size)
    "subprocess_run_true_ms": (run_true_ms, 300, 50),
    "communicate_mb_per_s": (communicate_mb_per_s, 256, 256),
    "subprocess_run_true_big_parent_ms": (big_parent_run_true_ms, 200, 30),
}

if __name__ == "__main__":
    sys.exit(_peer.main(METRICS))
