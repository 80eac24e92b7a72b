// Smoke test of the large-apply benchmark: `--quick` runs end to end and its JSON
// line parses with every figure present. No timing thresholds here (the bounds are
// asserted in packages/control-plane/src/main-large-apply.test.ts).
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";

const run = promisify(execFile);
const script = fileURLToPath(new URL("./large-apply.ts", import.meta.url));

test("bench/large-apply.ts --quick prints a table and a JSON line that parses", async () => {
  const { stdout } = await run(process.execPath, [script, "--quick", "--objects", "300"], { timeout: 60_000 });
  const result = JSON.parse(stdout.trim().split("\n").at(-1) ?? "") as Record<string, unknown>;
  assert.equal(result["bench"], "large-apply");
  assert.equal(result["objects"], 300);
  const figures = ["bodyBytes", "applyMs", "maxTimerGapMs", "maxBlockCpuMs", "loopDelayMaxMs", "healthzMaxMs", "healthzMaxCpuMs", "canaryMaxMs", "canaryMaxCpuMs", "smallApplyEmptyMs", "smallApplyStoredMs"];
  for (const key of figures) assert.ok(typeof result[key] === "number" && Number.isFinite(result[key]) && result[key] >= 0, `${key}: ${String(result[key])}`);
  assert.match(stdout, /max event-loop stall/);
});

test("bench/large-apply.ts --via file saves the objects as a watched file and reports the same figures", async () => {
  const { stdout } = await run(process.execPath, [script, "--quick", "--objects", "300", "--via", "file"], { timeout: 60_000 });
  const result = JSON.parse(stdout.trim().split("\n").at(-1) ?? "") as Record<string, unknown>;
  assert.equal(result["via"], "file");
  assert.equal(result["body"], "yaml");
  assert.equal(result["objects"], 300);
  for (const key of ["applyMs", "maxBlockCpuMs", "healthzMaxCpuMs", "canaryMaxCpuMs"]) assert.ok(typeof result[key] === "number" && Number.isFinite(result[key]), `${key}: ${String(result[key])}`);
  assert.match(stdout, /one watched file saved/);
});
