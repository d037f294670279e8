#!/usr/bin/env python3
"""End-to-end tests of `salesflow run`: the example command scripts and hostile streams.

Usage: test_run.py PATH/TO/salesflow SOURCE_DIR

Lines of the example scripts are found by their content (op, instance, actor, ...), never by
line number, so that the scripts can be edited without touching these tests.
"""
import json
import os
import select
import subprocess
import sys
import threading
import unittest

import support

BIN = None
SOURCE = None
ALL_CODES = {"gate_blocked", "forbidden", "invalid_transition", "invalid_field",
             "unknown_instance", "duplicate_instance", "conflict", "bad_command"}


def path(*parts):
    return os.path.join(SOURCE, *parts)


def definition(name):
    return path("examples", name + ".json")


def people():
    return path("examples", "directory", "people.json")


def run(*args, stdin=b"", timeout=120):
    return subprocess.run([BIN, *args], input=stdin, capture_output=True, timeout=timeout)


def stream(*commands):
    """JSON lines from dicts (encoded) and bytes/str (taken as they are)."""
    out = b""
    for c in commands:
        if isinstance(c, dict):
            out += json.dumps(c).encode() + b"\n"
        elif isinstance(c, str):
            out += c.encode() + b"\n"
        else:
            out += c + b"\n"
    return out


def run_stream(data, definitions=("b2b_pipeline",), directory=True, extra=()):
    args = ["run", *[definition(d) for d in definitions]]
    if directory:
        args += ["--directory", people()]
    result = run(*args, *extra, stdin=data)
    answers = [json.loads(line) for line in result.stdout.decode().splitlines()] \
        if result.returncode == 0 and not extra else []
    return result, answers


def at(minute):
    return "2026-05-04T%02d:%02d:00Z" % (9 + minute // 60, minute % 60)


def create(instance="d1", minute=0, actor="maria", **extra):
    c = {"op": "create", "instance": instance, "actor": actor, "at": at(minute),
         "definition": "b2b_pipeline"}
    c.update(extra)
    return c


def cmd(op, minute, instance="d1", actor="maria", **extra):
    c = {"op": op, "instance": instance, "actor": actor, "at": at(minute)}
    c.update(extra)
    return c


class Script:
    """One example script and its answers, run once per test class."""

    def __init__(self, name):
        with open(path("examples", name + ".commands.jsonl"), "rb") as f:
            self.raw = f.read()
        self.lines = self.raw.decode("utf-8", "replace").splitlines()
        self.commands = []
        for line in self.lines:
            try:
                parsed = json.loads(line)
                self.commands.append(parsed if isinstance(parsed, dict) else None)
            except ValueError:
                self.commands.append(None)
        self.result = run("run", definition(name), "--directory", people(), stdin=self.raw)
        self.answers = [json.loads(l) for l in self.result.stdout.decode().splitlines()]

    def find(self, **match):
        """Indices of the commands whose keys have the given values, in order."""
        return [i for i, c in enumerate(self.commands)
                if c is not None and all(c.get(k) == v for k, v in match.items())]

    def answer(self, **match):
        """The answer to the single command matching `match`."""
        found = self.find(**match)
        assert len(found) == 1, "%d commands match %r" % (len(found), match)
        return self.answers[found[0]]

    def events(self, instance):
        """The instance's events in log order: the deadlines a line's `at` fired come before the
        line's own events."""
        return [e for a in self.answers
                for e in a.get("deadlines", []) + (a["events"] if a["ok"] else [])
                if e["instance"] == instance]

    def final_stage(self, instance):
        stage = None
        for e in self.events(instance):
            if "stage" in e:
                stage = e["stage"]
        return stage

    def codes(self):
        return {a["error"]["code"] for a in self.answers if not a["ok"]}


SCRIPTS = {}


def script(name):
    if name not in SCRIPTS:
        SCRIPTS[name] = Script(name)
    return SCRIPTS[name]


NAMES = ("b2b_pipeline", "b2c_funnel", "voice_of_customer")


class ExampleScripts(unittest.TestCase):
    def test_each_script_runs_and_answers_every_line_in_order(self):
        for name in NAMES:
            s = script(name)
            self.assertEqual(s.result.returncode, 0, s.result.stderr)
            self.assertEqual(s.result.stderr, b"", name)
            self.assertEqual(len(s.answers), len(s.lines), name)
            for a in s.answers:
                self.assertIn(a["ok"], (True, False))
                if a["ok"]:
                    self.assertIsInstance(a["events"], list)
                else:
                    self.assertEqual(set(a) , {"ok", "error"})
                    self.assertGreater(len(a["error"]["message"]), 10, a)

    def test_events_stamp_the_command_and_versions_are_gapless_per_instance(self):
        for name in NAMES:
            s = script(name)
            versions = {}
            for c, a in zip(s.commands, s.answers):
                fired = a.get("deadlines", [])
                if c is not None and c["op"] == "tick":
                    fired = a["events"]
                # Deadlines fired by this line's `at`: by the system, at their own time (not
                # later than the line's), in time order, gapless per instance.
                for e in fired:
                    versions[e["instance"]] = versions.get(e["instance"], 0) + 1
                    self.assertEqual(e["version"], versions[e["instance"]], (name, c, e))
                    self.assertEqual(e["actor"], "system")
                    self.assertLessEqual(e["at"], c["at"])
                self.assertEqual([e["at"] for e in fired], sorted(e["at"] for e in fired))
                if not a["ok"] or c is None or c["op"] == "tick":
                    continue
                before = versions.get(c["instance"], 0)
                for e in a["events"]:
                    before += 1
                    self.assertEqual(e["version"], before, (name, c))
                    self.assertEqual(e["instance"], c["instance"])
                    self.assertEqual(e["actor"], c["actor"])
                    self.assertEqual(e["at"], c["at"])
                    self.assertEqual(e["definition"], name)
                    self.assertEqual(e["definition_version"], 1)
                self.assertEqual(a["version"], before, (name, c))
                versions[c["instance"]] = before
            self.assertGreaterEqual(len(versions), 4, name)

    def test_every_rejection_code_is_shown_by_the_examples(self):
        codes = set()
        for name in NAMES:
            codes |= script(name).codes()
        self.assertEqual(codes, ALL_CODES)

    def test_each_script_hits_most_rejection_codes_and_ticks_answer_without_version(self):
        for name in NAMES:
            s = script(name)
            self.assertGreaterEqual(len(s.codes()), 7, (name, s.codes()))
            ticks = s.find(op="tick")
            self.assertTrue(ticks, name)
            for i in ticks:
                self.assertEqual(set(s.answers[i]), {"ok", "events"})
                self.assertTrue(s.answers[i]["ok"])

    def test_rep_signing_before_legal_review_is_gate_blocked_on_the_approval(self):
        s = script("b2b_pipeline")
        tries = s.find(op="advance", instance="deal-1", actor="maria", to="value_continuation")
        self.assertGreaterEqual(len(tries), 2)
        first = s.answers[tries[0]]
        self.assertFalse(first["ok"])
        self.assertEqual(first["error"]["code"], "gate_blocked")
        unmet = first["error"]["unmet"]
        self.assertIn({"kind": "missing_approval", "id": "legal_pre_review", "have": 0, "need": 1},
                      [{k: u[k] for k in ("kind", "id", "have", "need")} for u in unmet])
        for u in unmet:
            self.assertEqual(set(u), {"kind", "id", "detail", "have", "need"})
        # The fields and checklist were complete: only legal's review was missing.
        self.assertEqual([u["kind"] for u in unmet], ["missing_approval"])
        # Once legal approves (after the rep's own attempt is refused), the same move succeeds.
        self.assertEqual(s.answer(op="approve", instance="deal-1", actor="maria")["error"]["code"],
                         "forbidden")
        approve = s.find(op="approve", instance="deal-1", actor="lena")
        self.assertEqual(len(approve), 1)
        self.assertLess(tries[0], approve[0])
        self.assertEqual(s.answers[approve[0]]["events"][0]["type"], "approval_given")
        self.assertEqual(s.answers[approve[0]]["events"][0]["approval"], "legal_pre_review")
        last = s.answers[tries[-1]]
        self.assertTrue(last["ok"], last)
        self.assertEqual({k: last["events"][0][k] for k in ("type", "from", "stage")},
                         {"type": "stage_changed", "from": "deal_closing",
                          "stage": "value_continuation"})

    def test_legal_rejection_carries_its_comment(self):
        a = script("b2b_pipeline").answer(op="reject", instance="deal-1", actor="lena")
        e = a["events"][0]
        self.assertEqual(e["type"], "approval_rejected")
        self.assertEqual(e["approval"], "legal_pre_review")
        self.assertIn("section 7", e["comment"])

    def test_b2b_deals_end_where_the_story_says(self):
        s = script("b2b_pipeline")
        self.assertEqual(s.final_stage("deal-1"), "won")
        self.assertEqual(s.final_stage("deal-3"), "repurchase")
        lost = [e for e in s.events("deal-2") if e["type"] == "closed_lost"]
        self.assertEqual([(e["from"], e["stage"], e["reason"]) for e in lost],
                         [("solution_matching", "lost", "competitor")])
        self.assertEqual([e["reason"] for e in s.events("deal-4") if e["type"] == "closed_lost"],
                         ["invalid_lead"])
        reopened = [e for e in s.events("deal-3") if e["type"] == "reopened"]
        self.assertEqual([(e["from"], e["stage"]) for e in reopened],
                         [("lost", "solution_matching")])
        types = [e["type"] for e in s.events("deal-5")]
        self.assertEqual(types[-1], "put_on_hold")

    def test_fast_track_guard_is_evaluated(self):
        s = script("b2b_pipeline")
        fast = s.answer(op="advance", instance="deal-3", to="solution_matching")
        self.assertTrue(fast["ok"], fast)
        self.assertEqual(fast["events"][0]["from"], "lead_incubation")
        # deal-2 asks for solution_matching twice: the first try (grade B, from lead_incubation)
        # is refused by the guard, the second (after the diagnosis) goes through.
        tries = s.find(op="advance", instance="deal-2", to="solution_matching")
        refused = s.answers[tries[0]]
        self.assertTrue(s.answers[tries[-1]]["ok"])
        self.assertEqual(refused["error"]["code"], "gate_blocked")
        self.assertIn("failed_condition", [u["kind"] for u in refused["error"]["unmet"]])

    def test_hold_blocks_moves_until_resumed(self):
        s = script("b2b_pipeline")
        hold = s.find(op="hold", instance="deal-1")[0]
        resume = s.find(op="resume", instance="deal-1")[0]
        self.assertEqual(s.answers[hold]["events"][0]["type"], "put_on_hold")
        self.assertIn("board", s.answers[hold]["events"][0]["reason"])
        between = [i for i in s.find(op="advance", instance="deal-1") if hold < i < resume]
        self.assertTrue(between)
        for i in between:
            self.assertEqual(s.answers[i]["error"]["code"], "invalid_transition")

    def test_conflict_reports_the_current_version_and_the_retry_succeeds(self):
        for name in NAMES:
            s = script(name)
            stale = [i for i, c in enumerate(s.commands) if c and "expected_version" in c
                     and not s.answers[i]["ok"]]
            self.assertTrue(stale, name)
            for i in stale:
                error = s.answers[i]["error"]
                self.assertEqual(error["code"], "conflict")
                self.assertNotEqual(error["version"], s.commands[i]["expected_version"])
                self.assertIn(str(error["version"]), error["message"])

    def test_field_values_come_back_typed_by_the_definition(self):
        s = script("b2b_pipeline")
        values = {}
        for e in s.events("deal-1"):
            if e["type"] == "field_set":
                values[e["field"]] = e["value"]
        # The score is computed by the example's lead scoring from the behaviour data and the
        # urgency tag; recompute it here from the values the events recorded.
        expected = min(100, values["purchases_last_year"] * 8 + values["average_order_value"] / 2000
                       + values["web_visit_minutes"] / 3 + values["email_opens"] * 2
                       + (10 if values["urgency"] == "high" else 0))
        self.assertEqual(values["lead_score"], expected)
        self.assertEqual(values["grade"], "A" if expected >= 70 else "B" if expected >= 40 else "C")
        self.assertIs(values["existing_customer"], False)
        self.assertEqual(values["seats"], 250)
        self.assertIsInstance(values["seats"], int)
        self.assertEqual(values["deal_value"], 180000)
        self.assertEqual(values["contract_signed_at"], "2026-01-19T15:05:00Z")
        self.assertIn("customs_docs", values["solution_modules"])
        assigned = [e for e in s.events("deal-1") if e["type"] == "assigned"]
        self.assertEqual([(e["role"], e["person"]) for e in assigned],
                         [("sales_rep", "maria"), ("presales", "olga"), ("service", "sam")])

    def test_large_account_waits_for_its_triangle_team(self):
        s = script("b2b_pipeline")
        entered = s.answer(op="advance", instance="deal-1", to="needs_diagnosis")
        # (Delivery standards may record their own events too: only these two matter here.)
        own = [e for e in entered["events"] if e["type"] in ("stage_changed", "team_required")]
        self.assertEqual([e["type"] for e in own], ["stage_changed", "team_required"])
        self.assertEqual(own[1]["roles"], ["sales_rep", "presales", "service"])
        # deal-2 is a medium account below 100,000 EUR: no team.
        medium = [s.answers[i] for i in s.find(op="advance", instance="deal-2", to="needs_diagnosis")]
        self.assertEqual([[e["type"] for e in a["events"] if e["type"] == "team_required"]
                          for a in medium if a["ok"]], [[]])
        tries = s.find(op="advance", instance="deal-1", to="solution_matching")
        blocked = s.answers[tries[0]]["error"]
        self.assertEqual(blocked["code"], "gate_blocked")
        self.assertEqual([(u["kind"], u["id"]) for u in blocked["unmet"]],
                         [("missing_assignment", "sales_rep"), ("missing_assignment", "presales"),
                          ("missing_assignment", "service")])
        assigns = s.find(op="assign", instance="deal-1")
        self.assertTrue(all(tries[0] < i < tries[1] for i in assigns))
        self.assertTrue(s.answers[tries[1]]["ok"])

    def test_gate_condition_reports_its_own_description(self):
        s = script("b2b_pipeline")
        tries = s.find(op="advance", instance="deal-3", to="deal_closing")
        refused = s.answers[tries[0]]["error"]
        self.assertEqual(refused["code"], "gate_blocked")
        with open(definition("b2b_pipeline"), encoding="utf-8") as f:
            gate = next(st["gate"] for st in json.load(f)["stages"]
                        if st["id"] == "solution_matching")
        self.assertEqual([(u["kind"], u["detail"]) for u in refused["unmet"]],
                         [("failed_condition", gate["conditions"][0]["description"])])
        # The typo (3,850 for 38,500) fixed, the same move goes through.
        fixed = s.find(op="set", instance="deal-3", fields={"deal_value": 38500})
        self.assertTrue(tries[0] < fixed[0] < tries[1])
        self.assertTrue(s.answers[tries[1]]["ok"])

    def test_grades_are_computed_not_typed(self):
        s = script("b2b_pipeline")
        typed = s.answer(op="set", instance="deal-1", fields={"grade": "A+"})
        self.assertEqual(typed["error"]["code"], "invalid_field")
        self.assertIn("computed by the lead scoring", typed["error"]["message"])
        grades = {}
        for name in ("deal-1", "deal-2", "deal-3", "deal-5"):
            for e in s.events(name):
                if e["type"] == "field_set" and e["field"] == "grade":
                    grades[name] = e["value"]
        # deal-3's A grade (with the existing customer flag) is what lets it take the fast track.
        self.assertEqual(grades["deal-3"], "A")
        self.assertEqual(grades["deal-2"], "B")

    def test_summary_raises_the_alerts_the_figures_cross(self):
        result = run("run", definition("b2b_pipeline"), "--directory", people(), "--summary",
                     stdin=open(path("examples", "b2b_pipeline.commands.jsonl"), "rb").read())
        self.assertEqual(result.returncode, 0, result.stderr)
        text = result.stdout.decode()
        # 4 entries into solution matching (deal-3 twice, after its reopening), 2 moved on: 50%,
        # below the 60% threshold. Lead incubation: 4 of 5 moved on, above 50%.
        self.assertIn("3. Solution matching: 4 entered, 2 moved on, 2 lost, conversion 50%", text)
        self.assertIn("ALERT low_proposal_acceptance:", text)
        self.assertNotIn("ALERT low_lead_incubation_rate", text)

    def test_wrong_json_types_name_the_field(self):
        a = script("b2b_pipeline").answer(op="set", instance="deal-1",
                                          fields={"deal_value": "180k"})
        self.assertEqual(a["error"],
                         {"code": "invalid_field", "field": "deal_value",
                          "pointer": "/fields/deal_value",
                          "message": 'field "deal_value" must be a number, not a string'})

    def test_customer_feedback_loop_goes_back_and_closes(self):
        s = script("voice_of_customer")
        stages = [e["stage"] for e in s.events("ticket-101") if e["type"] == "stage_changed"]
        self.assertEqual(stages, ["routed", "response_planning", "improving", "verifying",
                                  "improving", "verifying", "closed"])
        self.assertEqual(s.answer(op="approve", instance="ticket-101", actor="sam")["error"]["code"],
                         "forbidden")
        self.assertEqual([e["type"] for e in s.events("ticket-102")].count("reopened"), 1)

    def test_b2c_funnel_outcomes(self):
        s = script("b2c_funnel")
        self.assertEqual(s.final_stage("lead-anna"), "advocate")
        self.assertEqual(s.final_stage("lead-ben"), "loyal_customer")
        self.assertEqual(s.final_stage("lead-dana"), "churned")
        backwards = [i for i, c in enumerate(s.commands)
                     if c and i > 0 and s.commands[i - 1] and c["at"] < s.commands[i - 1]["at"]]
        self.assertTrue(backwards)
        for i in backwards:
            self.assertEqual(s.answers[i]["error"]["code"], "bad_command")
            self.assertEqual(s.answers[i]["error"]["pointer"], "/at")

    def standard_events(self, name, instance, standard):
        return [e for e in script(name).events(instance) if e.get("standard") == standard]

    def test_b2b_contract_standard_goes_at_risk_breaches_and_escalates_by_role(self):
        # deal-1 waits in deal_closing on hold; contract_2d does not pause, so its milestones
        # fire while the deal is on hold, each at its own time, in the answer to the resume.
        fired = self.standard_events("b2b_pipeline", "deal-1", "contract_2d")
        self.assertEqual([e["type"] for e in fired],
                         ["at_risk", "breached", "escalated", "escalated", "met"])
        self.assertEqual([e.get("role") for e in fired if e["type"] == "escalated"],
                         ["sales_manager", "head_of_sales"])
        self.assertTrue(all(e["actor"] == "system" for e in fired[:4]))
        at_risk, breached = fired[0]["at"], fired[1]["at"]
        self.assertLess(at_risk, breached)
        resume = script("b2b_pipeline").answer(op="resume", instance="deal-1")
        self.assertEqual([e["type"] for e in resume["deadlines"] if e["instance"] == "deal-1"][:2],
                         ["at_risk", "breached"])

    def test_b2b_hold_pauses_the_needs_summary_and_met_records_counted_time(self):
        s = script("b2b_pipeline")
        # Anchored 09:00 on the 9th, 10 h counted, on hold from 19:00 to the 12th 09:00: at risk
        # (18 h) falls due at 17:00 on the 12th, not on the 10th.
        quiet = s.answers[s.find(op="tick", at="2026-02-10T12:00:00Z")[0]]
        self.assertEqual(quiet, {"ok": True, "events": []})
        tick = s.answers[s.find(op="tick", at="2026-02-12T17:30:00Z")[0]]
        self.assertEqual([(e["type"], e["at"], e["standard"]) for e in tick["events"]],
                         [("at_risk", "2026-02-12T17:00:00Z", "needs_summary_24h")])
        met = self.standard_events("b2b_pipeline", "deal-6", "needs_summary_24h")[-1]
        self.assertEqual(met["type"], "met")
        self.assertEqual(met["elapsed_ms"], 21 * 3600 * 1000)

    def test_b2b_lead_follow_up_counts_working_hours_of_the_sales_office(self):
        # Created Monday 08:00Z (09:00 Berlin), advanced 09:00Z: one working hour.
        met = self.standard_events("b2b_pipeline", "deal-6", "lead_follow_up")
        self.assertEqual([(e["type"], e["elapsed_ms"]) for e in met], [("met", 3600 * 1000)])

    def test_leaving_the_scope_cancels_a_standard(self):
        # lead-chen is closed as lost from the trial: its trial standard is cancelled, not met.
        fired = self.standard_events("b2c_funnel", "lead-chen", "trial_check_in")
        self.assertIn("cancelled", [e["type"] for e in fired])
        close = script("b2c_funnel").answer(op="close", instance="lead-chen")
        self.assertEqual([e["type"] for e in close["events"]], ["closed_lost", "cancelled"])

    def test_deadlines_fire_once_and_in_time_order_across_instances(self):
        for name in NAMES:
            s = script(name)
            seen = set()
            fired = []
            for c, a in zip(s.commands, s.answers):
                batch = a["events"] if c and c["op"] == "tick" else a.get("deadlines", [])
                self.assertEqual([e["at"] for e in batch], sorted(e["at"] for e in batch))
                for e in batch:
                    key = (e["instance"], e["type"], e["standard"], e.get("step"))
                    self.assertNotIn(key, seen, (name, e))
                    seen.add(key)
                    fired.append(e)
            self.assertTrue(fired or name == "voice_of_customer", name)

    def test_summary_tells_where_each_instance_ended(self):
        s = script("b2b_pipeline")
        result = run("run", definition("b2b_pipeline"), "--directory", people(), "--summary",
                     stdin=s.raw)
        self.assertEqual(result.returncode, 0, result.stderr)
        text = result.stdout.decode()
        lines = {l.split()[0]: l for l in text.splitlines() if l.startswith("deal-")}
        self.assertEqual(list(lines),
                         ["deal-1", "deal-2", "deal-3", "deal-4", "deal-l", "deal-5", "deal-6"])
        self.assertIn("Won: customer retained (won)", lines["deal-1"])
        self.assertIn("Lost (lost: competitor) in Solution matching", lines["deal-2"])
        self.assertIn("(on hold: customer is reorganising purchasing", lines["deal-5"])
        self.assertIn("never created", lines["deal-l"])
        # Counts agree with the JSON answers.
        for deal in ("deal-1", "deal-2", "deal-3", "deal-4", "deal-5"):
            mine = [i for i, c in enumerate(s.commands) if c and c.get("instance") == deal]
            rejected = sum(1 for i in mine if not s.answers[i]["ok"])
            self.assertIn("after %d commands, %d rejected" % (len(mine), rejected), lines[deal])
        # The final command on deal-5 was refused: the summary says which and why.
        self.assertIn("last command rejected: forbidden", text)
        total = "%d lines: %d accepted, %d rejected" % (
            len(s.lines), sum(a["ok"] for a in s.answers), sum(not a["ok"] for a in s.answers))
        self.assertIn(total, text)


class HostileStreams(unittest.TestCase):
    def assert_codes(self, answers, codes):
        self.assertEqual([a["error"]["code"] if not a["ok"] else "ok" for a in answers], codes)

    def test_garbage_lines_answer_bad_command_and_the_run_goes_on(self):
        garbage = [b"", b"   ", b"garbage", b"{", b"}", b"null", b"[]", b'"text"', b"42",
                   b"1e999", b"{}", b'{"op": 1}', b'{"op": "create"}', b"\x00\x01\x02",
                   b'{"op": "tick", "at": "2026-05-04T09:00:00Z"} trailing',
                   b'{"op": "tick", "at": "2026-05-04T09:00:00Z", "at": "2026-05-04T09:01:00Z"}',
                   b'{"op": "tick"}', b'{"op": "tick", "at": "yesterday"}',
                   b'{"op": "tick", "at": "2026-05-04"}', b'{"op": "tick", "at": 1700000000}',
                   b"\xef\xbb\xbf{}", b"// comment", b"{'op': 'tick'}", b"NaN"]
        data = stream(*garbage, create(minute=1))
        result, answers = run_stream(data)
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assert_codes(answers, ["bad_command"] * len(garbage) + ["ok"])
        for a in answers[:-1]:
            self.assertEqual(set(a["error"]), {"code", "message", "pointer"})
            a["error"]["message"].encode("utf-8")

    def test_a_10_mb_line_is_refused_without_stopping_the_run(self):
        huge = b'{"op": "tick", "at": "2026-05-04T09:00:00Z", "x": "' + b"y" * (10 << 20) + b'"}'
        result, answers = run_stream(stream(huge, create(minute=1), huge) + huge)
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assert_codes(answers, ["bad_command", "ok", "bad_command", "bad_command"])
        self.assertIn("limit of 1048576", answers[0]["error"]["message"])
        self.assertIn(str(len(huge)), answers[0]["error"]["message"])

    def test_a_line_just_under_the_limit_is_read_whole(self):
        big = cmd("set", 1, fields={"company": "c"}, comment="x" * ((1 << 20) - 200))
        self.assertLess(len(json.dumps(big)), 1 << 20)
        result, answers = run_stream(stream(create(), big))
        self.assert_codes(answers, ["ok", "bad_command"])
        self.assertIn('unknown key "comment"', answers[1]["error"]["message"])

    def test_invalid_utf8_and_nul_bytes(self):
        cases = [b'{"op": "tick", "at": "2026-05-04T09:00:00Z", "\xff": 1}',
                 b'{"op": "create", "instance": "d\xc3", "actor": "maria", "at": "2026-05-04T09:00:00Z", "definition": "b2b_pipeline"}',
                 b'{"op": "tick", "at": "2026-05-04T09:00:00Z"}\x00',
                 b'{"op": "tick", "at": "2026-05-04T09:00:00Z", "x": "\xed\xa0\x80"}']
        result, answers = run_stream(stream(*cases))
        self.assertEqual(result.returncode, 0)
        self.assert_codes(answers, ["bad_command"] * len(cases))
        result.stdout.decode("utf-8")  # answers are valid UTF-8

    def test_deep_nesting(self):
        for opener, closer in ((b"[", b"]"), (b'{"a":', b"}")):
            line = opener * 100000 + b"1" + closer * 100000
            fields = b'{"op": "set", "instance": "d1", "actor": "maria", "at": "2026-05-04T09:00:00Z", "fields": {"company": ' + line + b"}}"
            result, answers = run_stream(stream(line, fields))
            self.assertEqual(result.returncode, 0, result.stderr[-500:])
            self.assert_codes(answers, ["bad_command", "bad_command"])
            self.assertIn("nesting", answers[0]["error"]["message"])

    def test_time_cannot_go_backwards_and_rejected_lines_do_not_move_the_clock(self):
        result, answers = run_stream(stream(
            create(minute=10),
            cmd("check", 5, item="lead_cleaned"),           # backwards: refused
            cmd("check", 10, item="lead_cleaned"),          # same instant: fine
            cmd("check", 500, item="no_such_item"),         # refused: does not move the clock
            cmd("check", 20, item="grade_verified"),
            {"op": "tick", "at": at(30)},
            cmd("uncheck", 25, item="grade_verified"),      # before the tick: refused
            {"op": "tick", "at": at(29)}))
        self.assert_codes(answers, ["ok", "bad_command", "ok", "bad_command", "ok", "ok",
                                    "bad_command", "bad_command"])
        self.assertIn("backwards", answers[1]["error"]["message"])
        self.assertEqual(answers[1]["error"]["pointer"], "/at")
        self.assertEqual(answers[5], {"ok": True, "events": []})

    def test_unknown_op_and_unknown_key_are_named(self):
        result, answers = run_stream(stream(
            create(), cmd("sign", 1), cmd("check", 2, item="lead_cleaned", note="hi"),
            {"op": "tick", "at": at(3), "instance": "d1"},
            cmd("check", 4), cmd("check", 5, item=7), cmd("check", 6, instance=""),
            cmd("check", 7, actor=None, item="lead_cleaned"),
            cmd("check", 8, item="lead_cleaned", expected_version=-1),
            cmd("check", 9, item="lead_cleaned", expected_version="1"),
            cmd("check", 10, item="lead_cleaned", expected_version=1.5),
            cmd("set", 11), cmd("set", 12, fields=[1]),
            create("d2", 13, definition_version=0), create("d2", 14, definition="nope"),
            cmd("check", 15, item="lead_cleaned", expected_version=1.0)))
        codes = ["ok"] + ["bad_command"] * 14 + ["ok"]
        self.assert_codes(answers, codes)
        errors = [a.get("error", {}) for a in answers]
        self.assertIn('unknown op "sign"', errors[1]["message"])
        self.assertEqual(errors[1]["pointer"], "/op")
        self.assertIn('unknown key "note"', errors[2]["message"])
        self.assertEqual(errors[2]["pointer"], "/note")
        self.assertIn('unknown key "instance"', errors[3]["message"])
        self.assertIn('"item"', errors[4]["message"])
        self.assertEqual(errors[5]["pointer"], "/item")
        self.assertEqual(errors[6]["pointer"], "/instance")
        self.assertEqual(errors[7]["pointer"], "/actor")
        for i in (8, 9, 10):
            self.assertEqual(errors[i]["pointer"], "/expected_version")
        self.assertIn("fields", errors[11]["message"])
        self.assertEqual(errors[12]["pointer"], "/fields")
        self.assertEqual(errors[13]["pointer"], "/definition_version")
        self.assertIn('no definition "nope"', errors[14]["message"])

    def test_wrong_field_types_answer_invalid_field_naming_the_field(self):
        wrong = {"company": 5, "deal_value": "lots", "seats": 2.5, "existing_customer": "true",
                 "contract_signed_at": "tomorrow", "solution_modules": ["a", 1],
                 "industry": 3, "lead_score": [1]}
        commands = [create()]
        for i, (name, value) in enumerate(wrong.items()):
            commands.append(cmd("set", i + 1, fields={name: value}))
        commands.append(create("d2", 20, fields={"seats": "3"}))
        result, answers = run_stream(stream(*commands))
        self.assert_codes(answers, ["ok"] + ["invalid_field"] * (len(wrong) + 1))
        for (name, _), a in zip(wrong.items(), answers[1:]):
            self.assertEqual(a["error"]["field"], name)
            self.assertIn('field "%s"' % name, a["error"]["message"])
        self.assertEqual(answers[6]["error"]["pointer"], "/fields/solution_modules/1")

    def test_right_field_types_round_trip_and_null_clears(self):
        fields = {"company": "Ünïcødé \"GmbH\"\n", "deal_value": 5, "seats": 3.0,
                  "existing_customer": True, "contract_signed_at": "2026-05-04T11:30:00+02:00",
                  "solution_modules": [], "average_order_value": 99.5, "industry": "retail"}
        result, answers = run_stream(stream(
            create(fields=fields), cmd("set", 1, fields={"company": None, "nonexistent": 1}),
            cmd("set", 2, fields={"company": None}), cmd("set", 3, fields={"seats": 2 ** 63}),
            cmd("set", 4, fields={"purchases_last_year": 10001})))
        self.assert_codes(answers, ["ok", "invalid_field", "ok", "invalid_field", "invalid_field"])
        values = {e["field"]: e["value"] for e in answers[0]["events"] if e["type"] == "field_set"}
        # The lead scoring adds the score and the grade it computes.
        self.assertEqual({k: v for k, v in values.items() if k not in ("lead_score", "grade")},
                         {**fields, "seats": 3, "contract_signed_at": "2026-05-04T09:30:00Z"})
        self.assertIn('unknown field "nonexistent"', answers[1]["error"]["message"])
        self.assertEqual([(e["type"], e["field"]) for e in answers[2]["events"]],
                         [("field_cleared", "company")])
        self.assertIn("above the maximum", answers[4]["error"]["message"])

    def test_fields_are_set_in_the_order_of_their_names_whatever_the_line_says(self):
        result, answers = run_stream(stream(
            create(), cmd("set", 1, fields={"seats": 4, "deal_value": 10, "company": "Z"}),
            cmd("set", 2, fields={"zzz": 1, "seats": 5, "aaa": 2})))
        self.assert_codes(answers, ["ok", "ok", "invalid_field"])
        self.assertEqual([e["field"] for e in answers[1]["events"] if e["type"] == "field_set"
                          and e["field"] not in ("lead_score", "grade")],
                         ["company", "deal_value", "seats"])
        # The engine names the first unknown field it is given: "aaa".
        self.assertIn('unknown field "aaa"', answers[2]["error"]["message"])

    def test_integers_beyond_64_bits_are_read_as_json_reads_them(self):
        big = "100000000000000000000"  # 1e20: valid JSON, beyond int64 and uint64
        lines = [create()]
        for i, (key, body) in enumerate([
                ("fields", '{"deal_value": %s}' % big), ("fields", '{"seats": %s}' % big),
                ("fields", '{"seats": -%s}' % big), ("expected_version", big)]):
            lines.append(('{"op": "set", "instance": "d1", "actor": "maria", "at": "%s", "%s": %s'
                          % (at(i + 1), key, body)) +
                         (', "fields": {"seats": 2}}' if key != "fields" else "}"))
        result, answers = run_stream(stream(*lines))
        self.assert_codes(answers, ["ok", "ok", "invalid_field", "invalid_field", "bad_command"])
        self.assertEqual([e["value"] for e in answers[1]["events"] if e.get("field") == "deal_value"],
                         [1e20])
        for a in answers[2:4]:
            self.assertEqual(a["error"]["message"],
                             'field "seats" is outside the range of a 64-bit integer')
        self.assertEqual(answers[4]["error"]["pointer"], "/expected_version")
        self.assertIn("not \"1e+20\"", answers[4]["error"]["message"])

    def test_lines_read_by_either_json_reader_get_the_same_answers(self):
        # An integer beyond 64 bits anywhere makes the tool read the line with nlohmann/json
        # instead of simdjson. "zzz" (an unknown field, converted last) changes no answer here.
        big = ', "zzz": 100000000000000000000'
        bodies = [
            '"op": "set", "zeta": 1, "alpha": 2, "fields": {"seats": 2%s}',
            '"op": "set", "fields": {"solution_modules": ["a", 3]%s}',
            '"op": "set", "fields": {"solution_modules": "a"%s}',
            '"op": "set", "fields": {"contract_signed_at": "yesterday"%s}',
            '"op": "set", "fields": {"seats": 1.5%s}',
            '"op": "set", "fields": {"seats": 18446744073709551615%s}',
            '"op": "set", "fields": {"industry": {"b": 1, "a": [true, null]}%s}',
            '"op": "set", "fields": {"existing_customer": "yes", "company": 7%s}',
            '"op": "set", "expected_version": {"b": 1, "a": [2]}, "fields": {"seats": 2%s}',
            '"op": "set", "expected_version": -1, "fields": {"seats": 2%s}',
            '"op": "set", "actor": "", "fields": {"seats": 2%s}',
        ]
        lines = [create()]
        for i, body in enumerate(bodies):
            for extra in ("", big):
                text = body % extra
                if '"actor"' not in text:
                    text = '"actor": "maria", ' + text
                lines.append('{"instance": "d1", "at": "%s", %s}' % (at(1 + 2 * i), text))
        result, answers = run_stream(stream(*lines))
        self.assertEqual(len(answers), 1 + 2 * len(bodies))
        for i, body in enumerate(bodies):
            fast, slow = answers[1 + 2 * i], answers[2 + 2 * i]
            self.assertFalse(fast["ok"], body)
            self.assertEqual(fast, slow, body)
        # Objects in messages are written with their keys sorted, whichever reader read them.
        self.assertIn('not \"{\\\"a\\\":[2],\\\"b\\\":1}\"', answers[17]["error"]["message"])

    def test_times_keep_their_milliseconds_in_utc(self):
        c = create(fields={"contract_signed_at": "2026-05-04T11:00:00.5+02:00"})
        c["at"] = "2026-05-04T09:00:00.250Z"
        result, answers = run_stream(stream(c, cmd("check", 0, item="lead_cleaned")))
        self.assert_codes(answers, ["ok", "bad_command"])  # 09:00:00 is before 09:00:00.250
        self.assertEqual({e["at"] for e in answers[0]["events"]}, {"2026-05-04T09:00:00.250Z"})
        signed = [e for e in answers[0]["events"] if e.get("field") == "contract_signed_at"]
        self.assertEqual([e["value"] for e in signed], ["2026-05-04T09:00:00.500Z"])

    def test_summary_counts_and_escapes_what_it_prints(self):
        evil = "d\u001b[31m"
        data = stream(create(evil), cmd("check", 1, instance=evil, item="lead_cleaned"),
                      cmd("check", 2, instance=evil, item="no_such_item"), b"junk",
                      {"op": "tick", "at": at(3)})
        result = run("run", definition("b2b_pipeline"), "--directory", people(), "--summary",
                     stdin=data)
        self.assertEqual(result.returncode, 0)
        self.assertNotIn(b"\x1b", result.stdout)
        text = result.stdout.decode()
        self.assertIn("Lead incubation (open) after 3 commands, 1 rejected", text)
        self.assertIn("last command rejected: bad_command", text)
        self.assertIn("5 lines: 3 accepted, 2 rejected (bad_command 2)", text)

    def test_summary_escapes_hold_and_lost_reasons(self):
        evil = "\u001b[2J\nfake  Won (won) after 1 command, 0 rejected"
        data = stream(create(), cmd("hold", 1, reason=evil))
        result = run("run", definition("b2b_pipeline"), "--directory", people(), "--summary",
                     stdin=data)
        self.assertEqual(result.returncode, 0)
        self.assertNotIn(b"\x1b", result.stdout)
        lines = result.stdout.decode().splitlines()
        # The instance's line, the totals, then the pipeline figures: nothing forged.
        self.assertIn("on hold:", lines[0])
        self.assertTrue(lines[1].startswith("2 lines: "), lines)
        self.assertFalse([line for line in lines if line.startswith("fake")], lines)
        self.assertEqual(lines[3], "B2B five-module pipeline (version 1): 1 created, 0 won, 0 lost")

    def test_unknown_and_duplicate_instances_and_conflicts(self):
        result, answers = run_stream(stream(
            cmd("check", 0, item="lead_cleaned"), create(minute=1), create(minute=2),
            cmd("check", 3, item="lead_cleaned", expected_version=0),
            cmd("check", 4, item="lead_cleaned", expected_version=1)))
        self.assert_codes(answers, ["unknown_instance", "ok", "duplicate_instance", "conflict", "ok"])
        self.assertEqual(answers[3]["error"]["version"], 1)
        self.assertEqual(answers[4]["version"], 2)

    def test_without_a_directory_nobody_holds_a_role(self):
        result, answers = run_stream(stream(create()), directory=False)
        self.assert_codes(answers, ["forbidden"])

    def test_line_endings_and_a_last_line_without_newline(self):
        data = json.dumps(create()).encode() + b"\r\n" + json.dumps(
            cmd("check", 1, item="lead_cleaned")).encode()
        result, answers = run_stream(data)
        self.assert_codes(answers, ["ok", "ok"])
        result, answers = run_stream(b"")
        self.assertEqual((result.returncode, result.stdout), (0, b""))

    def test_several_definitions_in_one_run(self):
        result, answers = run_stream(stream(
            create(), {"op": "create", "instance": "t1", "actor": "carla", "at": at(1),
                       "definition": "voice_of_customer", "fields": {"satisfaction": 3}}),
            definitions=("b2b_pipeline", "voice_of_customer"))
        self.assert_codes(answers, ["ok", "ok"])
        self.assertEqual(answers[1]["events"][0]["definition"], "voice_of_customer")

    def test_answers_come_before_the_input_ends(self):
        """A host may drive the tool interactively: each answer is flushed before waiting."""
        proc = subprocess.Popen([BIN, "run", definition("b2b_pipeline"), "--directory", people()],
                                stdin=subprocess.PIPE, stdout=subprocess.PIPE)
        try:
            for i, command in enumerate([create(), cmd("check", 1, item="lead_cleaned")]):
                proc.stdin.write(json.dumps(command).encode() + b"\n")
                proc.stdin.flush()
                ready, _, _ = select.select([proc.stdout], [], [], 20)
                self.assertTrue(ready, "no answer to line %d while stdin is open" % (i + 1))
                self.assertTrue(json.loads(proc.stdout.readline())["ok"])
        finally:
            proc.stdin.close()
            proc.wait(timeout=20)
        self.assertEqual(proc.returncode, 0)


class FilesAndUsage(support.TempDirTestCase):
    def test_missing_directory_file_exits_1(self):
        missing = os.path.join(self.tmp, "absent.json")
        result = run("run", definition("b2b_pipeline"), "--directory", missing,
                     stdin=stream(create()))
        self.assertEqual(result.returncode, 1)
        self.assertEqual(result.stdout, b"")
        self.assertIn(missing.encode() + b": (document): cannot open the file", result.stderr)

    def test_invalid_directory_files_exit_1_with_a_pointer(self):
        cases = {b"[]": b"(document)", b'{"maria": "sales_rep"}': b"/maria",
                 b'{"maria": ["sales_rep", 3]}': b"/maria/1",
                 b'{"maria": [], "maria": []}': b"/maria", b'{"maria": [""]}': b"/maria/0",
                 b"{": b"", b"": b"(document)",
                 b'{"a/b": [["x"]]}': b"/a~1b/0", b'{"maria": ["\xff"]}': b"/maria/0"}
        for data, pointer in cases.items():
            p = self.write("people.json", data)
            result = run("run", definition("b2b_pipeline"), "--directory", p,
                         stdin=stream(create()))
            self.assertEqual(result.returncode, 1, data)
            self.assertEqual(result.stdout, b"", data)
            # Syntax errors point where the parser stopped; only the file name is certain there.
            expected = p.encode() + b": " + (pointer + b": " if pointer else b"")
            self.assertTrue(result.stderr.startswith(expected), (data, result.stderr))

    def test_invalid_definition_exits_1_with_diagnostics_on_stderr(self):
        with open(definition("b2b_pipeline")) as f:
            doc = json.load(f)
        doc["stages"][0]["responsibility"]["accountable"] = "ceo"
        broken = self.write("broken.json", json.dumps(doc))
        for files in ([broken], [definition("b2b_pipeline"), broken],
                      [self.write("empty.json", b"")], [os.path.join(self.tmp, "absent.json")],
                      [definition("b2b_pipeline"), definition("b2b_pipeline")]):
            result = run("run", *files, "--directory", people(), stdin=stream(create()))
            self.assertEqual(result.returncode, 1, files)
            self.assertEqual(result.stdout, b"", files)
            self.assertTrue(result.stderr.startswith(files[-1].encode() + b": "), result.stderr)
        result = run("run", broken, stdin=b"")
        self.assertIn(b"/stages/0/responsibility/accountable", result.stderr)

    def test_files_over_their_limit_are_refused_by_name_without_being_read_whole(self):
        # A definition may hold 8 MiB, a directory 16 MiB; /dev/zero never ends.
        over = self.write("over.json", b" " * ((16 << 20) + 1))
        for definitions, directory, message in (
                (["/dev/zero"], people(), b"/dev/zero: (document): the file is larger than the "
                                          b"limit of 8388608 bytes\n"),
                ([definition("b2b_pipeline")], "/dev/zero",
                 b"/dev/zero: (document): the file is larger than the limit of 16777216 bytes\n"),
                ([definition("b2b_pipeline")], over,
                 over.encode() + b": (document): the file is larger than the limit of 16777216 "
                                 b"bytes\n")):
            if not os.path.exists("/dev/zero") and "/dev/zero" in (definitions + [directory]):
                continue
            result = run("run", *definitions, "--directory", directory, stdin=stream(create()),
                         timeout=60)
            self.assertEqual(result.returncode, 1, definitions)
            self.assertEqual(result.stdout, b"")
            self.assertEqual(result.stderr, message)

    def test_a_definition_over_its_limit_through_a_pipe_is_refused_not_read_from_its_tail(self):
        # A pipe can be read once: the part after the limit must not be taken for the file.
        fifo = os.path.join(self.tmp, "definition.fifo")
        os.mkfifo(fifo)
        with open(definition("b2b_pipeline"), "rb") as f:
            tail = f.read()

        def feed():
            try:
                with open(fifo, "wb") as w:
                    w.write(b" " * ((8 << 20) + (200 << 10)) + tail)
            except BrokenPipeError:
                pass  # the reader stopped past the limit, as it should

        writer = threading.Thread(target=feed)
        writer.start()
        result = run("run", fifo, "--directory", people(), stdin=stream(create()), timeout=60)
        writer.join(timeout=60)
        self.assertEqual(result.returncode, 1)
        self.assertEqual(result.stdout, b"")
        self.assertEqual(result.stderr, fifo.encode() + b": (document): the file is larger than "
                                                        b"the limit of 8388608 bytes\n")

    def test_usage_errors_exit_2(self):
        for args in (["run"], ["run", "--bogus", definition("b2b_pipeline")],
                     ["run", definition("b2b_pipeline"), "--directory"]):
            self.assertEqual(run(*args).returncode, 2, args)
        self.assertEqual(run("run", "--help").returncode, 0)


if __name__ == "__main__":
    BIN, SOURCE = sys.argv[1], sys.argv[2]
    support.main(__name__)
