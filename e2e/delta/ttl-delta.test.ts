// TTL and heartbeats over Delta with a real Envoy: a cluster with a 2 s TTL
// keeps serving while the server heartbeats it (every 400 ms, no body resent);
// once the control plane is gone and heartbeats stop, Envoy drops the cluster
// at TTL expiry and the route has nowhere to go (503).
//
// A cluster, not a load assignment: Envoy turns a TTL expiry into a Delta
// removal, and its EDS and RDS ignore removals (eds.cc onConfigUpdate drops
// the removed list; EDS staleness is ClusterLoadAssignment.policy.endpoint_stale_after),
// while CDS and LDS apply them.
import assert from "node:assert/strict";
import { test } from "node:test";
import { ClusterSchema } from "@ts-control-plane/envoy-api/envoy/config/cluster/v3/cluster_pb";
import { createSnapshot, encodeResource, TypeUrl } from "@ts-control-plane/xds";
import { makeRoute } from "../../examples/embedded/demo-resources.ts";
import { freePort } from "../harness/free-port.ts";
import { httpGet } from "../harness/http-get.ts";
import { startHttpUpstream } from "../harness/http-upstream.ts";
import { failedRecords, startRequestLoop } from "../harness/request-loop.ts";
import { startEnvoy } from "../harness/start-envoy.ts";
import { waitUntil } from "../harness/wait-until.ts";
import { deltaBootstrap, edsCluster, httpListener, loadAssignment, startDeltaXds } from "./delta-setup.ts";

const nodeId = "delta-ttl";
const cluster = "proxy_cluster";
const TTL_MS = 2000;

test("delta-ads: heartbeats keep a TTL'd cluster alive; when they stop, Envoy drops it at expiry", async (t) => {
  const mode = "delta-ads";
  const service1 = await startHttpUpstream({ name: "service1", t });
  const xds = await startDeltaXds({ t, heartbeatIntervalMs: 400 });
  const listenerPort = await freePort();
  const url = `http://127.0.0.1:${listenerPort}/`;
  const ttlCluster = encodeResource(ClusterSchema, edsCluster(cluster, mode), { ttlMs: TTL_MS });
  await xds.snapshots.setSnapshot(
    nodeId,
    createSnapshot({
      skipConsistencyCheck: true,
      resources: [ttlCluster, makeRoute({ name: "route_0", cluster }), httpListener({ name: "listener_0", port: listenerPort, routeConfigName: "route_0", mode })],
    }),
  );
  await xds.endpoints.setResources([loadAssignment(cluster, [service1.port])]);
  const envoy = await startEnvoy({ name: "delta-ttl", t, bootstrap: deltaBootstrap({ xdsPort: xds.port, mode, nodeId }) });
  await waitUntil(async () => (await httpGet(url)).status === 200, { timeoutMs: 5000, description: "a 200 through Envoy" });

  // Three TTLs long: without heartbeats the cluster would have expired (see the next test).
  const loop = startRequestLoop({ url, intervalMs: 20, maxRequests: 2000, maxDurationMs: 3 * TTL_MS });
  t.after(() => loop.stop());
  const records = await loop.finished();
  assert.deepEqual(failedRecords(records), [], "heartbeats kept the cluster alive");
  const beats = xds.events.responses.filter((e) => e.heartbeats.includes(cluster));
  assert.ok(beats.length >= 8, `heartbeats were sent (${beats.length})`);
  assert.ok(beats.every((e) => e.resourceNames.length === 0), "a heartbeat resends no resource body");
  assert.equal(xds.events.responses.filter((e) => e.typeUrl === TypeUrl.Cluster && e.resourceNames.includes(cluster)).length, 1, "the cluster itself was sent once");
  t.diagnostic(`${records.length} requests over ${3 * TTL_MS} ms, 0 failed; ${beats.length} heartbeats of ~${beats[0]?.bytes} bytes each`);

  // The control plane goes away: heartbeats stop, and Envoy drops the cluster at TTL expiry.
  const stoppedAt = Date.now();
  await xds.close();
  const dropped = await waitUntil(
    async () => {
      const r = await httpGet(url);
      return r.status === 503 ? r : undefined;
    },
    { timeoutMs: TTL_MS + 5000, intervalMs: 100, description: "Envoy drops the expired cluster (503)" },
  );
  const after = Date.now() - stoppedAt;
  t.diagnostic(`503 "${dropped.body.trim()}" ${after} ms after the control plane stopped (TTL ${TTL_MS} ms)`);
  assert.ok(after >= TTL_MS - 500, "not before the TTL could expire");
  const removed = await envoy.stats("^cluster_manager\\.cluster_removed$");
  assert.equal(removed.get("cluster_manager.cluster_removed"), 1, "Envoy removed the expired cluster");
});

test("delta-ads: without heartbeats a TTL'd cluster expires even while the control plane is up", async (t) => {
  const mode = "delta-ads";
  const service1 = await startHttpUpstream({ name: "service1", t });
  const xds = await startDeltaXds({ t });
  const listenerPort = await freePort();
  const url = `http://127.0.0.1:${listenerPort}/`;
  await xds.snapshots.setSnapshot(
    nodeId,
    createSnapshot({
      skipConsistencyCheck: true,
      resources: [
        encodeResource(ClusterSchema, edsCluster(cluster, mode), { ttlMs: TTL_MS }),
        makeRoute({ name: "route_0", cluster }),
        httpListener({ name: "listener_0", port: listenerPort, routeConfigName: "route_0", mode }),
      ],
    }),
  );
  await xds.endpoints.setResources([loadAssignment(cluster, [service1.port])]);
  const envoy = await startEnvoy({ name: "delta-ttl-no-heartbeat", t, bootstrap: deltaBootstrap({ xdsPort: xds.port, mode, nodeId }) });
  await waitUntil(async () => (await httpGet(url)).status === 200, { timeoutMs: 5000, description: "a 200 through Envoy" });
  await waitUntil(async () => (await httpGet(url)).status === 503 || undefined, { timeoutMs: TTL_MS + 5000, intervalMs: 100, description: "the cluster expires" });
  assert.equal((await envoy.stats("^cluster_manager\\.cluster_removed$")).get("cluster_manager.cluster_removed"), 1);
  assert.equal(xds.server.deltaMetrics.heartbeatsWritten, 0);
});
