#!/usr/bin/env python3
"""End to end: `salesflow rule RULE [DATA]`. Usage: test_rule_cli.py SALESFLOW_BINARY WORK_DIR"""

import json
import os
import subprocess
import sys

BINARY, WORK_DIR = sys.argv[1], sys.argv[2]
failures = []
checks = 0


def run(*args):
    return subprocess.run([BINARY, "rule", *args], capture_output=True, text=True, timeout=60,
                          check=False)


def check(name, condition, proc):
    global checks
    checks += 1
    if not condition:
        failures.append(f"{name}: exit {proc.returncode}\n  stdout: {proc.stdout!r}\n"
                        f"  stderr: {proc.stderr!r}")


# A rule and inline data: the result as JSON on one line, exit 0.
p = run('{">=":[{"var":"amount"},100000]}', '{"amount":250000}')
check("inline rule and data", p.returncode == 0 and p.stdout == "true\n", p)

# Without data the rule sees an empty object.
p = run('{"missing":["a"]}')
check("data defaults to {}", p.returncode == 0 and json.loads(p.stdout) == ["a"], p)

# Results print as JavaScript prints them.
p = run('{"+":[0.1,0.2]}')
check("number formatting", p.returncode == 0 and p.stdout == "0.30000000000000004\n", p)

# @file arguments.
os.makedirs(WORK_DIR, exist_ok=True)
rule_file = os.path.join(WORK_DIR, "rule.json")
data_file = os.path.join(WORK_DIR, "data.json")
with open(rule_file, "w", encoding="utf-8") as f:
    f.write('{"map":[{"var":"xs"},{"*":[{"var":""},2]}]}')
with open(data_file, "w", encoding="utf-8") as f:
    f.write('{"xs":[1,2,3]}')
p = run("@" + rule_file, "@" + data_file)
check("@file arguments", p.returncode == 0 and json.loads(p.stdout) == [2, 4, 6], p)

# A rule that does not compile: exit 1, one POINTER: message line per problem.
p = run('{"and":[{"frobnicate":1},{"==":[1]}]}')
lines = p.stderr.splitlines()
check("diagnostics", p.returncode == 1 and p.stdout == "" and len(lines) == 2
      and lines[0].startswith("/and/0/frobnicate: ") and lines[1].startswith("/and/1/==: "), p)

p = run('{"==":[1,')
check("not JSON", p.returncode == 1 and p.stderr.strip() != "", p)

p = run('{"var":"a"}', '{"a":1,"a":2}')
check("bad data", p.returncode == 1 and p.stderr.startswith("data: "), p)

# An evaluation error: exit 1 with the operator's pointer.
p = run('{"if":[true,{"missing_some":[1,null]}]}')
check("evaluation error", p.returncode == 1 and p.stderr.startswith("/if/1: "), p)

p = run("@" + os.path.join(WORK_DIR, "no-such-file.json"))
check("unreadable file", p.returncode == 1 and "cannot read" in p.stderr, p)

# Usage errors: exit 2.
p = run()
check("no rule", p.returncode == 2, p)
p = run("1", "2", "3")
check("too many arguments", p.returncode == 2, p)

for failure in failures:
    print("FAIL " + failure, file=sys.stderr)
print(f"{checks - len(failures)} passed, {len(failures)} failed")
sys.exit(1 if failures else 0)
