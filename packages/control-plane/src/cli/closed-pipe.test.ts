// Issue 8, bug 4: `tcp status | head -1` printed an unhandled EPIPE stack trace
// and exited 1. The CLI stops quietly when the reader of its output goes away.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { test } from "node:test";

const main = fileURLToPath(new URL("./main.ts", import.meta.url));

test("output into a closed pipe ends the CLI quietly, exit code 0, no stack trace", async () => {
  // The reading end is closed before the CLI writes: every write fails with EPIPE, as after `| head -1`.
  const child = spawn(process.execPath, [main, "completion", "bash"], {
    stdio: ["ignore", "pipe", "pipe"],
    env: { ...process.env, CONTROL_PLANE_SERVER: "http://127.0.0.1:1" },
  });
  child.stdout.destroy();
  let stderr = "";
  child.stderr.on("data", (c: Buffer) => (stderr += c.toString("utf8")));
  const code = await new Promise<number | null>((resolve) => child.once("exit", resolve));
  assert.equal(stderr, "");
  assert.equal(code, 0);
});
