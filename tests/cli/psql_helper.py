"""Databases of their own for the PostgreSQL tests, made with psql (postgresql-client)."""
import subprocess


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
