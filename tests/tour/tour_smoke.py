#!/usr/bin/env python3
"""Smoke tests of `trident tour` (label `tour`). usage: tour_smoke.py TRIDENT CHECK [XMLLINT]

CHECK is one of: json (the --quick --json document, plus --svg FILE checked with xmllint),
human (the tables off a terminal: no control characters), select (running named lessons),
list (--list), usage (bad options and values exit with status 2 and a message), help.
Each prints what it checked and exits 0, or prints why it failed and exits 1.
"""
import json
import os
import subprocess
import sys
import tempfile

THREAD_LESSONS = ["cpu", "io", "shared", "coordination", "futures"]
PROCESS_LESSONS = ["processes"]


class Failure(Exception):
    pass


def expect(cond, message):
    if not cond:
        raise Failure(message)


def run(trident, *args, timeout=120):
    p = subprocess.run([trident, *args], capture_output=True, timeout=timeout, stdin=subprocess.DEVNULL)
    return p.returncode, p.stdout.decode("utf-8"), p.stderr.decode("utf-8")


def listed_lessons(trident):
    rc, out, _ = run(trident, "tour", "--list")
    expect(rc == 0, f"--list exited {rc}")
    names = [line.split()[0] for line in out.splitlines()[1:] if line.startswith("  ") and not line.startswith("   ")]
    return names


def check_lesson(lesson):
    name = lesson["name"]
    expect(lesson["ok"] is True, f"lesson {name} failed: {lesson.get('error')}")
    expect(lesson["seconds"] > 0, f"lesson {name}: seconds must be > 0")
    expect(isinstance(lesson["title"], str) and lesson["title"], f"lesson {name}: no title")
    expect(isinstance(lesson["conclusion"], str) and len(lesson["conclusion"]) > 20, f"lesson {name}: no conclusion")
    expect(len(lesson["rows"]) >= 1, f"lesson {name}: no rows")
    for row in lesson["rows"]:
        for key in ("what", "seconds", "speedup", "detail"):
            expect(key in row, f"lesson {name}: a row lacks {key}")
        expect(row["seconds"] > 0, f"lesson {name}: row {row['what']!r} has seconds {row['seconds']}")
    # Speedups are computed from the timings: the first row is the sequential baseline.
    base = lesson["rows"][0]
    if base["speedup"] is not None:
        expect(abs(base["speedup"] - 1.0) < 1e-9, f"lesson {name}: the baseline row's speedup is not 1")
        for row in lesson["rows"][1:]:
            if row["speedup"] is None:
                continue
            want = base["seconds"] / row["seconds"]
            expect(abs(row["speedup"] - want) <= 1e-6 * max(1.0, want),
                   f"lesson {name}: row {row['what']!r} speedup {row['speedup']} != {want} from its timings")


def check_json(trident, xmllint):
    with tempfile.TemporaryDirectory() as tmp:
        svg = os.path.join(tmp, "tour.svg")
        rc, out, err = run(trident, "tour", "--quick", "--json", "--svg", svg)
        expect(rc == 0, f"tour --quick --json exited {rc}: {err}")
        doc = json.loads(out)
        expect(doc["tool"] == "trident tour" and doc["quick"] is True, "tool/quick fields")
        o = doc["options"]
        expect(o["pages"] == 8 and o["delay_ms"] == 20 and o["workers"] == 4 and o["cores"] >= 1,
               f"quick defaults: {o}")
        expect(doc["total_seconds"] > 0, "total_seconds")
        lessons = {l["name"]: l for l in doc["lessons"]}
        expect([l["name"] for l in doc["lessons"]] == listed_lessons(trident), "every listed lesson ran, in order")
        for name in THREAD_LESSONS + PROCESS_LESSONS:
            expect(name in lessons, f"lesson {name} missing")
        for lesson in doc["lessons"]:
            check_lesson(lesson)
        f = {name: lessons[name]["figures"] for name in lessons}
        # cpu: both counts agree and the speedup is the ratio of the timings.
        cpu = f["cpu"]
        expect(cpu["primes"] == cpu["primes_threaded"] and cpu["primes"] > 0, "cpu: prime counts")
        expect(abs(cpu["speedup"] - cpu["sequential_seconds"] / cpu["threaded_seconds"]) < 1e-6, "cpu: speedup")
        # cpu: one process per core counted the same primes; its speedup is measured, not judged.
        expect(cpu["primes_processes"] == cpu["primes"] and cpu["processes"] == cpu["threads"], "cpu: process count")
        expect(abs(cpu["process_speedup"] - cpu["sequential_seconds"] / cpu["processes_seconds"]) < 1e-6,
               "cpu: process speedup")
        expect(len(lessons["cpu"]["rows"]) == 3 and "processes" in lessons["cpu"]["rows"][2]["what"],
               "cpu: a row for the processes")
        # processes: every queued item reached the reader, which was then terminated; every echo came
        # back, every byte arrived, the killed holder's lock was recovered.
        pr = f["processes"]
        expect(pr["queue_items_received"] == pr["queue_items"] > 0 and pr["queue_sum_right"] is True
               and pr["queue_items_per_s"] > 0, f"processes: queue writer/reader {pr}")
        expect(pr["queue_reader_exitcode"] == -15, "processes: the reader was ended by terminate() (SIGTERM)")
        expect(pr["pipe_round_trips"] > 0 and pr["pipe_wrong_answers"] == 0 and pr["pipe_round_trip_us"] > 0,
               f"processes: pipe round trips {pr}")
        expect(pr["pipe_bytes_received"] == pr["pipe_bytes_sent"] > 0 and pr["pipe_mb_per_s"] > 0,
               "processes: every byte arrived")
        expect(pr["robust_lock_held_by_child"] is True and pr["robust_lock_acquired"] is True
               and pr["robust_lock_owner_died"] is True, f"processes: robust lock {pr}")
        expect(pr["robust_lock_holder_exitcode"] == -9, "processes: the holder was killed by SIGKILL")
        expect(pr["robust_lock_recovery_seconds"] < 5, "processes: the lock came back within a bound")
        # io: every page fetched both ways.
        io = f["io"]
        expect(io["bytes"] == io["bytes_pool"] and io["bytes"] > 0 and io["pages"] == 8, "io: bytes")
        expect(abs(io["speedup"] - io["sequential_seconds"] / io["pool_seconds"]) < 1e-6, "io: speedup")
        expect(io["pool_seconds"] >= 0.020 and io["sequential_seconds"] >= 8 * 0.020,
               "io: the server's delay shows in the timings")
        # shared: the Lock keeps the balance at 0.
        sh = f["shared"]
        expect(sh["locked_balance"] == 0 and sh["locked_wrong_runs"] == 0, "shared: locked balance is 0")
        expect(sh["sequential_balance"] == 0, "shared: sequential balance is 0")
        expect(sh["runs"] <= sh["unlocked_runs"] and 0 <= sh["unlocked_wrong_runs"] <= sh["unlocked_runs"], "shared: unlocked run count")
        # coordination
        co = f["coordination"]
        expect(1 <= co["semaphore_peak"] <= 3, f"coordination: semaphore peak {co['semaphore_peak']}")
        expect(co["semaphore_over_release_raised"] is True, "coordination: over-release raised ValueError")
        expect(co["condition_exact"] is True and co["condition_released"] == co["condition_notify"],
               "coordination: notify(n) released n")
        expect(co["barrier_in_step"] is True and co["barrier_actions"] == co["barrier_rounds"], "coordination: barrier")
        expect(co["event_polls"] >= co["event_workers"], "coordination: event workers polled")
        # futures
        fu = f["futures"]
        n = fu["tasks"]
        expect(fu["ok_in_order"] == n and fu["callbacks_run"] == n and fu["ok_callbacks"] == n
               and fu["ok_as_completed"] == n, f"futures: every task answered 200: {fu}")
        expect(sorted(int(x) for x in fu["as_completed_order"].split(",")) == list(range(n)),
               "futures: as_completed gave every future once")
        expect(fu["first_result_as_completed_seconds"] <= fu["first_result_in_order_seconds"] + 0.05,
               "futures: as_completed's first result came no later than submit order's")
        # switching (when the greenlet module is built): note 002's order, and timings that are real.
        if "switching" in f:
            sw = f["switching"]
            expect(sw["printed"] == "12 56 777 34 68" and sw["ordering_ok"] is True,
                   f"switching: note 002 printed {sw['printed']!r}")
            expect(sw["switches"] == 1000000 and sw["switch_ns"] > 0, "switching: a million switches timed")
            if sw["cpython_measured"]:
                expect(sw["cpython_switch_ns"] > 0 and
                       abs(sw["speedup_vs_cpython"] - sw["cpython_switch_ns"] / sw["switch_ns"]) < 1e-6,
                       "switching: speedup against CPython's greenlet")
        # The chart: well-formed XML, one panel per timing lesson.
        expect(os.path.getsize(svg) > 0, "svg written")
        if xmllint:
            p = subprocess.run([xmllint, "--noout", svg], capture_output=True)
            expect(p.returncode == 0, f"xmllint rejects the svg: {p.stderr.decode()}")
        import xml.etree.ElementTree as ET
        root = ET.parse(svg).getroot()
        expect(root.tag.endswith("svg"), "svg root element")
        text = open(svg, encoding="utf-8").read()
        for lesson in doc["lessons"]:
            if lesson["name"] in ("cpu", "io", "shared", "coordination", "futures"):
                expect(lesson["title"].split(":")[0] in text, f"svg shows lesson {lesson['name']}")
        check_svg_pictures(root, f)
    return f"{len(doc['lessons'])} lessons consistent; svg well-formed, labels inside, pictures match the figures"


SVG = "{http://www.w3.org/2000/svg}"


def svg_panel(root, name):
    for g in root.iter(SVG + "g"):
        if g.get("id") == f"panel-{name}":
            return g
    raise Failure(f"svg has no panel for lesson {name}")


def series_columns(series):
    # Each column's tooltip is "RUN: VALUE"; a zero is drawn grey.
    cols = []
    for rect in series.iter(SVG + "rect"):
        if rect.get("class") == "column":
            cols.append((float(rect.find(SVG + "title").text.split(": ")[1]), rect.get("fill")))
    return cols


def check_svg_pictures(root, f):
    width = float(root.get("width"))
    # No text runs off the picture: a label anchored at its end needs room on the left, a text
    # starting at x room on the right. 0.55 em per character is a low estimate of sans-serif
    # (the label that used to be clipped needs 0.6), so a failure here is a real overflow.
    for t in root.iter(SVG + "text"):
        size = float(t.get("font-size", root.get("font-size")))
        need = 0.55 * size * len(t.text or "")
        x = float(t.get("x"))
        if t.get("text-anchor") == "end":
            expect(x - need >= 0, f"svg label {t.text!r} is clipped at the left edge (ends at x={x})")
        elif t.get("font-style") != "italic":
            expect(x + need <= width, f"svg text {t.text!r} runs past the right edge ({x} + {need} > {width})")
    # shared: one column per run; the unlocked row has a coloured column exactly for each run whose
    # balance was wrong, the locked row none.
    sh = f["shared"]
    rows = [g for g in svg_panel(root, "shared").iter(SVG + "g") if g.get("class") == "series"]
    expect(len(rows) == 2, f"shared picture: {len(rows)} rows, expected no lock and Lock")
    unlocked, locked = series_columns(rows[0]), series_columns(rows[1])
    expect(len(unlocked) == sh["unlocked_runs"] and len(locked) == sh["runs"], "shared picture: one column per run")
    expect(sum(1 for v, _ in unlocked if v > 0) == sh["unlocked_wrong_runs"], "shared picture: lost-update columns")
    expect(all(v == 0 and fill == "#ccc" for v, fill in locked), "shared picture: the Lock row is all zero")
    expect(max((v for v, _ in unlocked), default=0) == abs(sh["unlocked_worst_balance"]),
           "shared picture: the tallest column is the worst balance")
    # coordination: the semaphore's occupancy over time never exceeds its value, drawn as a line.
    co = f["coordination"]
    panel = svg_panel(root, "coordination")
    rows = [g for g in panel.iter(SVG + "g") if g.get("class") == "series"]
    expect(len(rows) == 1, "coordination picture: one row (the semaphore)")
    inside = [v for v, _ in series_columns(rows[0])]
    expect(len(inside) >= 20, "coordination picture: occupancy sampled over time")
    expect(max(inside) == co["semaphore_peak"] and all(0 <= v <= 3 for v in inside),
           f"coordination picture: occupancy {inside} against peak {co['semaphore_peak']}")
    expect(any(l.get("class") == "limit" for l in rows[0].iter(SVG + "line")), "coordination picture: limit line")


def check_human(trident):
    rc, out, err = run(trident, "tour", "--quick")
    expect(rc == 0, f"tour --quick exited {rc}: {err}")
    expect("\x1b" not in out and "\r" not in out, "control characters printed off a terminal")
    expect(not any(ord(c) < 32 and c != "\n" for c in out), "control characters printed off a terminal")
    for word in ("wall time", "speedup", "=>", "tour finished in"):
        expect(word in out, f"output lacks {word!r}")
    expect(out.count("=> ") == len(listed_lessons(trident)), "one conclusion per lesson")
    return "tables printed, no control characters"


def check_select(trident):
    rc, out, err = run(trident, "tour", "--quick", "--json", "shared", "coordination")
    expect(rc == 0, f"exited {rc}: {err}")
    doc = json.loads(out)
    expect([l["name"] for l in doc["lessons"]] == ["shared", "coordination"], "only the named lessons, in tour order")
    rc, out, err = run(trident, "tour", "--quick", "cpu")
    expect(rc == 0 and "CPU-bound" in out and "Shared data" not in out, "human output of one lesson")
    rc, out, err = run(trident, "tour", "--quick", "processes")
    expect(rc == 0 and "owner_died() = true" in out and "CPU-bound" not in out, f"the processes lesson alone: {err}")
    return "named lessons only"


def check_list(trident):
    names = listed_lessons(trident)
    for name in THREAD_LESSONS + PROCESS_LESSONS:
        expect(name in names, f"--list lacks {name}: {names}")
    return f"lessons: {' '.join(names)}"


def check_usage(trident):
    cases = [
        (["tour", "--no-such-option"], "unknown option"),
        (["tour", "--pages", "0"], "--pages"),
        (["tour", "--pages", "ten"], "integer"),
        (["tour", "--delay-ms", "-5"], "--delay-ms"),
        (["tour", "--workers"], "expects a value"),
        (["tour", "--workers=999"], "--workers"),
        (["tour", "--svg"], "expects a value"),
        (["tour", "no-such-lesson"], "unknown lesson"),
        (["tour", "--quick=yes"], "takes no value"),
        (["no-such-command"], "unknown command"),
        (["serve", "--port", "70000"], "--port"),
        ([], "usage"),
    ]
    for args, words in cases:
        rc, out, err = run(trident, *args, timeout=20)
        expect(rc == 2, f"trident {' '.join(args)} exited {rc}, expected 2")
        expect(words in err, f"trident {' '.join(args)}: stderr {err!r} lacks {words!r}")
    return f"{len(cases)} bad command lines exit 2 with a message"


def check_help(trident):
    rc, out, _ = run(trident, "--help")
    expect(rc == 0 and "tour" in out and "serve" in out, "trident --help")
    rc, out, _ = run(trident, "tour", "--help")
    expect(rc == 0, "trident tour --help")
    for opt in ("--list", "--quick", "--json", "--svg", "--pages", "--delay-ms", "--workers", "--help"):
        expect(opt in out, f"tour --help lacks {opt}")
    rc, out, _ = run(trident, "serve", "--help")
    expect(rc == 0 and "--port" in out and "127.0.0.1" in out, "serve --help")
    return "help texts complete"


def main():
    trident, check = sys.argv[1], sys.argv[2]
    xmllint = sys.argv[3] if len(sys.argv) > 3 and sys.argv[3] else None
    checks = {"json": lambda: check_json(trident, xmllint), "human": lambda: check_human(trident),
              "select": lambda: check_select(trident), "list": lambda: check_list(trident),
              "usage": lambda: check_usage(trident), "help": lambda: check_help(trident)}
    try:
        print(f"tour {check}: {checks[check]()}")
    except Failure as e:
        print(f"tour {check}: FAILED: {e}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
