"""CPython peer of bench/multiprocessing_queue_bench.cpp: the same work with multiprocessing.Queue.

Run by bench/run_bench.py as /usr/bin/python3 multiprocessing_queue_bench.py [--quick] [METRIC...];
see _peer.py for the output protocol.
"""

import multiprocessing
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import _peer  # noqa: E402

SYNC, STOP = -1, -2


def _consumer(q, ack):
    get = q.get
    count = 0
    while True:
        item = get()
        if item == STOP:
            return
        if item == SYNC:
            ack.put(count)
            count = 0
        else:
            count += 1


_state = {}


def _ensure_consumer():
    """One consumer process for the whole run, started before any clock (as the C++ side forks
    its consumer before the benchmark loop)."""
    if not _state:
        q, ack = multiprocessing.Queue(), multiprocessing.Queue()
        p = multiprocessing.Process(target=_consumer, args=(q, ack))
        p.start()
        _state.update(q=q, ack=ack, p=p)
    return _state["q"], _state["ack"]


def mp_queue_throughput_ops(n):
    """This process puts n small ints into a multiprocessing.Queue, one consumer process gets them;
    items per second from the first put until the consumer has got the last (it then answers on
    a second queue)."""
    q, ack = _ensure_consumer()
    put = q.put
    t0 = time.perf_counter()
    for i in range(n):
        put(i)
    put(SYNC)
    got = ack.get()
    elapsed = time.perf_counter() - t0
    assert got == n
    return n / elapsed


def _shutdown():
    if _state:
        _state["q"].put(STOP)
        _state["p"].join()


if __name__ == "__main__":
    try:
        code = _peer.main({"mp_queue_throughput_ops": (mp_queue_throughput_ops, 200_000, 50_000)})
    finally:
        _shutdown()
    sys.exit(code)
