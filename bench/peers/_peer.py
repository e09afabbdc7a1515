"""Shared driver of the CPython peers (bench/peers/<module>_bench.py).

A peer measures in CPython the same work as the metric of the same name in bench/<module>_bench.cpp
and prints one JSON line per metric: {"metric": NAME, "peer": "cpython", "value": V}, where V is
the median over the repetitions, in the unit the metric's name states: microseconds for a name
ending in _us (milliseconds for _ms, nanoseconds for _ns); operations per second for _ops, items
per second for any other _per_s, MB/s (1e6 bytes per second) for _mb_per_s, percent for _percent
and KiB for _kib. A metric whose C++ side measures CPU time (pingpong_cpu_us) measures it here too.

Usage: python3 <module>_bench.py [--quick] [--repetitions=R] [--list] [METRIC...]  (no METRIC: all
of them). run_bench.py runs a peer once per round, with the repetitions of one round.
A metric this peer does not measure is ignored, so the runner may pass any of its module's.
"""

import json
import statistics
import sys


def main(metrics):
    """Runs `metrics`, a dict name -> (fn, size, quick_size); fn(size) measures one repetition.

    Each fn does a short warm-up itself if it needs one and returns the repetition's value in the
    metric's unit (see the module doc). The median of the repetitions (--repetitions=R; default 7,
    5 with --quick) is printed.
    """
    args = sys.argv[1:]
    quick = "--quick" in args
    reps = 5 if quick else 7
    for a in args:
        if a.startswith("--repetitions="):
            reps = int(a.split("=", 1)[1])
            if reps < 1:
                print(f"{sys.argv[0]}: --repetitions must be at least 1", file=sys.stderr)
                return 2
    if "--list" in args:
        for name in metrics:
            print(name)
        return 0
    wanted = [a for a in args if not a.startswith("--")] or list(metrics)
    for name in wanted:
        if name not in metrics:
            continue
        fn, size, quick_size = metrics[name]
        n = quick_size if quick else size
        fn(max(1, n // 10))  # warm-up: first-touch costs and lazy imports are not what is measured
        values = [fn(n) for _ in range(reps)]
        print(json.dumps({"metric": name, "peer": "cpython", "value": statistics.median(values)}), flush=True)
    return 0
