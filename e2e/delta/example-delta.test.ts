// `npm run example` answers Delta too: the example process itself
// (examples/embedded/main.ts, unchanged) is started on free ports, and a real
// Envoy in DELTA_GRPC ADS mode must route a request through the example's
// listener to its local TLS upstream. The example's resources fetch RDS over
// ADS, so this is the Delta-ADS proof (its per-type bootstrap is SotW only).
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { test } from "node:test";
import { freePorts } from "../harness/free-port.ts";
import { httpGet } from "../harness/http-get.ts";
import { startEnvoy } from "../harness/start-envoy.ts";
import { waitUntil } from "../harness/wait-until.ts";
import { deltaBootstrap } from "./delta-setup.ts";

test("npm run example: a real Envoy in Delta-ADS mode is configured by the example and reaches its TLS upstream", async (t) => {
  const [xdsPort, listenerPort] = (await freePorts(2)) as [number, number];
  const child = spawn(process.execPath, ["examples/embedded/main.ts"], {
    env: { ...process.env, XDS_PORT: String(xdsPort), LISTENER_PORT: String(listenerPort), NODE_ID: "xds-node-id" },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  child.stdout.on("data", (b: Buffer) => (output += b.toString()));
  child.stderr.on("data", (b: Buffer) => (output += b.toString()));
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  t.after(async () => {
    if (child.exitCode === null) child.kill("SIGTERM");
    await Promise.race([exited, new Promise((r) => setTimeout(r, 5000).unref())]);
    if (child.exitCode === null) child.kill("SIGKILL");
  });
  await waitUntil(() => output.includes(`serving on 127.0.0.1:${xdsPort}`) || (child.exitCode !== null ? Promise.reject(new Error(output)) : undefined), {
    timeoutMs: 15_000,
    description: "the example serving xDS",
    onTimeout: () => output,
  });

  await startEnvoy({ name: "example-delta-ads", t, bootstrap: deltaBootstrap({ xdsPort, mode: "delta-ads", nodeId: "xds-node-id" }) });
  const res = await waitUntil(
    async () => {
      const r = await httpGet(`http://127.0.0.1:${listenerPort}/`);
      return r.status === 200 ? r : undefined;
    },
    { timeoutMs: 5000, description: "a 200 through the example's listener" },
  );
  assert.match(res.body, /Hello from localhost/);
  assert.match(res.body, /SNI: localhost/);
  await waitUntil(() => /ACKed Listener/.test(output) && /ACKed Cluster/.test(output) && /ACKed RouteConfiguration/.test(output), {
    timeoutMs: 5000,
    description: "the example logs Envoy's ACKs",
    onTimeout: () => output,
  });
  assert.doesNotMatch(output, /NACKed/);
});
