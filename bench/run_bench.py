#!/usr/bin/env python3
"""Runs trident's benchmarks side by side with their peers and prints one row per metric and peer.

usage: run_bench.py [--build DIR] [--rounds N] [--quick] [--json FILE] [METRIC...]

What it runs (`./run bench` builds them first):
  * every Google Benchmark program DIR/bench/bench_<module> (from bench/<module>_bench.cpp), whose
    benchmarks are named <metric>/<impl>: impl `trident` is ours, every other impl (std, asio,
    posix_spawn, ...) is a peer measured in the same program;
  * the CPython peer of each module, bench/peers/<module>_bench.py, run with /usr/bin/python3 as
    `<module>_bench.py [--quick] [--repetitions R] METRIC...`; it prints JSON lines
    {"metric": ..., "peer": "cpython", "value": ...} (see bench/peers/_peer.py).

Rounds: the whole set is run N times (--rounds, default 5; 1 with --quick), one module after the
other in each round, the C++ program (trident and its C++ peers, their repetitions interleaved)
then the CPython peer. So trident and every peer are measured N times, spread over the whole run:
a burst of load from elsewhere on the machine hits one round of each side, not all of one side.
Within a round each side's value is the median of its repetitions.

Units follow the metric's name. A time metric (_ns, _us, _ms) is the real time of one iteration in
that unit, unless the benchmark sets a "value" counter (then that counter, already in the unit: e.g.
CPU time per iteration). A rate metric is the benchmark's "rate" counter, in base units per second
(operations, tasks, bytes), shown as: _ops -> M/s, _mb_per_s -> MB/s (bytes / 1e6), any other
_per_s -> k/s. A _percent metric (shown as %) and a _kib metric (a size in KiB) are the "value"
counter. Times, percentages and sizes are lower-is-better; rates higher-is-better. A CPython peer
reports in the unit the name states: operations per second for _ops, items per second for
_per_s, MB/s (1e6 bytes) for _mb_per_s, and the time, percentage or size for the others.

Output (stdout): a '#' comment line describing the machine and the rounds, a header line, then
metric<TAB>peer<TAB>trident<TAB>peer_value<TAB>unit<TAB>speedup<TAB>speedup_median<TAB>
speedup_min<TAB>speedup_max. `trident` and `peer_value` are the medians over the rounds, and
`speedup` compares those two medians; speedup > 1 means trident is better (lower-is-better units:
peer / trident; rates: trident / peer). The last three columns are the median, the minimum and
the maximum of the N per-round speedups (each from one round's trident and peer values): how
typical the speedup is, and how far it moved. Progress goes to stderr.
Exit status: 0; 2 for a bad argument or an unknown metric; 1 if a program failed (the rows that
could be measured are still printed).
"""

import argparse
import datetime
import glob
import json
import math
import os
import platform
import re
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
PEERS_DIR = os.path.join(HERE, "peers")
PYTHON = "/usr/bin/python3"
ROUNDS = 5
QUICK_ROUNDS = 1
REPETITIONS = 3  # per round, for each side (Google Benchmark repetitions; CPython repetitions)
QUICK_MIN_TIME = 0.1  # seconds per repetition (Google Benchmark's default is 0.5)
PROGRAM_TIMEOUT = 900  # seconds; a hung program is reported, not waited for forever
# Modules run in this order (the layers, bottom up); any other module follows, alphabetically.
MODULE_ORDER = ["threading", "queue", "futures", "subprocess"]

TIME_UNITS = {"ns": 1e-9, "us": 1e-6, "ms": 1e-3, "s": 1.0}
# Rate suffixes, most specific first: (suffix, shown unit, divisor from the C++ "rate" counter's
# base units per second, divisor from the unit a CPython peer reports in).
RATE_UNITS = [("_mb_per_s", "MB/s", 1e6, 1.0), ("_per_s", "k/s", 1e3, 1e3), ("_ops", "M/s", 1e6, 1e6)]
# Lower-is-better quantities that are not times, read from the C++ "value" counter: suffix -> unit.
VALUE_UNITS = {"_percent": "%", "_kib": "KiB"}


class Metric:
    """What a metric's name says about it: a time in `unit`, a rate shown in `unit`, or a
    lower-is-better value (percentage, size) in `unit`."""

    def __init__(self, name):
        self.name = name
        self.is_rate = False
        self.is_value = False
        self.divisor = self.peer_divisor = None
        for suffix, unit, divisor, peer_divisor in RATE_UNITS:
            if name.endswith(suffix):
                self.is_rate, self.unit, self.divisor, self.peer_divisor = True, unit, divisor, peer_divisor
                return
        for suffix, unit in VALUE_UNITS.items():
            if name.endswith(suffix):
                self.is_value, self.unit = True, unit
                return
        m = re.search(r"_(ns|us|ms)$", name)
        if not m:
            raise ValueError(f"metric '{name}': the name must end in _ns, _us, _ms, _ops, _per_s, _mb_per_s, "
                             "_percent or _kib")
        self.unit = m.group(1)

    def speedup(self, trident, peer):
        """> 1 when trident is better: trident / peer for a rate, peer / trident otherwise."""
        if self.is_rate:
            return trident / peer if trident > 0 and peer > 0 else float("nan")
        if trident < 0 or peer < 0:
            return float("nan")
        if trident == 0:
            # A value of exactly zero (no CPU time measured at all) beats any positive peer.
            return 1.0 if peer == 0 else float("inf")
        return peer / trident


def median(values):
    values = sorted(v for v in values if not math.isnan(v))
    if not values:
        return float("nan")
    mid = len(values) // 2
    return values[mid] if len(values) % 2 else (values[mid - 1] + values[mid]) / 2


def sig(value, digits=3):
    """`value` with `digits` significant digits, never in exponent form."""
    if value is None or math.isnan(value):
        return "nan"
    if math.isinf(value):
        return "inf"
    if value == 0:
        return "0"
    decimals = digits - 1 - math.floor(math.log10(abs(value)))
    return f"{value:.{max(decimals, 0)}f}"


def machine_line(rounds, repetitions):
    cpu = platform.processor() or "unknown CPU"
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    now = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    py = subprocess.run([PYTHON, "-c", "import platform; print(platform.python_version())"],
                        capture_output=True, text=True).stdout.strip()
    load = " ".join(f"{x:.1f}" for x in os.getloadavg())
    return (f"# nproc={os.cpu_count()} cpu={cpu!r} python={py} kernel={platform.release()} "
            f"date={now} load={load} rounds={rounds} repetitions={repetitions} per round (medians)")


def log(msg):
    print(f"run_bench: {msg}", file=sys.stderr, flush=True)


def parse_name(run_name):
    """'queue_pingpong_us/std/real_time' -> ('queue_pingpong_us', 'std')."""
    parts = run_name.split("/")
    if len(parts) < 2:
        return None
    return parts[0], parts[1]


def discover(build_dir):
    """Returns [(module, program, {metric: [impl, ...]})] for every benchmark program built."""
    found = []
    for program in sorted(glob.glob(os.path.join(build_dir, "bench", "bench_*"))):
        if not (os.path.isfile(program) and os.access(program, os.X_OK)):
            continue
        module = os.path.basename(program)[len("bench_"):]
        out = subprocess.run([program, "--benchmark_list_tests=true"], capture_output=True, text=True,
                             timeout=60)
        if out.returncode != 0:
            raise RuntimeError(f"{program} --benchmark_list_tests failed: {out.stderr.strip()}")
        metrics = {}
        for line in out.stdout.split():
            parsed = parse_name(line)
            if parsed:
                metrics.setdefault(parsed[0], []).append(parsed[1])
        found.append((module, program, metrics))
    rank = {m: i for i, m in enumerate(MODULE_ORDER)}
    return sorted(found, key=lambda f: (rank.get(f[0], len(rank)), f[0]))


def run_program(program, metrics, repetitions, quick):
    """Runs the benchmarks of `metrics` in `program` once (one round); returns {(metric, impl):
    value}, each value the median of the repetitions."""
    args = [program, "--benchmark_format=json", f"--benchmark_repetitions={repetitions}",
            # Repetitions of trident and its C++ peers alternate, so a change in the machine's load
            # during the run affects both sides alike.
            "--benchmark_enable_random_interleaving=true",
            "--benchmark_filter=^(" + "|".join(re.escape(m) for m in metrics) + ")/"]
    if quick:
        args.append(f"--benchmark_min_time={QUICK_MIN_TIME}")
    out = subprocess.run(args, capture_output=True, text=True, timeout=PROGRAM_TIMEOUT)
    if out.returncode != 0:
        raise RuntimeError(f"{os.path.basename(program)} exited with {out.returncode}: {out.stderr.strip()}")
    samples = {}
    for b in json.loads(out.stdout)["benchmarks"]:
        if b.get("error_occurred"):
            raise RuntimeError(f"{b.get('run_name', b['name'])}: {b.get('error_message', 'error')}")
        # Every repetition is reported; the median is taken here (a benchmark that fixes its own
        # repetition count, such as a slow one run once, then has no aggregates).
        if b.get("run_type", "iteration") != "iteration":
            continue
        metric, impl = parse_name(b["run_name"])
        m = Metric(metric)
        if m.is_rate:
            if "rate" not in b:
                raise RuntimeError(f"{b['run_name']}: a rate metric must set state.counters[\"rate\"]")
            value = b["rate"] / m.divisor
        elif "value" in b:
            value = b["value"]
        elif m.is_value:
            raise RuntimeError(f"{b['run_name']}: a _percent or _kib metric must set state.counters[\"value\"]")
        else:
            seconds = b["real_time"] * TIME_UNITS[b["time_unit"]]
            value = seconds / TIME_UNITS[m.unit]
        samples.setdefault((metric, impl), []).append(value)
    return {key: median(values) for key, values in samples.items()}


def run_peer(module, metrics, repetitions, quick):
    """Runs bench/peers/<module>_bench.py for `metrics` once (one round); returns {(metric, peer): value}."""
    script = os.path.join(PEERS_DIR, f"{module}_bench.py")
    if not os.path.exists(script):
        return {}
    args = [PYTHON, script] + (["--quick"] if quick else []) + [f"--repetitions={repetitions}"] + list(metrics)
    out = subprocess.run(args, capture_output=True, text=True, timeout=PROGRAM_TIMEOUT)
    if out.returncode != 0:
        raise RuntimeError(f"peers/{module}_bench.py exited with {out.returncode}: {out.stderr.strip()}")
    values = {}
    for line in out.stdout.splitlines():
        line = line.strip()
        if not line.startswith("{"):
            continue
        rec = json.loads(line)
        if rec["metric"] not in metrics:
            continue
        m = Metric(rec["metric"])
        value = float(rec["value"])
        values[(rec["metric"], rec.get("peer", "cpython"))] = value / m.peer_divisor if m.is_rate else value
    return values


HEADER = ["metric", "peer", "trident", "peer_value", "unit", "speedup", "speedup_median", "speedup_min",
          "speedup_max"]


def main(argv):
    ap = argparse.ArgumentParser(prog="run_bench.py", description=__doc__.split("\n\n")[0])
    ap.add_argument("metrics", nargs="*", metavar="METRIC", help="metrics to run (default: all)")
    ap.add_argument("--build", default="build/release", help="the CMake build directory (default: %(default)s)")
    ap.add_argument("--rounds", type=int, metavar="N",
                    help=f"run everything N times, trident and its peers in turn (default: {ROUNDS}; "
                         f"{QUICK_ROUNDS} with --quick)")
    ap.add_argument("--quick", action="store_true",
                    help=f"{QUICK_ROUNDS} round unless --rounds says otherwise, shorter repetitions")
    ap.add_argument("--json", metavar="FILE", help="also write every row as JSON to FILE")
    ap.add_argument("--list", action="store_true", help="list the metrics and their peers, run nothing")
    opts = ap.parse_args(argv)
    rounds = opts.rounds if opts.rounds is not None else (QUICK_ROUNDS if opts.quick else ROUNDS)
    if rounds < 1:
        print(f"run_bench: --rounds must be at least 1, got {rounds}", file=sys.stderr)
        return 2

    if not os.path.isdir(os.path.join(opts.build, "bench")):
        print(f"run_bench: no benchmark programs in {opts.build}/bench (build the trident_benchmarks target)",
              file=sys.stderr)
        return 2
    try:
        programs = discover(opts.build)
        for _, _, metrics in programs:
            for name in metrics:
                Metric(name)
    except (RuntimeError, ValueError, subprocess.TimeoutExpired) as e:
        print(f"run_bench: {e}", file=sys.stderr)
        return 2
    known = [name for _, _, metrics in programs for name in metrics]
    unknown = [m for m in opts.metrics if m not in known]
    if unknown:
        print(f"run_bench: unknown metric{'s' if len(unknown) > 1 else ''} {', '.join(unknown)}; "
              f"known: {', '.join(known)}", file=sys.stderr)
        return 2
    if opts.list:
        for module, _, metrics in programs:
            script = os.path.join(PEERS_DIR, f"{module}_bench.py")
            in_cpython = set()
            if os.path.exists(script):
                out = subprocess.run([PYTHON, script, "--list"], capture_output=True, text=True, timeout=60)
                in_cpython = set(out.stdout.split())
            for name, impls in metrics.items():
                cpython = ["cpython"] if name in in_cpython else []
                print(name, " ".join(cpython + [i for i in impls if i != "trident"]))
        return 0

    wanted = opts.metrics or known
    machine = machine_line(rounds, REPETITIONS)
    print(machine, flush=True)
    print("\t".join(HEADER), flush=True)
    status = 0
    # per_round[(metric, impl)] = [value of round 1, value of round 2, ...] (None: round failed)
    per_round = {}
    for r in range(rounds):
        for module, program, metrics in programs:
            mine = [m for m in metrics if m in wanted]
            if not mine:
                continue
            values = {}
            try:
                log(f"round {r + 1}/{rounds}: bench_{module}: {', '.join(mine)}")
                values.update(run_program(program, mine, REPETITIONS, opts.quick))
                log(f"round {r + 1}/{rounds}: peers/{module}_bench.py (CPython)")
                values.update(run_peer(module, mine, REPETITIONS, opts.quick))
            except (RuntimeError, subprocess.TimeoutExpired, json.JSONDecodeError, KeyError) as e:
                log(f"FAILED: {e}")
                status = 1
            for key, value in values.items():
                per_round.setdefault(key, [None] * rounds)[r] = value

    rows = []
    for module, program, metrics in programs:
        for name in (m for m in metrics if m in wanted):
            m = Metric(name)
            ours = per_round.get((name, "trident"))
            peers = sorted({p for (n, p) in per_round if n == name and p != "trident"},
                           key=lambda p: (p != "cpython", metrics[name].index(p) if p in metrics[name] else 0))
            if ours is None or all(v is None for v in ours):
                if per_round:
                    log(f"{name}: no trident result")
                    status = 1
                continue
            for peer in peers:
                theirs = per_round[(name, peer)]
                # Only the rounds in which both sides were measured are compared.
                pairs = [(a, b) for a, b in zip(ours, theirs) if a is not None and b is not None]
                if not pairs:
                    continue
                t_med = median([a for a, _ in pairs])
                p_med = median([b for _, b in pairs])
                ratios = [m.speedup(a, b) for a, b in pairs]
                speedup = m.speedup(t_med, p_med)
                if speedup > 1e4 or speedup < 1e-4:
                    log(f"{name}/{peer}: a speedup of {speedup:g} smells of a unit mismatch")
                row = {"metric": name, "peer": peer, "trident": t_med, "peer_value": p_med, "unit": m.unit,
                       "speedup": speedup, "speedup_median": median(ratios), "speedup_min": min(ratios),
                       "speedup_max": max(ratios), "rounds": len(pairs),
                       "trident_rounds": [a for a, _ in pairs], "peer_rounds": [b for _, b in pairs]}
                rows.append(row)
                print("\t".join([name, peer, sig(t_med), sig(p_med), m.unit] +
                                [sig(row[k]) for k in HEADER[5:]]), flush=True)
    if opts.json:
        with open(opts.json, "w") as f:
            json.dump({"machine": machine[2:], "rounds": rounds, "repetitions": REPETITIONS, "columns": HEADER,
                       "rows": rows}, f, indent=2)
            f.write("\n")
    return status


if __name__ == "__main__":
    try:
        sys.exit(main(sys.argv[1:]))
    except KeyboardInterrupt:
        sys.exit(130)
