// Smoke test of the translation benchmark: `--quick` runs end to end, the endpoint
// change took the fast path, and the JSON line parses with every figure present.
// No timing thresholds: the figures depend on the machine.
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";

const run = promisify(execFile);
const script = fileURLToPath(new URL("./translate.ts", import.meta.url));

interface TimingsJson {
  runs: number;
  medianMs: number;
  p95Ms: number;
  maxMs: number;
}

interface MeasuredJson {
  wall: TimingsJson;
  cpu: TimingsJson;
}

test("bench/translate.ts --quick prints a table and a JSON line that parses", async () => {
  const { stdout } = await run(process.execPath, [script, "--quick", "--routes", "10,25"], { timeout: 60_000 });
  const result = JSON.parse(stdout.trim().split("\n").at(-1) ?? "") as {
    bench: string;
    full: { routes: number; objects: number; resources: number; compile: MeasuredJson; compileAndSnapshot: MeasuredJson }[];
    endpointChange: { routes: number; lastPath: string; compile: MeasuredJson; reconcilerStep: MeasuredJson };
    routeChange: { routes: number; lastPath: string; compile: MeasuredJson; reconcilerStep: MeasuredJson };
  };
  assert.equal(result.bench, "translate");
  assert.deepEqual(
    result.full.map((f) => [f.routes, f.objects, f.resources]),
    // 1 listener + R/10 routes + R services -> R clusters + R load assignments + listener + route configuration.
    [
      [10, 12, 22],
      [25, 29, 52],
    ],
  );
  assert.equal(result.endpointChange.routes, 25);
  assert.equal(result.endpointChange.lastPath, "endpoints");
  assert.equal(result.routeChange.lastPath, "full");
  const all = [...result.full.flatMap((f) => [f.compile, f.compileAndSnapshot]), ...[result.endpointChange, result.routeChange].flatMap((c) => [c.compile, c.reconcilerStep])];
  for (const t of all.flatMap((m) => [m.wall, m.cpu])) {
    assert.equal(t.runs, 3);
    for (const v of [t.medianMs, t.p95Ms, t.maxMs]) assert.ok(Number.isFinite(v) && v >= 0, JSON.stringify(t));
    assert.ok(t.medianMs <= t.p95Ms && t.p95Ms <= t.maxMs, JSON.stringify(t));
  }
  assert.match(stdout, /lastPath=endpoints/);
});
