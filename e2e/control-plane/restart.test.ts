// The control plane crashes (SIGKILL) and starts again on the same data dir and
// ports while requests flow through a real Envoy: no request fails, the stored
// configuration is back, the Envoy reconnects and acknowledges the very same
// versions (content hashes), and the next change reaches it.
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import type { ConfigDump, Json } from "../harness/config-dump.ts";
import { dynamicClusters, dynamicListeners, dynamicRoutes } from "../harness/config-dump.ts";
import { freePort } from "../harness/free-port.ts";
import { httpGet } from "../harness/http-get.ts";
import { startHttpUpstream } from "../harness/http-upstream.ts";
import { failedRecords, startRequestLoop } from "../harness/request-loop.ts";
import { startEnvoy } from "../harness/start-envoy.ts";
import { waitUntil } from "../harness/wait-until.ts";
import { xdsBootstrap } from "../harness/xds-bootstrap.ts";
import { startControlPlane } from "./control-plane-process.ts";
import { scenario2Yaml, serviceYaml } from "./scenario-files.ts";

const versions = (d: ConfigDump) => ({
  clusters: dynamicClusters(d).map((c) => [c.name, c.versionInfo]),
  listeners: dynamicListeners(d).map((l) => [l.name, l.versionInfo]),
  routes: dynamicRoutes(d).map((r) => [r.name, r.versionInfo]),
});

type Status = { nodes: { nodeId: string; state: string; connected: boolean; types: { type: string; ackedVersion?: string }[] }[] };

async function syncedNode(server: string): Promise<Status["nodes"][number]> {
  return waitUntil(
    async () => {
      const s = (await (await fetch(`${server}/api/v1/status`)).json()) as Status;
      return s.nodes.find((n) => n.nodeId === "edge-1" && n.connected && n.state === "SYNCED");
    },
    { timeoutMs: 20_000, description: "edge-1 connected and SYNCED" },
  );
}

test("control plane restart: Envoy keeps serving, reconnects and reconverges on the stored configuration", { timeout: 120_000 }, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), "cp-e2e-restart-"));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const dataDir = join(dir, "data");
  const service1 = await startHttpUpstream({ name: "service1", t });
  const service2 = await startHttpUpstream({ name: "service2", t });
  const listenerPort = await freePort();

  const first = await startControlPlane({ dataDir, t });
  const apply = await fetch(`${first.adminUrl}/api/v1/apply`, { method: "POST", headers: { "content-type": "application/yaml" }, body: scenario2Yaml({ listenerPort, upstreamPort: service1.port }) });
  assert.equal(apply.status, 200, await apply.clone().text());
  const envoy = await startEnvoy({ bootstrap: xdsBootstrap({ xdsPort: first.xdsPort, mode: "ads", nodeId: "edge-1" }) as Json, name: "cp-restart", t });
  const url = `http://127.0.0.1:${listenerPort}/`;
  await waitUntil(async () => (await httpGet(url)).body === "served by service1\n", { timeoutMs: 15_000, description: "Envoy routes to service1" });
  const acked = await syncedNode(first.adminUrl);
  const objectsBefore = await (await fetch(`${first.adminUrl}/api/v1/objects`)).json();
  const dumpBefore = versions(await envoy.configDump());

  const loop = startRequestLoop({ url, maxRequests: 20_000, maxDurationMs: 100_000, intervalMs: 10 });
  t.after(() => loop.stop());
  await loop.next((r) => r.status === 200);

  // Crash, then start "the same" control plane: same data dir, same ports.
  const killedAt = Date.now();
  await first.stop({ signal: "SIGKILL" });
  const second = await startControlPlane({ dataDir, xdsPort: first.xdsPort, adminPort: first.adminPort, t });
  const readyAt = Date.now();
  assert.match(second.logs(), /loaded revision 1 with 3 objects/);
  assert.deepEqual(await (await fetch(`${second.adminUrl}/api/v1/objects`)).json(), objectsBefore, "the stored configuration is back");

  // The Envoy reconnects and acknowledges the same versions: nothing changed for it.
  const again = await syncedNode(second.adminUrl);
  t.diagnostic(`SIGKILL -> restarted and ready: ${readyAt - killedAt} ms; -> Envoy reconnected and SYNCED: ${Date.now() - killedAt} ms`);
  assert.deepEqual(
    again.types.map((x) => [x.type, x.ackedVersion]),
    acked.types.map((x) => [x.type, x.ackedVersion]),
  );
  assert.deepEqual(versions(await envoy.configDump()), dumpBefore, "config_dump versions unchanged across the restart");

  // And it follows the restarted control plane.
  const put = await fetch(`${second.adminUrl}/api/v1/objects/Service/example_proxy_cluster`, { method: "PUT", headers: { "content-type": "application/yaml" }, body: serviceYaml(service2.port) });
  assert.equal(put.status, 200, await put.clone().text());
  await Promise.race([
    loop.next((r) => r.body === "served by service2\n"),
    new Promise<never>((_, reject) => setTimeout(() => reject(new Error("no answer from service2 within 15 s")), 15_000).unref()),
  ]);

  const records = await loop.stop();
  assert.deepEqual(failedRecords(records), [], `failed requests across the restart (of ${records.length})`);
  t.diagnostic(`requests in the loop: ${records.length}, failed: 0`);
  // SIGTERM is a graceful shutdown: every server and watcher closed, exit code 0.
  assert.equal(await second.stop(), 0, second.logs());
});
