// `tcp bootstrap --node ID --delta` boots a real Envoy on incremental xDS
// (DELTA_GRPC ADS): it receives the stored configuration, status reports it
// SYNCED per type, and it follows a change.
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

test("bootstrap --delta boots an Envoy on Delta ADS that gets, acknowledges and follows the configuration", { timeout: 90_000 }, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), "cp-e2e-delta-"));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const service1 = await startHttpUpstream({ name: "service1", t });
  const service2 = await startHttpUpstream({ name: "service2", t });
  const listenerPort = await freePort();
  const cp = await startControlPlane({ dataDir: join(dir, "data"), t });
  const server = cp.adminUrl;
  const applied = await runCliProcess(["apply", "-f", "-"], { server, input: scenario2Yaml({ listenerPort, upstreamPort: service1.port }) });
  assert.equal(applied.code, 0, applied.stderr);

  const boot = await runCliProcess(["bootstrap", "--node", "delta-1", "--delta"], { server });
  assert.equal(boot.code, 0, boot.stderr);
  assert.match(boot.stdout, /api_type: DELTA_GRPC/);
  await startEnvoy({ bootstrap: parse(boot.stdout) as Json, name: "cp-delta", t });
  const url = `http://127.0.0.1:${listenerPort}/`;
  await waitUntil(async () => (await httpGet(url)).body === "served by service1\n", { timeoutMs: 15_000, description: "Envoy routes to service1" });

  type Status = { nodes: { nodeId: string; state: string; types: { type: string; state: string }[] }[] };
  const node = await waitUntil(
    async () => ((await (await fetch(`${server}/api/v1/status`)).json()) as Status).nodes.find((n) => n.nodeId === "delta-1" && n.state === "SYNCED"),
    { timeoutMs: 10_000, description: "delta-1 SYNCED" },
  );
  assert.deepEqual(node.types.map((x) => [x.type, x.state]), [["CDS", "SYNCED"], ["EDS", "SYNCED"], ["LDS", "SYNCED"], ["RDS", "SYNCED"]]);

  const put = await fetch(`${server}/api/v1/objects/Service/example_proxy_cluster`, { method: "PUT", headers: { "content-type": "application/yaml" }, body: serviceYaml(service2.port) });
  assert.equal(put.status, 200, await put.clone().text());
  await waitUntil(async () => (await httpGet(url)).body === "served by service2\n", { timeoutMs: 15_000, description: "Envoy routes to service2" });
});
