#!/usr/bin/env python3
"""End-to-end tests of the salesflow command-line tool: exit codes, output formats, bad input.

Usage: test_cli.py PATH/TO/salesflow SOURCE_DIR
"""
import json
import os
import shutil
import subprocess
import sys
import tempfile
import unittest

import support

BIN = None
SOURCE = None


def run(*args, stdin=None):
    return subprocess.run([BIN, *args], input=stdin, capture_output=True, timeout=60)


def examples():
    folder = os.path.join(SOURCE, "examples")
    return sorted(os.path.join(folder, f) for f in os.listdir(folder) if f.endswith(".json"))


class Validate(support.TempDirTestCase):
    def broken(self):
        with open(os.path.join(SOURCE, "examples", "b2b_pipeline.json")) as f:
            doc = json.load(f)
        doc["stages"][0]["responsibility"]["accountable"] = "ceo"
        doc["version"] = 0
        return self.write("broken.json", json.dumps(doc))

    def test_valid_files_exit_0(self):
        result = run("validate", *examples())
        self.assertEqual(result.returncode, 0, result.stdout + result.stderr)
        self.assertEqual(result.stdout.decode().count(": valid:"), len(examples()))

    def test_invalid_file_exits_1_and_prints_file_pointer_message(self):
        path = self.broken()
        result = run("validate", examples()[0], path)
        self.assertEqual(result.returncode, 1)
        lines = [l for l in result.stdout.decode().splitlines() if l.startswith(path + ": /")]
        pointers = sorted(l.split(": ")[1] for l in lines)
        self.assertEqual(pointers, ["/stages/0/responsibility/accountable", "/version"])
        for line in lines:
            self.assertGreater(len(line.split(": ", 2)[2]), 10, line)

    def test_json_output_is_an_array_of_diagnostics(self):
        path = self.broken()
        result = run("validate", "--json", path, examples()[0])
        self.assertEqual(result.returncode, 1)
        report = json.loads(result.stdout)
        self.assertEqual(len(report), 2)
        for d in report:
            self.assertEqual(set(d), {"file", "pointer", "code", "message"})
            self.assertEqual(d["file"], path)
        self.assertEqual(sorted(d["code"] for d in report), ["out_of_range", "unknown_reference"])

    def test_json_output_of_valid_files_is_empty_array(self):
        result = run("validate", "--json", *examples())
        self.assertEqual(result.returncode, 0)
        self.assertEqual(json.loads(result.stdout), [])

    def test_missing_file_is_reported_as_a_diagnostic(self):
        result = run("validate", os.path.join(self.tmp, "absent.json"))
        self.assertEqual(result.returncode, 1)
        self.assertIn("absent.json: (document): cannot open the file", result.stdout.decode())

    def test_usage_errors_exit_2(self):
        for args in [[], ["validate"], ["validate", "--bogus", examples()[0]], ["frobnicate"],
                     ["dot"], ["dot", "--format", "png", examples()[0]]]:
            result = run(*args)
            self.assertEqual(result.returncode, 2, args)

    def test_help_exits_0(self):
        self.assertEqual(run("--help").returncode, 0)
        self.assertEqual(run("validate", "--help").returncode, 0)

    def test_hostile_files_exit_1_without_crashing(self):
        cases = {
            "empty.json": b"",
            "truncated.json": open(examples()[0], "rb").read()[:500],
            "nan.json": b'{"format": NaN}',
            "utf8.json": b'{"name": "\xff\xfe"}',
            "deep.json": b"[" * 100000 + b"]" * 100000,
            "dupkey.json": b'{"id": "a", "id": "b"}',
            "nul.json": b'{"id": "a"}\x00 junk',
            "huge-string.json": b'{"name": "' + b"x" * (10 << 20) + b'"}',
        }
        for name, data in cases.items():
            result = run("validate", "--json", self.write(name, data))
            self.assertEqual(result.returncode, 1, name)
            report = json.loads(result.stdout)  # valid JSON even for invalid UTF-8 input
            self.assertEqual(len(report), 1, name)
            self.assertIn(report[0]["code"], {"syntax", "limit", "duplicate_key"}, name)

    def test_text_output_never_echoes_invalid_utf8_or_control_characters(self):
        for data in [b'{"bad\\u0001key\\n": 1}', b'{"x\xff": 2}']:
            path = self.write("ctl.json", data)
            out = run("validate", path).stdout
            out.decode("utf-8")  # must not raise
            self.assertNotIn(b"\x01", out)
            for line in out.decode().splitlines():
                self.assertTrue(line.startswith(path + ": "), line)


class Dot(unittest.TestCase):
    def test_dot_output_is_accepted_by_graphviz(self):
        if shutil.which("dot") is None:
            self.skipTest("graphviz is not installed")
        for path in examples():
            result = run("dot", path)
            self.assertEqual(result.returncode, 0, path)
            rendered = subprocess.run(["dot", "-Tsvg"], input=result.stdout, capture_output=True)
            self.assertEqual(rendered.returncode, 0, rendered.stderr)
            self.assertIn(b"<svg", rendered.stdout)

    def test_dot_clusters_every_module(self):
        path = os.path.join(SOURCE, "examples", "b2b_pipeline.json")
        out = run("dot", path).stdout.decode()
        with open(path) as f:
            modules = json.load(f)["modules"]
        for module in modules:
            self.assertIn('subgraph "cluster_%s"' % module["id"], out)

    def test_mermaid_format(self):
        result = run("dot", "--format", "mermaid", examples()[0])
        self.assertEqual(result.returncode, 0)
        self.assertIn("flowchart LR", result.stdout.decode())

    def test_invalid_definition_exits_1_with_diagnostics_on_stderr(self):
        with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as f:
            f.write('{"format": 1}')
        try:
            result = run("dot", f.name)
            self.assertEqual(result.returncode, 1)
            self.assertEqual(result.stdout, b"")
            self.assertIn(b"needs the key", result.stderr)
        finally:
            os.unlink(f.name)


if __name__ == "__main__":
    BIN, SOURCE = sys.argv[1], sys.argv[2]
    support.main(__name__)
