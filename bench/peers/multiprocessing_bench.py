#!/usr/bin/python3
"""CPython's side of bench/multiprocessing_bench.cpp (issue 7), through the shared driver _peer.py.

Usage: /usr/bin/python3 bench/peers/multiprocessing_bench.py [--quick] [--list] [METRIC ...]
Prints {"metric": ..., "peer": "cpython", "value": median} per metric: microseconds per round
trip for mp_pipe_rtt_us, MB/s (1e6 bytes per second) for mp_pipe_mb_per_s. The child is a
multiprocessing.Process started with the fork method, as the C++ side forks; starting it is not
measured, only the traffic.
"""
import multiprocessing
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import _peer  # noqa: E402

_ctx = multiprocessing.get_context("fork")


def _echo(conn, other_end):
    other_end.close()  # inherited through fork: the parent's close must reach us as EOF
    try:
        while True:
            conn.send(conn.recv())
    except EOFError:
        pass


def _sink(conn, other_end):
    other_end.close()
    try:
        while True:
            conn.recv_bytes()
            conn.send_bytes(b"k")
    except EOFError:
        pass


def _serve(target):
    mine, theirs = _ctx.Pipe()
    p = _ctx.Process(target=target, args=(theirs, mine))
    p.start()
    theirs.close()
    return mine, p


def _stop(conn, p):
    conn.close()
    p.join()
    assert p.exitcode == 0


def pipe_rtt_us(n):
    """Mean microseconds of n send/recv round trips of (1, "ping") to an echoing child."""
    conn, p = _serve(_echo)
    msg = (1, "ping")
    t0 = time.perf_counter()
    for _ in range(n):
        conn.send(msg)
        conn.recv()
    elapsed = time.perf_counter() - t0
    _stop(conn, p)
    return elapsed * 1e6 / n


_DATA = b"m" * (1 << 20)


def pipe_mb_per_s(n):
    """MB/s of n 1 MiB send_bytes to a child that acknowledges each with one byte."""
    conn, p = _serve(_sink)
    t0 = time.perf_counter()
    for _ in range(n):
        conn.send_bytes(_DATA)
        conn.recv_bytes()
    elapsed = time.perf_counter() - t0
    _stop(conn, p)
    return n * len(_DATA) / elapsed / 1e6


if __name__ == "__main__":
    sys.exit(_peer.main({
        "mp_pipe_rtt_us": (pipe_rtt_us, 20000, 5000),
        "mp_pipe_mb_per_s": (pipe_mb_per_s, 2000, 500),
    }))
