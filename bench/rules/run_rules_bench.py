#!/usr/bin/env python3
"""Runs the rules benchmark for salesflow and for json-logic-js on Node in the same job, and
prints both with their ratio.

Usage: run_rules_bench.py SALESFLOW_BENCH_RULES WORK_DIR
WORK_DIR (in the build tree) receives json-logic-js from npm.
"""

import json
import os
import shutil
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "tests", "rules"))
from differential_test import JSONLOGIC_VERSION, install_jsonlogic  # noqa: E402

CASES = os.path.join(HERE, "gate_rules.json")


def main():
    bench, work_dir = sys.argv[1], sys.argv[2]
    node = shutil.which("node") or shutil.which("nodejs")
    modules = install_jsonlogic(work_dir) if node else None
    if modules is None:
        print("node or json-logic-js unavailable (Debian packages: nodejs npm)", file=sys.stderr)
        return 1

    out = subprocess.run([bench, "--benchmark_format=json", "--benchmark_min_time=2",
                          "--benchmark_filter=BM_GateRules|BM_SimpleComparison"],
                         capture_output=True, text=True, check=True)
    ours = {b["name"]: b for b in json.loads(out.stdout)["benchmarks"]}
    js_out = subprocess.run([node, os.path.join(HERE, "jsonlogic_bench.js"), CASES],
                            capture_output=True, text=True, check=True,
                            env=dict(os.environ, NODE_PATH=modules))
    js = json.loads(js_out.stdout)

    def ns_per_item(name):
        b = ours[name]
        return 1e9 / b["items_per_second"]

    gate_sf = ns_per_item("BM_GateRules")
    simple_json = ns_per_item("BM_SimpleComparisonJsonData")
    simple_host = ns_per_item("BM_SimpleComparisonHostData")
    print(f"json-logic-js {JSONLOGIC_VERSION} on node {subprocess.check_output([node, '--version'], text=True).strip()}")
    print(f"{'':40} {'salesflow':>12} {'json-logic-js':>14} {'ratio':>8}")
    print(f"{'gate rules (mean per evaluation)':40} {gate_sf:10.1f}ns {js['gate_rules_ns']:12.1f}ns "
          f"{js['gate_rules_ns'] / gate_sf:7.1f}x")
    print(f"{'>= on one field, JSON data':40} {simple_json:10.1f}ns {js['simple_ns']:12.1f}ns "
          f"{js['simple_ns'] / simple_json:7.1f}x")
    print(f"{'>= on one field, host RuleData':40} {simple_host:10.1f}ns")
    return 0


if __name__ == "__main__":
    sys.exit(main())
