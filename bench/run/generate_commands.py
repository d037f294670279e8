#!/usr/bin/env python3
"""Generates a command stream for `salesflow run` on examples/b2b_pipeline.json (benchmarks).

Usage: generate_commands.py [--lines N] [--concurrent K] [--seed S] > commands.jsonl

Deals walk the whole B2B pipeline (create with fields, tags, checklists, diagnosis, solution,
legal review, signature, value review, won; one in ten is lost instead), K of them interleaved at
random, one line per second of simulated time. About 14% of the lines are refused on purpose
(a move before the gate is met, a rep approving legal's review, a stale expected_version), so the
rejection path is measured too. Run with --directory examples/directory/people.json. Deterministic per seed.
"""
import argparse
import datetime
import json
import random
import sys

D = "b2b_pipeline"


def deal_steps(n, rng):
    """The commands of deal n, as (op, actor, arguments) without instance and time."""
    deal = "deal-%d" % n
    company = "Company %d %s" % (n, rng.choice(["GmbH", "AG", "Ltd", "S.A.", "Oy"]))
    steps = [
        ("create", "maria", {"definition": D, "fields": {
            "company": company, "industry": rng.choice(["manufacturing", "retail", "finance"]),
            "company_size": rng.choice(["small", "medium", "large"]),
            "web_visit_minutes": rng.randint(0, 300), "existing_customer": rng.random() < 0.3}}),
        ("set", "mark", {"fields": {"urgency": rng.choice(["low", "medium", "high"])}}),
        ("advance", "maria", {"to": "needs_diagnosis"}),  # refused: the lead is not cleaned
        ("set", "maria", {"fields": {"email_opens": rng.randint(0, 40)}}),
        ("check", "maria", {"item": "lead_cleaned"}),
        ("check", "maria", {"item": "grade_verified"}),
        ("advance", "maria", {"to": "needs_diagnosis"}),
        ("set", "pete", {"fields": {"needs_summary": "https://wiki.example.com/%s/needs" % deal}}),
        ("set", "maria", {"fields": {"decision_maker": "Decision Maker %d" % n}}),
        ("check", "maria", {"item": "org_structure"}),
        ("check", "maria", {"item": "decision_chain"}),
        ("check", "maria", {"item": "hidden_needs"}),
        ("advance", "maria", {"to": "solution_matching"}),
        ("set", "pete", {"fields": {"solution_type": "standard",
                                    "solution_modules": ["module_a", "module_b", "module_c"]}}),
        ("set", "maria", {"fields": {"deal_value": round(rng.uniform(5000, 500000), 2)}}),
        ("check", "maria", {"item": "proposal_sent"}),
    ]
    if rng.random() < 0.1:
        return steps + [("close", "maria", {"reason": rng.choice(["competitor", "no_budget"])})]
    steps += [
        ("advance", "maria", {"to": "deal_closing"}),
        ("check", "maria", {"item": "contract_drafted"}),
        ("approve", "maria", {"approval": "legal_pre_review"}),  # refused: legal's approval
        ("check", "maria", {"item": "esignature_sent"}),
        ("set", "maria", {"fields": {"contract_signed_at": "2026-02-01T10:00:00Z",
                                     "seats": rng.randint(1, 5000)}}),
        ("advance", "maria", {"to": "value_continuation"}),  # refused: legal has not reviewed
        ("approve", "lena", {"approval": "legal_pre_review"}),
        ("advance", "maria", {"to": "value_continuation"}),
        ("set", "sam", {"fields": {"value_review_notes": "Review of %s: adoption good." % company}}),
        ("check", "sam", {"item": "value_review_done"}),
        ("set", "maria", {"expected_version": 1, "fields": {"seats": 10}}),  # refused: stale
        ("advance", "maria", {"to": "won"}),
    ]
    return steps


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=int, default=1_000_000)
    parser.add_argument("--concurrent", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    start = datetime.datetime(2026, 1, 5, 8, 0, 0)
    active = []  # [instance, steps, next step]
    started = 0
    out = sys.stdout
    batch = []
    for line in range(args.lines):
        while len(active) < args.concurrent:
            started += 1
            active.append(["deal-%d" % started, deal_steps(started, rng), 0])
        slot = rng.randrange(len(active))
        instance, steps, i = active[slot]
        op, actor, arguments = steps[i]
        at = (start + datetime.timedelta(seconds=line)).strftime("%Y-%m-%dT%H:%M:%SZ")
        command = {"op": op, "instance": instance, "actor": actor, "at": at}
        command.update(arguments)
        batch.append(json.dumps(command, separators=(",", ":")))
        if i + 1 == len(steps):
            active[slot] = active[-1]
            active.pop()
        else:
            active[slot][2] = i + 1
        if len(batch) >= 10000:
            out.write("\n".join(batch) + "\n")
            batch.clear()
    if batch:
        out.write("\n".join(batch) + "\n")


if __name__ == "__main__":
    main()
