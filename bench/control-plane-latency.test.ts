// Smoke test of the latency benchmark with its real parts (control plane process,
// Envoy, upstreams): `--quick` runs end to end for each kind of change, and the JSON
// line parses with every figure present. No timing thresholds: the figures depend on
// the machine.
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";

const run = promisify(execFile);
const script = fileURLToPath(new URL("./control-plane-latency.ts", import.meta.url));

interface Figures {
  p50Ms: number;
  p95Ms: number;
  maxMs: number;
}

for (const change of ["backend", "route", "endpoint"]) {
  test(`bench/control-plane-latency.ts --quick --change ${change} prints a table and a JSON line that parses`, { timeout: 90_000 }, async () => {
    const { stdout } = await run(process.execPath, [script, "--quick", "--change", change], { timeout: 80_000 });
    const result = JSON.parse(stdout.trim().split("\n").at(-1) ?? "") as {
      bench: string;
      change: string;
      iterations: number;
      servedMs: Figures;
      apiMs: Figures;
      unexpectedAnswers: number;
      convergenceMs: { count: number; p50Ms: number; p95Ms: number };
    };
    assert.equal(result.bench, "control-plane-latency");
    assert.equal(result.change, change);
    assert.equal(result.iterations, 3);
    assert.equal(typeof result.unexpectedAnswers, "number");
    for (const f of [result.servedMs, result.apiMs]) {
      for (const v of [f.p50Ms, f.p95Ms, f.maxMs]) assert.ok(Number.isFinite(v) && v > 0, JSON.stringify(f));
      assert.ok(f.p50Ms <= f.p95Ms && f.p95Ms <= f.maxMs, JSON.stringify(f));
    }
    // Each change is seen through Envoy after its API call answered, so every quantile is too.
    for (const q of ["p50Ms", "p95Ms", "maxMs"] as const) assert.ok(result.servedMs[q] >= result.apiMs[q], `${q}: ${JSON.stringify(result)}`);
    assert.match(stdout, /Envoy serves the change/);
    // Each change touches one resource type for the one Envoy: one ACK timed per change.
    assert.equal(result.convergenceMs.count, 3, JSON.stringify(result.convergenceMs));
    assert.ok(result.convergenceMs.p50Ms > 0 && result.convergenceMs.p50Ms <= result.convergenceMs.p95Ms, JSON.stringify(result.convergenceMs));
  });
}
