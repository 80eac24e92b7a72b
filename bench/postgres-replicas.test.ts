// Smoke test of the replicas-on-PostgreSQL benchmark: `--quick` runs end to end (three
// replicas on a throwaway PostgreSQL, lean clients on two of them, then a kill -9 and restart of
// one) and its JSON line parses with every figure present. No timing thresholds here.
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";

const run = promisify(execFile);
const script = fileURLToPath(new URL("./postgres-replicas.ts", import.meta.url));

test("bench/postgres-replicas.ts --quick prints a table and a JSON line that parses", async () => {
  const { stdout } = await run(process.execPath, [script, "--quick", "--clients", "5", "--applies", "3", "--restart-clients", "5"], { timeout: 120_000 });
  const result = JSON.parse(stdout.trim().split("\n").at(-1) ?? "") as Record<string, unknown>;
  assert.equal(result["bench"], "postgres-replicas");
  assert.equal(result["applies"], 3);
  for (const key of ["p50Ms", "p95Ms", "maxMs", "minMs"]) assert.ok(typeof result[key] === "number" && Number.isFinite(result[key]) && result[key] >= 0, `${key}: ${String(result[key])}`);
  assert.match(stdout, /every client on B and C received/);
  // The restart of C: every one of its clients reconnected somewhere and got its configuration again.
  const restarts = result["restart"] as Record<string, unknown>[];
  assert.deepEqual(restarts.map((r) => `${String(r["protocol"])} ${String(r["know"])}`), ["sotw C and B", "sotw C only", "delta C and B", "delta C only"]);
  for (const restart of restarts) {
    assert.equal(restart["clients"], 5);
    assert.equal(Number(restart["backOnC"]) + Number(restart["onB"]), 5);
    for (const key of ["readyMs", "convergedMs", "p50Ms", "p95Ms", "resourcesResent", "bytesResent"]) assert.ok(typeof restart[key] === "number" && Number.isFinite(restart[key]) && restart[key] >= 0, `restart.${key}: ${String(restart[key])}`);
  }
  assert.equal(restarts[1]?.["backOnC"], 5, "clients that know only C reconnect to it");
  assert.equal(restarts[3]?.["backOnC"], 5, "clients that know only C reconnect to it");
  // Over Delta the clients say which versions they hold: the replicas, same revision, same versions, resend no resource.
  assert.deepEqual(restarts.slice(2).map((r) => r["resourcesResent"]), [0, 0]);
  assert.match(stdout, /timed from the kill until every client of C had CDS and EDS again/);
});
