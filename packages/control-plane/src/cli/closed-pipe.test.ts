// Issue 8, bug 4: `tcp status | head -1` printed an unhandled EPIPE stack trace
// and exited 1. The CLI stops quietly when the reader of its output goes away.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { test } from "node:test";
import { serveForTests } from "./cli-test-kit.ts";

const main = fileURLToPath(new URL("./main.ts", import.meta.url));

/** Runs `tcp ARGS` as its own process whose stdout reader is gone before it writes: every write fails with EPIPE, as after `| head -1`. */
async function intoClosedPipe(args: string[], server: string): Promise<{ code: number | null; stderr: string }> {
  const child = spawn(process.execPath, [main, ...args], { stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, CONTROL_PLANE_SERVER: server } });
  child.stdout.destroy();
  let stderr = "";
  child.stderr.on("data", (c: Buffer) => (stderr += c.toString("utf8")));
  const code = await new Promise<number | null>((resolve) => child.once("exit", resolve));
  return { code, stderr };
}

test("output into a closed pipe ends the CLI quietly, exit code 0, no stack trace", async () => {
  assert.deepEqual(await intoClosedPipe(["completion", "bash"], "http://127.0.0.1:1"), { code: 0, stderr: "" });
});

test("`tcp status | head -1` and `tcp history | head -1` against a control plane stop quietly", async (t) => {
  const dir = mkdtempSync(join(tmpdir(), "cp-closed-pipe-"));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const { cp, env } = await serveForTests(dir);
  t.after(() => cp.close());
  const server = env["CONTROL_PLANE_SERVER"] ?? "";
  assert.deepEqual(await intoClosedPipe(["status"], server), { code: 0, stderr: "" });
  assert.deepEqual(await intoClosedPipe(["history"], server), { code: 0, stderr: "" });
});
