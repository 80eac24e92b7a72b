// Smoke test of the benchmark command: `--quick` runs both protocols end to
// end and its JSON line parses with every figure present. No timing
// thresholds: the figures depend on the machine.
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";

const run = promisify(execFile);
const script = fileURLToPath(new URL("./delta-fanout.ts", import.meta.url));

type Counters = Record<"bodiesEncoded" | "bodyBytesEncoded" | "responsesWritten" | "bytesWritten", number>;
type Run = Record<string, unknown> & {
  clients: number;
  receivedMs: Record<string, number>;
  ackedMs: Record<string, number>;
  changeResourcesPerClient: { min: number; max: number };
  initial: Counters;
  change: Counters;
};

test("bench/delta-fanout.ts --quick prints both protocols side by side and a JSON line that parses", async () => {
  const { stdout } = await run(process.execPath, [script, "--quick", "--clients", "3", "--endpoints", "7"], { timeout: 90_000 });
  const result = JSON.parse(stdout.trim().split("\n").at(-1) ?? "") as { bench: string; endpoints: number; delta: Run; sotw: Run };
  assert.equal(result.bench, "delta-fanout");
  assert.equal(result.endpoints, 7);
  for (const r of [result.delta, result.sotw]) {
    assert.equal(r.clients, 3);
    assert.equal(r["statusAcked"], 3, `${r["protocol"]}: every client's node shows the change ACKed`);
    for (const key of ["setupMs", "initialMs", "initialClientCpuMs", "notifyMs", "changeCpuMs", "clientCpuMs", "rssPerStreamBytes", "heapPerStreamBytes", "rssPeakBytes", "changeBytesPerClient", "initialLoopMaxMs", "initialGcMaxMs", "initialRssPerStreamBytes", "changeLoopMaxMs"]) {
      assert.equal(typeof r[key], "number", `${r["protocol"]} ${key}`);
    }
    for (const d of [r.receivedMs, r.ackedMs]) for (const q of ["p50", "p99", "max"]) assert.ok(Number.isFinite(d[q]), q);
    // Encode once: the change is one body (SotW) or one wrapper (Delta), written once per client.
    assert.equal(r.change.bodiesEncoded, 1);
    assert.equal(r.change.responsesWritten, 3);
    assert.ok(r.change.bytesWritten >= 3 * r.change.bodyBytesEncoded);
  }
  // What each protocol sends for one moved endpoint: the one assignment, or all of them.
  assert.deepEqual(result.delta.changeResourcesPerClient, { min: 1, max: 1 });
  assert.deepEqual(result.sotw.changeResourcesPerClient, { min: 7, max: 7 });
  // Initial push: SotW shares 2 bodies (CDS, EDS); Delta shares 2R wrappers.
  assert.equal(result.sotw.initial.bodiesEncoded, 2);
  assert.equal(result.delta.initial.bodiesEncoded, 14);
  assert.match(stdout, /Delta ADS\s+SotW ADS/);
  assert.match(stdout, /resources sent per client/);
});

test("bench/delta-fanout.ts --protocol delta runs Delta only", async () => {
  const { stdout } = await run(process.execPath, [script, "--quick", "--protocol", "delta", "--clients", "2", "--endpoints", "3"], { timeout: 60_000 });
  const result = JSON.parse(stdout.trim().split("\n").at(-1) ?? "") as Record<string, unknown>;
  assert.equal((result["delta"] as Run).clients, 2);
  assert.equal(result["sotw"], undefined);
});

test("bench/delta-fanout.ts --metrics attaches the metrics: the change's convergence is timed once per client", async () => {
  const { stdout } = await run(process.execPath, [script, "--quick", "--protocol", "delta", "--clients", "3", "--endpoints", "5", "--metrics"], { timeout: 60_000 });
  const result = JSON.parse(stdout.trim().split("\n").at(-1) ?? "") as { delta: Run & { metrics: boolean; convergence: { count: number; p50Ms: number; p95Ms: number } } };
  assert.equal(result.delta.metrics, true);
  assert.equal(result.delta.convergence.count, 3, "the initial responses are subscriptions, not changes: only the change is timed");
  assert.ok(result.delta.convergence.p50Ms > 0 && result.delta.convergence.p50Ms <= result.delta.convergence.p95Ms, JSON.stringify(result.delta.convergence));
  assert.match(stdout, /convergence to ACK/);
});
