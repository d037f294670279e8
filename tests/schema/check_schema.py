#!/usr/bin/env python3
"""Checks schema/definition.schema.json against the definitions of the source tree.

Usage: check_schema.py SOURCE_DIR

1. The schema must itself be a valid JSON Schema (draft 2020-12).
2. Every examples/*.json must be accepted by it.
3. Every tests/data/schema-invalid/*.json must be rejected by it: each of those files is a valid
   definition with exactly one defect that the schema is meant to catch.

Prints one line per check and closes with "N passed, M failed"; exits 1 on any failure and 2 on
usage errors. Needs the jsonschema package (Debian: python3-jsonschema, 4.10 or later).
"""
import json
import pathlib
import sys

import jsonschema
from jsonschema.exceptions import best_match


def load_json(path):
    with open(path, encoding="utf-8") as f:
        return json.load(f)


def describe(error):
    """The JSON Pointer of the offending value and the validator's message (cut if very long)."""
    where = "/" + "/".join(str(p) for p in error.absolute_path)
    message = error.message
    if len(message) > 300:
        message = message[:297] + "..."
    return f"{where}: {message}"


def main(argv):
    if len(argv) != 2:
        print(f"usage: {argv[0]} SOURCE_DIR", file=sys.stderr)
        return 2
    source = pathlib.Path(argv[1])
    schema_path = source / "schema" / "definition.schema.json"
    passed = 0
    failed = 0

    def result(ok, label, detail=""):
        nonlocal passed, failed
        if ok:
            passed += 1
            print(f"ok      {label}{detail}")
        else:
            failed += 1
            print(f"FAILED  {label}{detail}")

    try:
        schema = load_json(schema_path)
        jsonschema.Draft202012Validator.check_schema(schema)
    except (OSError, ValueError, jsonschema.exceptions.SchemaError) as e:
        message = e.message if isinstance(e, jsonschema.exceptions.SchemaError) else str(e)
        result(False, str(schema_path), f": not a valid draft 2020-12 schema: {message}")
        print(f"{passed} passed, {failed} failed")
        return 1
    result(True, str(schema_path), ": valid draft 2020-12 schema")
    validator = jsonschema.Draft202012Validator(schema)

    groups = [
        (sorted((source / "examples").glob("*.json")), True),
        (sorted((source / "tests" / "data" / "schema-invalid").glob("*.json")), False),
    ]
    for files, expect_valid in groups:
        if not files:
            kind = "examples/*.json" if expect_valid else "tests/data/schema-invalid/*.json"
            result(False, str(source / kind), ": no files found")
        for path in files:
            try:
                instance = load_json(path)
            except (OSError, ValueError) as e:
                result(False, str(path), f": cannot read the JSON: {e}")
                continue
            error = best_match(validator.iter_errors(instance))
            if expect_valid:
                if error is None:
                    result(True, str(path), ": accepted")
                else:
                    result(False, str(path), f": rejected, but should be accepted: {describe(error)}")
            else:
                if error is None:
                    result(False, str(path), ": accepted, but should be rejected")
                else:
                    result(True, str(path), f": rejected: {describe(error)}")

    print(f"{passed} passed, {failed} failed")
    return 0 if failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
