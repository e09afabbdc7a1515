"""CPython peer of bench/futures_bench.cpp: the same work with concurrent.futures.

Run by bench/run_bench.py as /usr/bin/python3 futures_bench.py [--quick] [METRIC...]; see
_peer.py for the output protocol.
"""

import concurrent.futures
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import _peer  # noqa: E402


def noop():
    pass


def tpe_tasks_per_s(n):
    """`with ThreadPoolExecutor(2)`: submit n no-op tasks, then result() of each, then shut down;
    tasks per second, the pool's start and shutdown included (as on the C++ side)."""
    t0 = time.perf_counter()
    with concurrent.futures.ThreadPoolExecutor(2) as ex:
        submit = ex.submit
        fs = [submit(noop) for _ in range(n)]
        for f in fs:
            f.result()
    return n / (time.perf_counter() - t0)


if __name__ == "__main__":
    sys.exit(_peer.main({
        "tpe_tasks_per_s": (tpe_tasks_per_s, 20_000, 20_000),
    }))
