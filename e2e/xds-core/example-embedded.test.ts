// The runnable example (examples/embedded) works as its README says: its
// bootstrap is valid Envoy config, and `node examples/embedded/main.ts` serves a
// real Envoy that answers with the example's own local HTTPS upstream. Ports are
// made ephemeral through the example's environment variables.
import assert from "node:assert/strict";
import { execFile, spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { test } from "node:test";
import { promisify } from "node:util";
import { freePort } from "../harness/free-port.ts";
import { httpGet } from "../harness/http-get.ts";
import { startEnvoy } from "../harness/start-envoy.ts";
import { waitUntil } from "../harness/wait-until.ts";
import { xdsBootstrap } from "../harness/xds-bootstrap.ts";

const exampleDir = fileURLToPath(new URL("../../examples/embedded/", import.meta.url));

test("the example's envoy-bootstrap.yaml is valid Envoy configuration", async () => {
  const bin = process.env["ENVOY_BIN"];
  assert.ok(bin, "ENVOY_BIN is not set: run through scripts/toolchain.sh");
  const { stdout, stderr } = await promisify(execFile)(bin, ["--mode", "validate", "-c", `${exampleDir}envoy-bootstrap.yaml`, "--disable-hot-restart", "--log-level", "warn"], {
    timeout: 30_000,
  });
  assert.match(stdout + stderr, /OK/);
});

test("main.ts serves scenario 1 to a real Envoy and stops cleanly on SIGTERM", async (t) => {
  const listenerPort = await freePort();
  const child = spawn(process.execPath, [`${exampleDir}main.ts`], {
    env: { ...process.env, XDS_PORT: "0", LISTENER_ADDRESS: "127.0.0.1", LISTENER_PORT: String(listenerPort) },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  child.stdout.on("data", (c: Buffer) => (output += c.toString()));
  child.stderr.on("data", (c: Buffer) => (output += c.toString()));
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  t.after(async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill("SIGKILL");
      await exited;
    }
  });

  const xdsPort = await waitUntil(() => Number(/serving on 127\.0\.0\.1:(\d+)/.exec(output)?.[1]) || undefined, {
    timeoutMs: 15_000,
    description: "the example to report its xDS port",
    onTimeout: () => `example output:\n${output}`,
  });
  const envoy = await startEnvoy({ name: "example-embedded", t, bootstrap: xdsBootstrap({ xdsPort, mode: "ads", nodeId: "xds-node-id" }) });
  const res = await waitUntil(
    async () => {
      const r = await httpGet(`http://127.0.0.1:${listenerPort}/`);
      return r.status === 200 ? r : undefined;
    },
    { timeoutMs: 10_000, description: "a 200 through the example's listener" },
  );
  assert.match(res.body, /Hello from localhost/);
  assert.match(res.body, /Host header: localhost; SNI: localhost/);
  await waitUntil(() => /ACKed Listener/.test(output) || undefined, { timeoutMs: 10_000, description: "the example to log the listener ACK" });
  await envoy.stop();

  child.kill("SIGTERM");
  const code = await Promise.race([exited, new Promise<"timeout">((resolve) => setTimeout(() => resolve("timeout"), 5000).unref())]);
  assert.equal(code, 0, `the example exits cleanly on SIGTERM; output:\n${output}`);
});
