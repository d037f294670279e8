#!/usr/bin/env python3
"""End-to-end tests of durable stores through the tool: `salesflow run --store`, `salesflow events`,
idempotency keys, notifications, and hostile stores (each refused with the store left as it was).

Usage: test_store.py PATH/TO/salesflow SOURCE_DIR
"""
import json
import os
import pwd
import shutil
import sqlite3
import stat
import subprocess
import sys
import threading

import support

BIN = None
SOURCE = None


def path(*parts):
    return os.path.join(SOURCE, *parts)


B2B = None
PEOPLE = None
SCRIPT = None


def run(*args, stdin=b"", timeout=300):
    return subprocess.run([BIN, *args], input=stdin, capture_output=True, timeout=timeout)


def run_script(store, data, extra=(), definitions=None):
    return run("run", *(definitions or [B2B]), "--directory", PEOPLE, "--store", store, *extra,
               stdin=data)


def answers(result):
    return [json.loads(line) for line in result.stdout.decode().splitlines()]


def events_of(store, *extra):
    result = run("events", "--store", store, *extra)
    assert result.returncode == 0, result.stderr.decode()
    return result.stdout.decode().splitlines()


def read_bytes(p):
    with open(p, "rb") as f:
        return f.read()


def as_a_user(cmd):
    """Root passes permission checks: as root, `cmd` runs as nobody, as a user would."""
    if os.geteuid() != 0:
        return cmd
    nobody = pwd.getpwnam("nobody")
    return ["setpriv", "--reuid=%d" % nobody.pw_uid, "--regid=%d" % nobody.pw_gid,
            "--clear-groups", *cmd]


class StoreTest(support.TempDirTestCase):
    def store(self, name="store.sqlite"):
        return "sqlite:" + os.path.join(self.tmp, name)

    def script(self):
        with open(SCRIPT, "rb") as f:
            return f.read()

    def test_events_prints_what_the_answers_showed(self):
        result = run_script(self.store(), self.script())
        self.assertEqual(result.returncode, 0, result.stderr)
        shown = [json.dumps(e, separators=(",", ":"), ensure_ascii=False)
                 for a in answers(result)
                 # Deadlines a line's time made due are committed before its command.
                 for e in a.get("deadlines", []) + (a.get("events", []) if a.get("ok") else [])]
        stored = events_of(self.store())
        self.assertEqual(shown, stored)  # in commit order
        self.assertEqual([json.loads(l)["version"] for l in events_of(self.store(), "--instance",
                                                                      "deal-1")],
                         list(range(1, 1 + sum(1 for l in stored
                                               if json.loads(l)["instance"] == "deal-1"))))
        self.assertEqual(events_of(self.store(), "--instance", "nobody"), [])

    def test_a_second_run_continues_from_the_stored_state(self):
        lines = self.script().splitlines(keepends=True)
        half = len(lines) // 2
        one = run_script(self.store("whole.sqlite"), b"".join(lines))
        first = run_script(self.store(), b"".join(lines[:half]))
        second = run_script(self.store(), b"".join(lines[half:]))
        for r in (one, first, second):
            self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(answers(first) + answers(second), answers(one))
        self.assertEqual(events_of(self.store()), events_of(self.store("whole.sqlite")))

    def test_run_snapshots_a_long_lived_deal_and_the_next_run_recovers_from_it(self):
        # 1 + 150 events on one deal: the default policy (every 64 events) snapshots it twice.
        lines = [{"op": "create", "instance": "long", "actor": "maria",
                  "at": "2026-01-12T08:00:00Z", "definition": "b2b_pipeline",
                  "fields": {"company": "Acme"}}]
        lines += [{"op": "set", "instance": "long", "actor": "maria",
                   "at": "2026-01-12T09:%02d:%02dZ" % (i // 60, i % 60),
                   "fields": {"company": "Acme %d" % i}} for i in range(150)]
        data = [json.dumps(line).encode() + b"\n" for line in lines]
        one = run_script(self.store("whole.sqlite"), b"".join(data))
        first = run_script(self.store(), b"".join(data[:100]))
        db = sqlite3.connect(os.path.join(self.tmp, "store.sqlite"))
        snapshots = db.execute("SELECT instance, version FROM snapshots").fetchall()
        db.close()
        self.assertEqual(len(snapshots), 1)
        self.assertEqual(snapshots[0][0], "long")
        self.assertGreaterEqual(snapshots[0][1], 64)
        second = run_script(self.store(), b"".join(data[100:]))
        for r in (one, first, second):
            self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(answers(first) + answers(second), answers(one))
        self.assertEqual(answers(second)[-1]["version"], len(events_of(self.store())))
        self.assertEqual(events_of(self.store()), events_of(self.store("whole.sqlite")))
        db = sqlite3.connect(os.path.join(self.tmp, "store.sqlite"))
        self.assertGreaterEqual(db.execute("SELECT version FROM snapshots").fetchone()[0], 128)
        db.close()

    def test_rerunning_a_keyed_script_repeats_its_answers_and_appends_nothing(self):
        first = run_script(self.store(), self.script(), ["--key-prefix", "demo:"])
        stored = events_of(self.store())
        again = run_script(self.store(), self.script(), ["--key-prefix", "demo:"])
        self.assertEqual(again.returncode, 0, again.stderr)
        # The commands' answers repeat; the deadlines the first run fired are stored and do not
        # fire again.
        # (A tick's events are deadlines too: its answer is the only one without a version.)
        def without_deadlines(rs):
            return [{k: v for k, v in a.items()
                     if k != "deadlines" and (k != "events" or "version" in a)} for a in rs]
        self.assertEqual(without_deadlines(answers(again)), without_deadlines(answers(first)))
        self.assertTrue(any("deadlines" in a for a in answers(first)))
        self.assertEqual(events_of(self.store()), stored)
        summary = run_script(self.store(), self.script(), ["--key-prefix", "demo:", "--summary"])
        self.assertIn(b"deal-1  Won: customer retained (won)", summary.stdout)

    def test_an_idempotency_key_answers_a_repeat_with_the_original_answer(self):
        create = {"op": "create", "instance": "d", "actor": "maria", "at": "2026-01-12T08:00:00Z",
                  "definition": "b2b_pipeline", "idempotency_key": "k-create"}
        bad_move = {"op": "advance", "instance": "d", "actor": "maria",
                    "at": "2026-01-12T08:01:00Z", "to": "needs_diagnosis",
                    "idempotency_key": "k-move"}
        data = b"".join(json.dumps(c).encode() + b"\n" for c in (create, bad_move))
        first = answers(run_script(self.store(), data))
        self.assertTrue(first[0]["ok"])
        self.assertEqual(first[1]["error"]["code"], "gate_blocked")
        # Another process, later: the same answers, nothing appended.
        again = answers(run_script(self.store(), data))
        self.assertEqual(again, first)
        self.assertEqual(len(events_of(self.store())), first[0]["version"])
        # The key of another command is refused.
        other = dict(create, op="hold", idempotency_key="k-create")
        del other["definition"]
        refused = answers(run_script(self.store(), json.dumps(other).encode() + b"\n"))
        self.assertEqual(refused[0]["error"]["code"], "bad_command")
        self.assertIn("was used for another command", refused[0]["error"]["message"])
        for key, code in ((7, "bad_command"), ("", "bad_command"), ("x" * 201, "bad_command")):
            line = dict(create, idempotency_key=key)
            result = answers(run_script("memory", json.dumps(line).encode() + b"\n"))
            self.assertEqual(result[0]["error"]["code"], code, key)
            self.assertEqual(result[0]["error"]["pointer"], "/idempotency_key")

    def test_notifications_carry_a_stable_id_and_none_is_lost(self):
        notes = os.path.join(self.tmp, "notes.jsonl")
        result = run_script(self.store(), self.script(), ["--notify", notes])
        self.assertEqual(result.returncode, 0, result.stderr)
        with open(notes) as f:
            ids = [json.loads(l)["id"] for l in f]
        stored = ["%s#%d" % (e["instance"], e["version"])
                  for e in map(json.loads, events_of(self.store()))]
        self.assertEqual(sorted(set(ids)), sorted(stored))
        # Delivered ones are not handed out again.
        run_script(self.store(), b"", ["--notify", notes])
        with open(notes) as f:
            self.assertEqual(len(f.readlines()), len(ids))

    def test_undelivered_notifications_are_delivered_on_restart(self):
        # A run without a listener leaves everything in the outbox.
        run_script(self.store(), self.script())
        notes = os.path.join(self.tmp, "notes.jsonl")
        result = run_script(self.store(), b"", ["--notify", notes])
        self.assertEqual(result.returncode, 0, result.stderr)
        with open(notes) as f:
            ids = [json.loads(l)["id"] for l in f]
        self.assertEqual(len(ids), len(events_of(self.store())))

    def test_a_notification_line_a_crash_cut_short_is_cut_off_and_handed_over_again(self):
        # A run without a listener leaves everything in the outbox; the notes file ends as a
        # killed run can leave it: whole lines, then the piece of one that a kill cut short.
        run_script(self.store(), self.script())
        stored = ["%s#%d" % (e["instance"], e["version"])
                  for e in map(json.loads, events_of(self.store()))]
        whole = b'{"id":"earlier#1","instance":"earlier","version":1,"type":"created"}\n'
        for kept, torn in ((whole, b'{"id":"deal-1#3","instance":"de'), (b"", b'{"id":"x#')):
            notes = self.write("notes.jsonl", kept + torn)
            result = run_script(self.store(), b"", ["--notify", notes])
            self.assertEqual(result.returncode, 0, result.stderr)
            data = read_bytes(notes)
            self.assertTrue(data.startswith(kept))
            self.assertTrue(data.endswith(b"\n"))
            ids = [json.loads(l)["id"] for l in data[len(kept):].decode().splitlines()]
            self.assertEqual(sorted(ids), sorted(stored))
            # The next run of the same store has nothing left to hand over, and mends nothing.
            run_script(self.store(), b"", ["--notify", notes])
            self.assertEqual(read_bytes(notes), data)
            self.reset_delivery_marks()
        # Not a regular file: nothing to mend, and the notes go there.
        result = run_script(self.store(), b"", ["--notify", os.devnull])
        self.assertEqual(result.returncode, 0, result.stderr)
        result = run_script(self.store(), b"", ["--notify", self.tmp])
        self.assertEqual(result.returncode, 1)
        self.assertIn(b"cannot open for appending", result.stderr)

    def test_a_notify_file_the_run_may_write_but_not_read_is_appended_to(self):
        os.chmod(self.tmp, 0o755)
        earlier = b'{"id":"earlier#1","instance":"earlier","version":1,"type":"created"}\n'
        notes = self.write("notes.jsonl", earlier)
        os.chmod(notes, 0o222)
        cmd = as_a_user([BIN, "run", B2B, "--directory", PEOPLE, "--notify", notes])
        result = subprocess.run(cmd, input=self.script(), capture_output=True, timeout=60)
        self.assertEqual(result.returncode, 0, result.stderr)
        os.chmod(notes, 0o644)
        data = read_bytes(notes)
        self.assertTrue(data.startswith(earlier))
        lines = data[len(earlier):].decode().splitlines()
        self.assertGreater(len(lines), 0)
        for line in lines:
            self.assertIn("#", json.loads(line)["id"])

    def test_a_notify_fifo_whose_reader_goes_ends_the_run_with_an_error(self):
        # The run holds the FIFO for writing only: when its reader goes, a write fails and the run
        # says so (holding it for reading too, it would wait for itself forever).
        fifo = os.path.join(self.tmp, "notes.fifo")
        os.mkfifo(fifo)

        def read_a_little():
            with open(fifo, "rb") as f:
                f.read(100)

        reader = threading.Thread(target=read_a_little)
        reader.start()
        data = self.generated(3000)  # far more notifications than a pipe buffers
        result = subprocess.run([BIN, "run", B2B, "--directory", PEOPLE, "--notify", fifo],
                                input=data, capture_output=True, timeout=120)
        reader.join()
        self.assertEqual(result.returncode, 1, result.stderr)
        self.assertIn(b"cannot write notifications", result.stderr)

    def reset_delivery_marks(self):
        db = sqlite3.connect(os.path.join(self.tmp, "store.sqlite"))
        with db:
            db.execute("DELETE FROM delivered")
        db.close()

    def test_a_commit_that_lands_after_recovery_is_handed_over_before_the_run_stops(self):
        # b recovers an empty store and answers one line; then another process commits (as one
        # that died while committing would, its commit landing late); b hands it over at its end.
        notes = os.path.join(self.tmp, "notes.jsonl")
        b = subprocess.Popen([BIN, "run", B2B, "--directory", PEOPLE, "--store", self.store(),
                              "--notify", notes], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE)
        try:
            b.stdin.write(b'{"op":"tick","instance":"","actor":"maria",'
                          b'"at":"2026-01-05T08:00:00Z"}\n')
            b.stdin.flush()
            self.assertTrue(b.stdout.readline())  # b has recovered and answers
            late = run_script(self.store(), self.script())
            self.assertEqual(late.returncode, 0, late.stderr)
        finally:
            out, err = b.communicate(timeout=300)
        self.assertEqual(b.returncode, 0, err)
        with open(notes) as f:
            ids = [json.loads(l)["id"] for l in f]
        stored = ["%s#%d" % (e["instance"], e["version"])
                  for e in map(json.loads, events_of(self.store()))]
        self.assertGreater(len(stored), 0)
        self.assertEqual(sorted(ids), sorted(stored))

    def test_bad_store_uris_are_usage_errors_that_say_what_is_accepted(self):
        for uri in ("", "sqlite:", "mysql://db", "memory:x", "postgres://localhost/x"):
            result = run_script(uri, b"")
            self.assertEqual(result.returncode, 1, uri)
            self.assertIn(b"store", result.stderr, uri)
        # An unreachable server: libpq's reason, nothing on stdout.
        result = run_script("postgres:host=/nonexistent-salesflow-dir connect_timeout=2", b"")
        self.assertEqual(result.returncode, 1)
        self.assertIn(b"cannot connect to PostgreSQL", result.stderr)
        self.assertEqual(result.stdout, b"")
        self.assertIn(b'"sqlite:PATH"', run_script("nonsense", b"").stderr)

    def assert_refused_and_unchanged(self, file, expect):
        before = read_bytes(file)
        result = run_script("sqlite:" + file, self.script())
        self.assertEqual(result.returncode, 1)
        self.assertIn(expect.encode(), result.stderr)
        self.assertEqual(result.stdout, b"")
        self.assertEqual(read_bytes(file), before)
        self.assertFalse(os.path.exists(file + "-wal"))
        result = run("events", "--store", "sqlite:" + file)
        self.assertEqual(result.returncode, 1)
        self.assertEqual(read_bytes(file), before)

    def test_a_file_that_is_not_a_store_is_refused_and_left_as_it_was(self):
        self.assert_refused_and_unchanged(self.write("notes.txt", "hello\n" * 1000),
                                          "is not a salesflow store")
        foreign = os.path.join(self.tmp, "crm.db")
        with sqlite3.connect(foreign) as db:
            db.execute("CREATE TABLE customers (id INTEGER PRIMARY KEY, name TEXT)")
        self.assert_refused_and_unchanged(foreign, "another application")

    def test_a_store_of_a_newer_schema_is_refused_and_left_as_it_was(self):
        run_script(self.store(), self.script())
        file = os.path.join(self.tmp, "store.sqlite")
        db = sqlite3.connect(file)
        db.execute("PRAGMA user_version = 7")
        db.close()
        before = read_bytes(file)
        result = run_script(self.store(), self.script())
        self.assertEqual(result.returncode, 1)
        self.assertIn(b"newer salesflow (schema version 7", result.stderr)
        self.assertEqual(read_bytes(file), before)

    def test_a_changed_definition_under_the_same_version_is_refused(self):
        run_script(self.store(), self.script())
        with open(B2B) as f:
            changed = f.read().replace('"name"', ' "name"', 1)
        other = self.write("b2b_changed.json", changed)
        result = run_script(self.store(), b"", definitions=[other])
        self.assertEqual(result.returncode, 1)
        self.assertIn(b"give the changed definition a new version", result.stderr)

    def test_events_of_a_missing_store_creates_nothing(self):
        missing = os.path.join(self.tmp, "missing.sqlite")
        result = run("events", "--store", "sqlite:" + missing)
        self.assertEqual(result.returncode, 1)
        self.assertIn(b"no store at", result.stderr)
        self.assertFalse(os.path.exists(missing))
        self.assertEqual(run("events").returncode, 2)

    def test_a_read_only_directory_is_a_clear_error(self):
        readonly = os.path.join(self.tmp, "ro")
        os.mkdir(readonly)
        os.chmod(readonly, 0o555)
        os.chmod(self.tmp, 0o755)
        cmd = as_a_user([BIN, "run", B2B, "--directory", PEOPLE, "--store",
                         "sqlite:" + os.path.join(readonly, "s.sqlite")])
        result = subprocess.run(cmd, input=b"", capture_output=True, timeout=60)
        self.assertEqual(result.returncode, 1, result.stderr)
        self.assertIn(b"cannot open", result.stderr)
        self.assertEqual(os.listdir(readonly), [])

    def generated(self, lines):
        result = subprocess.run([sys.executable, path("bench", "run", "generate_commands.py"),
                                 "--lines", str(lines)], capture_output=True, check=True,
                                timeout=120)
        return result.stdout

    def test_batches_answer_and_store_exactly_what_one_transaction_per_command_does(self):
        data = self.generated(3000)
        one = run_script(self.store("one.sqlite"), data, ["--batch", "0"])
        batched = run_script(self.store("batched.sqlite"), data, ["--batch", "250"])
        self.assertEqual(one.returncode, 0, one.stderr)
        self.assertEqual(batched.returncode, 0, batched.stderr)
        self.assertEqual(len(answers(batched)), 3000)
        self.assertEqual(batched.stdout, one.stdout)
        self.assertEqual(events_of(self.store("batched.sqlite")),
                         events_of(self.store("one.sqlite")))

    def test_bad_batch_sizes_are_usage_errors(self):
        for bad in ("-1", "x", "1e3", "2000000"):
            result = run_script(self.store(), b"", ["--batch", bad])
            self.assertEqual(result.returncode, 2, bad)
            self.assertIn(b"--batch", result.stderr, bad)
        self.assertFalse(os.path.exists(os.path.join(self.tmp, "store.sqlite")))

    def test_a_batch_that_cannot_commit_stops_the_run_and_nothing_it_answered_is_lost(self):
        data = self.generated(20000)
        notes = os.path.join(self.tmp, "notes.jsonl")
        # A full disk at COMMIT: a file size limit the store's files reach during the run.
        def limit_file_size():
            import resource
            import signal
            signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
            resource.setrlimit(resource.RLIMIT_FSIZE, (3 << 20, 3 << 20))
        result = subprocess.run(
            [BIN, "run", B2B, "--directory", PEOPLE, "--store", self.store(), "--batch", "2000",
             "--notify", notes], input=data, capture_output=True, timeout=300,
            preexec_fn=limit_file_size)
        self.assertEqual(result.returncode, 1, result.stderr)
        self.assertIn(b"are not written", result.stderr)
        written = answers(result)
        self.assertLess(len(written), 20000)
        stored = {(e["instance"], e["version"]): e for e in map(json.loads, events_of(self.store()))}
        answered = [e for a in written if a["ok"] for e in a["events"]]
        self.assertGreater(len(answered), 0)
        for e in answered:  # every answer that went out is in the store, as answered
            self.assertEqual(stored.get((e["instance"], e["version"])), e)
        with open(notes) as f:
            notified = {json.loads(l)["id"] for l in f}
        stored_ids = {"%s#%d" % key for key in stored}
        self.assertLessEqual(notified, stored_ids)  # no notification names a lost event
        # Restarted without the limit, the run delivers what was not handed out: none is lost.
        again = run_script(self.store(), b"", ["--notify", notes])
        self.assertEqual(again.returncode, 0, again.stderr)
        with open(notes) as f:
            self.assertEqual({json.loads(l)["id"] for l in f}, stored_ids)


def main():
    global BIN, SOURCE, B2B, PEOPLE, SCRIPT
    BIN, SOURCE = os.path.abspath(sys.argv[1]), os.path.abspath(sys.argv[2])
    B2B = path("examples", "b2b_pipeline.json")
    PEOPLE = path("examples", "directory", "people.json")
    SCRIPT = path("examples", "b2b_pipeline.commands.jsonl")
    del sys.argv[1:]
    support.main(__name__)


if __name__ == "__main__":
    main()
