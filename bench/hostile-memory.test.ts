// Smoke test of the benchmark command: `--quick` runs end to end and its JSON
// line parses with every case present. No memory thresholds here (the
// bounds are asserted in packages/xds/src/server/disconnected-memory.test.ts
// and max-node-bytes.test.ts); only what the limits decide.
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";

const run = promisify(execFile);
const script = fileURLToPath(new URL("./hostile-memory.ts", import.meta.url));

test("bench/hostile-memory.ts --quick prints a table and a JSON line that parses", async () => {
  const { stdout } = await run(process.execPath, [script, "--quick", "--nodes", "6", "--oversized", "2"], { timeout: 60_000 });
  const result = JSON.parse(stdout.trim().split("\n").at(-1) ?? "") as {
    bench: string;
    nodes: number;
    cases: Array<{ name: string; outcome: string; before: { heapBytes: number }; after: { heapBytes: number; rssBytes: number } }>;
    statusRecords: number;
    slimRecords: number;
  };
  assert.equal(result.bench, "hostile-memory");
  assert.equal(result.nodes, 6);
  assert.equal(result.cases.length, 3);
  for (const c of result.cases) for (const n of [c.before.heapBytes, c.after.heapBytes, c.after.rssBytes]) assert.ok(Number.isFinite(n) && n > 0, c.name);
  assert.match(result.cases[0]?.outcome ?? "", /^6 served, 0 refused; 6 slim records kept/);
  assert.match(result.cases[1]?.outcome ?? "", /^0 served, 2 refused/);
  assert.match(result.cases[2]?.outcome ?? "", /all at once: 12 nodes/);
  assert.deepEqual([result.statusRecords, result.slimRecords], [12, 12]);
  assert.match(stdout, /heap before/);
});
