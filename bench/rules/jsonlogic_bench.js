// The json-logic-js side of the rules benchmark: the same gate rules and data as rules_bench.cpp.
// Prints one JSON line: {"gate_rules_ns": mean ns per evaluation, "simple_ns": ...}.
"use strict";
const fs = require("fs");
const jsonLogic = require("json-logic-js");

const cases = JSON.parse(fs.readFileSync(process.argv[2], "utf8"));

// Runs fn repeatedly for about `seconds` after a warm-up; returns ns per call of fn.
function measure(fn, seconds) {
  for (let i = 0; i < 20000; i++) fn();  // let the JIT optimise first
  let calls = 0;
  let sink = 0;
  const start = process.hrtime.bigint();
  const budget = BigInt(Math.round(seconds * 1e9));
  let elapsed = 0n;
  while (elapsed < budget) {
    for (let i = 0; i < 1000; i++) sink += fn() ? 1 : 0;
    calls += 1000;
    elapsed = process.hrtime.bigint() - start;
  }
  if (sink < 0) console.log(sink);
  return Number(elapsed) / calls;
}

const rules = cases.rules;
const data = cases.data;
const gate = measure(() => {
  let n = 0;
  for (const rule of rules) n += jsonLogic.truthy(jsonLogic.apply(rule, data)) ? 1 : 0;
  return n;
}, 2) / rules.length;
const simple = measure(() => jsonLogic.truthy(jsonLogic.apply(cases.simple, data)), 2);
console.log(JSON.stringify({ gate_rules_ns: gate, simple_ns: simple }));
