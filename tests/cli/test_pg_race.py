#!/usr/bin/env python3
"""Two `salesflow run --store postgres:...` processes on one database, racing on the same deals.

One run creates 20 deals; then two processes run at the same time, each setting fields on all 20
deals over and over. Each process holds the deals in memory; when the other one appended first,
the store refuses the stale append (answer `conflict`) and the process reloads the deal. At the
end every stored deal's versions are gapless, and the stored events are exactly the events the two
processes answered as accepted: no update was lost and no version was won twice. Each process
writes its notifications to its own file (--notify); together they name every stored event (a
process that reloads a deal after a conflict hands the other's events over too: at least once).

Usage: test_pg_race.py PATH/TO/salesflow SOURCE_DIR   (SALESFLOW_TEST_POSTGRES: a conninfo)
"""
import json
import os
import subprocess
import sys
import tempfile

import psql_helper

DEALS = 20


def main():
    t = psql_helper.cli_test("t_two_processes")
    binary, base, store, b2b, people = t.binary, t.base, t.store, t.b2b, t.people

    def run(lines, name):
        path = os.path.join(tmp, name + ".jsonl")
        with open(path, "w") as f:
            f.writelines(json.dumps(line) + "\n" for line in lines)
        return subprocess.Popen([binary, "run", b2b, "--directory", people, "--store", store,
                                 "--notify", os.path.join(tmp, name + ".notify")],
                                stdin=open(path, "rb"), stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE)

    with tempfile.TemporaryDirectory(prefix="salesflow-pg-race-") as tmp:
        at = "2026-01-12T08:00:00Z"
        creates = [{"op": "create", "instance": "deal-%d" % d, "actor": "maria", "at": at,
                    "definition": "b2b_pipeline"} for d in range(DEALS)]
        proc = run(creates, "creates")
        out, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, err.decode()
        created = [json.loads(l) for l in out.splitlines()]
        assert all(a["ok"] for a in created), created

        def sets(who, rounds):
            return [{"op": "set", "instance": "deal-%d" % d, "actor": "maria", "at": at,
                     "fields": {"web_visit_minutes": (r * 7 + d + (50 if who == "b" else 0)) % 100,
                                "decision_maker": "%s round %d" % (who, r)}}
                    for r in range(rounds) for d in range(DEALS)]

        a, b = run(sets("a", 60), "a"), run(sets("b", 60), "b")
        answers = []
        for proc in (a, b):
            out, err = proc.communicate(timeout=600)
            assert proc.returncode == 0, err.decode()
            answers.append([json.loads(l) for l in out.splitlines()])

        accepted = [e for run_answers in [created] + answers for ans in run_answers
                    if ans["ok"] for e in ans["events"]]
        conflicts = sum(1 for run_answers in answers for ans in run_answers
                        if not ans["ok"] and ans["error"]["code"] == "conflict")
        others = [ans for run_answers in answers for ans in run_answers
                  if not ans["ok"] and ans["error"]["code"] != "conflict"]
        assert not others, others[:3]

        stored = [json.loads(l) for l in subprocess.run(
            [binary, "events", "--store", store], capture_output=True, check=True).stdout.splitlines()]
        key = lambda e: (e["instance"], e["version"])
        if sorted(map(json.dumps, stored)) != sorted(map(json.dumps, accepted)):
            missing = {key(e) for e in accepted} - {key(e) for e in stored}
            extra = {key(e) for e in stored} - {key(e) for e in accepted}
            sys.exit("stored events differ from the accepted ones: missing %s, extra %s"
                     % (sorted(missing)[:5], sorted(extra)[:5]))
        last = {}
        for e in stored:
            if e["version"] != last.get(e["instance"], 0) + 1:
                sys.exit("a gap in the versions of %s" % e["instance"])
            last[e["instance"]] = e["version"]
        if len({key(e) for e in accepted}) != len(accepted):
            sys.exit("two processes were both answered for one version")
        notified = set()
        for name in ("creates", "a", "b"):
            with open(os.path.join(tmp, name + ".notify")) as f:
                notified |= {json.loads(line)["id"] for line in f}
        lost = {"%s#%d" % key(e) for e in stored} - notified
        if lost:
            sys.exit("%d stored events were never notified, e.g. %s" % (len(lost), sorted(lost)[:5]))
        print("%d events stored, each answered once; %d commands answered conflict (the "
              "processes did overlap: %s)" % (len(stored), conflicts, conflicts > 0))
        if conflicts == 0:
            sys.exit("the two processes never raced: the test proved nothing")
        psql_helper.drop_database(base, "t_two_processes")


if __name__ == "__main__":
    main()
