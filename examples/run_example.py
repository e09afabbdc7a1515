#!/usr/bin/env python3
"""Runs one translated example and checks its output (see examples/CMakeLists.txt).

usage: run_example.py --exe PROGRAM [--expect FILE] [--stdin FILE] [--server TRIDENT] [--timeout S]

--expect FILE: one regular expression per line, each searched for in a line of stdout, in
order (a matched line is used up); a line starting with "!" is a regex that no line of stdout
may match. Empty lines are ignored. --server TRIDENT: start `TRIDENT serve --port 0
--print-port` first and pass its base URL in TRIDENT_EXAMPLE_URL. Exit status 0 when the
example exited with 0 and every expectation held; 1 otherwise, with the reason and the output.
"""
import argparse
import os
import re
import signal
import subprocess
import sys


def start_server(trident):
    server = subprocess.Popen([trident, "serve", "--port", "0", "--print-port"],
                              stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, text=True)
    line = server.stdout.readline().strip()
    if not line.isdigit():
        server.kill()
        server.wait()
        sys.exit(f"run_example: `{trident} serve` did not print a port (got {line!r})")
    return server, f"http://127.0.0.1:{line}"


def stop_server(server):
    server.send_signal(signal.SIGTERM)
    try:
        server.wait(timeout=10)
    except subprocess.TimeoutExpired:
        server.kill()
        server.wait()


def check(lines, expect_path):
    with open(expect_path, encoding="utf-8") as f:
        patterns = [p.rstrip("\n") for p in f if p.strip()]
    pos = 0
    for pattern in patterns:
        if pattern.startswith("!"):
            bad = re.compile(pattern[1:])
            for line in lines:
                if bad.search(line):
                    return f"line {line!r} matches the forbidden pattern {pattern[1:]!r}"
            continue
        regex = re.compile(pattern)
        while pos < len(lines) and not regex.search(lines[pos]):
            pos += 1
        if pos == len(lines):
            return f"no line (in order) matches {pattern!r}"
        pos += 1
    return None


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--exe", required=True)
    ap.add_argument("--expect")
    ap.add_argument("--stdin")
    ap.add_argument("--server")
    ap.add_argument("--timeout", type=float, default=30)
    a = ap.parse_args()

    env = dict(os.environ)
    server = None
    if a.server:
        server, url = start_server(a.server)
        env["TRIDENT_EXAMPLE_URL"] = url
    try:
        stdin = open(a.stdin, "rb") if a.stdin else subprocess.DEVNULL
        try:
            proc = subprocess.run([a.exe], stdin=stdin, capture_output=True, env=env, timeout=a.timeout)
        finally:
            if a.stdin:
                stdin.close()
    except subprocess.TimeoutExpired as e:
        print(f"run_example: {a.exe} did not finish in {a.timeout} s")
        print((e.stdout or b"").decode("utf-8", "replace"))
        return 1
    finally:
        if server:
            stop_server(server)

    out = proc.stdout.decode("utf-8", "replace")
    err = proc.stderr.decode("utf-8", "replace")
    problem = None
    if proc.returncode != 0:
        problem = f"exit status {proc.returncode}, expected 0"
    elif a.expect:
        problem = check(out.splitlines(), a.expect)
    if problem:
        print(f"run_example: {os.path.basename(a.exe)}: {problem}")
        print("---- stdout ----\n" + out + "---- stderr ----\n" + err)
        return 1
    print(out, end="")
    return 0


if __name__ == "__main__":
    sys.exit(main())
