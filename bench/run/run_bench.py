#!/usr/bin/env python3
"""Throughput of `salesflow run` on a generated command stream, and where the time goes.

Usage: run_bench.py PATH/TO/salesflow SOURCE_DIR [--lines 1000000] [--repeat 3] [--keep FILE]

Generates the stream with generate_commands.py (or reuses --keep FILE when it exists), then runs

    salesflow run examples/b2b_pipeline.json --directory examples/directory/people.json --stats \\
        < commands.jsonl > /dev/null

--repeat times. --stats makes the tool time its own phases in the same run: decoding the JSON
lines (internal::parse_json, shape checks, field conversion), the engine, encoding the answers,
and the rest (reading stdin, writing stdout, bookkeeping). Prints each run and the median.
Build with -DCMAKE_BUILD_TYPE=Release or RelWithDebInfo (not a sanitizer build).
"""
import argparse
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))


def parse_stats(stderr):
    text = stderr.decode()
    head = re.search(r"(\d+) lines in ([\d.]+) s: (\d+) lines/s", text)
    if not head:
        raise SystemExit("no --stats report in:\n" + text)
    phases = {m.group(1).split(" (")[0].strip(): float(m.group(2))
              for m in re.finditer(r"^  (.+?)\s+([\d.-]+) s\s+[\d.-]+%$", text, re.M)}
    return int(head.group(1)), float(head.group(2)), phases


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("binary")
    parser.add_argument("source")
    parser.add_argument("--lines", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--keep", help="where to keep the generated stream between runs")
    args = parser.parse_args()

    definition = os.path.join(args.source, "examples", "b2b_pipeline.json")
    people = os.path.join(args.source, "examples", "directory", "people.json")
    tmp = None
    stream = args.keep
    if stream is None:
        tmp = tempfile.TemporaryDirectory(prefix="salesflow-bench-run-")
        stream = os.path.join(tmp.name, "commands.jsonl")
    if not os.path.exists(stream):
        started = time.monotonic()
        with open(stream, "wb") as f:
            subprocess.run([sys.executable, os.path.join(HERE, "generate_commands.py"),
                            "--lines", str(args.lines)], stdout=f, check=True)
        print("generated %s (%.0f MB) in %.1f s" % (stream, os.path.getsize(stream) / 1e6,
                                                   time.monotonic() - started))
    size = os.path.getsize(stream)
    command = [args.binary, "run", definition, "--directory", people, "--stats"]
    print("command: %s < %s > /dev/null" % (" ".join(command), stream))

    runs = []
    for i in range(args.repeat):
        with open(stream, "rb") as stdin, open(os.devnull, "wb") as devnull:
            result = subprocess.run(command, stdin=stdin, stdout=devnull,
                                    stderr=subprocess.PIPE)
        if result.returncode != 0:
            raise SystemExit("salesflow run failed (%d):\n%s" % (result.returncode,
                                                                 result.stderr.decode()))
        lines, seconds, phases = parse_stats(result.stderr)
        runs.append((seconds, lines, phases))
        print("run %d: %d lines in %.3f s = %.0f lines/s, %.1f MB/s; " % (
            i + 1, lines, seconds, lines / seconds, size / seconds / 1e6) +
            ", ".join("%s %.3f s" % (k, v) for k, v in phases.items()))

    seconds, lines, phases = sorted(runs, key=lambda r: r[0])[len(runs) // 2]
    print()
    print("median: %d lines in %.3f s = %.0f lines/s (%.2f us/line)" % (
        lines, seconds, lines / seconds, 1e6 * seconds / lines))
    for name, value in phases.items():
        print("  %-26s %7.3f s  %5.1f%%  %6.2f us/line" % (
            name, value, 100 * value / seconds, 1e6 * value / lines))
    parse_share = phases.get("decode", 0) / seconds
    print("JSON decoding share of the whole run: %.1f%%" % (100 * parse_share))
    print("spread of the %d runs: %.3f .. %.3f s (stdev %.3f)" % (
        len(runs), min(r[0] for r in runs), max(r[0] for r in runs),
        statistics.pstdev([r[0] for r in runs])))


if __name__ == "__main__":
    main()
