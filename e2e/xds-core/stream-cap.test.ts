// The stream cap with a real Envoy (docs/xds-protocol.md § Load limits;
// issue 10 item 6): two replicas serve the same cache and Envoy's xds_cluster
// lists both. Lowering the cap of the replica Envoy uses sheds its stream
// with UNAVAILABLE, which Envoy retries: its next stream lands on the other
// replica, where it is served the same versions.
import assert from "node:assert/strict";
import { test } from "node:test";
import { createSnapshot, createSnapshotCache, createXdsServer, TypeUrl, type StreamCloseEvent, type XdsServer } from "@ts-control-plane/xds";
import type { Json } from "../harness/config-dump.ts";
import { freePort } from "../harness/free-port.ts";
import { startEnvoy } from "../harness/start-envoy.ts";
import { waitUntil } from "../harness/wait-until.ts";
import { XDS_CLUSTER_NAME, xdsBootstrap } from "../harness/xds-bootstrap.ts";
import { proxyResources } from "./proxy-resources.ts";

test("a replica told to shed ends Envoy's stream with UNAVAILABLE and Envoy reconnects to the other replica", { timeout: 120_000 }, async (t) => {
  const nodeId = "shed-me";
  const cache = createSnapshotCache();
  await cache.setSnapshot(nodeId, createSnapshot({ resources: proxyResources({ mode: "ads", listenerPort: await freePort(), endpoints: [await freePort()] }) }));
  const closes: StreamCloseEvent[] = [];
  const replicas: XdsServer[] = [0, 1].map(() => createXdsServer({ cache, hooks: { onStreamClose: (e) => closes.push(e) } }));
  const ports: number[] = [];
  for (const r of replicas) {
    ports.push(await r.listen({ host: "127.0.0.1", port: 0 }));
    t.after(() => r.close({ graceMs: 500 }));
  }
  const bootstrap = xdsBootstrap({ xdsPort: ports[0] ?? 0, mode: "ads", nodeId });
  // xds_cluster lists both replicas, as a bootstrap for several would.
  const clusters = (bootstrap["static_resources"] as { clusters: Json[] }).clusters;
  const xds = clusters.find((c) => (c as { name?: string }).name === XDS_CLUSTER_NAME) as { load_assignment: { endpoints: Json[] } };
  xds.load_assignment.endpoints = [{ lb_endpoints: ports.map((port) => ({ endpoint: { address: { socket_address: { address: "127.0.0.1", port_value: port } } } })) }];
  await startEnvoy({ name: nodeId, t, bootstrap });
  const acked = (r: XdsServer) => (r.status.node(nodeId)?.streams ?? 0) > 0 && r.status.node(nodeId)?.types.find((x) => x.typeUrl === TypeUrl.Cluster)?.ackedVersion !== undefined;
  const first = await waitUntil(() => replicas.find(acked), { timeoutMs: 30_000, description: "Envoy ACKs its clusters on one replica" });
  const other = replicas.find((r) => r !== first) as XdsServer;
  const version = first.status.node(nodeId)?.types.find((x) => x.typeUrl === TypeUrl.Cluster)?.ackedVersion;

  first.setMaxStreams(0);
  const shed = await waitUntil(() => closes.find((e) => e.error !== undefined), { timeoutMs: 30_000, description: "the stream is shed" });
  assert.equal(shed.error?.code, 14, "UNAVAILABLE: retryable");
  assert.match(shed.error?.details ?? "", /shedding load \(over its stream cap of 0\)/);
  assert.equal(first.metrics.streamsShed, 1);
  assert.equal(first.status.node(nodeId)?.lastStreamError?.reason, "shed");
  await waitUntil(() => acked(other) || undefined, { timeoutMs: 60_000, description: "Envoy reconnects to the other replica and ACKs" });
  assert.equal(other.status.node(nodeId)?.types.find((x) => x.typeUrl === TypeUrl.Cluster)?.ackedVersion, version, "the same version on either replica");
  assert.equal(first.metrics.openStreams, 0);
  t.diagnostic(`refused on the shedding replica while Envoy retried: ${first.metrics.streamsRefused}`);
});
