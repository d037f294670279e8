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
check("unreadable file", p.returncode == 1
      and "no-such-file.json: the rule file: cannot open the file: " in p.stderr, p)

# Files are read up to their limit (1 MiB for a rule, 8 MiB for data): a file of exactly the
# limit is read, one byte more is refused by name, and an endless one ends the same way.
limit_file = os.path.join(WORK_DIR, "limit.json")
with open(limit_file, "w", encoding="utf-8") as f:
    f.write(" " * ((1 << 20) - 1) + "7")
p = run("@" + limit_file)
check("a rule file of exactly the limit", p.returncode == 0 and p.stdout == "7\n", p)
with open(limit_file, "w", encoding="utf-8") as f:
    f.write(" " * (1 << 20) + "7")
p = run("@" + limit_file)
check("a rule file one byte over the limit", p.returncode == 1 and p.stderr ==
      limit_file + ": the rule file: the file is larger than the limit of 1048576 bytes\n", p)
if os.path.exists("/dev/zero"):
    p = run("@/dev/zero")
    check("an endless rule file", p.returncode == 1 and "larger than the limit" in p.stderr, p)
    p = run('{"var":"a"}', "@/dev/zero")
    check("an endless data file", p.returncode == 1 and p.stderr ==
          "/dev/zero: the data file: the file is larger than the limit of 8388608 bytes\n", p)

# Usage errors: exit 2.
p = run()
check("no rule", p.returncode == 2, p)
p = run("1", "2", "3")
check("too many arguments", p.returncode == 2, p)

for failure in failures:
    print("FAIL " + failure, file=sys.stderr)
print(f"{checks - len(failures)} passed, {len(failures)} failed")
sys.exit(1 if failures else 0)
