#!/usr/bin/env python3
"""Runs salesflow_bench_engine once and prints the medians, the ratios and the targets.

Usage: report.py BENCH_BINARY [--repetitions N] [--json FILE] [--huge-pages]

All figures come from the same run: the medians of N repetitions (default 5, which is also the
most: the two advances through the Engine, one by one and in batches, each consume one prepared
deal per command, 100,000 per repetition, from their own half of the 1M deals). Rows of batches
(execute_batch) are reported per command: the time of an iteration divided by its `commands`. Both
wall time and CPU time are shown; on a shared machine CPU time is the steadier of the two.
--json FILE also keeps Google Benchmark's raw JSON output.

--huge-pages runs the binary with glibc's malloc asking the kernel for transparent huge pages
(GLIBC_TUNABLES=glibc.malloc.hugetlb=1, glibc 2.35 and later; it takes effect where
/sys/kernel/mm/transparent_hugepage/enabled is "madvise" or "always"). Every heap block then sits
on 2 MiB pages: the engine's states and index, and the floor's 1 GiB alike. The report says how
much of the heap the kernel actually gave huge pages.
"""
import os
import json
import subprocess
import sys

TARGET_ADVANCE_NS = 250.0
TARGET_BYTES_PER_DEAL = 256.0
TARGET_X_TABLE = 2.0


def arg(name, default):
    return sys.argv[sys.argv.index(name) + 1] if name in sys.argv else default


def main():
    binary = sys.argv[1]
    reps = arg("--repetitions", "5")
    env = dict(os.environ)
    if "--huge-pages" in sys.argv:
        env["GLIBC_TUNABLES"] = ":".join(
            t for t in (env.get("GLIBC_TUNABLES"), "glibc.malloc.hugetlb=1") if t)
    out = subprocess.run([binary, "--benchmark_format=json", "--benchmark_repetitions=" + reps,
                          "--benchmark_report_aggregates_only=true"],
                         check=True, capture_output=True, text=True, env=env).stdout
    if "--json" in sys.argv:
        with open(arg("--json", ""), "w") as f:
            f.write(out)
    doc = json.loads(out)
    rows = {}
    for b in doc["benchmarks"]:
        if b.get("error_occurred"):
            sys.exit("%s: %s" % (b["name"], b.get("error_message")))
        if b.get("aggregate_name") == "median":
            rows[b["run_name"].split("/")[0]] = b

    def ns(name, kind="cpu_time"):
        b = rows[name]
        scale = {"ns": 1.0, "us": 1e3, "ms": 1e6, "s": 1e9}[b["time_unit"]]
        return b[kind] * scale / b.get("commands", 1)

    huge_mib = rows["BM_Memory_PerLiveDeal"].get("huge_page_MiB", 0)
    print("medians of %s repetitions (%s, %d CPUs)" %
          (reps, doc["context"]["date"], doc["context"]["num_cpus"]))
    print("heap: %s; once the fleet was built, %.0f MiB of the process's anonymous memory was "
          "on huge pages (the floor's 1 GiB comes later, on the same kind of pages)" %
          ("malloc asked for transparent huge pages (--huge-pages)" if "--huge-pages" in sys.argv
           else "default pages", huge_mib))
    print("%-30s %12s %12s  %s" % ("benchmark", "wall ns", "cpu ns", "what (batches: per command)"))
    for name, b in rows.items():
        if name.startswith("BM_Memory"):
            continue
        print("%-30s %12.1f %12.1f  %s" % (name, ns(name, "real_time"), ns(name), b.get("label", "")))

    floor = ns("BM_Floor_RandomLoad1GiB")
    print("\nrandom of 1M, in units of one dependent random load from 1 GiB (%.0f ns here)" % floor)
    for name in ("BM_Engine_SetField", "BM_Engine_CheckItem", "BM_Engine_AdvanceGate3",
                 "BM_Engine_SetField_Batch", "BM_Engine_AdvanceGate3_Batch",
                 "BM_DecideApply_AdvanceGate3"):
        print("  %-28s %5.1f loads" % (name, ns(name) / floor))

    print("\nbare stage change, ratios (cpu time; wall time in brackets)")
    pairs = [("BM_Stage_Engine", "BM_Stage_Table"), ("BM_Stage_Engine", "BM_Stage_HandWritten"),
             ("BM_Stage_Engine", "BM_Stage_Statechart"),
             ("BM_Stage_DecideApply", "BM_Stage_Table"),
             ("BM_Stage_DecideApply", "BM_Stage_HandWritten"),
             ("BM_Stage_DecideApply", "BM_Stage_Statechart"),
             ("BM_Stage_HandWritten", "BM_Stage_Table"),
             ("BM_Stage_Statechart", "BM_Stage_Table")]
    for a, b in pairs:
        print("  %-22s / %-21s %8.1fx  [%8.1fx]" % (a[9:], b[9:], ns(a) / ns(b),
                                                     ns(a, "real_time") / ns(b, "real_time")))

    m = rows["BM_Memory_PerLiveDeal"]
    print("\nmemory per live deal at %d deals (B2B, no field values, discarding storage)" %
          m["deals"])
    print("  heap (mallinfo2 uordblks+hblkhd delta) %7.1f B" % m["heap_B_per_deal"])
    print("  RSS delta                              %7.1f B" % m["rss_B_per_deal"])
    print("  of which unset field slots             %7.1f B  (%d fields x sizeof(FieldValue) %d)" %
          (m["field_slots_B"], m["field_slots_B"] / m["sizeof_FieldValue"],
           m["sizeof_FieldValue"]))
    print("  engine state beyond the field slots    %7.1f B" % m["beyond_fields_B_per_deal"])
    print("  after set field + check + approve      %7.1f B" % m["prepared_heap_B_per_deal"])
    print("  sizeof(InstanceState) %d, sizeof(Event) %d; fixture: create %.0f ns, "
          "other commands %.0f ns" % (m["sizeof_InstanceState"], m["sizeof_Event"],
                                      m["create_ns"], m["prepare_cmd_ns"]))

    print("\ntargets (cpu time)")
    checks = [
        ("advance through a 3-criteria gate, Engine, random of 1M",
         ns("BM_Engine_AdvanceGate3"), TARGET_ADVANCE_NS, "ns"),
        ("advance through a 3-criteria gate, Engine batches of 64, random of 1M",
         ns("BM_Engine_AdvanceGate3_Batch"), TARGET_ADVANCE_NS, "ns"),
        ("advance through a 3-criteria gate, decide+apply, random of 1M",
         ns("BM_DecideApply_AdvanceGate3"), TARGET_ADVANCE_NS, "ns"),
        ("bare stage change, Engine / table",
         ns("BM_Stage_Engine") / ns("BM_Stage_Table"), TARGET_X_TABLE, "x"),
        ("bare stage change, decide+apply / table",
         ns("BM_Stage_DecideApply") / ns("BM_Stage_Table"), TARGET_X_TABLE, "x"),
        ("bare stage change, decide+apply / hand-written equivalent",
         ns("BM_Stage_DecideApply") / ns("BM_Stage_HandWritten"), TARGET_X_TABLE, "x"),
        ("memory per live deal, all", m["heap_B_per_deal"], TARGET_BYTES_PER_DEAL, "B"),
        ("memory per live deal, beyond field slots", m["beyond_fields_B_per_deal"],
         TARGET_BYTES_PER_DEAL, "B"),
    ]
    for what, value, target, unit in checks:
        print("  %-64s %9.1f %-2s <= %6.1f %-2s %s" %
              (what, value, unit, target, unit, "met" if value <= target else "MISSED"))


if __name__ == "__main__":
    main()
