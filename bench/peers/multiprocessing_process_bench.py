#!/usr/bin/python3
"""CPython's side of bench/multiprocessing_process_bench.cpp (issue 7), through the shared driver _peer.py.

Usage: /usr/bin/python3 bench/peers/multiprocessing_process_bench.py [--quick] [--list] [METRIC ...]
Prints {"metric": ..., "peer": "cpython", "value": median} per metric: milliseconds per
Process(target=nothing).start() + join() with the fork, forkserver and spawn start methods.
"""
import multiprocessing
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import _peer  # noqa: E402


def _nothing():
    pass


def _start_join_ms(method):
    ctx = multiprocessing.get_context(method)

    def measure(n):
        t0 = time.perf_counter()
        for _ in range(n):
            p = ctx.Process(target=_nothing)
            p.start()
            p.join()
            assert p.exitcode == 0
        return (time.perf_counter() - t0) * 1e3 / n

    return measure


if __name__ == "__main__":
    sys.exit(
        _peer.main(
            {
                "process_start_join_fork_ms": (_start_join_ms("fork"), 200, 40),
                "process_start_join_forkserver_ms": (_start_join_ms("forkserver"), 60, 15),
                "process_start_join_spawn_ms": (_start_join_ms("spawn"), 20, 6),
            }
        )
    )
