"""CPython peer of bench/generator_bench.cpp: the same work with Python's generators.

Run by bench/run_bench.py as /usr/bin/python3 generator_bench.py [--quick] [METRIC...]; see
_peer.py for the output protocol.
"""

import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import _peer  # noqa: E402


def count_up():
    i = 0
    while True:
        yield i
        i += 1


def echo():
    x = 0
    while True:
        x = yield x


def generator_next_ns(n):
    """next(gen) of a generator counting up forever; nanoseconds per call."""
    gen = count_up()
    nxt = next
    t0 = time.perf_counter()
    for _ in range(n):
        nxt(gen)
    return (time.perf_counter() - t0) / n * 1e9


def generator_send_ns(n):
    """gen.send(i) to a generator yielding back what it receives; nanoseconds per call."""
    gen = echo()
    next(gen)
    send = gen.send
    t0 = time.perf_counter()
    for i in range(n):
        send(i)
    return (time.perf_counter() - t0) / n * 1e9


if __name__ == "__main__":
    sys.exit(_peer.main({
        "generator_next_ns": (generator_next_ns, 3_000_000, 1_000_000),
        "generator_send_ns": (generator_send_ns, 3_000_000, 1_000_000),
    }))
