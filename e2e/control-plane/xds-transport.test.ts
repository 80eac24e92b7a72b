// `serve --xds-transport grpc-js`: the way back to @grpc/grpc-js without a
// rebuild serves a real Envoy as the default transport (node:http2, which
// every other test here uses) does: configured, SYNCED, and following a change.
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { parse } from "yaml";
import type { Json } from "../harness/config-dump.ts";
import { freePort } from "../harness/free-port.ts";
import { httpGet } from "../harness/http-get.ts";
import { startHttpUpstream } from "../harness/http-upstream.ts";
import { startEnvoy } from "../harness/start-envoy.ts";
import { waitUntil } from "../harness/wait-until.ts";
import { runCliProcess, startControlPlane } from "./control-plane-process.ts";
import { scenario2Yaml, serviceYaml } from "./scenario-files.ts";

test("serve --xds-transport grpc-js: a real Envoy is configured, SYNCED, and follows a change", { timeout: 90_000 }, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), "cp-e2e-transport-"));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const service1 = await startHttpUpstream({ name: "service1", t });
  const service2 = await startHttpUpstream({ name: "service2", t });
  const listenerPort = await freePort();
  const cp = await startControlPlane({ dataDir: join(dir, "data"), extraArgs: ["--xds-transport", "grpc-js"], t });
  await cp.waitForLog(/xDS transport: @grpc\/grpc-js/, { timeoutMs: 1000 });
  const server = cp.adminUrl;
  const applied = await runCliProcess(["apply", "-f", "-"], { server, input: scenario2Yaml({ listenerPort, upstreamPort: service1.port }) });
  assert.equal(applied.code, 0, applied.stderr);
  const boot = await runCliProcess(["bootstrap", "--node", "grpcjs-1"], { server });
  assert.equal(boot.code, 0, boot.stderr);
  await startEnvoy({ bootstrap: parse(boot.stdout) as Json, name: "cp-grpc-js", t });
  const url = `http://127.0.0.1:${listenerPort}/`;
  await waitUntil(async () => (await httpGet(url)).body === "served by service1\n", { timeoutMs: 15_000, description: "Envoy routes to service1" });
  type Status = { nodes: { nodeId: string; state: string }[] };
  await waitUntil(async () => ((await (await fetch(`${server}/api/v1/status`)).json()) as Status).nodes.find((n) => n.nodeId === "grpcjs-1" && n.state === "SYNCED"), {
    timeoutMs: 10_000,
    description: "grpcjs-1 SYNCED",
  });
  const put = await fetch(`${server}/api/v1/objects/Service/example_proxy_cluster`, { method: "PUT", headers: { "content-type": "application/yaml" }, body: serviceYaml(service2.port) });
  assert.equal(put.status, 200, await put.clone().text());
  await waitUntil(async () => (await httpGet(url)).body === "served by service2\n", { timeoutMs: 15_000, description: "Envoy routes to service2" });
});
