"""CPython peer of bench/greenlet_bench.cpp: the same work with CPython's greenlet module.

Run by bench/run_bench.py as /usr/bin/python3 greenlet_bench.py [--quick] [METRIC...]; see
_peer.py for the output protocol. Needs python3-greenlet; without it, prints nothing.
"""

import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import _peer  # noqa: E402

try:
    from greenlet import getcurrent, greenlet
except ImportError:  # no peer to measure: report nothing
    sys.exit(0)


def greenlet_switch_ns(n):
    """A switch to another greenlet and back, n times; nanoseconds per switch (round trip / 2)."""
    main = getcurrent()

    def partner():
        switch = main.switch
        while True:
            switch()

    g = greenlet(partner)
    g.switch()
    switch = g.switch
    t0 = time.perf_counter()
    for _ in range(n):
        switch()
    return (time.perf_counter() - t0) / n / 2 * 1e9


def noop():
    pass


def greenlet_create_switch_finish_ns(n):
    """greenlet(f).switch() with f returning at once; nanoseconds per greenlet."""
    t0 = time.perf_counter()
    for _ in range(n):
        greenlet(noop).switch()
    return (time.perf_counter() - t0) / n * 1e9


def resident_kib():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 1024


def suspended_kib(n):
    """Resident memory of n suspended greenlets, per greenlet, in KiB."""
    main = getcurrent()

    def body():
        main.switch()

    before = resident_kib()
    gs = []
    for _ in range(n):
        g = greenlet(body)
        g.switch()
        gs.append(g)
    per = (resident_kib() - before) / n
    for g in gs:
        g.switch()  # let them finish rather than be killed one by one
    return per


if __name__ == "__main__":
    sys.exit(_peer.main({
        "greenlet_switch_ns": (greenlet_switch_ns, 1_000_000, 200_000),
        "greenlet_create_switch_finish_ns": (greenlet_create_switch_finish_ns, 200_000, 50_000),
        # Python greenlets have one stack mode (copied slices): the same figure for both rows.
        "greenlet_mem_per_suspended_kib": (suspended_kib, 10_000, 10_000),
        "greenlet_mem_per_suspended_small_stack_kib": (suspended_kib, 10_000, 10_000),
    }))
