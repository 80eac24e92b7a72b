// Smoke test of the snapshot-cost benchmark: `--quick` runs end to end and its
// JSON line parses with every figure present. No timing or memory thresholds:
// the figures depend on the machine (they go in bench/README.md).
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";

const run = promisify(execFile);
const script = fileURLToPath(new URL("./snapshot-cost.ts", import.meta.url));

test("bench/snapshot-cost.ts --quick prints a table and a JSON line with every figure", async () => {
  const { stdout } = await run(process.execPath, [script, "--quick"], { timeout: 60_000 });
  const result = JSON.parse(stdout.trim().split("\n").at(-1) ?? "") as Record<string, unknown>;
  assert.equal(result["bench"], "snapshot-cost");
  assert.equal(result["resources"], 50);
  const startup = result["startup"] as Record<string, Record<string, unknown>>;
  for (const mode of ["warm", "cold", "off"]) {
    for (const key of ["totalMs", "loadedMs", "listeningMs"]) assert.ok(typeof startup[mode]?.[key] === "number", `startup.${mode}.${key}`);
  }
  for (const key of ["setMs", "setFirstMs", "setBuildMs", "setCreateSnapshotMs", "setApplyMs", "watchedSetMs", "watchedApplyMs", "idleRssEmptyBytes", "idleRssBytes", "idleHeapUsedBytes", "idleHeapTotalBytes", "settledRssEmptyBytes", "settledHeapUsedEmptyBytes", "settledRssBytes", "settledHeapUsedBytes", "settledHeapTotalBytes", "updatedHeapUsedBytes", "updatedArrayBuffersBytes"]) {
    assert.ok(typeof result[key] === "number" && Number.isFinite(result[key]) && result[key] >= 0, `${key}: ${String(result[key])}`);
  }
  const updates = result["updateRssBytes"];
  for (const series of [updates, result["updateSettledRssBytes"]]) {
    assert.ok(Array.isArray(series) && series.length === result["updates"] && series.every((b) => typeof b === "number" && b > 0));
  }
  assert.match(stdout, /start-up, compile cache warm: spawn to listening/);
});
