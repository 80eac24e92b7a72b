// Delta's reason to exist: with 1,000 endpoint resources (one
// ClusterLoadAssignment per EDS cluster, served from a linear cache), changing
// one sends Envoy exactly that one resource, where SotW would resend all of
// them. Proven with the server's onResponse hook and its Delta counters.
import assert from "node:assert/strict";
import { test } from "node:test";
import { createSnapshot, TypeUrl } from "@ts-control-plane/xds";
import { dynamicEndpoints, endpointAddresses } from "../harness/config-dump.ts";
import { startEnvoy } from "../harness/start-envoy.ts";
import { waitUntil } from "../harness/wait-until.ts";
import { deltaBootstrap, edsCluster, loadAssignment, shortType, startDeltaXds } from "./delta-setup.ts";

const nodeId = "delta-thousand";
const count = 1000;
const name = (i: number): string => `c${String(i).padStart(4, "0")}`;

test(`delta-ads: ${count} endpoint resources, one changes, Envoy receives exactly that one`, async (t) => {
  const mode = "delta-ads";
  const xds = await startDeltaXds({ t });
  const names = Array.from({ length: count }, (_, i) => name(i));
  await xds.snapshots.setSnapshot(nodeId, createSnapshot({ skipConsistencyCheck: true, resources: names.map((n) => edsCluster(n, mode)) }));
  // Endpoints only need addresses here; nothing sends traffic to them.
  await xds.endpoints.setResources(names.map((n, i) => loadAssignment(n, [20000 + i])));
  const started = Date.now();
  const envoy = await startEnvoy({ name: "delta-thousand", t, startTimeoutMs: 30_000, bootstrap: deltaBootstrap({ xdsPort: xds.port, mode, nodeId }) });
  t.diagnostic(`Envoy LIVE with ${count} EDS clusters after ${Date.now() - started} ms`);

  const edsSent = (): Set<string> => new Set(xds.events.responses.filter((e) => e.typeUrl === TypeUrl.Endpoint).flatMap((e) => e.resourceNames));
  const edsSettled = () => {
    const s = xds.server.status.node(nodeId)?.types.find((x) => x.typeUrl === TypeUrl.Endpoint);
    return s !== undefined && !s.nacked && s.ackedAt !== undefined && s.sentAt !== undefined && s.ackedAt >= s.sentAt && s.ackedVersion === s.sentVersion;
  };
  await waitUntil(() => edsSent().size === count && edsSettled(), { timeoutMs: 15_000, description: `all ${count} load assignments sent and ACKed` });
  const initialEds = xds.events.responses.filter((e) => e.typeUrl === TypeUrl.Endpoint);
  const initialBytes = initialEds.reduce((n, e) => n + e.bytes, 0);
  const stats = await envoy.stats("^cluster_manager\\.(active|warming)_clusters$");
  assert.equal(stats.get("cluster_manager.active_clusters"), count + 1, "every EDS cluster (plus xds_cluster) is active");
  assert.equal(stats.get("cluster_manager.warming_clusters"), 0);

  const from = xds.events.responses.length;
  const metricsBefore = xds.server.deltaMetrics;
  const acksBefore = xds.events.acks.length;
  const changed = name(500);
  await xds.endpoints.updateResources({ upsert: [loadAssignment(changed, [29999])] });
  await waitUntil(() => xds.events.acks.length > acksBefore && edsSettled(), { timeoutMs: 5000, description: "the change ACKed" });

  const after = xds.events.responses.slice(from).map((e) => `${shortType(e.typeUrl)}:${e.resourceNames.join(",")}:-${e.removedResources.join(",")}`);
  assert.deepEqual(after, [`ClusterLoadAssignment:${changed}:-`], "one response, one resource");
  const m = xds.server.deltaMetrics;
  assert.equal(m.resourcesWritten - metricsBefore.resourcesWritten, 1);
  assert.equal(m.bodiesEncoded - metricsBefore.bodiesEncoded, 1, "only the changed resource was wrapped");
  const changeBytes = m.bytesWritten - metricsBefore.bytesWritten;
  t.diagnostic(
    `initial EDS: ${initialEds.length} response(s), ${initialBytes} bytes for ${count} resources; the one change: 1 response, ${changeBytes} bytes (SotW would resend all ${count}: about ${initialBytes} bytes)`,
  );
  assert.ok(changeBytes * 100 < initialBytes, "the change costs far less than a full resend");

  const dump = await envoy.configDump({ includeEds: true });
  const cla = dynamicEndpoints(dump).find((e) => e.name === changed);
  assert.deepEqual(endpointAddresses(cla?.config ?? {}), ["127.0.0.1:29999"]);
  assert.deepEqual(endpointAddresses(dynamicEndpoints(dump).find((e) => e.name === name(499))?.config ?? {}), ["127.0.0.1:20499"]);
  assert.deepEqual(xds.events.nacks, []);
});
