#!/usr/bin/env python3
"""Runs a salesflow benchmark binary and prints each benchmark's median next to its baseline.

Usage: report.py BENCH_BINARY [--repetitions N]
Pairs are matched by label (the benchmark's argument name): every BM_X/arg is shown as a ratio of
BM_NlohmannParse/arg measured in the same run.
"""
import json
import subprocess
import sys

BASELINE = "BM_NlohmannParse"


def main():
    binary = sys.argv[1]
    reps = sys.argv[sys.argv.index("--repetitions") + 1] if "--repetitions" in sys.argv else "9"
    out = subprocess.run([binary, "--benchmark_format=json", "--benchmark_repetitions=" + reps,
                          "--benchmark_report_aggregates_only=true"],
                         check=True, capture_output=True, text=True).stdout
    rows = [b for b in json.loads(out)["benchmarks"] if b.get("aggregate_name") == "median"]
    base = {b["label"]: b["real_time"] for b in rows if b["run_name"].startswith(BASELINE)}
    print("%-34s %-12s %12s %10s" % ("benchmark", "input", "median", "x parse"))
    for b in rows:
        unit = b["time_unit"]
        ratio = b["real_time"] / base[b["label"]] if b["label"] in base else float("nan")
        print("%-34s %-12s %9.1f %s %9.2fx" % (b["run_name"].split("/")[0], b["label"],
                                              b["real_time"], unit, ratio))


if __name__ == "__main__":
    main()
