// Smoke test of the benchmark command: `--quick` runs both transports end to
// end and its JSON line parses with every figure present. No timing
// thresholds: the figures depend on the machine.
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";

const run = promisify(execFile);
const script = fileURLToPath(new URL("./mtls-connect.ts", import.meta.url));

test("bench/mtls-connect.ts --quick connects plaintext and mTLS clients and prints a JSON line that parses", async () => {
  const { stdout } = await run(process.execPath, [script, "--quick", "--clients", "3"], { timeout: 60_000 });
  const result = JSON.parse(stdout.trim().split("\n").at(-1) ?? "") as Record<string, unknown> & Record<"plaintext" | "mtls", Record<string, number>>;
  assert.equal(result["bench"], "mtls-connect");
  assert.equal(result["clients"], 3);
  for (const transport of [result.plaintext, result.mtls]) {
    for (const key of ["connectToAllAckedMs", "connectToAllReceivedMs", "serverCpuMs", "rssPerStreamBytes", "heapPerStreamBytes", "rssConnectedBytes"]) {
      assert.ok(Number.isFinite(transport[key]), key);
    }
    assert.ok((transport["connectToAllAckedMs"] ?? 0) > 0);
  }
  assert.match(stdout, /plaintext vs mTLS/);
});
