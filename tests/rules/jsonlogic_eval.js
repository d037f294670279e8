// The reference side of the differential test: evaluates each line [rule, data] of the file
// named by argv[2] with json-logic-js (resolved through NODE_PATH) and writes one line per case:
// {"result": VALUE} or {"error": "..."}. A result of undefined is written as {"undefined": true}.
"use strict";
const fs = require("fs");
const jsonLogic = require("json-logic-js");

const lines = fs.readFileSync(process.argv[2], "utf8").split("\n").filter((l) => l.length > 0);
const out = [];
for (const line of lines) {
  const [rule, data] = JSON.parse(line);
  try {
    const result = jsonLogic.apply(rule, data);
    out.push(result === undefined ? '{"undefined":true}' : JSON.stringify({ result }));
  } catch (e) {
    out.push(JSON.stringify({ error: String(e && e.message ? e.message : e) }));
  }
}
fs.writeFileSync(1, out.join("\n") + "\n");
