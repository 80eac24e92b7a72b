import assert from "node:assert/strict";
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer, type Server } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { serve } from "../main.ts";
import { StartupError } from "../startup/startup-error.ts";
import { serveOptions as options } from "./cli-test-kit.ts";

// Issue 12: a second control plane on a data directory in use, or a port in use, refuses to start
// with a message that names the other process or the flag to change.


async function holdPort(): Promise<{ port: number; server: Server }> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
  return { port: (server.address() as { port: number }).port, server };
}

describe("serve() startup errors", () => {
  it("refuses a second control plane on the same data directory, naming the pid and the directory", async (t) => {
    const dir = mkdtempSync(join(tmpdir(), "cp-startup-"));
    const first = await serve(options(dir));
    t.after(async () => {
      await first.close();
      rmSync(dir, { recursive: true, force: true });
    });
    await assert.rejects(
      serve(options(dir)),
      (e: unknown) => e instanceof StartupError && e.code === "data_dir_in_use" && e.message.includes(dir) && e.message.includes(`process ${process.pid}, this one`),
    );
    // The first one keeps serving.
    assert.equal((await fetch(`http://127.0.0.1:${first.adminPort}/healthz`)).status, 200);
  });

  it("frees the directory on close, so a restart on it works", async (t) => {
    const dir = mkdtempSync(join(tmpdir(), "cp-startup-"));
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    await (await serve(options(dir))).close();
    await (await serve(options(dir))).close();
  });

  for (const which of ["xdsPort", "adminPort"] as const) {
    it(`names the flag and environment variable when the ${which === "xdsPort" ? "xDS" : "admin"} port is in use, and releases the data directory`, async (t) => {
      const dir = mkdtempSync(join(tmpdir(), "cp-startup-"));
      const held = await holdPort();
      t.after(() => {
        held.server.close();
        rmSync(dir, { recursive: true, force: true });
      });
      const fix = which === "xdsPort" ? "--xds-port (env CONTROL_PLANE_XDS_PORT)" : "--admin-port (env CONTROL_PLANE_ADMIN_PORT)";
      await assert.rejects(
        serve(options(dir, { [which]: held.port })),
        (e: unknown) => e instanceof StartupError && e.code === "port_in_use" && e.message.includes(`127.0.0.1:${held.port} is already in use`) && e.message.includes(fix),
      );
      await (await serve(options(dir))).close();
    });
  }
});

const mainTs = fileURLToPath(new URL("../main.ts", import.meta.url));

function start(args: string[]): { child: ChildProcess; out: () => string; err: () => string; exit: Promise<number | null> } {
  const child = spawn(process.execPath, [mainTs, "--xds-port", "0", "--admin-port", "0", "--no-example", ...args], { stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  let err = "";
  child.stdout?.on("data", (c: Buffer) => (out += c.toString()));
  child.stderr?.on("data", (c: Buffer) => (err += c.toString()));
  const exit = new Promise<number | null>((r) => child.on("exit", (code) => r(code)));
  return { child, out: () => out, err: () => err, exit };
}

describe("the control plane process", () => {
  it("exits non-zero, without a stack trace, when the data directory is in use or a port is taken", async (t) => {
    const dir = mkdtempSync(join(tmpdir(), "cp-process-"));
    const first = start(["--data-dir", dir]);
    t.after(async () => {
      if (first.child.exitCode === null) {
        first.child.kill("SIGTERM");
        await first.exit;
      }
      rmSync(dir, { recursive: true, force: true });
    });
    for (let i = 0; i < 300 && !first.out().includes("control plane ready"); i++) await new Promise((r) => setTimeout(r, 50));
    assert.match(first.out(), /control plane ready/, first.err());

    const second = start(["--data-dir", dir]);
    assert.equal(await second.exit, 1);
    assert.match(second.err(), new RegExp(`error: cannot start the control plane: the data directory ${dir} is in use by another control plane \\(process ${first.child.pid}, started `));
    assert.doesNotMatch(second.err(), /^\s+at /m);

    const held = await holdPort();
    t.after(() => held.server.close());
    const other = mkdtempSync(join(tmpdir(), "cp-process-"));
    t.after(() => rmSync(other, { recursive: true, force: true }));
    const third = start(["--data-dir", other, "--xds-port", String(held.port)]);
    assert.equal(await third.exit, 1);
    assert.match(third.err(), /the xDS port 127\.0\.0\.1:\d+ is already in use by another process: stop it, or choose another port with --xds-port \(env CONTROL_PLANE_XDS_PORT\)/);
    assert.doesNotMatch(third.err(), /^\s+at /m);
  });
});
