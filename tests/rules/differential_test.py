#!/usr/bin/env python3
"""Differential test: salesflow's rule engine against json-logic-js 2.0.5 on Node.

Generates random rules over random data (fixed seed), evaluates every case with both, and fails on
any difference that is not one of the deliberate deviations of docs/rules.md. The generator avoids
those deviations by construction (each avoidance below names the deviation it steers around); the
comparator excludes exactly one more (results with unpaired UTF-16 surrogates).

Usage: differential_test.py BATCH_EVALUATOR WORK_DIR [--cases N] [--seed S]
Exit status: 0 pass, 1 differences or failure, 77 skipped (no node/npm or no registry), except
that under CI=true a missing prerequisite is a failure.
"""

import argparse
import json
import os
import random
import shutil
import subprocess
import sys

SKIP = 77
JSONLOGIC_VERSION = "2.0.5"
HERE = os.path.dirname(os.path.abspath(__file__))

# --- Values --------------------------------------------------------------------------------------

# Keys never name a JavaScript built-in property (toString, constructor, indexOf, at, ...): rules
# do not reach those (deviation "built-in properties").
KEYS = ["a", "b", "c", "n", "s", "list", "obj", "empty", "0", "1", "x.y"]
STRINGS = ["", "a", "b", "abc", "ab", "0", "1", "-1", "2.5", " 7 ", "1e3", "0x1f", "0b11", "0o17",
           "Infinity", "-Infinity", "NaN", "true", "false", "null", "1,2", "a.b", "é", "日本",
           "x😀y", "😀", "\ue000", "3 apples", ".5", "5.", "+4", "\t\n", "1_000", "  ", "A", "Z"]
NUMBERS = [0, 1, -1, 2, 3, 7, 10, 100, 0.5, -2.25, 0.1, 0.2, 0.3, 1e21, 1.5e-7, 123456789012,
           2 ** 53 + 1, 1e300, -0.0, 3.14159, -7, 1e-7, 4]
PATHS = ["a", "b", "c", "n", "s", "list", "obj", "empty", "0", "1", "missing", "obj.a", "obj.b",
         "obj.list", "list.0", "list.1", "list.5", "list.length", "s.0", "s.1", "s.length",
         "obj.list.0", "a.b", "a.b.c", "obj.obj.a", "x.y", "list.00", "list.-1", "", "current",
         "accumulator", "current.a", "accumulator.0"]
# Paths that are safe inside an element scope of map/filter/all/some/none.
ELEMENT_PATHS = ["", "a", "b", "0", "1", "length", "list", "list.0", "s"]
REDUCE_PATHS = ["current", "accumulator", "current.a", "current.0", "accumulator.length",
                "current.length", ""]


class Gen:
    def __init__(self, rng):
        self.r = rng

    def scalar(self):
        k = self.r.random()
        if k < 0.35:
            return self.r.choice(NUMBERS)
        if k < 0.75:
            return self.r.choice(STRINGS)
        if k < 0.9:
            return self.r.choice([True, False])
        return None

    def value(self, depth=0):
        k = self.r.random()
        if depth >= 3 or k < 0.65:
            return self.scalar()
        if k < 0.85:
            return [self.value(depth + 1) for _ in range(self.r.randint(0, 4))]
        return {key: self.value(depth + 1) for key in self.r.sample(KEYS, self.r.randint(0, 4))}

    def data(self):
        if self.r.random() < 0.1:
            return self.value()
        d = {}
        for key in self.r.sample(KEYS, self.r.randint(2, 8)):
            d[key] = self.value(1)
        if self.r.random() < 0.5:
            d["list"] = [self.value(2) for _ in range(self.r.randint(0, 5))]
        if self.r.random() < 0.3:
            d["obj"] = {k: self.value(2) for k in self.r.sample(KEYS, self.r.randint(1, 4))}
        return d

    # --- Rules -----------------------------------------------------------------------------------

    def literal(self):
        if self.r.random() < 0.12:
            return [self.scalar() for _ in range(self.r.randint(0, 3))]
        return self.scalar()

    def path(self, scope):
        if scope == "element":
            return self.r.choice(ELEMENT_PATHS)
        if scope == "reduce":
            return self.r.choice(REDUCE_PATHS)
        return self.r.choice(PATHS)

    def var(self, scope, depth):
        p = self.path(scope)
        k = self.r.random()
        if k < 0.45:
            return {"var": p}
        if k < 0.6:
            return {"var": [p]}
        if k < 0.8:
            return {"var": [p, self.expr(scope, depth + 1)]}
        if k < 0.85:
            return {"var": []}
        if k < 0.9:
            return {"var": self.r.choice([0, 1, 2, 1.5])}
        # A computed path, assembled from the pieces of known paths only.
        pieces = p.split(".")
        joined = []
        for i, piece in enumerate(pieces):
            if i:
                joined.append(".")
            joined.append(piece)
        if self.r.random() < 0.5:
            return {"var": {"cat": joined}}
        return {"var": [{"if": [self.expr(scope, depth + 1), p, self.path(scope)]},
                        self.literal()]}

    def keys(self):
        # Keys for missing/missing_some: never objects, which json-logic-js would try to run as
        # rules (deviation "data is never run as a rule").
        choice = self.r.random()
        keys = [self.r.choice(PATHS + [1, 0, 2]) for _ in range(self.r.randint(0, 4))]
        if choice < 0.5:
            return keys
        if choice < 0.65:
            return [keys]
        if choice < 0.75:
            return self.r.choice(PATHS)
        if choice < 0.85:
            return {"merge": [keys, [self.r.choice(PATHS)], self.r.choice(PATHS)]}
        return [keys, self.r.choice(PATHS)]

    def array_source(self, scope, depth):
        k = self.r.random()
        if k < 0.4:
            return {"var": self.r.choice(["list", "obj.list", "s", "a", "empty", "list.0", "obj"])}
        if k < 0.7:
            return [self.literal() for _ in range(self.r.randint(0, 4))]
        if k < 0.85:
            return {"merge": [self.expr(scope, depth + 1) for _ in range(self.r.randint(0, 3))]}
        return self.expr(scope, depth + 1)

    def expr(self, scope="root", depth=0):
        if depth >= 4 or self.r.random() < 0.3:
            return self.var(scope, depth) if self.r.random() < 0.4 else self.literal()
        op = self.r.choice(OPERATORS)
        sub = lambda: self.expr(scope, depth + 1)  # noqa: E731
        n = lambda lo, hi: [sub() for _ in range(self.r.randint(lo, hi))]  # noqa: E731
        if op == "var":
            return self.var(scope, depth)
        if op == "missing":
            return {"missing": self.keys()}
        if op == "missing_some":
            need = self.r.choice([0, 1, 2, 3, "1", None]) if self.r.random() < 0.8 else sub()
            options = self.keys() if self.r.random() < 0.9 else self.r.choice([None, "abc", 5])
            return {"missing_some": [need, options]}
        if op in ("if", "?:"):
            return {op: n(0, 6)}
        if op in ("==", "===", "!=", "!==", ">", ">=", "/", "%", "in"):
            return {op: n(2, 2)}
        if op in ("<", "<="):
            return {op: n(2, 3)}
        if op in ("!", "!!"):
            arg = sub()
            # The shorthand {"!": x} only when x is not an array (which would be the arguments).
            return {op: arg if self.r.random() < 0.3 and not isinstance(arg, list) else [arg]}
        if op in ("and", "or", "max", "min", "*"):
            return {op: n(1, 4)}
        if op in ("+", "cat", "merge"):
            return {op: n(0, 4)}
        if op == "-":
            return {op: n(1, 2)}
        if op == "substr":
            return {op: n(1, 3)}
        if op in ("map", "filter", "all", "some", "none"):
            return {op: [self.array_source(scope, depth), self.expr("element", depth + 1)]}
        if op == "reduce":
            args = [self.array_source(scope, depth), self.expr("reduce", depth + 1)]
            if self.r.random() < 0.8:
                args.append(sub())
            return {op: args}
        raise AssertionError(op)

    def rule(self):
        if self.r.random() < 0.05:
            return [self.expr() for _ in range(self.r.randint(0, 3))]
        return self.expr()


OPERATORS = ["var", "missing", "missing_some", "if", "?:", "==", "===", "!=", "!==", "!", "!!",
             "or", "and", ">", ">=", "<", "<=", "max", "min", "+", "-", "*", "/", "%", "cat",
             "substr", "in", "merge", "map", "filter", "reduce", "all", "some", "none"]

# --- Running ---------------------------------------------------------------------------------------


def prerequisite_missing(message):
    if os.environ.get("CI") == "true":
        print(f"FAIL: {message} (CI=true, so this is a failure)", file=sys.stderr)
        return 1
    print(f"SKIP: {message}", file=sys.stderr)
    return SKIP


def install_jsonlogic(work_dir):
    """Installs json-logic-js into work_dir (the build tree); returns its node_modules or None."""
    modules = os.path.join(work_dir, "node_modules")
    manifest = os.path.join(modules, "json-logic-js", "package.json")
    try:
        with open(manifest, encoding="utf-8") as f:
            if json.load(f).get("version") == JSONLOGIC_VERSION:
                return modules
    except (OSError, ValueError):
        pass
    npm = shutil.which("npm")
    if npm is None:
        return None
    os.makedirs(work_dir, exist_ok=True)
    proc = subprocess.run(
        [npm, "install", "--prefix", work_dir, "--no-audit", "--no-fund", "--no-save",
         "--no-package-lock", f"json-logic-js@{JSONLOGIC_VERSION}"],
        capture_output=True, text=True, timeout=300, check=False)
    if proc.returncode != 0 or not os.path.exists(manifest):
        print(proc.stdout + proc.stderr, file=sys.stderr)
        return None
    return modules


def has_lone_surrogate(value):
    if isinstance(value, str):
        return any(0xD800 <= ord(ch) <= 0xDFFF for ch in value)
    if isinstance(value, list):
        return any(has_lone_surrogate(v) for v in value)
    if isinstance(value, dict):
        return any(has_lone_surrogate(k) or has_lone_surrogate(v) for k, v in value.items())
    return False


def same(a, b):
    """JSON equality where 1 == 1.0 but True != 1 (Python would say True == 1)."""
    if isinstance(a, bool) or isinstance(b, bool):
        return isinstance(a, bool) and isinstance(b, bool) and a == b
    if isinstance(a, (int, float)) and isinstance(b, (int, float)):
        return float(a) == float(b)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b))
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
    return type(a) is type(b) and a == b


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("batch_evaluator")
    parser.add_argument("work_dir")
    parser.add_argument("--cases", type=int, default=10000)
    parser.add_argument("--seed", type=int, default=20240611)
    args = parser.parse_args()

    node = shutil.which("node") or shutil.which("nodejs")
    if node is None:
        return prerequisite_missing("node is not installed (Debian packages: nodejs npm)")
    modules = install_jsonlogic(args.work_dir)
    if modules is None:
        return prerequisite_missing(
            f"cannot npm install json-logic-js@{JSONLOGIC_VERSION} into {args.work_dir}")

    gen = Gen(random.Random(args.seed))
    cases = [(gen.rule(), gen.data()) for _ in range(args.cases)]
    cases_file = os.path.join(args.work_dir, "cases.jsonl")
    with open(cases_file, "w", encoding="utf-8") as f:
        for rule, data in cases:
            f.write(json.dumps([rule, data], ensure_ascii=False) + "\n")

    env = dict(os.environ, NODE_PATH=modules)
    js = subprocess.run([node, os.path.join(HERE, "jsonlogic_eval.js"), cases_file],
                        capture_output=True, text=True, env=env, timeout=600, check=False)
    if js.returncode != 0:
        print("json-logic-js side failed:\n" + js.stderr, file=sys.stderr)
        return 1
    sf = subprocess.run([args.batch_evaluator, cases_file], capture_output=True, text=True,
                        timeout=600, check=False)
    if sf.returncode != 0:
        print("salesflow side failed:\n" + sf.stderr, file=sys.stderr)
        return 1
    js_lines = js.stdout.splitlines()
    sf_lines = sf.stdout.splitlines()
    if len(js_lines) != len(cases) or len(sf_lines) != len(cases):
        print(f"expected {len(cases)} results, got {len(js_lines)} (js), {len(sf_lines)} (salesflow)",
              file=sys.stderr)
        return 1

    differences = []
    excluded = 0
    errors_both = 0
    for (rule, data), js_line, sf_line in zip(cases, js_lines, sf_lines):
        expected = json.loads(js_line)
        actual = json.loads(sf_line)
        if "undefined" in expected:
            expected = {"result": None}  # deviation "undefined is returned as null"
        if "error" in expected and "error" in actual:
            errors_both += 1
            continue
        if "result" in expected and has_lone_surrogate(expected["result"]):
            excluded += 1  # deviation "unpaired surrogates"
            continue
        if "result" in expected and "result" in actual and same(expected["result"],
                                                                 actual["result"]):
            continue
        differences.append((rule, data, expected, actual))

    for rule, data, expected, actual in differences[:25]:
        print("DIFFERENCE\n  rule: " + json.dumps(rule, ensure_ascii=False) +
              "\n  data: " + json.dumps(data, ensure_ascii=False) +
              "\n  json-logic-js: " + json.dumps(expected, ensure_ascii=False) +
              "\n  salesflow:     " + json.dumps(actual, ensure_ascii=False), file=sys.stderr)
    compared = len(cases) - excluded
    print(f"differential: {len(cases)} random rules (seed {args.seed}), {compared} compared, "
          f"{excluded} excluded as deliberate deviations, {errors_both} fail in both, "
          f"{len(differences)} differ")
    print(f"{compared - len(differences)} passed, {len(differences)} failed")
    return 1 if differences else 0


if __name__ == "__main__":
    sys.exit(main())
