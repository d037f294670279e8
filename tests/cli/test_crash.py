#!/usr/bin/env python3
"""Crash test with real processes: `salesflow run --store sqlite:...` on a long command stream is
killed with SIGKILL at random points, then restarted on the same stream (with --key-prefix, so that
commands answered before the kill get their stored answers back). Each run commits its commands
one per transaction or in batches (--batch), at random. At the end:

- every answer a killed run wrote equals the answer of an uninterrupted run (nothing answered was
  lost, and replaying a stored answer reproduces it);
- the stored events equal those of an uninterrupted run exactly (none lost, none doubled, none half
  applied: versions are gapless);
- every stored event was handed to the listener (--notify) at least once.

Usage: test_crash.py PATH/TO/salesflow SOURCE_DIR [--kills N] [--lines N] [--seed S]
                     [--postgres CONNINFO]

With --postgres the killed runs use PostgreSQL stores (a fresh database per round on the server of
CONNINFO); the reference store is SQLite either way, and `salesflow events` prints both alike.
"""
import argparse
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time

import psql_helper


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("bin")
    parser.add_argument("source")
    parser.add_argument("--kills", type=int, default=24)
    parser.add_argument("--lines", type=int, default=12000)
    parser.add_argument("--seed", type=int, default=int(time.time()))
    parser.add_argument("--postgres", help="a conninfo: kill runs on PostgreSQL stores")
    args = parser.parse_args()
    rng = random.Random(args.seed)
    rounds = 0
    print("seed %d, %d kills, %d lines" % (args.seed, args.kills, args.lines))

    tmp = tempfile.mkdtemp(prefix="salesflow-crash-")
    try:
        b2b = os.path.join(args.source, "examples", "b2b_pipeline.json")
        people = os.path.join(args.source, "examples", "directory", "people.json")
        stream = os.path.join(tmp, "commands.jsonl")
        with open(stream, "wb") as out:
            subprocess.run([sys.executable,
                            os.path.join(args.source, "bench", "run", "generate_commands.py"),
                            "--lines", str(args.lines), "--concurrent", "200",
                            "--seed", str(args.seed)], stdout=out, check=True)

        def command(store, notify=None):
            # Snapshots every 4 events: kills land while snapshots are written, and every
            # restart recovers from snapshots plus the events after them.
            cmd = [args.bin, "run", b2b, "--directory", people, "--store", store,
                   "--key-prefix", "crash:", "--snapshot-every", "4"]
            return cmd + (["--notify", notify] if notify else [])

        # The reference: one uninterrupted run in memory.
        with open(stream, "rb") as stdin:
            reference = subprocess.run(command("memory"), stdin=stdin, capture_output=True,
                                       check=True).stdout.splitlines()
        assert len(reference) == args.lines, (len(reference), args.lines)

        # How long an uninterrupted run on SQLite takes, to spread the kills over it; its store
        # is the reference for the stored events.
        def new_store(name):
            if args.postgres:
                return "postgres:" + psql_helper.fresh_database(args.postgres, "t_crash_" + name)
            return "sqlite:" + os.path.join(tmp, name + ".sqlite")

        reference_store = "sqlite:" + os.path.join(tmp, "reference.sqlite")
        with open(stream, "rb") as stdin:
            subprocess.run(command(reference_store), stdin=stdin, stdout=subprocess.DEVNULL,
                           check=True)
        timing_store = new_store("timing")
        start = time.monotonic()
        with open(stream, "rb") as stdin:
            subprocess.run(command(timing_store), stdin=stdin, stdout=subprocess.DEVNULL,
                           check=True)
        full = time.monotonic() - start

        def events(uri):
            return subprocess.run([args.bin, "events", "--store", uri], capture_output=True,
                                  check=True).stdout.splitlines()

        reference_events = events(reference_store)

        def verify(store, notify):
            """The store after a completed run: as the uninterrupted one, and all notified."""
            stored = events(store)
            if stored != reference_events:
                raise SystemExit("the stored events differ from an uninterrupted run's")
            with open(notify) as f:
                delivered = {json.loads(line)["id"] for line in f}
            ids = {"%s#%d" % (json.loads(l)["instance"], json.loads(l)["version"])
                   for l in stored}
            lost = ids - delivered
            if lost:
                raise SystemExit("%d notifications lost, e.g. %s" % (len(lost), sorted(lost)[:5]))
            return len(stored)

        # Rounds: restart on the same store until a run completes (it is then verified and the
        # next round starts on a new store), killing each run at a random point before that.
        killed = answered_checked = rounds = 0
        store = notify = None
        while True:
            if store is None:
                rounds += 1
                store = new_store("crash_%d" % rounds)
                notify = os.path.join(tmp, "notify-%d.jsonl" % rounds)
            out_path = os.path.join(tmp, "out.jsonl")
            with open(stream, "rb") as stdin, open(out_path, "wb") as out:
                # Half the runs commit each command on its own, half in batches (the default).
                batch = ["--batch", "0"] if rng.random() < 0.5 else []
                proc = subprocess.Popen(command(store, notify) + batch, stdin=stdin, stdout=out,
                                        stderr=subprocess.PIPE)
                deadline = time.monotonic() + rng.uniform(0.01, full)
                while proc.poll() is None and time.monotonic() < deadline:
                    time.sleep(0.005)
                completed = proc.poll() is not None
                if not completed and killed < args.kills:
                    proc.send_signal(signal.SIGKILL)
                    killed += 1
                proc.wait()
                error = proc.stderr.read().decode()
                proc.stderr.close()
            with open(out_path, "rb") as f:
                written = f.read()
            lines = written.split(b"\n")[:-1]  # the last piece is unfinished (or empty)
            for i, line in enumerate(lines):
                if line != reference[i]:
                    raise SystemExit("answer %d differs from the uninterrupted run:\n  %s\n  %s"
                                     % (i + 1, line, reference[i]))
            answered_checked += len(lines)
            if proc.returncode == -signal.SIGKILL:
                print("kill %2d (round %d): %6d answers written before it, all as uninterrupted"
                      % (killed, rounds, len(lines)))
                continue
            if proc.returncode != 0:
                raise SystemExit("a run failed (exit %d): %s" % (proc.returncode, error))
            if len(lines) != len(reference):
                raise SystemExit("a completed run answered %d lines" % len(lines))
            count = verify(store, notify)
            print("round %d completed: %d events stored as in an uninterrupted run, every one "
                  "notified" % (rounds, count))
            store = None
            if killed >= args.kills:
                break
        print("%d kills in %d rounds; %d answers written before kills or at the end, all as "
              "uninterrupted" % (killed, rounds, answered_checked))
    finally:
        shutil.rmtree(tmp)
        if args.postgres:
            for r in range(rounds + 1):
                psql_helper.drop_database(args.postgres, "t_crash_crash_%d" % r)
            psql_helper.drop_database(args.postgres, "t_crash_timing")


if __name__ == "__main__":
    main()
