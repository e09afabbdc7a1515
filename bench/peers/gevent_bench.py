"""gevent peer of bench/gevent_bench.cpp: the same work with CPython's gevent.

Run by bench/run_bench.py as /usr/bin/python3 gevent_bench.py [--quick] [METRIC...]; see _peer.py
for the output protocol (rows name the peer "gevent"). Needs python3-gevent; without it, prints
nothing.
"""

import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import _peer  # noqa: E402

try:
    import gevent
    import gevent.event
except ImportError:  # no peer to measure: report nothing
    sys.exit(0)


def noop():
    pass


def gevent_spawn_join_ns(n):
    """gevent.spawn(f).join() with f returning at once; nanoseconds per greenlet."""
    spawn = gevent.spawn
    t0 = time.perf_counter()
    for _ in range(n):
        spawn(noop).join()
    return (time.perf_counter() - t0) / n * 1e9


def gevent_sleep0_ns(n):
    """Two greenlets taking turns with sleep(0); nanoseconds per sleep(0)."""
    sleep = gevent.sleep

    def body():
        for _ in range(n // 2):
            sleep(0)

    t0 = time.perf_counter()
    gevent.joinall([gevent.spawn(body), gevent.spawn(body)])
    return (time.perf_counter() - t0) / (2 * (n // 2)) * 1e9


def gevent_event_pingpong_ns(n):
    """Two greenlets, Event set/wait round trips (set, wait, clear each way); ns per round trip."""
    ping, pong = gevent.event.Event(), gevent.event.Event()

    def a():
        for _ in range(n):
            ping.set()
            pong.wait()
            pong.clear()

    def b():
        for _ in range(n):
            ping.wait()
            ping.clear()
            pong.set()

    t0 = time.perf_counter()
    gevent.joinall([gevent.spawn(a), gevent.spawn(b)])
    return (time.perf_counter() - t0) / n * 1e9


if __name__ == "__main__":
    sys.exit(_peer.main({
        "gevent_spawn_join_ns": (gevent_spawn_join_ns, 100_000, 20_000),
        "gevent_sleep0_ns": (gevent_sleep0_ns, 200_000, 50_000),
        "gevent_event_pingpong_ns": (gevent_event_pingpong_ns, 100_000, 20_000),
    }, peer="gevent"))
