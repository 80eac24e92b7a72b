// Smoke test of the benchmark command: `--quick` runs end to end and its JSON
// line parses with every figure present. No timing thresholds: the figures
// depend on the machine.
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";

const run = promisify(execFile);
const script = fileURLToPath(new URL("./sotw-fanout.ts", import.meta.url));

test("bench/sotw-fanout.ts --quick prints a table and a JSON line that parses", async () => {
  const { stdout } = await run(process.execPath, [script, "--quick", "--clients", "3", "--clusters", "7"], { timeout: 60_000 });
  const jsonLine = stdout.trim().split("\n").at(-1) ?? "";
  const result = JSON.parse(jsonLine) as Record<string, unknown> & {
    initial: Record<string, number>;
    change: Record<string, number>;
    receivedMs: Record<string, number>;
    ackedMs: Record<string, number>;
  };
  assert.equal(result["bench"], "sotw-fanout");
  assert.equal(result["clients"], 3);
  assert.equal(result["clusters"], 7);
  assert.equal(result["statusAcked"], 3, "every client's node shows the change ACKed");
  for (const key of ["setupMs", "initialMs", "initialClientCpuMs", "notifyMs", "changeCpuMs", "clientCpuMs", "rssBaselineBytes", "rssConnectedBytes", "rssPerStreamBytes", "heapPerStreamBytes", "initialLoopMaxMs", "initialGcMaxMs", "initialRssPerStreamBytes", "changeLoopMaxMs"]) {
    assert.equal(typeof result[key], "number", key);
  }
  for (const d of [result.receivedMs, result.ackedMs]) for (const q of ["p50", "p99", "max"]) assert.ok(Number.isFinite(d[q]), q);
  // Encode once: the change is one EDS body, written once per client.
  assert.equal(result.change["bodiesEncoded"], 1);
  assert.equal(result.change["responsesWritten"], 3);
  assert.ok((result.change["bytesWritten"] ?? 0) >= 3 * (result.change["bodyBytesEncoded"] ?? 0));
  // The initial push: one CDS and one EDS body, shared by all three clients.
  assert.equal(result.initial["bodiesEncoded"], 2);
  assert.equal(result.initial["responsesWritten"], 6);
  assert.match(stdout, /received by all clients/);
  assert.match(stdout, /written\/encoded/);
});

test("bench/sotw-fanout.ts --metrics reports the change's convergence histogram, one ACK per client; without it, none", async () => {
  const withMetrics = await run(process.execPath, [script, "--quick", "--clients", "3", "--clusters", "5", "--metrics"], { timeout: 60_000 });
  const result = JSON.parse(withMetrics.stdout.trim().split("\n").at(-1) ?? "") as { metrics: boolean; convergence: { count: number; p50Ms: number; p95Ms: number } };
  assert.equal(result.metrics, true);
  assert.equal(result.convergence.count, 3);
  assert.ok(result.convergence.p50Ms > 0 && result.convergence.p50Ms <= result.convergence.p95Ms, JSON.stringify(result.convergence));
  const without = await run(process.execPath, [script, "--quick", "--clients", "2", "--clusters", "3"], { timeout: 60_000 });
  const plain = JSON.parse(without.stdout.trim().split("\n").at(-1) ?? "") as Record<string, unknown>;
  assert.equal(plain["metrics"], false);
  assert.equal(plain["convergence"], undefined);
});
