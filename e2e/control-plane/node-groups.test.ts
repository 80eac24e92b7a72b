// Node groups with real Envoys: each Envoy gets only its group's listeners
// (the cache key is the node group), status reports each node under its group,
// and a change to one group's service leaves the other Envoy's versions alone.
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import type { ConfigDump, Json } from "../harness/config-dump.ts";
import { dynamicClusters, dynamicListeners } from "../harness/config-dump.ts";
import { freePorts } from "../harness/free-port.ts";
import { httpGet } from "../harness/http-get.ts";
import { startHttpUpstream } from "../harness/http-upstream.ts";
import { startEnvoy } from "../harness/start-envoy.ts";
import { waitUntil } from "../harness/wait-until.ts";
import { xdsBootstrap } from "../harness/xds-bootstrap.ts";
import { startControlPlane } from "./control-plane-process.ts";

const group = (name: string, cluster: string, listener: string) =>
  `apiVersion: tcp.dev/v1alpha1\nkind: NodeGroup\nmetadata:\n  name: ${name}\nspec:\n  selector:\n    clusters: [${cluster}]\n  listeners: [${listener}]\n`;
const listener = (name: string, port: number, service: string) => `apiVersion: tcp.dev/v1alpha1
kind: Listener
metadata:
  name: ${name}
spec:
  protocol: HTTP
  address: 127.0.0.1
  port: ${port}
---
apiVersion: tcp.dev/v1alpha1
kind: Route
metadata:
  name: ${name}-route
spec:
  listeners: [${name}]
  routes:
    - match: { prefix: / }
      backends:
        - service: ${service}
`;
const service = (name: string, port: number) =>
  `apiVersion: tcp.dev/v1alpha1\nkind: Service\nmetadata:\n  name: ${name}\nspec:\n  endpoints:\n    - address: 127.0.0.1\n      port: ${port}\n`;

type Status = {
  nodes: { nodeId: string; group: string | null; state: string }[];
  objects: { object: string; groups: string[]; targets: number; acknowledged: number }[];
};

const names = (d: ConfigDump) => ({
  listeners: dynamicListeners(d).map((l) => l.name).sort(),
  clusters: dynamicClusters(d).map((c) => c.name).sort(),
});

test("node groups: each Envoy gets its group's configuration, and status reports it per node and per object", { timeout: 90_000 }, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), "cp-e2e-groups-"));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const service1 = await startHttpUpstream({ name: "service1", t });
  const service2 = await startHttpUpstream({ name: "service2", t });
  const service3 = await startHttpUpstream({ name: "service3", t });
  const [publicPort = 0, privatePort = 0] = await freePorts(2);
  const cp = await startControlPlane({ dataDir: join(dir, "data"), t });
  const body = [
    group("edge", "edge", "public"),
    group("internal", "internal", "private"),
    listener("public", publicPort, "web"),
    listener("private", privatePort, "db"),
    service("web", service1.port),
    service("db", service2.port),
  ].join("---\n");
  const applied = await fetch(`${cp.adminUrl}/api/v1/apply`, { method: "POST", headers: { "content-type": "application/yaml" }, body });
  assert.equal(applied.status, 200, await applied.clone().text());

  const edge = await startEnvoy({ bootstrap: xdsBootstrap({ xdsPort: cp.xdsPort, mode: "ads", nodeId: "edge-1", nodeCluster: "edge" }) as Json, name: "cp-group-edge", t });
  const internal = await startEnvoy({
    bootstrap: xdsBootstrap({ xdsPort: cp.xdsPort, mode: "ads", nodeId: "internal-1", nodeCluster: "internal" }) as Json,
    name: "cp-group-internal",
    t,
  });
  await waitUntil(async () => (await httpGet(`http://127.0.0.1:${publicPort}/`)).body === "served by service1\n", { timeoutMs: 15_000, description: "edge Envoy serves public" });
  await waitUntil(async () => (await httpGet(`http://127.0.0.1:${privatePort}/`)).body === "served by service2\n", { timeoutMs: 15_000, description: "internal Envoy serves private" });
  assert.deepEqual(names(await edge.configDump()), { listeners: ["public"], clusters: ["web"] });
  assert.deepEqual(names(await internal.configDump()), { listeners: ["private"], clusters: ["db"] });

  const status = await waitUntil(
    async () => {
      const s = (await (await fetch(`${cp.adminUrl}/api/v1/status`)).json()) as Status;
      return s.nodes.length === 2 && s.nodes.every((n) => n.state === "SYNCED") ? s : undefined;
    },
    { timeoutMs: 10_000, description: "both nodes SYNCED" },
  );
  assert.deepEqual(status.nodes.map((n) => [n.nodeId, n.group]), [["edge-1", "edge"], ["internal-1", "internal"]]);
  const web = status.objects.find((o) => o.object === "Service/web");
  assert.deepEqual(web, { object: "Service/web", groups: ["edge"], targets: 1, acknowledged: 1 });

  // A change to the edge group's service: the internal Envoy's versions do not move.
  const internalBefore = (await internal.textStats("version_text$")).entries();
  const before = new Map(internalBefore);
  const put = await fetch(`${cp.adminUrl}/api/v1/objects/Service/web`, { method: "PUT", headers: { "content-type": "application/yaml" }, body: service("web", service3.port) });
  assert.equal(put.status, 200, await put.clone().text());
  await waitUntil(async () => (await httpGet(`http://127.0.0.1:${publicPort}/`)).body === "served by service3\n", { timeoutMs: 15_000, description: "edge follows" });
  assert.deepEqual(new Map((await internal.textStats("version_text$")).entries()), before);
});

test("node groups: when selectors change, a connected Envoy moves to its new group without reconnecting", { timeout: 90_000 }, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), "cp-e2e-regroup-"));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const service1 = await startHttpUpstream({ name: "service1", t });
  const service2 = await startHttpUpstream({ name: "service2", t });
  const [bluePort = 0, greenPort = 0] = await freePorts(2);
  const cp = await startControlPlane({ dataDir: join(dir, "data"), t });
  const objects = (blueSelects: string, greenSelects: string) =>
    [
      group("blue", blueSelects, "blue-listener"),
      group("green", greenSelects, "green-listener"),
      listener("blue-listener", bluePort, "blue-service"),
      listener("green-listener", greenPort, "green-service"),
      service("blue-service", service1.port),
      service("green-service", service2.port),
    ].join("---\n");
  const apply = async (body: string) => {
    const r = await fetch(`${cp.adminUrl}/api/v1/apply`, { method: "POST", headers: { "content-type": "application/yaml" }, body });
    assert.equal(r.status, 200, await r.clone().text());
  };
  await apply(objects("edge", "other"));
  const envoy = await startEnvoy({ bootstrap: xdsBootstrap({ xdsPort: cp.xdsPort, mode: "ads", nodeId: "edge-1", nodeCluster: "edge" }) as Json, name: "cp-regroup", t });
  await waitUntil(async () => (await httpGet(`http://127.0.0.1:${bluePort}/`)).body === "served by service1\n", { timeoutMs: 15_000, description: "blue serves" });
  const connections = async () => (await envoy.stats("^cluster\\.xds_cluster\\.upstream_cx_total$")).get("cluster.xds_cluster.upstream_cx_total");
  const before = await connections();

  // The operator moves Envoys of cluster "edge" from the blue group to the green one.
  await apply(objects("other", "edge"));
  await waitUntil(async () => (await httpGet(`http://127.0.0.1:${greenPort}/`)).body === "served by service2\n", { timeoutMs: 15_000, description: "green serves after the move" });
  await waitUntil(async () => names(await envoy.configDump()).listeners.join() === "green-listener", { timeoutMs: 10_000, description: "blue's listener removed" });
  assert.equal(await connections(), before, "the Envoy kept its one xDS connection: it was moved, not reconnected");
  const status = await waitUntil(
    async () => {
      const s = (await (await fetch(`${cp.adminUrl}/api/v1/status`)).json()) as Status;
      const n = s.nodes.find((x) => x.nodeId === "edge-1");
      return n?.group === "green" && n.state === "SYNCED" ? n : undefined;
    },
    { timeoutMs: 10_000, description: "status shows edge-1 SYNCED in green" },
  );
  assert.equal(status.group, "green");
});
