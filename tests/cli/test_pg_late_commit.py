#!/usr/bin/env python3
"""A commit that lands after the restart recovered: the race behind a crash-test failure, made
certain.

PostgreSQL finishes a COMMIT whose client died. A deferred trigger (this test's, on the events of
one actor) makes that COMMIT take seconds, so the race is no longer left to chance:

1. run A answers three lines, then sends a fourth (mark sets the urgency) whose COMMIT sleeps in
   the trigger; A is killed (SIGKILL) while it sleeps;
2. run B starts on the same stream and store (--key-prefix), recovers without the fourth line's
   events (not committed yet) and answers line 1;
3. the late COMMIT lands; B then gets lines 2 to 5: line 4's stored answer, and line 5 (maria
   advances, which needs the urgency) must be decided on the stored state, so it is accepted.
   B's --notify file must name the late commit's events (B took them from the store; their
   writer died before it could hand them over).

Usage: test_pg_late_commit.py PATH/TO/salesflow SOURCE_DIR   (SALESFLOW_TEST_POSTGRES: a conninfo)
"""
import json
import os
import signal
import subprocess
import sys
import tempfile
import time

import psql_helper

SLEEP_SECONDS = 3
AT = "2026-01-05T08:%02d:00Z"


def line(n, op, actor, **rest):
    return json.dumps(dict(op=op, instance="deal-1", actor=actor, at=AT % n, **rest)) + "\n"


LINES = [
    line(0, "create", "maria", definition="b2b_pipeline",
         fields={"company": "Acme GmbH", "industry": "retail", "company_size": "medium",
                 "web_visit_minutes": 80}),
    line(1, "check", "maria", item="lead_cleaned"),
    line(2, "check", "maria", item="grade_verified"),
    line(3, "set", "mark", fields={"urgency": "high"}),  # its COMMIT sleeps
    line(4, "advance", "maria", to="needs_diagnosis"),
]


def sleeping_commits(conninfo):
    return int(psql_helper.query(
        conninfo, "SELECT count(*) FROM pg_stat_activity WHERE wait_event = 'PgSleep' "
        "AND datname = current_database()"))


def wait_until(condition, what, timeout=30):
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            sys.exit("timed out waiting until " + what)
        time.sleep(0.02)


def main():
    t = psql_helper.cli_test("t_late_commit")
    binary, base, conninfo, store, b2b, people = (t.binary, t.base, t.conninfo, t.store, t.b2b,
                                                  t.people)

    with tempfile.TemporaryDirectory(prefix="salesflow-late-commit-") as tmp:
        notify = os.path.join(tmp, "b.notify")

        def start(extra=()):
            return subprocess.Popen([binary, "run", b2b, "--directory", people, "--store", store,
                                     "--key-prefix", "k:", *extra],
                                    stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                    stderr=subprocess.PIPE)

        def send(proc, text):
            proc.stdin.write(text.encode())
            proc.stdin.flush()

        def answer(proc):
            got = proc.stdout.readline()
            if not got:
                sys.exit("the run stopped early: " + proc.stderr.read().decode())
            return json.loads(got)

        a = start()
        for text in LINES[:3]:
            send(a, text)
            assert answer(a)["ok"], text
        # The schema exists now: make mark's events take seconds to commit.
        psql_helper.psql(conninfo, """
            CREATE FUNCTION t_slow_commit() RETURNS trigger LANGUAGE plpgsql AS
              $$ BEGIN PERFORM pg_sleep(%d); RETURN NULL; END $$;
            CREATE CONSTRAINT TRIGGER t_slow_commit AFTER INSERT ON salesflow_events
              DEFERRABLE INITIALLY DEFERRED FOR EACH ROW WHEN (NEW.actor = 'mark')
              EXECUTE FUNCTION t_slow_commit();""" % SLEEP_SECONDS)
        send(a, LINES[3])
        wait_until(lambda: sleeping_commits(conninfo) > 0, "run A's COMMIT sleeps")
        a.send_signal(signal.SIGKILL)
        a.wait()
        a.stdout.close()
        a.stderr.close()
        a.stdin.close()

        b = start(["--notify", notify])
        send(b, LINES[0])
        first = answer(b)  # B has recovered: the late COMMIT is still asleep
        if sleeping_commits(conninfo) == 0:
            sys.exit("the late COMMIT landed before run B recovered: the test proved nothing")
        assert first["ok"], first
        wait_until(lambda: sleeping_commits(conninfo) == 0, "the late COMMIT lands")
        for text in LINES[1:]:
            send(b, text)
        answers = [answer(b) for _ in LINES[1:]]
        b.stdin.close()
        b.wait(timeout=60)
        if b.returncode != 0:
            sys.exit("run B failed: " + b.stderr.read().decode())
        late, advanced = answers[2], answers[3]
        if not late["ok"]:
            sys.exit("line 4 was not given its stored answer: %s" % late)
        if not advanced["ok"]:
            sys.exit("line 5 was decided on the state from before the late commit: %s" % advanced)
        with open(notify) as f:
            notified = {json.loads(l)["id"] for l in f}
        missing = {"deal-1#%d" % e["version"] for e in late["events"]} - notified
        if missing:
            sys.exit("the late commit's events were never notified: %s" % sorted(missing))
        print("run B recovered before the late COMMIT landed, gave line 4 its stored answer, "
              "accepted line 5 on the stored state and notified the late events")
    psql_helper.drop_database(base, "t_late_commit")


if __name__ == "__main__":
    main()
