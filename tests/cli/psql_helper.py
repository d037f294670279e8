"""Databases of their own for the PostgreSQL tests, made with psql (postgresql-client)."""
import os
import subprocess
import sys
from types import SimpleNamespace


def psql(conninfo, sql):
    subprocess.run(["psql", "-v", "ON_ERROR_STOP=1", "-q", "-d", conninfo, "-c", sql],
                   check=True, capture_output=True)


def fresh_database(base, name):
    """Creates an empty database `name` on the server of `base`; returns its conninfo."""
    psql(base, "DROP DATABASE IF EXISTS " + name)
    psql(base, "CREATE DATABASE " + name)
    return base + " dbname=" + name


def drop_database(base, name):
    psql(base, "DROP DATABASE IF EXISTS " + name)


def query(conninfo, sql):
    """The first column of the first row of `sql`'s result, as text."""
    result = subprocess.run(["psql", "-v", "ON_ERROR_STOP=1", "-q", "-A", "-t", "-d", conninfo,
                             "-c", sql], check=True, capture_output=True)
    return result.stdout.decode().strip().split("\n")[0]


def cli_test(database):
    """What a CLI test on PostgreSQL starts from: its arguments (PATH/TO/salesflow SOURCE_DIR),
    the server (SALESFLOW_TEST_POSTGRES), a fresh database `database` and its store URI, and the
    B2B definition and directory of the examples."""
    binary, source = sys.argv[1], sys.argv[2]
    base = os.environ["SALESFLOW_TEST_POSTGRES"]
    conninfo = fresh_database(base, database)
    return SimpleNamespace(
        binary=binary, source=source, base=base, conninfo=conninfo, store="postgres:" + conninfo,
        b2b=os.path.join(source, "examples", "b2b_pipeline.json"),
        people=os.path.join(source, "examples", "directory", "people.json"))
