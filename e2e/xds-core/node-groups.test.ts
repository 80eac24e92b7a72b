// Several Envoys on one server (docs/architecture.md: cache per node group). With
// the default key (node id) each Envoy gets its own snapshot; with a nodeKey
// over node.cluster, two Envoys share one snapshot. Status is per node either way.
import assert from "node:assert/strict";
import { test } from "node:test";
import { createSnapshot, createSnapshotCache, createXdsServer, TypeUrl } from "@ts-control-plane/xds";
import { freePorts } from "../harness/free-port.ts";
import { httpGet } from "../harness/http-get.ts";
import { startHttpUpstream } from "../harness/http-upstream.ts";
import { startEnvoy } from "../harness/start-envoy.ts";
import { startXdsServer } from "../harness/start-xds-server.ts";
import { waitUntil } from "../harness/wait-until.ts";
import { xdsBootstrap } from "../harness/xds-bootstrap.ts";
import { proxyResources } from "./proxy-resources.ts";

const body = (port: number) => httpGet(`http://127.0.0.1:${port}/`).then((r) => r.body, () => "");

test("two Envoys with their own node ids get their own snapshots, over ADS and per-type on one server", async (t) => {
  const service1 = await startHttpUpstream({ name: "service1", t });
  const service2 = await startHttpUpstream({ name: "service2", t });
  const xds = await startXdsServer({ t });
  const [portA, portB] = await freePorts(2);
  await xds.cache.setSnapshot("node-a", createSnapshot({ resources: proxyResources({ mode: "ads", listenerPort: portA!, endpoints: [service1.port] }) }));
  await xds.cache.setSnapshot("node-b", createSnapshot({ resources: proxyResources({ mode: "per-type", listenerPort: portB!, endpoints: [service2.port] }) }));
  await startEnvoy({ name: "groups-a", t, bootstrap: xdsBootstrap({ xdsPort: xds.port, mode: "ads", nodeId: "node-a" }) });
  await startEnvoy({ name: "groups-b", t, bootstrap: xdsBootstrap({ xdsPort: xds.port, mode: "per-type", nodeId: "node-b" }) });
  await waitUntil(async () => (await body(portA!)) === "served by service1\n", { timeoutMs: 10_000, description: "node-a serves service1" });
  await waitUntil(async () => (await body(portB!)) === "served by service2\n", { timeoutMs: 10_000, description: "node-b serves service2" });
  assert.deepEqual(xds.server.status.nodes().map((n) => n.nodeId).sort(), ["node-a", "node-b"]);
  assert.equal(xds.server.status.node("node-a")?.streams, 1);
  assert.equal(xds.server.status.node("node-b")?.streams, 4);
});

test("a nodeKey over node.cluster serves one snapshot to every Envoy of the group, and one change reaches them all", async (t) => {
  const service1 = await startHttpUpstream({ name: "service1", t });
  const service2 = await startHttpUpstream({ name: "service2", t });
  const cache = createSnapshotCache({ ads: true, nodeKey: (node) => node.cluster });
  const server = createXdsServer({ cache });
  const xdsPort = await server.listen({ host: "127.0.0.1", port: 0 });
  t.after(() => server.close({ graceMs: 500 }));
  const [listenerPort] = await freePorts(1);
  // Both Envoys bind the same listener port: Envoy sets SO_REUSEPORT on listeners
  // by default, so the kernel spreads connections over both.
  await cache.setSnapshot("edge", createSnapshot({ resources: proxyResources({ mode: "ads", listenerPort: listenerPort!, endpoints: [service1.port] }) }));
  const envoys = [
    await startEnvoy({ name: "group-1", t, bootstrap: xdsBootstrap({ xdsPort, mode: "ads", nodeId: "edge-1", nodeCluster: "edge" }) }),
    await startEnvoy({ name: "group-2", t, bootstrap: xdsBootstrap({ xdsPort, mode: "ads", nodeId: "edge-2", nodeCluster: "edge" }) }),
  ];
  const v2 = createSnapshot({ resources: proxyResources({ mode: "ads", listenerPort: listenerPort!, endpoints: [service2.port] }) });
  await cache.setSnapshot("edge", v2);
  for (const nodeId of ["edge-1", "edge-2"]) {
    await waitUntil(() => server.status.node(nodeId)?.types.find((s) => s.typeUrl === TypeUrl.Endpoint)?.ackedVersion === v2.typeVersion(TypeUrl.Endpoint), {
      timeoutMs: 10_000,
      description: `${nodeId} ACKs the group's new endpoints`,
    });
    assert.equal(server.status.node(nodeId)?.cacheKey, "edge");
  }
  for (const envoy of envoys) {
    const text = await envoy.textStats("^cluster\\.example_proxy_cluster\\.version_text$");
    assert.equal(text.get("cluster.example_proxy_cluster.version_text"), v2.typeVersion(TypeUrl.Endpoint));
  }
  assert.equal(await body(listenerPort!), "served by service2\n");
});
